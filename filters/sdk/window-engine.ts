/**
 * @module `Windows`: the event-time machinery every window kind shares — keys, per-key
 * watermarks, lateness, closing by watermark, by `tick` and by `flush`, results, snapshots.
 * The kinds (`time-windows.ts`, `session-windows.ts`, `sliding-windows.ts`,
 * `count-windows.ts`) only place an event into their windows; `createWindows(spec)` picks one.
 *
 * Time, exactly (M = the latest event time seen: per key, or over all keys with
 * `watermark: "global"`; watermark W = M − outOfOrderMs; L = latenessMs):
 *  1. An event at time t first moves M (and so W) forward; every window whose end ≤ W − L then
 *     closes, and its result is written, in key order (first seen first), then window order.
 *  2. The event is late when t is before the end of a window of its key already closed, or
 *     when the first window it would fall into ends at or before W − L. A late event goes,
 *     unchanged, to `lateOutput` (and `lateCount`) and into no window; otherwise it goes into
 *     every window it belongs to. So every result is over exactly the events that were not late.
 *  3. `tick(now)` closes every window whose end ≤ now − idleMs − outOfOrderMs − L: for a key
 *     that sends nothing, the gateway's clock stands in for its events, as though one at
 *     now − idleMs had arrived. It does not move M: after a tick an event is late only if a
 *     window of its key that it belongs to was closed. idleMs = -1 disables it.
 *  4. `flush()` closes every open window (shutdown, hand-over).
 * The `now` of `process` plays no part: only event times and `tick` move windows, so the same
 * events give the same results however they are batched.
 * Count windows ignore time: they close after `count` events, on `tick` (idle) and on `flush`.
 *
 * A result is one JSON record to `output`: `{"key","start","end", …aggregates}` with key = the
 * window's key, time = the window end and id = `windowId(key, start)` (FNV-1a 64 of the key
 * bytes then the start, i64 LE); sliding windows carry their event's id, count windows use the
 * window's number for the key instead of the start.
 */

import { Aggregates } from './aggregates';
import { ByteBuffer } from './byte-buffer';
import { Event } from './event';
import { KeySource, TimeSource } from './event-time';
import { FIELD_OK } from './field';
import { windowId } from './hash';
import { KeyTable } from './key-table';
import { Output } from './output';
import { StateReader, StateWriter } from './state';
import { W_AGG, W_END, W_NEXT, W_SEQ, W_START, WindowPool } from './window-pool';
import { WindowSpec } from './window-spec';
import { loadWindowIdentity, saveWindowIdentity } from './window-state';

/** "No event time yet": far below any time, yet safe to subtract spans from. */
export const NO_TIME: i64 = -0x4000000000000000;
/** "No window is due". */
export const NEVER: i64 = i64.MAX_VALUE;

// Per-key state.
export const K_MAX: usize = 0; // i64 latest event time of the key
export const K_CLOSED: usize = 8; // i64 end of the key's latest closed window
export const K_HEAD: usize = 16; // i32 first open window (earliest end), -1 = none
export const K_SEQ: usize = 24; // i64 count windows: number of the next window
export const K_BUF: usize = 32; // u32 sliding: entries (raw memory)
export const K_LEN: usize = 36; // u32 sliding: entries used
export const K_CAP: usize = 40; // u32 sliding: entries allocated
export const K_PENDING: usize = 44; // u32 sliding: first entry whose window is still open
export const K_DUE: usize = 48; // i64 no window of the key ends before this (NEVER = none open)
const KEY_BYTES: u32 = 56;

/** A set of keyed windows of one kind. */
export abstract class Windows {
  /** What the windows are. */
  readonly spec: WindowSpec;
  /** Their accumulators. */
  readonly aggs: Aggregates;
  /** Where event times come from. */
  readonly time: TimeSource;
  /** Where keys come from. */
  readonly key: KeySource;
  /** The keys seen, in first-seen order. */
  readonly keys: KeyTable = new KeyTable();
  /** Late events since this instance started (not part of the snapshot). */
  lateCount: u64 = 0;
  /** Results written since this instance started. */
  closedCount: u64 = 0;
  protected keyState: ByteBuffer = new ByteBuffer(32 * 1024);
  protected pool: WindowPool;
  protected outOfOrder: i64;
  protected lateness: i64;
  protected idle: i64;
  protected global: bool;
  /** False for count windows: no watermark, nothing is late. */
  protected timed: bool = true;
  protected globalMax: i64 = NO_TIME;
  /** Global watermark: no window ends before this (a lower bound; NEVER = none open). */
  protected nextDue: i64 = NEVER;
  protected open: i32 = 0;

