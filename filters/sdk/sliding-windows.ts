/**
 * @module `SlidingWindows`: one window per event, over the `size` ms of its key up to and
 * including the event's time: an event at t gets a result over the events of its key with time
 * in [t − size + 1, t] (start = t − size + 1, end = t + 1, id = the event's id). The result is
 * written once the watermark passes t + 1 (+ latenessMs), so that every event of that span has
 * arrived (`window-engine.ts` has the rules of time and lateness); results come out in event
 * time order (ties: arrival order).
 *
 * Each key keeps its events (time, value, id: 24 bytes each) sorted by time in raw memory, for
 * `size` ms plus whatever is not closed yet. A result aggregates its span afresh, so its cost
 * grows with the number of events in `size` ms of one key (a result reads each of them once).
 */

import { ByteBuffer } from './byte-buffer';
import { Event } from './event';
import { Output } from './output';
import { StateReader, StateWriter } from './state';
import { K_BUF, K_CAP, K_CLOSED, K_LEN, K_PENDING, NEVER, NO_TIME, Windows } from './window-engine';
import { WindowSpec } from './window-spec';

// Entry: time i64, value f64, id u64.
const E_TIME: usize = 0;
const E_VALUE: usize = 8;
const E_ID: usize = 16;
const ENTRY_BYTES: u32 = 24;
/** Closed entries are dropped from the front once this many pile up (or half the buffer). */
const EVICT_AT: u32 = 64;

/** Sliding windows. */
export class SlidingWindows extends Windows {
  private _size: i64;
  // One accumulator area, reused for every result (its sketch, if any, too).
  private _scratch: ByteBuffer = new ByteBuffer(256);

  constructor(spec: WindowSpec) {
    super(spec);
    this._size = spec.sizeMs;
    this._scratch.reserve(this.aggs.size);
    memory.fill(this._scratch.ptr, 0, <usize>this.aggs.size);
  }

  protected firstEnd(t: i64): i64 {
    return t + 1;
  }

  protected insert(k: i32, t: i64, v: f64, ev: Event, out: Output): void {
    let ks = this.keyAt(k);
    let len = load<u32>(ks, K_LEN);
    if (len == load<u32>(ks, K_CAP)) this.growKey(k, len + 1);
    ks = this.keyAt(k);
    const buf = <usize>load<u32>(ks, K_BUF);
    const pending = load<u32>(ks, K_PENDING);
    let i = len;
    while (i > pending && load<i64>(Entry.at(buf, i - 1), E_TIME) > t) i--;
    if (i < len)
      memory.copy(Entry.at(buf, i + 1), Entry.at(buf, i), <usize>(len - i) * ENTRY_BYTES);
    const e = Entry.at(buf, i);
    store<i64>(e, t, E_TIME);
    store<f64>(e, v, E_VALUE);
    store<u64>(e, ev.id, E_ID);
    store<u32>(ks, len + 1, K_LEN);
    this.open++;
    this.noteEnd(k, t + 1);
  }

  protected closeKey(k: i32, bound: i64, out: Output): i64 {
    const ks = this.keyAt(k);
    const buf = <usize>load<u32>(ks, K_BUF);
    let len = load<u32>(ks, K_LEN);
    let pending = load<u32>(ks, K_PENDING);
    while (pending < len && load<i64>(Entry.at(buf, pending), E_TIME) + 1 <= bound) {
      this.emitEntry(k, buf, len, pending, out);
      pending++;
      this.open--;
    }
    // Every later window starts after closed − size: older entries are in none of them.
    const closed = load<i64>(ks, K_CLOSED);
    let drop: u32 = 0;
    while (drop < pending && load<i64>(Entry.at(buf, drop), E_TIME) <= closed - this._size) drop++;
    if (drop > 0 && (drop >= EVICT_AT || drop * 2 >= len)) {
      memory.copy(buf, Entry.at(buf, drop), <usize>(len - drop) * ENTRY_BYTES);
      len -= drop;
      pending -= drop;
      store<u32>(ks, len, K_LEN);
    }
    store<u32>(ks, pending, K_PENDING);
    return pending < len ? load<i64>(Entry.at(buf, pending), E_TIME) + 1 : NEVER;
  }

