/**
 * @module `TimeWindows`: tumbling and hopping windows of event time (`window-engine.ts` has the
 * rules of time and lateness). A window of `size` ms starts at every multiple of `slide` ms
 * (epoch aligned) and covers `[start, start + size)`; tumbling windows are the case
 * slide = size. An event at t is in every window whose start lies in (t − size, t], about
 * size / slide of them, and is added to each: the cost per event grows with size / slide
 * (at most `MAX_HOPS`). A key's open windows are a list sorted by start (so also by end).
 */

import { Event } from './event';
import { Output } from './output';
import { W_AGG, W_END, W_NEXT, W_START } from './window-pool';
import { K_HEAD, Windows } from './window-engine';
import { WindowSpec } from './window-spec';

/** Inlined steps (a static method: Prettier's parser rejects `@inline` on plain functions). */
class Align {
  /** `t` rounded down to a multiple of `step` (also for negative times). */
  // @ts-ignore: decorator
  @inline static floor(t: i64, step: i64): i64 {
    let r = t % step;
    if (r < 0) r += step;
    return t - r;
  }
}

/** Tumbling (slide = size) and hopping windows. */
export class TimeWindows extends Windows {
  private _size: i64;
  private _slide: i64;
  private _tumbling: bool;

  constructor(spec: WindowSpec) {
    super(spec);
    this._size = spec.sizeMs;
    this._slide = spec.effectiveSlideMs;
    this._tumbling = this._slide == this._size;
  }

  protected firstEnd(t: i64): i64 {
    if (this._tumbling) return Align.floor(t, this._size) + this._size;
    return Align.floor(t - this._size, this._slide) + this._slide + this._size;
  }

  protected insert(k: i32, t: i64, v: f64, ev: Event, out: Output): void {
    const size = this._size;
    const slide = this._slide;
    const pool = this.pool;
    const aggs = this.aggs;
    const last = Align.floor(t, slide);
    let prev = -1;
    let cur = load<i32>(this.keyAt(k), K_HEAD);
    const first = this._tumbling ? last : Align.floor(t - size, slide) + slide;
    for (let s = first; s <= last; s += slide) {
      let r: usize = 0;
      while (cur >= 0) {
        r = pool.at(cur);
        if (load<i64>(r, W_START) >= s) break;
        prev = cur;
        cur = load<i32>(r, W_NEXT);
      }
      if (cur >= 0 && load<i64>(r, W_START) == s) {
        aggs.add(r + W_AGG, t, v);
      } else {
        const n = pool.alloc();
        r = pool.at(n);
        store<i64>(r, s, W_START);
        store<i64>(r, s + size, W_END);
        store<i32>(r, cur, W_NEXT);
        aggs.start(r + W_AGG, t, v);
        if (prev < 0) store<i32>(this.keyAt(k), n, K_HEAD);
        else store<i32>(pool.at(prev), n, W_NEXT);
        this.open++;
        this.noteEnd(k, s + size);
        cur = n;
      }
      prev = cur;
      cur = load<i32>(r, W_NEXT);
    }
  }
}
