// The KPI panel's figures: loaded once, then pushed by the server on the
// live stream (kpi.changed: the body of GET /api/v1/kpi for the caller's
// jurisdiction, at most once a second while its events change). The page
// asks again only when the push cannot be trusted: on a reconnect (frames
// sent meanwhile are not replayed) and, every minute, while the stream is
// down or has been silent for a minute and a half. No DOM here: Vitest
// pins it.

export const KPI_POLL_MS = 60_000; // the fallback's period
export const KPI_QUIET_MS = 90_000; // a live stream silent this long is not trusted
export const KPI_TICK_MS = 5_000; // how often the page asks kpiPollDue

// isKPI: a KPI body (not null, not a "not found" answer).
export function isKPI(b) {
  return !!b && typeof b === 'object' && !b.notFound && !!b.today && typeof b.today === 'object';
}

// kpiStamp: generated_at in milliseconds since the epoch, keeping the
// fraction below a millisecond (Go writes nanoseconds), or NaN.
export function kpiStamp(body) {
  const s = body?.generated_at;
  const m = typeof s === 'string' && /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(s);
  if (!m) return NaN;
  return Date.parse(m[1] + m[3]) + (m[2] ? Number(`0.${m[2]}`) * 1000 : 0);
}

// shouldApplyKPI: whether a body replaces the one shown. A pushed frame
// (asked false) must be a KPI body of the region shown, generated after
// it: a frame and a slow GET can cross, and the older loses. A pushed
// frame is the caller's jurisdiction, so a panel showing another region
// (asked for with ?region=) keeps it. An answer the panel asked for
// (asked true) may change the region, and without a stamp still shows.
export function shouldApplyKPI(shown, incoming, { asked = false } = {}) {
  if (!isKPI(incoming)) return false;
  const b = kpiStamp(incoming);
  if (!isKPI(shown)) return asked || !Number.isNaN(b);
  if ((incoming.region ?? '') !== (shown.region ?? '')) return asked;
  if (Number.isNaN(b)) return asked;
  const a = kpiStamp(shown);
  return Number.isNaN(a) || b > a;
}

// kpiPollDue: whether the page should GET the KPI now (times in ms on the
// page's clock). The push is trusted while the stream is live and has
// delivered a kpi.changed (or opened) within quietMs; otherwise the page
// asks every pollMs, counted from the newest figures it got (a GET asked
// or a frame received).
export function kpiPollDue({ now, live, liveSince = null, lastPushAt = null, lastGetAt = null, pollMs = KPI_POLL_MS, quietMs = KPI_QUIET_MS }) {
  const heard = Math.max(lastPushAt ?? -Infinity, liveSince ?? -Infinity);
  if (live && now - heard <= quietMs) return false;
  return now - Math.max(lastGetAt ?? -Infinity, lastPushAt ?? -Infinity) >= pollMs;
}

// KPIFeed keeps the figures shown and decides when to ask for them.
// load() is the GET (a body, or null when the server has none); onChange
// runs when the figures shown changed. The page wires the stream to it:
// opened() on every open, streamState() on every state, pushed() for each
// kpi.changed frame, and tick() every KPI_TICK_MS.
export class KPIFeed {
  constructor({ load, onChange = () => {}, now = () => Date.now(), pollMs = KPI_POLL_MS, quietMs = KPI_QUIET_MS, warn = console.warn } = {}) {
    Object.assign(this, { load, onChange, now, pollMs, quietMs, warn });
    this.shown = null;
    this.live = false;
    this.liveSince = null;
    this.lastPushAt = null;
    this.lastGetAt = null;
    this.loading = null;
    this.again = false; // a reconnect while a GET was out: one more after it
    this.stats = { gets: 0, frames: 0, framesApplied: 0 };
  }

  // offer shows body when shouldApplyKPI says so.
  offer(body, opts) {
    if (!shouldApplyKPI(this.shown, body, opts)) return false;
    this.shown = body;
    this.onChange(body);
    return true;
  }

  // refresh GETs the KPI (one request at a time). A failed request keeps
  // the figures shown: their "updated" time tells how old they are.
  refresh() {
    if (this.loading) return this.loading;
    this.lastGetAt = this.now();
    this.stats.gets++;
    this.loading = (async () => {
      try {
        const body = await this.load();
        if (body && !body.notFound) this.offer(body, { asked: true });
      } catch (e) {
        this.warn('kpi:', e?.message ?? e);
      } finally {
        this.loading = null;
        if (this.again) {
          this.again = false;
          this.refresh();
        }
      }
    })();
    return this.loading;
  }

  // pushed: a kpi.changed frame's data.
  pushed(body) {
    this.lastPushAt = this.now();
    this.stats.frames++;
    if (this.offer(body, { asked: false })) this.stats.framesApplied++;
  }

  streamState(s) {
    this.live = s === 'live';
  }

  // opened: the stream (re)connected. Frames sent while it was away are
  // not replayed: a reconnect asks once (after a GET already out, which
  // may predate the missed frames). The first open asks only when nothing
  // is shown or on its way (the page loaded the KPI at start).
  opened({ count = 1 } = {}) {
    this.live = true;
    this.liveSince = this.now();
    if (count > 1 && this.loading) this.again = true;
    else if (count > 1 || !isKPI(this.shown)) this.refresh();
  }

  // tick: the fallback poll, when due.
  tick() {
    const due = kpiPollDue({ now: this.now(), live: this.live, liveSince: this.liveSince, lastPushAt: this.lastPushAt,
      lastGetAt: this.lastGetAt, pollMs: this.pollMs, quietMs: this.quietMs });
    if (due) this.refresh();
    return due;
  }
}
