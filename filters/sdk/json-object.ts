/**
 * @module `JsonObject`: an allocation-free builder of one flat JSON object as the payload of an
 * output record. `Output` owns one and hands it out, reset, for each record:
 * `out.json("default", key, id, time).num("avg", avg).int("count", n).end()`.
 */

import { ByteBuffer } from './byte-buffer';
import { Output } from './output';
import { writeJsonBytes, writeJsonInt, writeJsonNumber, writeJsonString } from './json-text';

/** Builds the JSON object payload of the open record. Do not keep it past `end()`. */
export class JsonObject {
  private _out: Output;
  private _first: bool = true;

  constructor(out: Output) {
    this._out = out;
  }

  /** Writes `{` (called by `Output`). */
  start(): void {
    this._out.buf.u8(0x7b);
    this._first = true;
  }

  /** A number member; NaN and ±Infinity are written as `null`. */
  num(name: string, value: f64): JsonObject {
    writeJsonNumber(this.member(name), value);
    return this;
  }

  /** An integer member. */
  int(name: string, value: i64): JsonObject {
    writeJsonInt(this.member(name), value);
    return this;
  }

  /** A boolean member. */
  bool(name: string, value: bool): JsonObject {
    this.member(name).utf8(value ? 'true' : 'false');
    return this;
  }

  /** A string member. */
  str(name: string, value: string): JsonObject {
    writeJsonString(this.member(name), value);
    return this;
  }

  /** A string member from raw UTF-8 bytes (e.g. an event's key). */
  strBytes(name: string, ptr: usize, len: usize): JsonObject {
    writeJsonBytes(this.member(name), ptr, len);
    return this;
  }

  /** A `null` member. */
  nul(name: string): JsonObject {
    this.member(name).utf8('null');
    return this;
  }

  /** Writes `}` and closes the record. */
  end(): void {
    this._out.buf.u8(0x7d);
    this._out.close();
  }

  private member(name: string): ByteBuffer {
    const buf = this._out.buf;
    if (!this._first) buf.u8(0x2c);
    this._first = false;
    writeJsonString(buf, name);
    buf.u8(0x3a);
    return buf;
  }
}
