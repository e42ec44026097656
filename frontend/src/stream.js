// LiveStream wraps EventSource for the incident feed: it reconnects with
// backoff when the browser gives up (readyState CLOSED), resumes from the
// last id it saw, and reports a state the page shows:
//   connecting → live → stale (no open connection for staleAfterMs, or an
//   error) → live again; off when the server has no stream (404).
// EventSource itself retries transient drops (retry: 2000 from the
// server); we only step in when it closes for good.

// The message kinds the server sends (postgis/stream.go), as SSE event names,
// and kpi.changed: the jurisdiction's KPI body (GET /api/v1/kpi), pushed at
// most once a second while its events change. It has no id (it is not
// replayed on resume: the page asks for the KPI again on a reconnect).
export const STREAM_NAMES = ['event.created', 'event.updated', 'unit.changed', 'grid.changed', 'kpi.changed'];

export class LiveStream {
  constructor(url, {
    EventSourceImpl = globalThis.EventSource,
    names = STREAM_NAMES,
    onMessage = () => {},
    onState = () => {},
    onOpen = () => {},
    staleAfterMs = 5000,
    backoffMs = [1000, 2000, 5000, 10000],
    setTimer = (f, ms) => setTimeout(f, ms),
    clearTimer = (h) => clearTimeout(h),
    now = () => Date.now(),
  } = {}) {
    Object.assign(this, { url, EventSourceImpl, names, onMessage, onState, onOpen, staleAfterMs, backoffMs, setTimer, clearTimer, now });
    this.state = 'idle';
    this.lastId = null;
    this.attempt = 0;
    this.lastMessageAt = null;
    this.es = null;
    this.staleTimer = null;
    this.retryTimer = null;
    this.stopped = false;
    this.opens = 0;
  }

  setState(s) {
    if (s === this.state) return;
    this.state = s;
    this.onState(s);
  }

  start() {
    this.stopped = false;
    this.open();
    return this;
  }

  stop() {
    this.stopped = true;
    this.clearTimer(this.staleTimer);
    this.clearTimer(this.retryTimer);
    if (this.es) this.es.close();
    this.es = null;
    this.setState('idle');
  }

  urlWithResume() {
    if (this.lastId == null) return this.url;
    const sep = this.url.includes('?') ? '&' : '?';
    return `${this.url}${sep}last_event_id=${encodeURIComponent(this.lastId)}`;
  }

  open() {
    if (this.stopped || !this.EventSourceImpl) {
      if (!this.EventSourceImpl) this.setState('off');
      return;
    }
    if (this.state !== 'stale') this.setState('connecting');
    const es = new this.EventSourceImpl(this.urlWithResume());
    this.es = es;
    this.armStale();
    es.onopen = () => {
      this.attempt = 0;
      this.clearTimer(this.staleTimer);
      this.setState('live');
      // every open, the browser's own reconnects included (the state may
      // stay live through those): what the page holds beside the replayed
      // messages (the KPI) is to be asked for again
      this.onOpen({ count: ++this.opens });
    };
    es.onerror = () => {
      if (this.es !== es) return;
      // CONNECTING (0): the browser retries by itself; CLOSED (2): we do.
      this.armStale();
      if (es.readyState === 2) {
        es.close();
        this.es = null;
        this.setState('stale');
        const ms = this.backoffMs[Math.min(this.attempt, this.backoffMs.length - 1)];
        this.attempt++;
        this.retryTimer = this.setTimer(() => this.open(), ms);
      }
    };
    const handle = (ev) => {
      if (ev.lastEventId) this.lastId = ev.lastEventId;
      this.lastMessageAt = this.now();
      if (this.state !== 'live') this.setState('live');
      let data = null;
      try {
        data = JSON.parse(ev.data);
      } catch {
        data = ev.data;
      }
      this.onMessage({ type: ev.type, id: ev.lastEventId, data });
    };
    es.onmessage = handle;
    for (const n of this.names) es.addEventListener?.(n, handle);
    es.addEventListener?.('resync', (ev) => {
      if (ev.lastEventId) this.lastId = ev.lastEventId;
      this.onMessage({ type: 'resync', id: ev.lastEventId, data: null });
    });
  }

  // armStale marks the feed stale when no connection opens in time.
  armStale() {
    this.clearTimer(this.staleTimer);
    this.staleTimer = this.setTimer(() => {
      if (!this.es || this.es.readyState !== 1) this.setState('stale');
    }, this.staleAfterMs);
  }
}

