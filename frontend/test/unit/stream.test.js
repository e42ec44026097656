import { describe, it, expect } from 'vitest';
import { LiveStream, STREAM_NAMES } from '../../src/stream.js';

// A fake EventSource and a manual clock: the test drives time.
function harness(opts = {}) {
  const sources = [];
  class FakeES {
    constructor(url) {
      this.url = url;
      this.readyState = 0;
      this.listeners = {};
      this.closed = false;
      sources.push(this);
    }
    addEventListener(name, f) {
      (this.listeners[name] ??= []).push(f);
    }
    close() {
      this.closed = true;
      this.readyState = 2;
    }
    open() {
      this.readyState = 1;
      this.onopen?.();
    }
    fail(final) {
      this.readyState = final ? 2 : 0;
      this.onerror?.();
    }
    emit(name, data, id) {
      const ev = { type: name, data: JSON.stringify(data), lastEventId: id };
      for (const f of this.listeners[name] ?? []) f(ev);
    }
  }
  let now = 0;
  const timers = [];
  const states = [];
  const messages = [];
  const s = new LiveStream('/api/v1/stream?kinds=event', {
    EventSourceImpl: FakeES,
    onState: (x) => states.push(x),
    onMessage: (m) => messages.push(m),
    staleAfterMs: 5000,
    backoffMs: [1000, 2000],
    setTimer: (f, ms) => {
      const h = { at: now + ms, f, done: false };
      timers.push(h);
      return h;
    },
    clearTimer: (h) => h && (h.done = true),
    now: () => now,
    ...opts,
  });
  const advance = (ms) => {
    now += ms;
    for (const h of timers) {
      if (!h.done && h.at <= now) {
        h.done = true;
        h.f();
      }
    }
  };
  return { s, sources, states, messages, advance };
}

describe('LiveStream', () => {
  it('goes connecting → live and hands messages over, parsed', () => {
    const h = harness();
    h.s.start();
    expect(h.states).toEqual(['connecting']);
    h.sources[0].open();
    expect(h.s.state).toBe('live');
    h.sources[0].emit('event.created', { seq: 4, kind: 'event.created', data: { id: 9 } }, '4');
    expect(h.messages).toEqual([{ type: 'event.created', id: '4', data: { seq: 4, kind: 'event.created', data: { id: 9 } } }]);
    expect(h.s.lastId).toBe('4');
  });

  it('listens to every kind the server sends', () => {
    const h = harness();
    h.s.start();
    for (const n of STREAM_NAMES) expect(h.sources[0].listeners[n]).toHaveLength(1);
    expect(h.sources[0].listeners.resync).toHaveLength(1);
  });

  it('hands over kpi.changed frames, which carry no id, keeping the last id', () => {
    const h = harness();
    h.s.start();
    h.sources[0].open();
    expect(h.sources[0].listeners['kpi.changed']).toHaveLength(1);
    h.sources[0].emit('event.created', { seq: 7 }, '7');
    const body = { region: '', window_days: 7, generated_at: '2026-11-30T14:03:18.5+08:00', today: { all: { reported: 3 } } };
    h.sources[0].emit('kpi.changed', body, '');
    expect(h.messages.at(-1)).toEqual({ type: 'kpi.changed', id: '', data: body });
    expect(h.s.lastId).toBe('7');
  });

  it('tells every open, the browser\'s own reconnects too (the state stays live through those)', () => {
    const opens = [];
    const h = harness({ onOpen: (o) => opens.push(o.count) });
    h.s.start();
    h.sources[0].open();
    h.sources[0].fail(false); // transient: EventSource retries itself
    h.sources[0].open();
    expect(h.states).toEqual(['connecting', 'live']);
    h.sources[0].fail(true); // closed for good: we reconnect
    h.advance(1000);
    h.sources[1].open();
    expect(opens).toEqual([1, 2, 3]);
  });

  it('is stale when no connection opens in time', () => {
    const h = harness();
    h.s.start();
    h.advance(4999);
    expect(h.s.state).toBe('connecting');
    h.advance(1);
    expect(h.s.state).toBe('stale');
    h.sources[0].open();
    expect(h.s.state).toBe('live');
  });

  it('lets the browser retry transient drops, and shows stale if they last', () => {
    const h = harness();
    h.s.start();
    h.sources[0].open();
    h.sources[0].fail(false); // CONNECTING: EventSource retries itself
    expect(h.sources).toHaveLength(1);
    expect(h.s.state).toBe('live');
    h.advance(5000);
    expect(h.s.state).toBe('stale');
    h.sources[0].open();
    expect(h.s.state).toBe('live');
  });

  it('reconnects with backoff after a final error, resuming from the last id', () => {
    const h = harness();
    h.s.start();
    h.sources[0].open();
    h.sources[0].emit('event.updated', { seq: 11 }, '11');
    h.sources[0].fail(true);
    expect(h.s.state).toBe('stale');
    expect(h.sources[0].closed).toBe(true);
    h.advance(999);
    expect(h.sources).toHaveLength(1);
    h.advance(1);
    expect(h.sources).toHaveLength(2);
    expect(h.sources[1].url).toBe('/api/v1/stream?kinds=event&last_event_id=11');
    h.sources[1].fail(true);
    h.advance(1999);
    expect(h.sources).toHaveLength(2);
    h.advance(1);
    expect(h.sources).toHaveLength(3);
    h.sources[2].open();
    expect(h.s.state).toBe('live');
    h.sources[2].fail(true); // backoff starts over after a success
    h.advance(1000);
    expect(h.sources).toHaveLength(4);
  });

  it('stop closes and never reconnects', () => {
    const h = harness();
    h.s.start();
    h.sources[0].open();
    h.sources[0].fail(true);
    h.s.stop();
    h.advance(60000);
    expect(h.sources).toHaveLength(1);
    expect(h.s.state).toBe('idle');
  });

  it('is off without EventSource', () => {
    const h = harness({ EventSourceImpl: undefined });
    h.s.start();
    expect(h.s.state).toBe('off');
  });
});
