/**
 * @module `TumblingWindows`: per-key tumbling windows by event time with count, sum, min, max
 * and avg — the SDK's first window, kept for the rules built on it. New rules use `Windows`
 * (`window-engine.ts`: every window kind, watermarks, lateness, any aggregates), which with a
 * per-key watermark and no out-of-orderness gives the same results as this class.
 *
 * A window of `sizeMs` covers `[start, start + sizeMs)` with `start` a multiple of `sizeMs`
 * (Unix epoch aligned). A key's open window closes, and its result is written, when
 *  - an event of that key arrives for a later window (`add`), or
 *  - `tick(now)` finds its end ≤ now − graceMs, or
 *  - `flush()` runs (all open windows).
 * An event for a window of its key that already closed is late: it goes unchanged to the `late`
 * output and is counted in `lateCount`.
 *
 * A result is one JSON record to `output`:
 * `{"key":"dev-17","start":…,"end":…,"count":…,"sum":…,"min":…,"max":…,"avg":…}` with key = the
 * window's key, time = the window end and id = `windowId(key, start)` (FNV-1a 64 of the key bytes
 * then the start as i64 little-endian), so a replay produces the same ids.
 *
 * Per-key state is a fixed-size record in raw memory indexed by the key's `KeyTable` index:
 * adding an event of a known key allocates nothing.
 */

import { ByteBuffer } from './byte-buffer';
import { Event, EXPECT_INTEGER } from './event';
import { FIELD_OK, FIELD_WRONG_TYPE, FieldPath } from './field';
import { windowId } from './hash';
import { KeyTable } from './key-table';
import { OUTPUT_DEFAULT, OUTPUT_LATE, Output } from './output';
import { StateReader, StateWriter } from './state';

/** Section tag of tumbling windows in a snapshot: `W` `I` `N` `1`. */
export const WINDOWS_TAG: u32 = 0x314e4957;

// Per-key record.
const W_START: usize = 0; // i64 start of the open window
const W_CLOSED_END: usize = 8; // i64 end of the last closed window (i64.MIN_VALUE: none)
const W_COUNT: usize = 16; // i64
const W_SUM: usize = 24; // f64
const W_MIN: usize = 32; // f64
const W_MAX: usize = 40; // f64
const W_OPEN: usize = 48; // u32 1 when a window is open
const W_SIZE: u32 = 56;

/** Event times outside ±2^52 ms are not times (and would overflow window arithmetic). */
const TIME_LIMIT: f64 = 4503599627370496.0;

/** Options of `TumblingWindows`. */
export class WindowOptions {
  /** Window length in ms. @default 1000 */
  sizeMs: i64 = 1000;
  /** `tick(now)` closes a window once its end ≤ now − graceMs; negative = sizeMs. @default -1 */
  graceMs: i64 = -1;
  /** Payload field holding the event time (epoch ms); "" = the arrival time. @default "" */
  timeField: string = '';
  /** Output the results go to. @default "default" */
  output: string = OUTPUT_DEFAULT;
  /** Output late events go to; "" drops them (still counted). @default "late" */
  lateOutput: string = OUTPUT_LATE;
}

/** Per-key tumbling windows. */
export class TumblingWindows {
  /** Window length in ms. */
  readonly sizeMs: i64;
  /** Closing delay for `tick`, in ms. */
  readonly graceMs: i64;
  /** The event-time field, or null for the arrival time. */
  readonly timePath: FieldPath | null;
  /** Output of the results. */
  readonly output: string;
  /** Output of late events ("" = dropped). */
  readonly lateOutput: string;
  /** The keys seen, in first-seen order. */
  readonly keys: KeyTable = new KeyTable();
  /** Late events seen since this instance started (not part of the snapshot). */
  lateCount: u64 = 0;
  private _state: ByteBuffer = new ByteBuffer(64 * 1024);
  private _open: i32 = 0;

  constructor(options: WindowOptions) {
    if (options.sizeMs <= 0) abort('sluice sdk: window size must be > 0 ms');
    this.sizeMs = options.sizeMs;
    this.graceMs = options.graceMs < 0 ? options.sizeMs : options.graceMs;
    this.timePath = options.timeField.length > 0 ? new FieldPath(options.timeField) : null;
    this.output = options.output;
    this.lateOutput = options.lateOutput;
  }

  /** Number of open windows. */
  get openCount(): i32 {
    return this._open;
  }

  /**
   * Adds `value` for `ev` at its event time (the time field, or the arrival time). Returns the
   * status of reading the time field; when not FIELD_OK nothing was added and `ev.status` and
   * `ev.failedPath` describe the problem (for `out.deadField(ev)`).
   */
  add(ev: Event, value: f64, out: Output): i32 {
    const path = this.timePath;
    let time = ev.time;
    if (path !== null) {
      const t = ev.f64(path);
      if (ev.status != FIELD_OK) return ev.status;
      if (!(Math.abs(t) < TIME_LIMIT)) {
        ev.status = FIELD_WRONG_TYPE;
        ev.failedPath = path;
        ev.failedExpect = EXPECT_INTEGER;
        return FIELD_WRONG_TYPE;
      }
      time = <i64>Math.floor(t);
    }
    this.addAt(ev, time, value, out);
    return FIELD_OK;
  }

