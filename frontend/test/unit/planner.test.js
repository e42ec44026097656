import { describe, it, expect } from 'vitest';
import { PlanDraft, closeRing, bandPlace, bandColour, BAND_COLOURS, previewRows, problemsGeoJSON, previewGeoJSON, LineDraw, neighbours, movableTo } from '../../src/planner.js';

const G = '500103001001001';
const N = '500103001001002';

describe('PlanDraft', () => {
  it('picked parcels of a neighbour move into the grid, sorted, as one reassign', () => {
    const d = new PlanDraft(G);
    expect(d.empty).toBe(true);
    expect(d.toggle(12, N)).toBe(true);
    expect(d.toggle('7', N)).toBe(true);
    expect(d.has(7)).toBe(true);
    expect(d.ops()).toEqual([{ op: 'reassign', parcels: [7, 12], to: G }]);
    expect(d.body({ by: 'planner', reason: 'why' })).toEqual({ by: 'planner', reason: 'why', operations: [{ op: 'reassign', parcels: [7, 12], to: G }] });
  });

  it('a second click unpicks', () => {
    const d = new PlanDraft(G);
    d.toggle(5, N);
    d.toggle(5, N);
    expect(d.ops()).toEqual([]);
    expect(d.empty).toBe(true);
  });

  it("the grid's own parcels need a neighbour to go to", () => {
    const d = new PlanDraft(G);
    expect(d.toggle(3, G)).toBe(false);
    expect(d.ops()).toEqual([]);
    d.outTo = N;
    expect(d.toggle(3, G)).toBe(true);
    d.toggle(9, N);
    expect(d.ops()).toEqual([
      { op: 'reassign', parcels: [9], to: G },
      { op: 'reassign', parcels: [3], to: N },
    ]);
  });

  it('merge and split', () => {
    const d = new PlanDraft(G);
    d.mergeWith = N;
    expect(d.ops()).toEqual([{ op: 'merge', to: G, from: N }]);
    d.clear();
    d.line = [[106.5, 29.5], [106.6, 29.6]];
    expect(d.ops()).toEqual([{ op: 'split', grid: G, line: [[106.5, 29.5], [106.6, 29.6]] }]);
    d.line = [[106.5, 29.5]];
    expect(d.ops()).toEqual([]);
  });
});

describe('redraw', () => {
  it('an outline of three points or more is closed into a draw operation', () => {
    expect(closeRing([[0, 0], [1, 0]])).toBe(null);
    expect(closeRing([[0, 0], [1, 0], [1, 1]])).toEqual([[0, 0], [1, 0], [1, 1], [0, 0]]);
    expect(closeRing([[0, 0], [1, 0], [1, 1], [0, 0]])).toEqual([[0, 0], [1, 0], [1, 1], [0, 0]]);
    const d = new PlanDraft(G);
    d.boundary = closeRing([[0, 0], [1, 0], [1, 1]]);
    expect(d.empty).toBe(false);
    expect(d.ops()).toEqual([{ op: 'draw', grid: G, boundary: [[0, 0], [1, 0], [1, 1], [0, 0]] }]);
    d.clear();
    expect(d.empty).toBe(true);
  });
  it('the drawn outline is shown closed', () => {
    const l = new LineDraw();
    l.add([0, 0]);
    l.add([1, 0]);
    const fc = l.geojson([1, 1], { closed: true });
    expect(fc.features.at(-1).geometry.coordinates).toEqual([[0, 0], [1, 0], [1, 1], [0, 0]]);
  });
});

describe('band colouring', () => {
  const band = { min: 300, max: 500 };
  it('places households as the server does (bounds inclusive)', () => {
    expect(bandPlace(299, band)).toBe('below');
    expect(bandPlace(300, band)).toBe('within');
    expect(bandPlace(500, band)).toBe('within');
    expect(bandPlace(501, band)).toBe('above');
    expect(bandPlace(10, null)).toBe('within');
  });
  it('colours out-of-band households apart from in-band ones', () => {
    expect(bandColour(400, band)).toBe(BAND_COLOURS.within);
    expect(bandColour(100, band)).toBe(BAND_COLOURS.below);
    expect(bandColour(900, band)).toBe(BAND_COLOURS.above);
    expect(new Set(Object.values(BAND_COLOURS)).size).toBe(3);
  });
  it("preview rows take the server's band_after", () => {
    const rows = previewRows({ grids: [
      { code: G, name: 'a', action: 'changed', households: { before: 280, after: 320 }, band, band_after: 'within' },
      { code: N, name: 'b', action: 'changed', households: { before: 520, after: 480 }, band },
      { code: '500103001001003', action: 'retired', households: { before: 10, after: 0 }, band, band_after: 'below' },
    ] });
    expect(rows.map((r) => [r.before, r.after, r.place])).toEqual([[280, 320, 'within'], [520, 480, 'within'], [10, 0, 'below']]);
    expect(rows[2].colour).toBe(BAND_COLOURS.below);
    expect(previewRows(null)).toEqual([]);
  });
});

