// Turning stream messages into map features for the live incident layer.

// OPEN_STATUSES are the server's open states (wangge.Status.Open): resolved,
// closed, evaluated, rejected and duplicate events are done.
export const OPEN_STATUSES = ['reported', 'accepted', 'dispatched', 'on_site'];

// incidentOf reads an event out of a stream message: the SSE data is a
// StreamMessage {seq, kind, at, region, bbox, data: event}; a bare event
// is accepted too. Returns null when it cannot be placed.
export function incidentOf(msg) {
  const m = msg?.data ?? msg;
  if (!m || typeof m !== 'object') return null;
  const kind = m.kind ?? msg?.type ?? '';
  if (kind && !String(kind).startsWith('event')) return null;
  const e = m.data && typeof m.data === 'object' ? m.data : m;
  let lon = Number(e.lon);
  let lat = Number(e.lat);
  if (!Number.isFinite(lon) || !Number.isFinite(lat) || (lon === 0 && lat === 0)) {
    const b = m.bbox;
    if (!Array.isArray(b) || b.length !== 4) return null;
    lon = (b[0] + b[2]) / 2;
    lat = (b[1] + b[3]) / 2;
  }
  const deadline = e.deadline_at ? Date.parse(e.deadline_at) : NaN;
  const status = e.status ?? 'reported';
  const open = OPEN_STATUSES.includes(status);
  return {
    id: e.id ?? m.seq,
    lon,
    lat,
    status,
    tier: e.tier ?? 'grid',
    category: e.category ?? '',
    grid: e.grid_code ?? m.region ?? '',
    open,
    overdue: open && Number.isFinite(deadline) && deadline < Date.now(),
    description: e.description ?? '',
  };
}

// LiveIncidents keeps the newest incidents by id, bounded, as GeoJSON.
export class LiveIncidents {
  constructor(max = 500) {
    this.max = max;
    this.byId = new Map();
  }

  add(inc, now = Date.now()) {
    this.byId.delete(inc.id); // re-insert: newest last
    this.byId.set(inc.id, { ...inc, seenAt: now });
    while (this.byId.size > this.max) this.byId.delete(this.byId.keys().next().value);
  }

  // geojson: the incidents as features; openOnly follows the events
  // filter ("open only"), so an incident closed live leaves the map as it
  // leaves the filtered event tiles.
  geojson(now = Date.now(), flashMs = 3000, { openOnly = false } = {}) {
    return {
      type: 'FeatureCollection',
      features: [...this.byId.values()].filter((i) => !openOnly || i.open !== false).map((i) => ({
        type: 'Feature',
        id: typeof i.id === 'number' ? i.id : undefined,
        geometry: { type: 'Point', coordinates: [i.lon, i.lat] },
        properties: { id: i.id, status: i.status, tier: i.tier, overdue: i.overdue, fresh: now - i.seenAt < flashMs },
      })),
    };
  }
}