  constructor(spec: WindowSpec) {
    const aggs = new Aggregates(spec.aggregates, spec.accuracy);
    this.spec = spec;
    this.aggs = aggs;
    this.time = new TimeSource(spec.timeField, spec.timeFormat);
    this.key = new KeySource(spec.keyField);
    this.pool = new WindowPool(aggs.size);
    this.outOfOrder = spec.outOfOrderMs;
    this.lateness = spec.latenessMs;
    this.idle = spec.effectiveIdleMs;
    this.global = spec.globalWatermark;
    if (aggs.error !== null) abort('sluice sdk: aggregates: ' + aggs.error!);
  }

  /** Number of open windows (sliding: events whose result is not written yet). */
  get openCount(): i32 {
    return this.open;
  }

  /**
   * Adds `value` for `ev` at its event time, under its key (both as the spec says). Returns the
   * status of reading the time and key; when not FIELD_OK nothing was added and `ev.status` /
   * `ev.failedPath` describe the problem (for `out.deadField(ev)`).
   */
  add(ev: Event, value: f64, out: Output): i32 {
    const t = this.time.read(ev);
    if (ev.status != FIELD_OK) return ev.status;
    const key = this.key;
    if (!key.read(ev)) return ev.status;
    this.addAt(ev, key.ptr, key.len, t, value, out);
    return FIELD_OK;
  }

  /** Adds `value` for `ev` under the key at `keyPtr` at event time `t`; false when late. */
  addAt(ev: Event, keyPtr: usize, keyLen: usize, t: i64, value: f64, out: Output): bool {
    const k = this.keyIndex(keyPtr, keyLen);
    if (this.timed) {
      const hold = this.outOfOrder + this.lateness;
      let max: i64;
      if (this.global) {
        if (t > this.globalMax) {
          this.globalMax = t;
          if (t - hold >= this.nextDue) this.closeAll(t - hold, out);
        }
        max = this.globalMax;
      } else {
        max = load<i64>(this.keyAt(k), K_MAX);
        if (t > max) {
          max = t;
          store<i64>(this.keyAt(k), t, K_MAX);
          // Most events close nothing: only look when the key's earliest window may be due.
          if (t - hold >= load<i64>(this.keyAt(k), K_DUE)) {
            store<i64>(this.keyAt(k), this.closeKey(k, t - hold, out), K_DUE);
          }
        }
      }
      if (t < load<i64>(this.keyAt(k), K_CLOSED) || this.firstEnd(t) <= max - hold) {
        this.lateCount++;
        if (this.spec.lateOutput.length > 0) out.forwardTo(this.spec.lateOutput, ev);
        return false;
      }
    }
    this.insert(k, t, value, ev, out);
    return true;
  }

  /** Closes the windows idle keys leave open (module comment, 3); returns how many closed. */
  tick(now: i64, out: Output): i32 {
    if (this.idle < 0 || now < NO_TIME / 2) return 0;
    const before = this.closedCount;
    this.closeAll(now - this.idle - this.outOfOrder - this.lateness, out);
    return <i32>(this.closedCount - before);
  }

  /** Closes every open window, in key order; returns how many. */
  flush(out: Output): i32 {
    const before = this.closedCount;
    this.closeAll(NEVER, out);
    return <i32>(this.closedCount - before);
  }

  /** End of the first window an event at `t` falls into (lateness is judged by it). */
  protected abstract firstEnd(t: i64): i64;

  /** Puts a value into the windows of key `k` (not late). */
  protected abstract insert(k: i32, t: i64, v: f64, ev: Event, out: Output): void;

