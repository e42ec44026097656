// Package tiles serves the one-map as Mapbox Vector Tiles: the layer
// catalogue with its zoom bands, tile addressing (always z/x/y), a
// bytes-bounded LRU of compressed tiles with singleflight and ETags, and
// targeted invalidation by bounding box. Rendering is delegated to a
// Renderer (postgis satisfies it). It may import postgis, geo and the root
// package; it never builds SQL from request text.
package tiles
