import { describe, it, expect } from 'vitest';
import { isKPI, kpiStamp, shouldApplyKPI, kpiPollDue, KPIFeed, KPI_POLL_MS, KPI_QUIET_MS } from '../../src/kpi.js';

// body: a KPI body as GET /api/v1/kpi answers it (Go's RFC 3339 with
// nanoseconds, city time).
const body = (at, reported = 1, region = '') => ({
  region, window_days: 7, generated_at: at, today: { all: { reported } }, window: { all: { reported } },
});

describe('kpiStamp', () => {
  it('reads generated_at with its offset and the fraction below a millisecond', () => {
    expect(kpiStamp(body('2026-11-30T14:03:18+08:00'))).toBe(Date.parse('2026-11-30T06:03:18Z'));
    expect(kpiStamp(body('2026-11-30T06:03:18.25Z'))).toBe(Date.parse('2026-11-30T06:03:18Z') + 250);
    const a = kpiStamp(body('2026-11-30T14:03:18.123456100+08:00'));
    const b = kpiStamp(body('2026-11-30T14:03:18.1234568+08:00'));
    expect(b).toBeGreaterThan(a); // within one millisecond, still ordered
  });

  it('is NaN without a readable stamp', () => {
    for (const x of [null, {}, { generated_at: 5 }, { generated_at: 'yesterday' }, { generated_at: '2026-11-30 14:03:18' }]) {
      expect(kpiStamp(x)).toBeNaN();
    }
  });
});

describe('isKPI', () => {
  it('is a body with today\'s figures, not a not-found answer', () => {
    expect(isKPI(body('2026-11-30T14:03:18+08:00'))).toBe(true);
    expect(isKPI(null)).toBe(false);
    expect(isKPI({ notFound: true, today: {} })).toBe(false);
    expect(isKPI({ region: '' })).toBe(false);
    expect(isKPI('kpi')).toBe(false);
  });
});

describe('shouldApplyKPI', () => {
  const t0 = '2026-11-30T14:03:18.5+08:00';
  const t1 = '2026-11-30T14:03:19.1+08:00';
  it('applies a pushed frame newer than what is shown, not an older or equal one', () => {
    expect(shouldApplyKPI(body(t0), body(t1))).toBe(true);
    expect(shouldApplyKPI(body(t1), body(t0))).toBe(false); // a slow GET overtaken: the frame stays
    expect(shouldApplyKPI(body(t1), body(t1))).toBe(false);
  });

  it('applies a frame when nothing is shown, but never something that is not a KPI body', () => {
    expect(shouldApplyKPI(null, body(t0))).toBe(true);
    expect(shouldApplyKPI({ notFound: true }, body(t0))).toBe(true);
    expect(shouldApplyKPI(body(t0), null)).toBe(false);
    expect(shouldApplyKPI(body(t0), { generated_at: t1 })).toBe(false);
    expect(shouldApplyKPI(null, body('not a time'))).toBe(false);
  });

  it('keeps a panel showing another region than the frame\'s (the jurisdiction\'s)', () => {
    expect(shouldApplyKPI(body(t0, 1, '500103'), body(t1, 9, ''))).toBe(false);
    expect(shouldApplyKPI(body(t0, 1, '500103'), body(t1, 9, '500103'))).toBe(true);
  });

  it('shows what the panel asked for in another region, and answers without a stamp', () => {
    expect(shouldApplyKPI(body(t1, 1, ''), body(t0, 1, '500103'), { asked: true })).toBe(true);
    expect(shouldApplyKPI(body(t0), { ...body(t1), generated_at: undefined }, { asked: true })).toBe(true);
    expect(shouldApplyKPI(null, { ...body(t1), generated_at: undefined }, { asked: true })).toBe(true);
    expect(shouldApplyKPI(body(t0), { ...body(t1), generated_at: undefined })).toBe(false);
    // but an answer older than the frame shown loses, asked or not
    expect(shouldApplyKPI(body(t1), body(t0), { asked: true })).toBe(false);
  });
});

describe('kpiPollDue', () => {
  const min = 60_000;
  it('never polls while the stream is live and pushing', () => {
    expect(kpiPollDue({ now: 10 * min, live: true, liveSince: 0, lastPushAt: 10 * min - 89_000, lastGetAt: 0 })).toBe(false);
    // just opened, nothing pushed yet
    expect(kpiPollDue({ now: 10 * min, live: true, liveSince: 10 * min - 80_000, lastGetAt: 0 })).toBe(false);
  });

  it('polls a live stream silent for more than 90 s, every 60 s', () => {
    expect(KPI_QUIET_MS).toBe(90_000);
    expect(KPI_POLL_MS).toBe(60_000);
    expect(kpiPollDue({ now: 90_000, live: true, liveSince: 0, lastGetAt: 0 })).toBe(false);
    expect(kpiPollDue({ now: 90_001, live: true, liveSince: 0, lastGetAt: 0 })).toBe(true);
    expect(kpiPollDue({ now: 120_000, live: true, liveSince: 0, lastPushAt: 10_000, lastGetAt: 90_001 })).toBe(false);
    expect(kpiPollDue({ now: 150_001, live: true, liveSince: 0, lastPushAt: 10_000, lastGetAt: 90_001 })).toBe(true);
  });

  it('polls every 60 s while the stream is down, counted from the newest figures', () => {
    expect(kpiPollDue({ now: 59_999, live: false, lastGetAt: 0 })).toBe(false);
    expect(kpiPollDue({ now: 60_000, live: false, lastGetAt: 0 })).toBe(true);
    // a frame a moment before the drop is as fresh as a GET
    expect(kpiPollDue({ now: 100_000, live: false, liveSince: 0, lastPushAt: 50_000, lastGetAt: 0 })).toBe(false);
    expect(kpiPollDue({ now: 110_000, live: false, liveSince: 0, lastPushAt: 50_000, lastGetAt: 0 })).toBe(true);
    expect(kpiPollDue({ now: 0, live: false })).toBe(true); // never loaded
  });

  it('takes other periods', () => {
    expect(kpiPollDue({ now: 1000, live: false, lastGetAt: 0, pollMs: 1000 })).toBe(true);
    expect(kpiPollDue({ now: 1001, live: true, liveSince: 0, lastGetAt: 0, pollMs: 1000, quietMs: 1000 })).toBe(true);
  });
});