describe('preview on the map', () => {
  it('problems with a place become points', () => {
    const fc = problemsGeoJSON([
      { op: 0, grid: G, rule: 'disconnected', reason: 'two pieces', near: [106.5, 29.5] },
      { op: -1, rule: 'band', reason: 'no place' },
    ]);
    expect(fc.features).toHaveLength(1);
    expect(fc.features[0].geometry.coordinates).toEqual([106.5, 29.5]);
    expect(fc.features[0].properties.rule).toBe('disconnected');
  });
  it('new outlines, none for a retired grid', () => {
    const poly = { type: 'Polygon', coordinates: [[[0, 0], [1, 0], [1, 1], [0, 0]]] };
    const fc = previewGeoJSON({ grids: [{ code: G, action: 'changed', geometry: poly }, { code: N, action: 'retired', geometry: null }] });
    expect(fc.features.map((f) => f.properties.code)).toEqual([G]);
  });
});

describe('LineDraw', () => {
  it('clicks add points, a double click finishes without doubling the last point', () => {
    const l = new LineDraw();
    expect(l.add([1, 1])).toBe(true);
    expect(l.add([2, 2])).toBe(true);
    expect(l.add([2, 2])).toBe(false); // the double click's second click
    expect(l.finish([2, 2])).toEqual([[1, 1], [2, 2]]);
    expect(l.done).toBe(true);
  });
  it('one point is not a line', () => {
    const l = new LineDraw();
    l.add([1, 1]);
    expect(l.finish()).toBe(null);
    expect(l.done).toBe(false);
  });
  it('a click after a finished line starts a new one', () => {
    const l = new LineDraw();
    l.add([1, 1]);
    l.finish([2, 2]);
    l.add([5, 5]);
    expect(l.points).toEqual([[5, 5]]);
    expect(l.done).toBe(false);
  });
  it('geojson: vertices, and the line follows the pointer until finished', () => {
    const l = new LineDraw();
    l.add([1, 1]);
    let fc = l.geojson([3, 3]);
    expect(fc.features.map((f) => f.geometry.type)).toEqual(['Point', 'LineString']);
    expect(fc.features[1].geometry.coordinates).toEqual([[1, 1], [3, 3]]);
    l.finish([2, 2]);
    fc = l.geojson([9, 9]);
    expect(fc.features.at(-1).geometry.coordinates).toEqual([[1, 1], [2, 2]]);
    expect(fc.features.at(-1).properties.done).toBe(true);
  });
});

describe('neighbours', () => {
  it("lists the community's other grids once, sorted", () => {
    const f = (code, name) => ({ properties: { code, name } });
    expect(neighbours(G, [f(N, 'b'), f(G, 'a'), f(N, 'b'), f('500103001002001', 'x'), f('500103001001000', 'z')])).toEqual([
      { code: '500103001001000', name: 'z' },
      { code: N, name: 'b' },
    ]);
  });

  it('takes the grids a parcel can move to from the API: same community, longest edge first', () => {
    const body = { code: G, neighbours: [
      { code: N, name: 'b', community_code: G.slice(0, 12), same_community: true, shared_m: 420 },
      { code: '500103001002001', name: 'x', community_code: '500103001002', same_community: false, shared_m: 300 },
      { code: '500103001001000', name: 'z', community_code: G.slice(0, 12), same_community: true, shared_m: 12 },
    ] };
    expect(movableTo(body)).toEqual([{ code: N, name: 'b' }, { code: '500103001001000', name: 'z' }]);
    expect(movableTo(null)).toEqual([]);
  });
});
