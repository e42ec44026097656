// Package importer loads users' own boundaries and layers from GeoJSON
// (RFC 7946) files: `wangge import --layer L FILE`. It may import wangge,
// geo and postgis.
//
// # Format
//
// A FeatureCollection (or one Feature) in WGS-84 longitude, latitude. A
// "crs" member naming anything else (CGCS2000, Web Mercator…) is refused:
// reproject first, e.g. `ogr2ogr -t_srs EPSG:4326 out.geojson in.geojson`.
// Every feature needs a geometry of the layer's kind; properties are read
// by name, unknown ones are ignored. Codes may be strings or integers.
// Polygons are checked (closed rings, no self-intersection or self-touch,
// holes inside their shell, parts of a MultiPolygon not overlapping) and
// stored with RFC 7946 winding; areal layers are stored as MultiPolygon.
//
//	layer        geometry                  required properties                  optional properties
//	districts    Polygon|MultiPolygon      code (6 digits), name                kind (urban|rural)
//	streets      Polygon|MultiPolygon      code (9 digits), name                kind, parent_code (= first 6 digits)
//	communities  Polygon|MultiPolygon      code (12 digits), name               kind, parent_code (= first 9 digits)
//	grids        Polygon|MultiPolygon      code (15 digits), name               id (default: the code as a number), land_use (of generated parcels; default mixed)
//	parcels      Polygon|MultiPolygon      grid_code, land_use                  id
//	buildings    Polygon                   address, use, floors (1–200)         id, name, grid_code, parcel_id, built_year, households
//	objects      Point                     category, category_code (4 digits)   id, grid_code, building_id, device_id, status, installed_on (YYYY-MM-DD)
//	posts        Point                     kind, name                           id, address, phone, grid_code
//
// Enumerations: land_use residential|commercial|industrial|public|green|
// agricultural|forest|water|mixed; use residential|commercial|office|
// industrial|public|school|hospital|mixed|other; category hydrant|manhole|
// street_light|camera|smoke_sensor|trash_bin|electric_box|gas_valve|
// bus_stop|water_meter; status normal|fault|alarm|offline; post kind
// police|fire|medical|community|micro_fire.
//
// A region's parent (and a grid's community) must already be loaded:
// import districts, then streets, communities, grids, parcels, buildings,
// objects and posts. Without grid_code, buildings, objects and posts are
// placed in the active grid that covers them. Rows without id get the
// next free one.
//
// # Parcels
//
// Parcels are the atoms of grid edits: a plan (merge, split, redraw,
// reassign) moves parcels between grids, and each building moves with the
// parcel it stands on. Parcels are optional in a file: when a grids import
// brings a grid that has none, the same transaction generates them, one
// parcel per polygon part covering exactly the grid's outline, land_use
// from the grid's property or mixed. Importing a grid again with Replace
// remakes its parcels only while they are all generated and no longer its
// outline. A later parcels import takes its parcels out of the generated
// ones they overlap in their community: a generated parcel keeps what is
// left (pieces under 5 m² dropped) or goes. So import the parcels of the
// grids whose blocks you know, and the rest keep their generated parcel.
// A revert to a grid version recorded before such an import is refused
// (its parcels were cut since).
//
// A building without parcel_id takes the parcel of its grid holding its
// inner point (ST_PointOnSurface), the nearest parcel of its grid when
// none holds it (across a parcel edge); a building whose parcel a parcels
// import removes or cuts is placed again the same way. Objects and posts
// need no parcel: a plan places them by the parcel under them.
//
// # All or nothing
//
// The whole file is parsed and checked before anything is written, then
// loaded in one transaction. The first problem is reported with the
// feature's index (0-based) and the member at fault, and nothing stays
// behind:
//
//	importer: feature 17: geometry: ring 0 self-intersects near 106.58,29.56
//	importer: feature 3: properties.code: "5001" is not a 6-digit district code
//	importer: feature 5: properties.parent_code: region "500199" does not exist
//
// Database refusals (missing parent, duplicate key, a CHECK) are mapped
// to the feature the same way. With Replace, features whose key (code, or
// id) exists update the row; a replaced grid gets a new version and its
// old geometry is kept in grid_versions. Errors wrap wangge.ErrInvalid.
package importer
