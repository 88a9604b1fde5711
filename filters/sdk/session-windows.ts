/**
 * @module `SessionWindows`: per-key sessions of event time (`window-engine.ts` has the rules of
 * time and lateness). An event at t stands for the span [t, t + gap); overlapping spans form
 * one session, so a session is a run of events of one key less than `gap` ms apart, and
 * covers [first event, last event + gap). A result has start = its first event time and end =
 * its last event time + gap, and closes once the watermark passes that end (+ latenessMs).
 *
 * An event out of order may bridge two sessions: it is added to the earlier one, then every
 * later session it overlaps is merged into it, in order (`Aggregates.merge`: sums add, Welford
 * states combine, sketches merge exactly). A key's sessions are a list sorted by start (they
 * never overlap, so also by end).
 */

import { Event } from './event';
import { Output } from './output';
import { W_AGG, W_END, W_NEXT, W_START } from './window-pool';
import { K_HEAD, Windows } from './window-engine';
import { WindowSpec } from './window-spec';

/** Session windows. */
export class SessionWindows extends Windows {
  private _gap: i64;

  constructor(spec: WindowSpec) {
    super(spec);
    this._gap = spec.gapMs;
  }

  protected firstEnd(t: i64): i64 {
    return t + this._gap;
  }

  protected insert(k: i32, t: i64, v: f64, ev: Event, out: Output): void {
    const gap = this._gap;
    const pool = this.pool;
    const aggs = this.aggs;
    let prev = -1;
    let cur = load<i32>(this.keyAt(k), K_HEAD);
    while (cur >= 0 && load<i64>(pool.at(cur), W_END) <= t) {
      prev = cur;
      cur = load<i32>(pool.at(cur), W_NEXT);
    }
    if (cur < 0 || load<i64>(pool.at(cur), W_START) >= t + gap) {
      const n = pool.alloc();
      const r = pool.at(n);
      store<i64>(r, t, W_START);
      store<i64>(r, t + gap, W_END);
      store<i32>(r, cur, W_NEXT);
      aggs.start(r + W_AGG, t, v);
      if (prev < 0) store<i32>(this.keyAt(k), n, K_HEAD);
      else store<i32>(pool.at(prev), n, W_NEXT);
      this.open++;
      this.noteEnd(k, t + gap);
      return;
    }
    const a = pool.at(cur) + W_AGG;
    aggs.add(a, t, v);
    let next = load<i32>(pool.at(cur), W_NEXT);
    while (next >= 0 && load<i64>(pool.at(next), W_START) < t + gap) {
      const r = pool.at(next);
      aggs.merge(a, r + W_AGG);
      const after = load<i32>(r, W_NEXT);
      aggs.release(r + W_AGG);
      pool.free(next);
      this.open--;
      next = after;
    }
    const r = pool.at(cur);
    store<i32>(r, next, W_NEXT);
    store<i64>(r, aggs.minTime(a), W_START);
    store<i64>(r, aggs.maxTime(a) + gap, W_END);
  }
}
