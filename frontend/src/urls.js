// Every URL the page asks for is built here, so tests pin them down.

const enc = encodeURIComponent;

function qs(params) {
  const parts = [];
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === '') continue;
    parts.push(`${enc(k)}=${enc(v)}`);
  }
  return parts.length ? `?${parts.join('&')}` : '';
}

// round keeps coordinates to ~1 cm: shorter URLs, equal cache keys.
const round = (x) => Math.round(x * 1e7) / 1e7;

export const api = {
  tileJSON: (source) => `/tiles/${enc(source)}.json`,
  nearest: ({ lon, lat, k = 5, kind, status }) =>
    `/api/v1/responders/nearest${qs({ lon: round(lon), lat: round(lat), k, kind, status })}`,
  eventResponders: (id, { k = 8, kind, status } = {}) => `/api/v1/events/${enc(id)}/responders${qs({ k, kind, status })}`,
  unitStatus: (id) => `/api/v1/units/${enc(id)}/status`,
  eventsTiles: (tileURL, filter) => {
    const extra = eventFilterQuery(filter);
    if (!extra) return tileURL;
    return tileURL + (tileURL.includes('?') ? '&' : '?') + extra;
  },
  locate: ({ lon, lat }) => `/api/v1/locate${qs({ lon: round(lon), lat: round(lat) })}`,
  region: (code) => `/api/v1/regions/${enc(code)}`,
  building: (id) => `/api/v1/buildings/${enc(id)}`,
  stats: ({ level, metric, parent }) => `/api/v1/stats${qs({ level, metric, parent })}`,
  search: (q, limit = 10) => `/api/v1/search${qs({ q: q.trim(), limit })}`,
  kpi: () => '/api/v1/kpi',
  plans: () => '/api/v1/plans',
  plan: (id) => `/api/v1/plans/${enc(id)}`,
  planApply: (id) => `/api/v1/plans/${enc(id)}/apply`,
  gridHistory: (code) => `/api/v1/grids/${enc(code)}/history`,
  gridNeighbours: (code) => `/api/v1/grids/${enc(code)}/neighbours`,
  gridRevert: (code) => `/api/v1/grids/${enc(code)}/revert`,
  session: () => '/api/v1/session',
  events: ({ limit } = {}) => `/api/v1/events${qs({ limit })}`,
  stream: ({ kinds, lastEventId } = {}) => `/api/v1/stream${qs({ kinds, last_event_id: lastEventId })}`,
};

// levelOf tells a region code's level by its length (the schema's code
// formats: district 6, street 9, community 12, grid 15 digits).
export function levelOf(code) {
  const s = String(code ?? '');
  if (!/^\d+$/.test(s)) return null;
  return { 6: 'district', 9: 'street', 12: 'community', 15: 'grid' }[s.length] ?? null;
}

// parentOf: the enclosing region's code (codes nest by prefix).
export function parentOf(code) {
  const s = String(code);
  const cut = { 9: 6, 12: 9, 15: 12 }[s.length];
  return cut ? s.slice(0, cut) : null;
}

// ApiError is a refused or failed request: the HTTP status, the server's
// machine code (what the UI localizes, see i18n.js errorText), its English
// reason as detail, the request id to quote to an operator, and the whole
// body (a refused plan's problems, a stale apply's changed grids).
export class ApiError extends Error {
  constructor(status, body, statusText = '') {
    const detail = typeof body?.error === 'string' ? body.error : statusText || '';
    super(`${status} ${detail}`.trim());
    this.name = 'ApiError';
    this.status = status;
    this.code = typeof body?.code === 'string' && body.code ? body.code : codeOfStatus(status);
    this.detail = detail;
    this.requestId = body?.request_id ?? null;
    this.body = body ?? null;
  }
}

// codeOfStatus: the code an answer without one (a proxy's HTML error page,
// a failed connection: status 0) stands for, from api/errors.go's table.
export function codeOfStatus(status) {
  if (!status) return 'network';
  return { 400: 'invalid', 401: 'unauthorized', 403: 'forbidden', 404: 'not_found', 409: 'conflict', 412: 'stale', 413: 'too_large', 422: 'plan_rejected', 429: 'too_many_attempts' }[status] ??
    (status === 500 ? 'internal' : status >= 500 ? 'unavailable' : 'invalid');
}

// readBody: the answer's JSON body, or null when it has none.
async function readBody(r) {
  try {
    return await r.json();
  } catch {
    return null; // empty or not JSON
  }
}

// apiError reads a failed answer into an ApiError.
export async function apiError(r) {
  return new ApiError(r.status, await readBody(r), r.statusText);
}

// A 401 from any call means the session is gone (expired, revoked, logged
// out elsewhere): the page shows its login again. The page registers what
// to do; the call itself still fails as usual.
let unauthorized = () => {};
export function onUnauthorized(f) {
  unauthorized = f ?? (() => {});
}
function saw401(status) {
  if (status === 401) unauthorized();
}

// fetchJSON returns the body, or null when the endpoint does not exist
// (404/405/501): the page degrades rather than fails while parts of the
// API are not deployed. Other errors throw an ApiError.
export async function fetchJSON(url, { signal, fetchImpl = globalThis.fetch } = {}) {
  const r = await fetchImpl(url, { signal, headers: { Accept: 'application/json' } });
  saw401(r.status);
  if (r.status === 404 || r.status === 405 || r.status === 501) {
    const body = await readBody(r);
    // A JSON 404 from a route that exists (unknown region) is "not found";
    // "no such route" (or any 405/501) means the endpoint is absent.
    if (r.status === 404 && body?.code === 'not_found' && !/no such route/.test(body.error ?? '')) {
      return { notFound: true, ...body };
    }
    return null;
  }
  if (!r.ok) throw await apiError(r);
  return r.json();
}

// postJSON sends body as JSON and answers { status, body, error }: error
// is an ApiError unless the answer is a 2xx; a failed connection answers
// status 0 (code 'network') rather than throwing, so callers have one path.
// quiet401: a login's own 401 (wrong password) is not a lost session.
export async function postJSON(url, body, { method = 'POST', fetchImpl = globalThis.fetch, quiet401 = false } = {}) {
  let r;
  try {
    r = await fetchImpl(url, { method, headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (e) {
    return { status: 0, body: null, error: new ApiError(0, null, e?.message ?? String(e)) };
  }
  if (!quiet401) saw401(r.status);
  const b = await readBody(r);
  return { status: r.status, body: b, error: r.ok ? null : new ApiError(r.status, b, r.statusText),
    ...(r.headers ? { headers: r.headers } : {}) }; // (a 429's Retry-After)
}

// kpiRows: the KPI panel's rows [i18n key, value, is a rate] from
// GET /api/v1/kpi (today's figures, city-wide or for a region).
export function kpiRows(k) {
  const a = k?.today?.all ?? {};
  return [
    ['kpi.reported', a.reported],
    ['kpi.closed', a.closed],
    ['kpi.closure_rate', a.closure_rate, true],
    ['kpi.open', a.open],
    ['kpi.overdue', a.overdue],
  ];
}

// eventFilterQuery: the events tiles' filter for the time window (days
// back from today, Asia/Shanghai dates as the server reads them; 0: all
// time) and "open only".
export function eventFilterQuery({ days = 0, open = false } = {}, now = Date.now()) {
  const parts = [];
  if (open) parts.push('status=open');
  if (days > 0) {
    const shanghai = new Date(now + 8 * 3600e3 - (days - 1) * 86400e3);
    parts.push(`since=${shanghai.toISOString().slice(0, 10)}`);
  }
  return parts.join('&');
}