  /** Adds `value` for `ev` at `time` (epoch ms). Returns false when the event was late. */
  addAt(ev: Event, time: i64, value: f64, out: Output): bool {
    const size = this.sizeMs;
    let r = time % size;
    if (r < 0) r += size;
    const start = time - r;
    const i = this.keys.intern(ev.keyPtr, ev.keyLen);
    if (this.keys.added) {
      const p = this._state.reserve(W_SIZE);
      memory.fill(p, 0, <usize>W_SIZE); // snapshots copy whole records: no stale bytes
      store<i64>(p, i64.MIN_VALUE, W_CLOSED_END);
      this._state.len += W_SIZE;
    }
    const w = this._state.ptr + <usize>i * <usize>W_SIZE;
    if (load<u32>(w, W_OPEN) != 0) {
      const open = load<i64>(w, W_START);
      if (start == open) {
        store<i64>(w, load<i64>(w, W_COUNT) + 1, W_COUNT);
        store<f64>(w, load<f64>(w, W_SUM) + value, W_SUM);
        if (value < load<f64>(w, W_MIN)) store<f64>(w, value, W_MIN);
        if (value > load<f64>(w, W_MAX)) store<f64>(w, value, W_MAX);
        return true;
      }
      if (start < open) return this.late(ev, out);
      this.emit(i, out);
    } else if (start < load<i64>(w, W_CLOSED_END)) {
      return this.late(ev, out);
    } else {
      this._open++;
    }
    store<u32>(w, 1, W_OPEN);
    store<i64>(w, start, W_START);
    store<i64>(w, 1, W_COUNT);
    store<f64>(w, value, W_SUM);
    store<f64>(w, value, W_MIN);
    store<f64>(w, value, W_MAX);
    return true;
  }

  /** Closes every open window whose end ≤ now − graceMs; returns how many. */
  tick(now: i64, out: Output): i32 {
    const limit = now - this.graceMs;
    const size = this.sizeMs;
    const n = this.keys.count;
    let closed = 0;
    for (let i = 0; i < n; i++) {
      const w = this._state.ptr + <usize>i * <usize>W_SIZE;
      if (load<u32>(w, W_OPEN) != 0 && load<i64>(w, W_START) + size <= limit) {
        this.emit(i, out);
        store<u32>(w, 0, W_OPEN);
        this._open--;
        closed++;
      }
    }
    return closed;
  }

  /** Closes every open window, in first-seen key order; returns how many. */
  flush(out: Output): i32 {
    const n = this.keys.count;
    let closed = 0;
    for (let i = 0; i < n; i++) {
      const w = this._state.ptr + <usize>i * <usize>W_SIZE;
      if (load<u32>(w, W_OPEN) != 0) {
        this.emit(i, out);
        store<u32>(w, 0, W_OPEN);
        closed++;
      }
    }
    this._open = 0;
    return closed;
  }

  /** Writes all keys and windows (open and the end of the last closed one) to a snapshot. */
  save(w: StateWriter): void {
    w.u32(WINDOWS_TAG);
    w.i64(this.sizeMs);
    this.keys.save(w);
    const n = this.keys.count;
    w.bytes(this._state.ptr, <usize>n * <usize>W_SIZE);
  }

  /** Replaces all state with a snapshot written by `save`; false (and `r.error`) on a bad one. */
  load(r: StateReader): bool {
    this.keys.clear();
    this._state.clear();
    this._open = 0;
    if (!r.expect(WINDOWS_TAG, 'tumbling windows (version 1)')) return false;
    const size = r.i64();
    if (r.ok && size != this.sizeMs) {
      r.fail(
        'state holds windows of ' +
          size.toString() +
          ' ms but the rule is configured for ' +
          this.sizeMs.toString() +
          ' ms',
      );
    }
    if (!r.ok || !this.keys.load(r)) return false;
    const n = this.keys.count;
    const bytes = <usize>n * <usize>W_SIZE;
    const p = r.take(bytes);
    if (p == 0 && bytes != 0) {
      this.keys.clear();
      return false;
    }
    this._state.bytes(p, <u32>bytes);
    let open = 0;
    for (let i = 0; i < n; i++) {
      if (load<u32>(this._state.ptr + <usize>i * <usize>W_SIZE, W_OPEN) != 0) open++;
    }
    this._open = open;
    return true;
  }

  private late(ev: Event, out: Output): bool {
    this.lateCount++;
    if (this.lateOutput.length > 0) out.forwardTo(this.lateOutput, ev);
    return false;
  }

  private emit(i: i32, out: Output): void {
    const w = this._state.ptr + <usize>i * <usize>W_SIZE;
    const start = load<i64>(w, W_START);
    const end = start + this.sizeMs;
    const count = load<i64>(w, W_COUNT);
    const sum = load<f64>(w, W_SUM);
    const keyPtr = this.keys.keyPtr(i);
    const keyLen = this.keys.keyLen(i);
    store<i64>(w, end, W_CLOSED_END);
    out
      .jsonKeyBytes(this.output, keyPtr, keyLen, windowId(keyPtr, keyLen, start), end)
      .strBytes('key', keyPtr, keyLen)
      .int('start', start)
      .int('end', end)
      .int('count', count)
      .num('sum', sum)
      .num('min', load<f64>(w, W_MIN))
      .num('max', load<f64>(w, W_MAX))
      .num('avg', sum / <f64>count)
      .end();
  }
}
