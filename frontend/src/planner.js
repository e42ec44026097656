// The planner's pure half: the draft a planner builds by clicking (which
// parcels move where, a merge, a split line), the plan operations it
// makes for POST /api/v1/plans, and the band colouring of the preview.
// No DOM and no map here, so Vitest pins it down.

// PlanDraft is one grid's edit in progress. Parcels of other grids that
// are picked move into the grid; parcels of the grid itself move out to
// the chosen neighbour (outTo).
export class PlanDraft {
  constructor(grid) {
    this.grid = String(grid);
    this.picked = new Map(); // parcel id → the grid it belongs to now
    this.outTo = '';
    this.mergeWith = ''; // a neighbour that joins the grid
    this.line = null; // a finished split line [[lon, lat], …]
    this.boundary = null; // a redrawn outline, closed
  }

  // toggle picks a parcel, or unpicks it when picked. A parcel of the
  // grid itself needs a neighbour to go to: false when none is chosen.
  toggle(id, gridCode) {
    const key = Number(id);
    if (this.picked.has(key)) {
      this.picked.delete(key);
      return true;
    }
    if (String(gridCode) === this.grid && !this.outTo) return false;
    this.picked.set(key, String(gridCode));
    return true;
  }

  has(id) {
    return this.picked.has(Number(id));
  }

  clear() {
    this.picked.clear();
    this.mergeWith = '';
    this.line = null;
    this.boundary = null;
  }

  get empty() {
    return !this.picked.size && !this.mergeWith && !this.line && !this.boundary;
  }

  // ops are the plan's operations: one reassign into the grid, one out of
  // it, then the merge, then the split.
  ops() {
    const into = [];
    const out = [];
    for (const [id, g] of this.picked) (g === this.grid ? out : into).push(id);
    const ops = [];
    if (into.length) ops.push({ op: 'reassign', parcels: into.sort((a, b) => a - b), to: this.grid });
    if (out.length && this.outTo) ops.push({ op: 'reassign', parcels: out.sort((a, b) => a - b), to: this.outTo });
    if (this.mergeWith) ops.push({ op: 'merge', to: this.grid, from: this.mergeWith });
    if (this.line && this.line.length >= 2) ops.push({ op: 'split', grid: this.grid, line: this.line.map(([x, y]) => [x, y]) });
    if (this.boundary && this.boundary.length >= 4) ops.push({ op: 'draw', grid: this.grid, boundary: this.boundary.map(([x, y]) => [x, y]) });
    return ops;
  }

  // body is the POST /api/v1/plans request.
  body({ by, reason }) {
    return { by, reason: reason ?? '', operations: this.ops() };
  }
}

// bandPlace says where households h lie against the band {min, max}, as
// the server does (geo.Band.Place): below, within or above.
export function bandPlace(h, band) {
  if (!band || !Number.isFinite(h)) return 'within';
  if (h < band.min) return 'below';
  if (h > band.max) return 'above';
  return 'within';
}

export const BAND_COLOURS = { below: '#ffa94d', within: '#69db7c', above: '#ff6b5a' };

// bandColour is the preview's colour for a grid's households.
export function bandColour(h, band) {
  return BAND_COLOURS[bandPlace(h, band)];
}

// previewRows turns a preview's grids into the table's rows (households
// before → after with the band and where the after lies).
export function previewRows(preview) {
  return (preview?.grids ?? []).map((g) => ({
    code: g.code,
    name: g.name ?? '',
    action: g.action,
    before: g.households?.before ?? 0,
    after: g.households?.after ?? 0,
    band: g.band ?? null,
    place: g.band_after ?? bandPlace(g.households?.after, g.band),
    colour: BAND_COLOURS[g.band_after] ?? bandColour(g.households?.after, g.band),
  }));
}

// MOVE_KEYS are the figures of a move, in the panel's order.
export const MOVE_KEYS = ['buildings', 'households', 'residents', 'objects', 'open_events', 'posts'];

// problemsGeoJSON: the validation problems that have a place, as points.
export function problemsGeoJSON(problems) {
  const features = [];
  for (const p of problems ?? []) {
    if (!Array.isArray(p.near) || p.near.length < 2) continue;
    features.push({ type: 'Feature', geometry: { type: 'Point', coordinates: [p.near[0], p.near[1]] },
      properties: { rule: p.rule, grid: p.grid ?? '', reason: p.reason } });
  }
  return { type: 'FeatureCollection', features };
}

// previewGeoJSON: the grids' new outlines from a preview.
export function previewGeoJSON(preview) {
  const features = [];
  for (const g of preview?.grids ?? []) {
    if (g.geometry) features.push({ type: 'Feature', geometry: g.geometry, properties: { code: g.code, action: g.action } });
  }
  return { type: 'FeatureCollection', features };
}

// closeRing closes a drawn outline (first point repeated at the end);
// null below three distinct points.
export function closeRing(points) {
  if (!points || points.length < 3) return null;
  const ring = points.map(([x, y]) => [x, y]);
  const [a, b] = [ring[0], ring[ring.length - 1]];
  if (a[0] !== b[0] || a[1] !== b[1]) ring.push([a[0], a[1]]);
  return ring.length >= 4 ? ring : null;
}

// LineDraw is the split line (or redrawn outline) being drawn: clicks add points, a double
// click finishes (its two clicks arrive first and must not add points
// twice at the same place).
export class LineDraw {
  constructor() {
    this.points = [];
    this.done = false;
  }

  add([x, y]) {
    if (this.done) this.reset();
    const last = this.points[this.points.length - 1];
    if (last && last[0] === x && last[1] === y) return false;
    this.points.push([x, y]);
    return true;
  }

  // finish ends the line; a line needs two distinct points. The point of
  // the double click is the last one (already added by its clicks).
  finish(pt) {
    if (pt) this.add(pt);
    if (this.points.length < 2) return null;
    this.done = true;
    return this.points.map((p) => [...p]);
  }

  reset() {
    this.points = [];
    this.done = false;
  }

  // geojson draws the line and its vertices; hover extends an unfinished
  // line to the pointer.
  geojson(hover, { closed = false } = {}) {
    let pts = !this.done && hover && this.points.length ? [...this.points, hover] : this.points;
    if (closed && pts.length >= 3) pts = [...pts, pts[0]];
    const features = this.points.map((p) => ({ type: 'Feature', geometry: { type: 'Point', coordinates: p }, properties: {} }));
    if (pts.length >= 2) features.push({ type: 'Feature', geometry: { type: 'LineString', coordinates: pts }, properties: { done: this.done } });
    return { type: 'FeatureCollection', features };
  }
}

// movableTo: the grids that can take the selected grid's parcels, from
// GET /grids/{code}/neighbours: those of its community sharing an edge,
// longest edge first.
export function movableTo(body) {
  return (body?.neighbours ?? []).filter((n) => n.same_community).map((n) => ({ code: n.code, name: n.name ?? '' }));
}

// neighbours lists the grids of the selected grid's community among the
// loaded grid features (codes nest: the community is the first 12 digits):
// the fallback while the API's list is not there.
export function neighbours(code, features) {
  const community = String(code).slice(0, 12);
  const seen = new Map();
  for (const f of features) {
    const c = String(f.properties?.code ?? '');
    if (c.length === 15 && c !== String(code) && c.startsWith(community) && !seen.has(c)) seen.set(c, f.properties.name ?? '');
  }
  return [...seen].sort(([a], [b]) => a.localeCompare(b)).map(([c, name]) => ({ code: c, name }));
}