// A feed on a manual clock with a GET the test answers.
function harness() {
  let now = 0;
  const asked = [];
  const changes = [];
  const feed = new KPIFeed({
    load: () => new Promise((resolve, reject) => asked.push({ resolve, reject })),
    onChange: (b) => changes.push(b.today.all.reported),
    now: () => now,
    warn: () => {},
  });
  return { feed, asked, changes, at: (ms) => (now = ms), answer: async (i, b) => {
    asked[i].resolve(b);
    await feed.loading;
  } };
}

describe('KPIFeed', () => {
  it('loads once at start, then applies frames without asking', async () => {
    const h = harness();
    h.feed.refresh();
    h.feed.opened({ count: 1 }); // the GET is out already: not a second one
    expect(h.asked).toHaveLength(1);
    await h.answer(0, body('2026-11-30T14:00:00+08:00', 5));
    h.at(1000);
    h.feed.pushed(body('2026-11-30T14:00:01+08:00', 6));
    h.at(2000);
    h.feed.pushed(body('2026-11-30T14:00:02+08:00', 7));
    expect(h.changes).toEqual([5, 6, 7]);
    expect(h.asked).toHaveLength(1);
    expect(h.feed.stats).toEqual({ gets: 1, frames: 2, framesApplied: 2 });
  });

  it('keeps a frame that overtook a slow GET', async () => {
    const h = harness();
    h.feed.refresh();
    h.feed.pushed(body('2026-11-30T14:00:02+08:00', 7));
    await h.answer(0, body('2026-11-30T14:00:01+08:00', 6));
    expect(h.changes).toEqual([7]);
    expect(h.feed.shown.today.all.reported).toBe(7);
  });

  it('asks once on each reconnect, not on the first open', async () => {
    const h = harness();
    h.feed.refresh();
    await h.answer(0, body('2026-11-30T14:00:00+08:00', 5));
    h.feed.opened({ count: 1 });
    expect(h.asked).toHaveLength(1);
    h.feed.streamState('stale');
    h.feed.opened({ count: 2 });
    expect(h.asked).toHaveLength(2);
    await h.answer(1, body('2026-11-30T14:05:00+08:00', 8));
    expect(h.changes).toEqual([5, 8]);
  });

  it('asks again after a GET that was out when the stream reconnected', async () => {
    const h = harness();
    h.feed.refresh();
    h.feed.opened({ count: 2 });
    expect(h.asked).toHaveLength(1);
    await h.answer(0, body('2026-11-30T14:00:00+08:00', 5));
    expect(h.asked).toHaveLength(2);
  });

  it('asks on the first open when nothing is shown (the load at start failed)', async () => {
    const h = harness();
    h.feed.refresh();
    h.asked[0].reject(new Error('503'));
    await h.feed.loading;
    h.feed.opened({ count: 1 });
    expect(h.asked).toHaveLength(2);
  });

  it('polls every minute only while the push cannot be trusted', async () => {
    const h = harness();
    h.feed.refresh();
    await h.answer(0, body('2026-11-30T14:00:00+08:00', 5));
    h.feed.opened({ count: 1 });
    for (let t = 5000; t <= 85_000; t += 5000) {
      h.at(t);
      if (t % 20_000 === 0) h.feed.pushed(body(`2026-11-30T14:00:${String(t / 1000).padStart(2, '0')}+08:00`, 5 + t / 20_000));
      expect(h.feed.tick()).toBe(false);
    }
    // the pushes stop: 90 s after the last (at 80 s), a GET
    h.at(170_000);
    expect(h.feed.tick()).toBe(false);
    h.at(170_001);
    expect(h.feed.tick()).toBe(true);
    await h.answer(1, body('2026-11-30T14:02:50+08:00', 10));
    h.at(200_000);
    expect(h.feed.tick()).toBe(false);
    h.at(230_001);
    expect(h.feed.tick()).toBe(true);
    await h.answer(2, body('2026-11-30T14:03:50+08:00', 10));
    // the stream drops: still every minute from the last figures
    h.feed.streamState('stale');
    h.at(260_000);
    expect(h.feed.tick()).toBe(false);
    h.at(290_001);
    expect(h.feed.tick()).toBe(true);
    expect(h.asked).toHaveLength(4);
  });

  it('keeps the figures shown when a GET fails or the server has none', async () => {
    const h = harness();
    h.feed.pushed(body('2026-11-30T14:00:00+08:00', 5));
    h.feed.refresh();
    h.asked[0].reject(new Error('boom'));
    await h.feed.loading;
    h.feed.refresh();
    await h.answer(1, null);
    h.feed.refresh();
    await h.answer(2, { notFound: true });
    expect(h.feed.shown.today.all.reported).toBe(5);
    expect(h.changes).toEqual([5]);
  });
});