  private emitEntry(k: i32, buf: usize, len: u32, j: u32, out: Output): void {
    const t = load<i64>(Entry.at(buf, j), E_TIME);
    const from = t - this._size + 1;
    // First entry of the span: binary search over [0, j].
    let lo: u32 = 0;
    let hi = j;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (load<i64>(Entry.at(buf, mid), E_TIME) < from) lo = mid + 1;
      else hi = mid;
    }
    let last = j;
    while (last + 1 < len && load<i64>(Entry.at(buf, last + 1), E_TIME) == t) last++;
    const a = this._scratch.ptr;
    const aggs = this.aggs;
    aggs.start(a, load<i64>(Entry.at(buf, lo), E_TIME), load<f64>(Entry.at(buf, lo), E_VALUE));
    for (let i = lo + 1; i <= last; i++) {
      const e = Entry.at(buf, i);
      aggs.add(a, load<i64>(e, E_TIME), load<f64>(e, E_VALUE));
    }
    this.emit(k, from, t + 1, load<u64>(Entry.at(buf, j), E_ID), a, out);
  }

  private growKey(k: i32, need: u32): void {
    const ks = this.keyAt(k);
    let cap = load<u32>(ks, K_CAP);
    if (cap < 16) cap = 16;
    while (cap < need) cap <<= 1;
    const old = <usize>load<u32>(ks, K_BUF);
    const bytes = <usize>cap * ENTRY_BYTES;
    const p = old == 0 ? heap.alloc(bytes) : heap.realloc(old, bytes);
    store<u32>(ks, <u32>p, K_BUF);
    store<u32>(ks, cap, K_CAP);
  }

  protected releaseKey(k: i32): void {
    const buf = <usize>load<u32>(this.keyAt(k), K_BUF);
    if (buf != 0) heap.free(buf);
  }

  protected firstOpenEnd(k: i32): i64 {
    const ks = this.keyAt(k);
    const pending = load<u32>(ks, K_PENDING);
    if (pending >= load<u32>(ks, K_LEN)) return NEVER;
    return load<i64>(Entry.at(<usize>load<u32>(ks, K_BUF), pending), E_TIME) + 1;
  }

  protected saveKey(w: StateWriter, k: i32): void {
    const ks = this.keyAt(k);
    const len = load<u32>(ks, K_LEN);
    w.u32(len);
    w.u32(load<u32>(ks, K_PENDING));
    if (len > 0) w.bytes(<usize>load<u32>(ks, K_BUF), <usize>len * ENTRY_BYTES);
  }

  protected loadKey(r: StateReader, k: i32): bool {
    const len = r.u32();
    const pending = r.u32();
    if (!r.ok) return false;
    const bytes = <usize>len * ENTRY_BYTES;
    if (pending > len || <u64>len * ENTRY_BYTES > <u64>r.remaining) {
      r.fail(
        'state holds ' +
          len.toString() +
          ' sliding-window events for key ' +
          k.toString() +
          ' but is shorter',
      );
      return false;
    }
    const p = r.take(bytes);
    if (len == 0) return true;
    let prev = NO_TIME;
    for (let i: u32 = 0; i < len; i++) {
      const t = load<i64>(Entry.at(p, i), E_TIME);
      if (t < prev) {
        r.fail('state holds sliding-window events of key ' + k.toString() + ' out of order');
        return false;
      }
      prev = t;
    }
    this.growKey(k, len);
    const ks = this.keyAt(k);
    memory.copy(<usize>load<u32>(ks, K_BUF), p, bytes);
    store<u32>(ks, len, K_LEN);
    store<u32>(ks, pending, K_PENDING);
    this.open += <i32>(len - pending);
    return true;
  }
}

/** Inlined steps (a static method: Prettier's parser rejects `@inline` on plain functions). */
class Entry {
  /** Address of entry `i` of a key's buffer. */
  // @ts-ignore: decorator
  @inline static at(buf: usize, i: u32): usize {
    return buf + <usize>i * ENTRY_BYTES;
  }
}
