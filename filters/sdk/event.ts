/**
 * @module `Event`: a view of one record of the input batch. Header fields are loaded on demand;
 * typed field getters read the payload in place with the JSON or CBOR reader chosen by the
 * record's format hint (sniffed when the hint is unknown or text). Nothing here allocates except
 * the `...String()` conveniences.
 */

import {
  FIELD_OK,
  FieldPath,
  FieldText,
  bytesEqual,
  fieldStatus,
  fieldStringLength,
  fieldStringPtr,
} from './field';
import { jsonBool, jsonF64, jsonI64, jsonString, jsonStringEquals, jsonValidate } from './json';
import { decodeJsonString } from './json-text';
import { cborBool, cborF64, cborI64, cborString, cborValidate } from './cbor';
import {
  FORMAT_CBOR,
  FORMAT_JSON,
  RECORD_HEADER_SIZE,
  REC_FORMAT,
  REC_ID,
  REC_QOS,
  REC_TIME,
} from './frame';

/** What the last failed read expected: a number. */
export const EXPECT_NUMBER: i32 = 0;
/** What the last failed read expected: an integer. */
export const EXPECT_INTEGER: i32 = 1;
/** What the last failed read expected: a boolean. */
export const EXPECT_BOOLEAN: i32 = 2;
/** What the last failed read expected: a string. */
export const EXPECT_STRING: i32 = 3;
/** What the last failed read expected: a timestamp (epoch ms, epoch s or ISO-8601 text). */
export const EXPECT_TIME: i32 = 4;

/** One input record. The batch reuses this object: do not keep it past the current iteration. */
export class Event {
  /** Address of the record header. */
  rec: usize = 0;
  /** Byte length of the key. */
  keyLen: usize = 0;
  /** Byte length of the topic. */
  topicLen: usize = 0;
  /** Byte length of the payload. */
  payloadLen: usize = 0;
  /** Status of the last field read: FIELD_OK, FIELD_MISSING, FIELD_MALFORMED, FIELD_WRONG_TYPE. */
  status: i32 = FIELD_OK;
  /** Path of the last read that failed (kept for `Output.deadField`). */
  failedPath: FieldPath | null = null;
  /** What the last failed read expected (EXPECT_*). */
  failedExpect: i32 = EXPECT_NUMBER;
  private _format: u8 = 0;

  /** Moves the view to the record at `rec` (called by `Batch.next`). */
  point(rec: usize, keyLen: usize, topicLen: usize, payloadLen: usize): void {
    this.rec = rec;
    this.keyLen = keyLen;
    this.topicLen = topicLen;
    this.payloadLen = payloadLen;
    this.status = FIELD_OK;
    this._format = sniffFormat(load<u8>(rec, REC_FORMAT), this.payloadPtr, payloadLen);
  }

  /** Event id assigned by the gateway (unique, increasing). */
  get id(): u64 {
    return load<u64>(this.rec, REC_ID);
  }

  /** Arrival time at the gateway, ms since the Unix epoch. */
  get time(): i64 {
    return load<i64>(this.rec, REC_TIME);
  }

  /** QoS the event arrived with (0, 1, 2). */
  get qos(): u8 {
    return load<u8>(this.rec, REC_QOS);
  }

  /** Format hint as sent by the host: 0 unknown, 1 JSON, 2 CBOR, 3 text. */
  get format(): u8 {
    return load<u8>(this.rec, REC_FORMAT);
  }

  /** The format the field getters use: FORMAT_JSON or FORMAT_CBOR (sniffed when not hinted). */
  get payloadFormat(): u8 {
    return this._format;
  }

  /** Address of the key's UTF-8 bytes (the device key). */
  get keyPtr(): usize {
    return this.rec + <usize>RECORD_HEADER_SIZE;
  }

  /** Address of the topic's UTF-8 bytes. */
  get topicPtr(): usize {
    return this.rec + <usize>RECORD_HEADER_SIZE + this.keyLen;
  }

  /** Address of the payload bytes. */
  get payloadPtr(): usize {
    return this.rec + <usize>RECORD_HEADER_SIZE + this.keyLen + this.topicLen;
  }

