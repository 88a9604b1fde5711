/**
 * @module `CountWindows`: per-key windows of `count` events in arrival order. Time plays no part
 * in where an event goes and nothing is late; a window closes when its `count`-th event
 * arrives, on `tick(now)` once its latest event time ≤ now − idleMs − outOfOrderMs − latenessMs
 * (idleMs is -1, never, unless configured), and on `flush`. A result's start and end are its
 * earliest event time and latest event time + 1; its id is `windowId(key, n)` for the key's
 * n-th window (0, 1, 2, …), so a replay from a snapshot gives the same ids.
 */

import { Event } from './event';
import { windowId } from './hash';
import { Output } from './output';
import { W_AGG, W_END, W_NEXT, W_SEQ, W_START } from './window-pool';
import { K_HEAD, K_SEQ, NEVER, Windows } from './window-engine';
import { WindowSpec } from './window-spec';

/** Count windows. */
export class CountWindows extends Windows {
  private _count: i64;

  constructor(spec: WindowSpec) {
    super(spec);
    this._count = spec.count;
    this.timed = false;
  }

  protected firstEnd(t: i64): i64 {
    return NEVER;
  }

  protected resultId(k: i32, r: usize): u64 {
    return windowId(this.keys.keyPtr(k), this.keys.keyLen(k), load<i64>(r, W_SEQ));
  }

  protected insert(k: i32, t: i64, v: f64, ev: Event, out: Output): void {
    const pool = this.pool;
    const aggs = this.aggs;
    let i = load<i32>(this.keyAt(k), K_HEAD);
    if (i < 0) {
      i = pool.alloc();
      const r = pool.at(i);
      const ks = this.keyAt(k);
      const seq = load<i64>(ks, K_SEQ);
      store<i64>(ks, seq + 1, K_SEQ);
      store<i64>(r, seq, W_SEQ);
      store<i32>(r, -1, W_NEXT);
      aggs.start(r + W_AGG, t, v);
      store<i32>(ks, i, K_HEAD);
      this.open++;
    } else {
      aggs.add(pool.at(i) + W_AGG, t, v);
    }
    const r = pool.at(i);
    const a = r + W_AGG;
    store<i64>(r, aggs.minTime(a), W_START);
    store<i64>(r, aggs.maxTime(a) + 1, W_END);
    if (aggs.count(a) >= this._count) this.closeKey(k, NEVER, out);
  }
}
