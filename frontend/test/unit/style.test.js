import { describe, it, expect } from 'vitest';
import { buildStyle, FIRST_PAINT, GROUPS, SOURCES } from '../../src/style.js';
import { kpiRows } from '../../src/urls.js';

describe('style', () => {
  it('uses only our own sources: no glyphs, no sprite, no symbol layers', () => {
    const s = buildStyle('http://x');
    expect(s.glyphs).toBeUndefined();
    expect(s.sprite).toBeUndefined();
    expect(s.layers.some((l) => l.type === 'symbol')).toBe(false);
    for (const src of SOURCES) expect(s.sources[src]).toEqual({ type: 'vector', url: `http://x/tiles/${src}.json` });
  });

  it('inlines TileJSON it was given', () => {
    const s = buildStyle('http://x', { tileJSON: { grids: { tiles: ['http://x/tiles/grids/{z}/{x}/{y}.mvt?v=3'], minzoom: 10, maxzoom: 22, bounds: [1, 2, 3, 4] } } });
    expect(s.sources.grids).toEqual({ type: 'vector', tiles: ['http://x/tiles/grids/{z}/{x}/{y}.mvt?v=3'], minzoom: 10, maxzoom: 22, bounds: [1, 2, 3, 4] });
    expect(s.sources.districts.url).toBe('http://x/tiles/districts.json');
  });

  it('deferred: only the city outline paints first, the rest remembers its visibility', () => {
    const s = buildStyle('http://x', { deferred: true });
    for (const l of s.layers) {
      if (FIRST_PAINT.includes(l.id)) expect(l.layout?.visibility ?? 'visible').toBe('visible');
      else expect(l.layout.visibility).toBe('none');
    }
    expect(s.layers.find((l) => l.id === 'people-fill').metadata['wangge:deferred']).toBe('none');
    expect(s.layers.find((l) => l.id === 'grids-fill').metadata['wangge:deferred']).toBe('visible');
  });

  it('every layer a group switches exists', () => {
    const ids = new Set(buildStyle('http://x').layers.map((l) => l.id));
    for (const g of Object.values(GROUPS)) for (const id of g) expect(ids.has(id), id).toBe(true);
  });
});

describe('kpi rows', () => {
  it("reads today's figures, missing ones as null", () => {
    const rows = kpiRows({ today: { all: { reported: 5, closed: 2, closure_rate: 0.4, open: 3, overdue: 1 } } });
    expect(rows).toEqual([['kpi.reported', 5], ['kpi.closed', 2], ['kpi.closure_rate', 0.4, true], ['kpi.open', 3], ['kpi.overdue', 1]]);
    expect(kpiRows(null).every((r) => r[1] === undefined)).toBe(true);
  });
});

describe('a role without events.read', () => {
  it('gets no events or live source and no layer reading them', () => {
    const s = buildStyle('http://x', { without: ['events', 'live'] });
    expect(Object.keys(s.sources)).not.toContain('events');
    expect(Object.keys(s.sources)).not.toContain('live');
    expect(s.layers.filter((l) => l.source === 'events' || l.source === 'live')).toEqual([]);
    expect(s.layers.map((l) => l.id)).toContain('districts-fill');
  });
});