  /** Whether the key equals `text` byte for byte. */
  keyEquals(text: FieldText): bool {
    const n = text.length;
    return n == this.keyLen && bytesEqual(this.keyPtr, text.ptr, n);
  }

  /** The key as a string (allocates: not for every event). */
  keyString(): string {
    return String.UTF8.decodeUnsafe(this.keyPtr, this.keyLen);
  }

  /** The topic as a string (allocates: not for every event). */
  topicString(): string {
    return String.UTF8.decodeUnsafe(this.topicPtr, this.topicLen);
  }

  /** Whether the whole payload is well-formed JSON / CBOR (as its format says). */
  validPayload(): bool {
    return this._format == FORMAT_JSON
      ? jsonValidate(this.payloadPtr, this.payloadLen)
      : cborValidate(this.payloadPtr, this.payloadLen);
  }

  /** Reads a number field (integers included). Check `status` afterwards; 0 when not FIELD_OK. */
  f64(path: FieldPath): f64 {
    const v =
      this._format == FORMAT_JSON
        ? jsonF64(this.payloadPtr, this.payloadLen, path)
        : cborF64(this.payloadPtr, this.payloadLen, path);
    this.done(path, EXPECT_NUMBER);
    return v;
  }

  /** Reads an integer field (a JSON number without fraction or exponent, a CBOR integer). */
  i64(path: FieldPath): i64 {
    const v =
      this._format == FORMAT_JSON
        ? jsonI64(this.payloadPtr, this.payloadLen, path)
        : cborI64(this.payloadPtr, this.payloadLen, path);
    this.done(path, EXPECT_INTEGER);
    return v;
  }

  /** Reads a boolean field. */
  bool(path: FieldPath): bool {
    const v =
      this._format == FORMAT_JSON
        ? jsonBool(this.payloadPtr, this.payloadLen, path)
        : cborBool(this.payloadPtr, this.payloadLen, path);
    this.done(path, EXPECT_BOOLEAN);
    return v;
  }

  /**
   * Locates a string field without copying it: returns `ptr << 32 | byteLength` of its raw bytes
   * inside the payload (unpack with `fieldStringPtr` / `fieldStringLength`). JSON escapes are not
   * decoded.
   */
  strRaw(path: FieldPath): u64 {
    const v =
      this._format == FORMAT_JSON
        ? jsonString(this.payloadPtr, this.payloadLen, path)
        : cborString(this.payloadPtr, this.payloadLen, path);
    this.done(path, EXPECT_STRING);
    return v;
  }

  /** Whether a string field equals `text` (JSON escapes decoded). `status` tells a missing field. */
  strEquals(path: FieldPath, text: FieldText): bool {
    const v = this.strRaw(path);
    if (this.status != FIELD_OK) return false;
    if (this._format == FORMAT_JSON) return jsonStringEquals(v, text);
    const n = fieldStringLength(v);
    return n == text.length && bytesEqual(fieldStringPtr(v), text.ptr, n);
  }

  /** Reads a string field as a string, JSON escapes decoded (allocates: not for every event). */
  strString(path: FieldPath): string {
    const v = this.strRaw(path);
    if (this.status != FIELD_OK) return '';
    const p = fieldStringPtr(v);
    const n = fieldStringLength(v);
    return this._format == FORMAT_JSON ? decodeJsonString(p, n) : String.UTF8.decodeUnsafe(p, n);
  }

  private done(path: FieldPath, expect: i32): void {
    const status = fieldStatus();
    this.status = status;
    // Only a failure stores the path: a managed store costs a GC write barrier per read.
    if (status != FIELD_OK) {
      this.failedPath = path;
      this.failedExpect = expect;
    }
  }
}

/** The format to read a payload with: the hint if JSON or CBOR, else JSON when it starts like JSON. */
function sniffFormat(hint: u8, ptr: usize, len: usize): u8 {
  if (hint == FORMAT_JSON || hint == FORMAT_CBOR) return hint;
  for (let i: usize = 0; i < len; i++) {
    const c = load<u8>(ptr + i);
    if (c == 0x20 || c == 0x09 || c == 0x0a || c == 0x0d) continue;
    return c == 0x7b || c == 0x5b ? FORMAT_JSON : FORMAT_CBOR;
  }
  return FORMAT_JSON;
}