  /** Id of the result of window record `r` of key `k`. */
  protected resultId(k: i32, r: usize): u64 {
    return windowId(this.keys.keyPtr(k), this.keys.keyLen(k), load<i64>(r, W_START));
  }

  /**
   * Closes the windows of key `k` whose end ≤ bound, earliest first; returns the end of the
   * earliest one left open, or NEVER.
   */
  protected closeKey(k: i32, bound: i64, out: Output): i64 {
    let head = load<i32>(this.keyAt(k), K_HEAD);
    while (head >= 0) {
      const r = this.pool.at(head);
      const end = load<i64>(r, W_END);
      if (end > bound) return end;
      this.emit(k, load<i64>(r, W_START), end, this.resultId(k, r), r + W_AGG, out);
      const next = load<i32>(r, W_NEXT);
      this.aggs.release(r + W_AGG);
      this.pool.free(head);
      this.open--;
      store<i32>(this.keyAt(k), next, K_HEAD);
      head = next;
    }
    return NEVER;
  }

  /** Closes due windows of every key (and recomputes `nextDue`). */
  protected closeAll(bound: i64, out: Output): void {
    let next = NEVER;
    const n = this.keys.count;
    for (let k = 0; k < n; k++) {
      const e = this.closeKey(k, bound, out);
      store<i64>(this.keyAt(k), e, K_DUE);
      if (e < next) next = e;
    }
    this.nextDue = next;
  }

  /** Notes that a window of key `k` ending at `end` is open (keeps the due bounds low enough). */
  // @ts-ignore: decorator
  @inline
  protected noteEnd(k: i32, end: i64): void {
    if (end < this.nextDue) this.nextDue = end;
    const ks = this.keyAt(k);
    if (end < load<i64>(ks, K_DUE)) store<i64>(ks, end, K_DUE);
  }

  /** Writes one result and moves the key's closed mark to its end. */
  protected emit(k: i32, start: i64, end: i64, id: u64, agg: usize, out: Output): void {
    const keyPtr = this.keys.keyPtr(k);
    const keyLen = this.keys.keyLen(k);
    const json = out
      .jsonKeyBytes(this.spec.output, keyPtr, keyLen, id, end)
      .strBytes('key', keyPtr, keyLen)
      .int('start', start)
      .int('end', end);
    this.aggs.write(json, agg);
    json.end();
    const ks = this.keyAt(k);
    if (this.timed && end > load<i64>(ks, K_CLOSED)) store<i64>(ks, end, K_CLOSED);
    this.closedCount++;
  }

  /** Address of key `k`'s state (valid until a new key is added). */
  // @ts-ignore: decorator
  @inline
  protected keyAt(k: i32): usize {
    return this.keyState.ptr + <usize>k * <usize>KEY_BYTES;
  }

  private keyIndex(keyPtr: usize, keyLen: usize): i32 {
    const k = this.keys.intern(keyPtr, keyLen);
    if (this.keys.added) this.newKey();
    return k;
  }

  private newKey(): void {
    const p = this.keyState.reserve(KEY_BYTES);
    memory.fill(p, 0, <usize>KEY_BYTES);
    store<i64>(p, NO_TIME, K_MAX);
    store<i64>(p, NO_TIME, K_CLOSED);
    store<i32>(p, -1, K_HEAD);
    store<i64>(p, NEVER, K_DUE);
    this.keyState.len += KEY_BYTES;
  }

  /** Frees what key `k`'s windows own (list kinds; sliding windows override). */
  protected releaseKey(k: i32): void {
    let i = load<i32>(this.keyAt(k), K_HEAD);
    while (i >= 0) {
      const r = this.pool.at(i);
      this.aggs.release(r + W_AGG);
      i = load<i32>(r, W_NEXT);
    }
  }

  /** Drops every key and window. */
  clear(): void {
    // Keys with state: after a refused `load` the key table may hold more keys than that.
    const n = <i32>(this.keyState.len / KEY_BYTES);
    for (let k = 0; k < n; k++) this.releaseKey(k);
    this.keys.clear();
    this.keyState.clear();
    this.pool.clear();
    this.globalMax = NO_TIME;
    this.nextDue = NEVER;
    this.open = 0;
  }

