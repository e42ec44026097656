// Package geo holds pure geometry and in-memory indexes: strict RFC 7946
// GeoJSON parsing and polygon validation, point-in-polygon, the H3
// responder index, GCJ-02/BD-09 conversion and the partition helpers of
// the demo city (quadtree, Hilbert order, run cutting). It does no I/O and
// never logs; it may import only the root package and geometry libraries
// (orb, go-geom, h3-go).
package geo
