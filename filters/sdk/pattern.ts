/**
 * @module `Pattern`: the common complex-event case "A then B within T for the same key", in event
 * time, and its negative form "A then no B within T" (door opened, then no door closed within
 * 5 min → alarm). The rule says which events are A (`first`) and which are B (`second`); the
 * pattern keeps, per key, the earliest unanswered A and the latest B.
 *
 * Exactly (per key: M = latest event time, bound = M − outOfOrderMs − latenessMs; T = withinMs):
 *  - A at tA arms the key (an earlier A already armed stays: the episode started then). If a B
 *    at tB with tA < tB ≤ tA + T was already seen (it arrived out of order), A is answered at once.
 *  - B at tB answers the armed A when tA ≤ tB ≤ tA + T (and disarms it); a B outside that span
 *    answers nothing.
 *  - An armed A is due when tA + T ≤ bound, or on `tick(now)` when tA + T ≤ now − idleMs −
 *    outOfOrderMs − latenessMs (a key that sends nothing more is judged by the gateway's
 *    clock). A due A is unanswered: ABSENT writes an alarm, FOLLOWED only counts it (`expired`).
 *  - Every event first moves M, so an A due by it is judged before the event itself; events
 *    that are neither A nor B can move M too (`observe`).
 *  - An event is late when t < the deadline of the key's last judged A, or t + T ≤ bound: it
 *    goes unchanged to `lateOutput` and changes nothing.
 * Outputs (to `output`; `"pattern": label` is added when a label is set):
 *   FOLLOWED  {"key","first":tA,"second":tB,"elapsedMs"} at time tB, id = B's event id
 *   ABSENT    {"key","since":tA,"deadline":tA+T} at time tA + T, id = windowId(key, tA)
 * `flush()` writes nothing: an alarm is about time passing, not about shutting down.
 */

import { ByteBuffer } from './byte-buffer';
import { Event } from './event';
import { KeySource, TimeSource, TIME_MS } from './event-time';
import { FIELD_OK } from './field';
import { windowId } from './hash';
import { KeyTable } from './key-table';
import { OUTPUT_DEFAULT, OUTPUT_LATE, Output } from './output';
import { StateReader, StateWriter } from './state';
import { NO_TIME } from './window-engine';

/** "A then B within T": a match per answered A. */
export const PATTERN_FOLLOWED: i32 = 0;
/** "A then no B within T": an alarm per unanswered A. */
export const PATTERN_ABSENT: i32 = 1;

/** Section tag of a pattern in a snapshot: `P` `A` `T` `1`. */
export const PATTERN_STATE_TAG: u32 = 0x31544150;

const P_MAX: usize = 0; // i64 latest event time
const P_CLOSED: usize = 8; // i64 deadline of the last judged A
const P_ARMED: usize = 16; // i64 time of the armed A, NO_TIME = none
const P_ARMED_ID: usize = 24; // u64 its event id
const P_LAST_B: usize = 32; // i64 latest B, NO_TIME = none
const P_LAST_B_ID: usize = 40; // u64 its event id
const P_BYTES: u32 = 48;

/** Options of `Pattern`. */
export class PatternOptions {
  /** PATTERN_ABSENT or PATTERN_FOLLOWED. @default PATTERN_ABSENT */
  kind: i32 = PATTERN_ABSENT;
  /** T, in ms. @default 300000 */
  withinMs: i64 = 300000;
  /** Event-time field; "" = the arrival time. @default "" */
  timeField: string = '';
  /** TIME_MS, TIME_S, TIME_ISO or TIME_AUTO. @default TIME_MS */
  timeFormat: i32 = TIME_MS;
  /** Bounded out-of-orderness in ms. @default 0 */
  outOfOrderMs: i64 = 0;
  /** Allowed lateness in ms. @default 0 */
  latenessMs: i64 = 0;
  /** `tick` judges an A once its deadline ≤ now − idleMs − …; -1 = never. @default 0 */
  idleMs: i64 = 0;
  /** String field to key by; "" = the event's key. @default "" */
  keyField: string = '';
  /** Added as `"pattern": label` to every result when not "". @default "" */
  label: string = '';
  /** Output of the results. @default "default" */
  output: string = OUTPUT_DEFAULT;
  /** Output of late events; "" = counted only. @default "late" */
  lateOutput: string = OUTPUT_LATE;
}