  /** Writes the windows of key `k` (list kinds; sliding windows override). */
  protected saveKey(w: StateWriter, k: i32): void {
    let n: u32 = 0;
    for (let i = load<i32>(this.keyAt(k), K_HEAD); i >= 0; i = load<i32>(this.pool.at(i), W_NEXT))
      n++;
    w.u32(n);
    for (let i = load<i32>(this.keyAt(k), K_HEAD); i >= 0; i = load<i32>(this.pool.at(i), W_NEXT)) {
      const r = this.pool.at(i);
      w.i64(load<i64>(r, W_START));
      w.i64(load<i64>(r, W_END));
      w.i64(load<i64>(r, W_SEQ));
      this.aggs.save(w, r + W_AGG);
    }
  }

  /** Reads what `saveKey` wrote; false (and `r.error`) on a bad state. */
  protected loadKey(r: StateReader, k: i32): bool {
    const n = r.u32();
    if (<u64>n * 48 > <u64>r.remaining) {
      r.fail(
        'state holds ' + n.toString() + ' windows for key ' + k.toString() + ' but is shorter',
      );
      return false;
    }
    let tail = -1;
    let lastEnd = NO_TIME;
    for (let j: u32 = 0; j < n && r.ok; j++) {
      const i = this.pool.alloc();
      const start = r.i64();
      const end = r.i64();
      const seq = r.i64();
      if (!r.ok || !this.aggs.load(r, this.pool.at(i) + W_AGG)) return false;
      if (end <= lastEnd || start >= end) {
        this.aggs.release(this.pool.at(i) + W_AGG);
        r.fail('state holds windows of key ' + k.toString() + ' out of order');
        return false;
      }
      lastEnd = end;
      const rec = this.pool.at(i);
      store<i64>(rec, start, W_START);
      store<i64>(rec, end, W_END);
      store<i64>(rec, seq, W_SEQ);
      store<i32>(rec, -1, W_NEXT);
      if (tail < 0) store<i32>(this.keyAt(k), i, K_HEAD);
      else store<i32>(this.pool.at(tail), i, W_NEXT);
      tail = i;
      this.open++;
    }
    return r.ok;
  }

  /** Writes the spec's identity, the watermark and every key's windows. */
  save(w: StateWriter): void {
    saveWindowIdentity(w, this.spec, this.aggs);
    w.i64(this.globalMax);
    this.keys.save(w);
    for (let k = 0; k < this.keys.count; k++) {
      const ks = this.keyAt(k);
      w.i64(load<i64>(ks, K_MAX));
      w.i64(load<i64>(ks, K_CLOSED));
      w.i64(load<i64>(ks, K_SEQ));
      this.saveKey(w, k);
    }
  }

  /**
   * Replaces all state with a snapshot written by `save`. Refuses (false, `r.error`) a state of
   * other windows (kind, lengths, aggregates, accuracy, key), another version, or a bad one.
   * outOfOrderMs, latenessMs, idleMs and the watermark scope may differ: they apply from now on.
   */
  load(r: StateReader): bool {
    this.clear();
    if (!loadWindowIdentity(r, this.spec, this.aggs)) return false;
    this.globalMax = r.i64();
    if (!this.keys.load(r)) return false;
    let next = NEVER;
    for (let k = 0; k < this.keys.count && r.ok; k++) {
      this.newKey();
      const ks = this.keyAt(k);
      store<i64>(ks, r.i64(), K_MAX);
      store<i64>(ks, r.i64(), K_CLOSED);
      store<i64>(ks, r.i64(), K_SEQ);
      if (!r.ok || !this.loadKey(r, k)) return false;
      const e = this.firstOpenEnd(k);
      store<i64>(this.keyAt(k), e, K_DUE);
      if (e < next) next = e;
    }
    this.nextDue = next;
    return r.ok;
  }

  /** End of key `k`'s earliest open window, or NEVER (list kinds; sliding overrides). */
  protected firstOpenEnd(k: i32): i64 {
    const head = load<i32>(this.keyAt(k), K_HEAD);
    return head < 0 ? NEVER : load<i64>(this.pool.at(head), W_END);
  }
}
