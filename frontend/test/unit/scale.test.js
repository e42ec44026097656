import { describe, it, expect } from 'vitest';
import { quantileBreaks, classOf, colourOf, legendItems, stepExpression, normaliseStats, niceRound, RAMP, NODATA } from '../../src/scale.js';

describe('colour scale', () => {
  it('rounds breaks to two significant digits', () => {
    expect(niceRound(1234)).toBe(1200);
    expect(niceRound(47)).toBe(47);
    expect(niceRound(3)).toBe(3);
    expect(niceRound(0)).toBe(0);
  });

  it('quantile breaks ascend, split the values and skip duplicates', () => {
    const v = Array.from({ length: 100 }, (_, i) => i);
    const b = quantileBreaks(v);
    expect(b).toEqual([20, 40, 60, 80]);
    expect(quantileBreaks([5, 5, 5, 5])).toEqual([]);
    expect(quantileBreaks([0, 0, 0, 1, 1, 1, 9])).toEqual([1]);
    expect(quantileBreaks([])).toEqual([]);
    expect(quantileBreaks([NaN, undefined, 3, 4])).toEqual([4]);
  });

  it('rates keep two decimals', () => {
    expect(quantileBreaks([0.111, 0.5, 0.777, 0.9, 1], 5, { rate: true })).toEqual([0.5, 0.78, 0.9, 1]);
  });

  it('classes and colours agree with the legend', () => {
    const b = [10, 20, 40];
    expect(classOf(5, b)).toBe(0);
    expect(classOf(10, b)).toBe(1);
    expect(classOf(39.9, b)).toBe(2);
    expect(classOf(1000, b)).toBe(3);
    expect(classOf(NaN, b)).toBe(-1);
    expect(colourOf(NaN, b)).toBe(NODATA);
    const rows = legendItems(b);
    expect(rows.map((r) => r.label)).toEqual(['< 10', '10–20', '20–40', '≥ 40']);
    expect(rows[0].colour).toBe(RAMP[0]);
    expect(rows[3].colour).toBe(RAMP[RAMP.length - 1]);
    for (const [v, c] of [[5, 0], [15, 1], [25, 2], [50, 3]]) expect(colourOf(v, b)).toBe(rows[c].colour);
  });

  it('legend labels rates as percentages', () => {
    expect(legendItems([0.5], { rate: true }).map((r) => r.label)).toEqual(['< 50%', '≥ 50%']);
    expect(legendItems([]).map((r) => r.label)).toEqual([null]);
  });

  it('builds a step expression with null as no data', () => {
    const e = stepExpression(['get', 'households'], [10, 20]);
    expect(e[0]).toBe('case');
    expect(e[2]).toBe(NODATA);
    expect(e[3]).toEqual(['step', ['get', 'households'], RAMP[0], 10, RAMP[2], 20, RAMP[4]]);
  });

  it('normalises the stats API shapes', () => {
    const api = normaliseStats({ level: 'grid', metric: 'open_events', values: { 500103001001001: 3, 500103001001002: null } });
    expect([...api]).toEqual([['500103001001001', 3]]);
    expect([...normaliseStats({ items: [{ code: 'a', value: 2 }, { code: 'b', value: null }] })]).toEqual([['a', 2]]);
    expect([...normaliseStats([{ grid: 'x', count: '4' }])]).toEqual([['x', 4]]);
    expect(normaliseStats(null).size).toBe(0);
  });
});
