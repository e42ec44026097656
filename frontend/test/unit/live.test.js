import { describe, it, expect } from 'vitest';
import { incidentOf, LiveIncidents } from '../../src/live.js';
import { groupByCode, bboxOf, distanceM } from '../../src/geom.js';
import { labelLevel, declutter } from '../../src/labels.js';

describe('live incidents', () => {
  const msg = (data, extra = {}) => ({ type: 'event.created', data: { seq: 5, kind: 'event.created', region: 'g1', bbox: null, data, ...extra } });

  it('reads the event out of a stream message', () => {
    const inc = incidentOf(msg({ id: 7, lon: 106.5, lat: 29.5, status: 'reported', tier: 'street', deadline_at: '2000-01-01T00:00:00Z' }));
    expect(inc).toMatchObject({ id: 7, lon: 106.5, lat: 29.5, status: 'reported', tier: 'street', overdue: true, grid: 'g1' });
    expect(incidentOf(msg({ id: 8, lon: 1, lat: 2, status: 'closed', deadline_at: '2000-01-01T00:00:00Z' })).overdue).toBe(false);
  });

  it('places by the bbox centre when the event has no point, and skips unplaceable or non-event messages', () => {
    expect(incidentOf(msg({ id: 9 }, { bbox: [1, 2, 3, 4] }))).toMatchObject({ lon: 2, lat: 3 });
    expect(incidentOf(msg({ id: 9 }))).toBe(null);
    expect(incidentOf({ type: 'unit.changed', data: { kind: 'unit.changed', data: { lon: 1, lat: 2 } } })).toBe(null);
    expect(incidentOf(null)).toBe(null);
  });

  it('keeps the newest, bounded, and flags fresh ones', () => {
    const l = new LiveIncidents(2);
    l.add({ id: 1, lon: 0, lat: 0 }, 0);
    l.add({ id: 2, lon: 0, lat: 0 }, 1000);
    l.add({ id: 3, lon: 0, lat: 0 }, 5000);
    const g = l.geojson(5500, 3000);
    expect(g.features.map((f) => f.properties.id)).toEqual([2, 3]);
    expect(g.features.map((f) => f.properties.fresh)).toEqual([false, true]);
  });

  it('knows which states are open, and hides done incidents under "open only"', () => {
    const open = (status) => incidentOf(msg({ id: 1, lon: 1, lat: 2, status })).open;
    for (const s of ['reported', 'accepted', 'dispatched', 'on_site']) expect(open(s)).toBe(true);
    for (const s of ['resolved', 'closed', 'evaluated', 'rejected', 'duplicate']) expect(open(s)).toBe(false);
    const l = new LiveIncidents();
    l.add(incidentOf(msg({ id: 1, lon: 1, lat: 2, status: 'accepted' })), 0);
    l.add(incidentOf(msg({ id: 2, lon: 1, lat: 2, status: 'accepted' })), 0);
    l.add(incidentOf(msg({ id: 2, lon: 1, lat: 2, status: 'closed' })), 10); // closed live
    expect(l.geojson(20, 3000, { openOnly: true }).features.map((f) => f.properties.id)).toEqual([1]);
    expect(l.geojson(20, 3000).features.map((f) => f.properties.id)).toEqual([1, 2]);
  });
});

describe('geometry helpers', () => {
  const sq = (code, x0, y0, s) => ({
    properties: { code, name: code },
    geometry: { type: 'Polygon', coordinates: [[[x0, y0], [x0 + s, y0], [x0 + s, y0 + s], [x0, y0 + s], [x0, y0]]] },
  });

  it('merges a region cut across tiles and anchors its label on the biggest piece', () => {
    const g = groupByCode([sq('a', 0, 0, 1), sq('a', 1, 0, 3), sq('b', 10, 10, 1)]);
    expect(g.get('a').bbox).toEqual([0, 0, 4, 3]);
    expect(g.get('a').anchor).toEqual([2.5, 1.5]);
    expect(bboxOf([sq('x', 5, 5, 2)])).toEqual([5, 5, 7, 7]);
    expect(bboxOf([])).toBe(null);
  });

  it('haversine distance', () => {
    expect(distanceM([106.5, 29.5], [106.5, 29.5])).toBe(0);
    expect(distanceM([0, 0], [0, 1])).toBeCloseTo(111195, -1);
  });

  it('hides labels that overlap a bigger region\'s', () => {
    const l = (x, y) => ({ x, y, w: 60, h: 16 });
    expect(declutter([l(100, 100), l(130, 105), l(100, 130), l(300, 100)])).toEqual([true, false, true, true]);
    expect(declutter([])).toEqual([]);
  });

  it('labels coarser regions when zoomed out', () => {
    expect(labelLevel(9)).toBe('districts');
    expect(labelLevel(12)).toBe('streets');
    expect(labelLevel(13)).toBe('communities');
    expect(labelLevel(16)).toBe('grids');
  });
});