/** A per-key "A then (no) B within T" detector. */
export class Pattern {
  /** The options. */
  readonly options: PatternOptions;
  /** Where event times come from. */
  readonly time: TimeSource;
  /** Where keys come from. */
  readonly key: KeySource;
  /** The keys seen. */
  readonly keys: KeyTable = new KeyTable();
  /** Late events (not part of the snapshot). */
  lateCount: u64 = 0;
  /** Matches (FOLLOWED) or alarms (ABSENT) written. */
  resultCount: u64 = 0;
  /** FOLLOWED: As that went unanswered. */
  expiredCount: u64 = 0;
  private _state: ByteBuffer = new ByteBuffer(16 * 1024);
  private _hold: i64;

  constructor(options: PatternOptions) {
    if (options.withinMs <= 0) abort('sluice sdk: a pattern needs withinMs > 0');
    this.options = options;
    this.time = new TimeSource(options.timeField, options.timeFormat);
    this.key = new KeySource(options.keyField);
    this._hold = options.outOfOrderMs + options.latenessMs;
  }

  /** Handles `ev` as an A (event time and key as configured); returns the read status. */
  first(ev: Event, out: Output): i32 {
    const t = this.time.read(ev);
    if (ev.status != FIELD_OK || !this.key.read(ev)) return ev.status;
    this.firstAt(ev, this.key.ptr, this.key.len, t, out);
    return FIELD_OK;
  }

  /** Handles `ev` as a B; returns the read status. */
  second(ev: Event, out: Output): i32 {
    const t = this.time.read(ev);
    if (ev.status != FIELD_OK || !this.key.read(ev)) return ev.status;
    this.secondAt(ev, this.key.ptr, this.key.len, t, out);
    return FIELD_OK;
  }

  /**
   * Neither A nor B, but news of the key's clock: moves its latest event time (which may make an
   * armed A due); returns the read status. Never late: it changes nothing else.
   */
  observe(ev: Event, out: Output): i32 {
    const t = this.time.read(ev);
    if (ev.status != FIELD_OK || !this.key.read(ev)) return ev.status;
    this.observeAt(this.key.ptr, this.key.len, t, out);
    return FIELD_OK;
  }

  /** `observe` for the key at `keyPtr` at time `t`. */
  observeAt(keyPtr: usize, keyLen: usize, t: i64, out: Output): void {
    const k = this.keyIndex(keyPtr, keyLen);
    if (t > load<i64>(this.at(k), P_MAX)) {
      store<i64>(this.at(k), t, P_MAX);
      this.due(k, t - this._hold, out);
    }
  }

  /** An A for the key at `keyPtr` at time `t`; false when late. */
  firstAt(ev: Event, keyPtr: usize, keyLen: usize, t: i64, out: Output): bool {
    const k = this.advance(ev, keyPtr, keyLen, t, out);
    if (k < 0) return false;
    const p = this.at(k);
    const within = this.options.withinMs;
    const lastB = load<i64>(p, P_LAST_B);
    if (lastB > t && lastB <= t + within) {
      if (this.options.kind == PATTERN_FOLLOWED)
        this.match(k, t, lastB, load<u64>(p, P_LAST_B_ID), out);
      return true;
    }
    const armed = load<i64>(p, P_ARMED);
    if (armed == NO_TIME || t < armed) {
      store<i64>(this.at(k), t, P_ARMED);
      store<u64>(this.at(k), ev.id, P_ARMED_ID);
    }
    return true;
  }

  /** A B for the key at `keyPtr` at time `t`; false when late. */
  secondAt(ev: Event, keyPtr: usize, keyLen: usize, t: i64, out: Output): bool {
    const k = this.advance(ev, keyPtr, keyLen, t, out);
    if (k < 0) return false;
    const p = this.at(k);
    if (t > load<i64>(p, P_LAST_B)) {
      store<i64>(p, t, P_LAST_B);
      store<u64>(p, ev.id, P_LAST_B_ID);
    }
    const armed = load<i64>(p, P_ARMED);
    if (armed != NO_TIME && t >= armed && t <= armed + this.options.withinMs) {
      store<i64>(p, NO_TIME, P_ARMED);
      if (this.options.kind == PATTERN_FOLLOWED) this.match(k, armed, t, ev.id, out);
    }
    return true;
  }

  /** Judges every armed A whose deadline the clock passed; returns how many results. */
  tick(now: i64, out: Output): i32 {
    const idle = this.options.idleMs;
    if (idle < 0 || now < NO_TIME / 2) return 0;
    const before = this.resultCount + this.expiredCount;
    const bound = now - idle - this._hold;
    for (let k = 0; k < this.keys.count; k++) this.due(k, bound, out);
    return <i32>(this.resultCount + this.expiredCount - before);
  }

