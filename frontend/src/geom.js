// Small geometry helpers for features MapLibre hands back (GeoJSON).

export function extendBBox(b, coords) {
  if (typeof coords[0] === 'number') {
    b[0] = Math.min(b[0], coords[0]);
    b[1] = Math.min(b[1], coords[1]);
    b[2] = Math.max(b[2], coords[0]);
    b[3] = Math.max(b[3], coords[1]);
    return b;
  }
  for (const c of coords) extendBBox(b, c);
  return b;
}

export const emptyBBox = () => [Infinity, Infinity, -Infinity, -Infinity];

export function bboxOf(features) {
  const b = emptyBBox();
  for (const f of features) extendBBox(b, f.geometry.coordinates);
  return Number.isFinite(b[0]) ? b : null;
}

// groupByCode merges the pieces a feature is cut into across tiles.
export function groupByCode(features) {
  const m = new Map();
  for (const f of features) {
    const code = f.properties?.code;
    if (code == null) continue;
    let g = m.get(code);
    if (!g) m.set(code, (g = { code: String(code), name: f.properties.name, props: f.properties, bbox: emptyBBox(), area: 0, anchor: null }));
    extendBBox(g.bbox, f.geometry.coordinates);
    // label anchor: the centre of the biggest piece's box (cheap, and
    // inside for the compact shapes regions have)
    const pb = extendBBox(emptyBBox(), f.geometry.coordinates);
    const a = (pb[2] - pb[0]) * (pb[3] - pb[1]);
    if (a > g.area) {
      g.area = a;
      g.anchor = [(pb[0] + pb[2]) / 2, (pb[1] + pb[3]) / 2];
    }
  }
  return m;
}

// haversine distance in metres.
export function distanceM(a, b) {
  const R = 6371008.8;
  const rad = Math.PI / 180;
  const dLat = (b[1] - a[1]) * rad;
  const dLon = (b[0] - a[0]) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a[1] * rad) * Math.cos(b[1] * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * R * Math.asin(Math.sqrt(h));
}
