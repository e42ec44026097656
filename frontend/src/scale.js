// Colour scales for the grid choropleth and its legend. Breaks are
// quantiles of the values actually on the map (robust to the long tail of
// household counts), rounded to "nice" numbers, deduplicated.

// A dark-background sequential ramp (light = more), colour-blind safe
// enough for 5 classes; rates use the same ramp.
export const RAMP = ['#1d3a5f', '#23628a', '#2f8fb0', '#5cbfc7', '#a6e3c9'];
export const NODATA = 'rgba(0,0,0,0)';

// niceRound keeps two significant digits (1234 → 1200, 47 → 47).
export function niceRound(x) {
  if (!Number.isFinite(x) || x === 0) return 0;
  return Number(x.toPrecision(2));
}

// quantileBreaks returns up to classes-1 ascending thresholds: class i
// holds values v with breaks[i-1] <= v < breaks[i].
export function quantileBreaks(values, classes = RAMP.length, { rate = false } = {}) {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return [];
  const out = [];
  for (let i = 1; i < classes; i++) {
    const q = v[Math.min(v.length - 1, Math.floor((i * v.length) / classes))];
    const b = rate ? Math.round(q * 100) / 100 : niceRound(q);
    if (b > v[0] && (out.length === 0 || b > out[out.length - 1])) out.push(b);
  }
  return out;
}

export function classOf(value, breaks) {
  if (!Number.isFinite(value)) return -1;
  let i = 0;
  while (i < breaks.length && value >= breaks[i]) i++;
  return i;
}

export function colourOf(value, breaks, ramp = RAMP) {
  const c = classOf(value, breaks);
  if (c < 0) return NODATA;
  // spread fewer classes over the whole ramp
  const idx = breaks.length === 0 ? ramp.length - 1 : Math.round((c * (ramp.length - 1)) / breaks.length);
  return ramp[idx];
}

function fmt(x, rate) {
  return rate ? `${Math.round(x * 100)}%` : Number(x).toLocaleString('en-US');
}

// legendItems: one row per class, with its label ("< 50", "50–100", "≥ 200";
// null for the single class of a metric with one value: the page names it).
export function legendItems(breaks, { rate = false, ramp = RAMP } = {}) {
  const rows = [];
  const n = breaks.length + 1;
  for (let c = 0; c < n; c++) {
    const lo = c === 0 ? null : breaks[c - 1];
    const hi = c === breaks.length ? null : breaks[c];
    let label;
    if (lo === null && hi === null) label = null;
    else if (lo === null) label = `< ${fmt(hi, rate)}`;
    else if (hi === null) label = `≥ ${fmt(lo, rate)}`;
    else label = `${fmt(lo, rate)}–${fmt(hi, rate)}`;
    const idx = breaks.length === 0 ? ramp.length - 1 : Math.round((c * (ramp.length - 1)) / breaks.length);
    rows.push({ colour: ramp[idx], label, from: lo, to: hi });
  }
  return rows;
}

// stepExpression: a MapLibre expression colouring by `input` with breaks.
export function stepExpression(input, breaks, ramp = RAMP) {
  if (breaks.length === 0) return ['case', ['==', input, null], NODATA, ramp[ramp.length - 1]];
  const e = ['step', input, ramp[0]];
  breaks.forEach((b, i) => {
    e.push(b, ramp[Math.round(((i + 1) * (ramp.length - 1)) / breaks.length)]);
  });
  return ['case', ['==', input, null], NODATA, e];
}

// normaliseStats accepts the shapes a stats endpoint may answer with
// ({values: {code: n}}, {items|data|rows: [{code, value}]}, [{code, value}])
// and gives a Map code → number.
export function normaliseStats(body) {
  const m = new Map();
  if (!body) return m;
  if (body.values && !Array.isArray(body.values) && typeof body.values === 'object') {
    for (const [k, v] of Object.entries(body.values)) if (v != null && Number.isFinite(+v)) m.set(String(k), +v);
    return m;
  }
  const rows = Array.isArray(body) ? body : (body.items ?? body.data ?? body.rows ?? body.values ?? []);
  for (const r of rows) {
    const code = r.code ?? r.grid ?? r.region;
    const v = r.value ?? r.v ?? r.count;
    if (code != null && v != null && Number.isFinite(+v)) m.set(String(code), +v);
  }
  return m;
}
