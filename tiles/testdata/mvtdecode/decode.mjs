// Independent check of our tiles: decode each MVT file named on the command
// line with @mapbox/vector-tile and print what a map client would see, as
// JSON on stdout: per layer its extent and features (id, type, properties,
// ring signed areas in tile units, vertex count, bbox).
import { readFileSync } from 'node:fs';
import { VectorTile } from '@mapbox/vector-tile';
import Protobuf from 'pbf';

function signedArea(ring) {
  let sum = 0;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    sum += (ring[j].x - ring[i].x) * (ring[i].y + ring[j].y);
  }
  return sum / 2;
}

const out = {};
for (const file of process.argv.slice(2)) {
  const tile = new VectorTile(new Protobuf(readFileSync(file)));
  const layers = {};
  for (const [name, layer] of Object.entries(tile.layers)) {
    const features = [];
    for (let i = 0; i < layer.length; i++) {
      const f = layer.feature(i);
      const geom = f.loadGeometry();
      let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity, vertices = 0;
      for (const ring of geom) {
        for (const p of ring) {
          vertices++;
          minX = Math.min(minX, p.x); minY = Math.min(minY, p.y);
          maxX = Math.max(maxX, p.x); maxY = Math.max(maxY, p.y);
        }
      }
      features.push({
        id: f.id,
        type: ['Unknown', 'Point', 'LineString', 'Polygon'][f.type],
        properties: f.properties,
        ring_areas: f.type === 3 ? geom.map(signedArea) : [],
        vertices,
        bbox: [minX, minY, maxX, maxY],
      });
    }
    layers[name] = { version: layer.version, extent: layer.extent, features };
  }
  out[file] = layers;
}
process.stdout.write(JSON.stringify(out));