  /** Interns the key, moves its latest time, judges due As; -1 when the event is late. */
  private advance(ev: Event, keyPtr: usize, keyLen: usize, t: i64, out: Output): i32 {
    const k = this.keyIndex(keyPtr, keyLen);
    let max = load<i64>(this.at(k), P_MAX);
    if (t > max) {
      max = t;
      store<i64>(this.at(k), t, P_MAX);
      this.due(k, t - this._hold, out);
    }
    if (t < load<i64>(this.at(k), P_CLOSED) || t + this.options.withinMs <= max - this._hold) {
      this.lateCount++;
      if (this.options.lateOutput.length > 0) out.forwardTo(this.options.lateOutput, ev);
      return -1;
    }
    return k;
  }

  private keyIndex(keyPtr: usize, keyLen: usize): i32 {
    const k = this.keys.intern(keyPtr, keyLen);
    if (this.keys.added) {
      const p = this._state.reserve(P_BYTES);
      memory.fill(p, 0, <usize>P_BYTES);
      store<i64>(p, NO_TIME, P_MAX);
      store<i64>(p, NO_TIME, P_CLOSED);
      store<i64>(p, NO_TIME, P_ARMED);
      store<i64>(p, NO_TIME, P_LAST_B);
      this._state.len += P_BYTES;
    }
    return k;
  }

  private due(k: i32, bound: i64, out: Output): void {
    const p = this.at(k);
    const armed = load<i64>(p, P_ARMED);
    if (armed == NO_TIME) return;
    const deadline = armed + this.options.withinMs;
    if (deadline > bound) return;
    store<i64>(p, NO_TIME, P_ARMED);
    if (deadline > load<i64>(p, P_CLOSED)) store<i64>(p, deadline, P_CLOSED);
    if (this.options.kind == PATTERN_FOLLOWED) {
      this.expiredCount++;
      return;
    }
    const keyPtr = this.keys.keyPtr(k);
    const keyLen = this.keys.keyLen(k);
    const json = out
      .jsonKeyBytes(this.options.output, keyPtr, keyLen, windowId(keyPtr, keyLen, armed), deadline)
      .strBytes('key', keyPtr, keyLen);
    if (this.options.label.length > 0) json.str('pattern', this.options.label);
    json.int('since', armed).int('deadline', deadline).end();
    this.resultCount++;
  }

  private match(k: i32, a: i64, b: i64, id: u64, out: Output): void {
    const keyPtr = this.keys.keyPtr(k);
    const keyLen = this.keys.keyLen(k);
    const json = out
      .jsonKeyBytes(this.options.output, keyPtr, keyLen, id, b)
      .strBytes('key', keyPtr, keyLen);
    if (this.options.label.length > 0) json.str('pattern', this.options.label);
    json
      .int('first', a)
      .int('second', b)
      .int('elapsedMs', b - a)
      .end();
    this.resultCount++;
  }

  // @ts-ignore: decorator
  @inline
  private at(k: i32): usize {
    return this._state.ptr + <usize>k * <usize>P_BYTES;
  }

  /** Writes the kind, T, the key field, the keys and every key's state. */
  save(w: StateWriter): void {
    w.u32(PATTERN_STATE_TAG);
    w.u32(<u32>this.options.kind);
    w.i64(this.options.withinMs);
    w.str(this.options.keyField);
    this.keys.save(w);
    w.bytes(this._state.ptr, <usize>this.keys.count * <usize>P_BYTES);
  }

  /** Replaces all state with what `save` wrote; refuses another kind, T or key field. */
  load(r: StateReader): bool {
    this.keys.clear();
    this._state.clear();
    if (!r.expect(PATTERN_STATE_TAG, 'a pattern (version 1)')) return false;
    const kind = <i32>r.u32();
    const within = r.i64();
    const keyField = r.str();
    if (!r.ok) return false;
    const o = this.options;
    if (kind != o.kind || within != o.withinMs || keyField != o.keyField) {
      r.fail(
        'state holds ' +
          describe(kind, within, keyField) +
          ' but the rule is configured for ' +
          describe(o.kind, o.withinMs, o.keyField),
      );
      return false;
    }
    if (!this.keys.load(r)) return false;
    const bytes = <usize>this.keys.count * <usize>P_BYTES;
    const p = r.take(bytes);
    if (p == 0 && bytes != 0) {
      this.keys.clear();
      return false;
    }
    this._state.bytes(p, <u32>bytes);
    return true;
  }
}

function describe(kind: i32, within: i64, keyField: string): string {
  return (
    (kind == PATTERN_FOLLOWED ? '"A then B" within ' : '"A then no B" within ') +
    within.toString() +
    ' ms keyed by ' +
    (keyField.length == 0 ? 'the event key' : 'field "' + keyField + '"')
  );
}
