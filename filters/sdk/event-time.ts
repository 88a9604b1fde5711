/**
 * @module Event time and keys: `TimeSource` reads the time an event happened from a payload
 * field (epoch milliseconds, epoch seconds or ISO-8601 text, see `iso-time.ts`) or takes its
 * arrival time at the gateway; `KeySource` takes the key to group by from the event or from a
 * string field. Neither allocates. Windows (`window-engine.ts`) and patterns (`pattern.ts`) use them.
 *
 * Numbers are read as f64 and rounded down to the millisecond; epoch seconds are first rounded to
 * the microsecond (`floor(round(s * 1e6) / 1000)`), so `1700000000.123` is `1700000000123` exactly.
 * Times must lie within ±2^52 ms of the epoch (±142 000 years); anything else is not a time.
 */

import { Event, EXPECT_INTEGER, EXPECT_TIME } from './event';
import { FIELD_OK, FIELD_WRONG_TYPE, FieldPath, fieldStringLength, fieldStringPtr } from './field';
import { NOT_A_TIME, parseIsoTime } from './iso-time';

/** Time format: epoch milliseconds (a number). */
export const TIME_MS: i32 = 0;
/** Time format: epoch seconds (a number, fractions allowed). */
export const TIME_S: i32 = 1;
/** Time format: ISO-8601 text (`2024-05-01T12:00:00.250Z`). */
export const TIME_ISO: i32 = 2;
/** Time format: text is ISO-8601; a number below 1e11 is epoch seconds, else epoch milliseconds. */
export const TIME_AUTO: i32 = 3;

/** Largest magnitude of an event time in ms (2^52): beyond it window arithmetic could overflow. */
export const TIME_LIMIT: f64 = 4503599627370496.0;
/** Numbers below this are epoch seconds in `TIME_AUTO` (1e11 s is the year 5138; 1e11 ms is 1973). */
const AUTO_SECONDS_BELOW: f64 = 1e11;

/** The name of a time format as written in a rule's config. */
export function timeFormatName(format: i32): string {
  if (format == TIME_S) return 's';
  if (format == TIME_ISO) return 'iso';
  if (format == TIME_AUTO) return 'auto';
  return 'ms';
}

/** The time format named `name` ("ms", "s", "iso", "auto"), or -1. */
export function timeFormatOf(name: string): i32 {
  if (name == 'ms') return TIME_MS;
  if (name == 's') return TIME_S;
  if (name == 'iso') return TIME_ISO;
  if (name == 'auto') return TIME_AUTO;
  return -1;
}

/** Where an event's time comes from: a payload field in some format, or the arrival time. */
export class TimeSource {
  /** The time field, or null for the arrival time. */
  readonly path: FieldPath | null;
  /** TIME_MS, TIME_S, TIME_ISO or TIME_AUTO. */
  readonly format: i32;

  /** @param field dotted path of the time field; "" = the arrival time. @param format TIME_*. */
  constructor(field: string, format: i32) {
    this.path = field.length > 0 ? new FieldPath(field) : null;
    this.format = format;
  }

  /**
   * The event time of `ev` in epoch ms. When `ev.status` is not FIELD_OK afterwards the time
   * could not be read, and `ev.failedPath` / `ev.failedExpect` say why (for `out.deadField`).
   */
  read(ev: Event): i64 {
    const path = this.path;
    if (path === null) {
      ev.status = FIELD_OK;
      return ev.time;
    }
    const format = this.format;
    if (format != TIME_ISO) {
      const t = ev.f64(path);
      if (ev.status == FIELD_OK) return this.fromNumber(ev, path, t);
      if (format != TIME_AUTO || ev.status != FIELD_WRONG_TYPE) return 0;
    }
    const s = ev.strRaw(path);
    if (ev.status != FIELD_OK) {
      if (ev.status == FIELD_WRONG_TYPE) ev.failedExpect = EXPECT_TIME;
      return 0;
    }
    const t = parseIsoTime(fieldStringPtr(s), fieldStringLength(s));
    if (t == NOT_A_TIME) return notATime(ev, path, EXPECT_TIME);
    return t;
  }

  private fromNumber(ev: Event, path: FieldPath, t: f64): i64 {
    const format = this.format;
    if (format == TIME_S || (format == TIME_AUTO && Math.abs(t) < AUTO_SECONDS_BELOW)) {
      if (!(Math.abs(t) < TIME_LIMIT / 1000)) return notATime(ev, path, EXPECT_TIME);
      return <i64>Math.floor(Math.round(t * 1e6) / 1000);
    }
    if (!(Math.abs(t) < TIME_LIMIT)) {
      return notATime(ev, path, format == TIME_MS ? EXPECT_INTEGER : EXPECT_TIME);
    }
    return <i64>Math.floor(t);
  }
}

function notATime(ev: Event, path: FieldPath, expect: i32): i64 {
  ev.status = FIELD_WRONG_TYPE;
  ev.failedPath = path;
  ev.failedExpect = expect;
  return 0;
}

/** Where the key that groups events comes from: the event's key, or a string field of the payload. */
export class KeySource {
  /** The key field, or null for the event's key (the device key). */
  readonly path: FieldPath | null;
  /** Address of the last key read. */
  ptr: usize = 0;
  /** Byte length of the last key read. */
  len: usize = 0;

  /** @param field dotted path of a string field; "" = the event's key. */
  constructor(field: string) {
    this.path = field.length > 0 ? new FieldPath(field) : null;
  }

  /**
   * Points `ptr`/`len` at the key of `ev` (raw bytes: a JSON string's escapes are not decoded).
   * False, with `ev.status` saying why, when the field is missing or not a string.
   */
  read(ev: Event): bool {
    const path = this.path;
    if (path === null) {
      this.ptr = ev.keyPtr;
      this.len = ev.keyLen;
      return true;
    }
    const s = ev.strRaw(path);
    if (ev.status != FIELD_OK) return false;
    this.ptr = fieldStringPtr(s);
    this.len = fieldStringLength(s);
    return true;
  }
}
