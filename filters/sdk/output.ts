/**
 * @module The output writer: builds the output frame (runtime/FRAME.md) of one `process`,
 * `tick` or `flush` call in one SDK-owned buffer of raw memory, reused call after call and grown
 * by doubling when a call produces more. Raw memory rather than a growing `StaticArray`: the
 * collector never scans or copies it, and an address stays valid between two growths.
 *
 * Records go to named outputs: `default` (the sink or the next rule), `device` (a command to the
 * device named by the key), `dead` (a dead letter: the input's id and the reason as text), `late`
 * (an event after its window closed) or any other name a pipeline routes.
 */

import { ByteBuffer } from './byte-buffer';
import { Event, EXPECT_BOOLEAN, EXPECT_INTEGER, EXPECT_NUMBER, EXPECT_TIME } from './event';
import { FIELD_MALFORMED, FIELD_MISSING } from './field';
import {
  FORMAT_CBOR,
  FORMAT_JSON,
  FORMAT_TEXT,
  FRAME_MAGIC,
  MAX_NAME_BYTES,
  RECORD_HEADER_SIZE,
  REC_FORMAT,
  REC_ID,
  REC_KEY_LEN,
  REC_PAYLOAD_LEN,
  REC_SIZE,
  REC_TIME,
  REC_TOPIC_LEN,
} from './frame';
import { JsonObject } from './json-object';
import { writeJsonString } from './json-text';

/** The pipeline's sink, or the next rule in the chain. */
export const OUTPUT_DEFAULT = 'default';
/** A command back to the device named by the record's key. */
export const OUTPUT_DEVICE = 'device';
/** A dead letter: the input event's id and the reason. */
export const OUTPUT_DEAD = 'dead';
/** An event that arrived after its window closed. */
export const OUTPUT_LATE = 'late';

/** Initial size of the output buffer; it doubles when a call needs more. */
const INITIAL_OUTPUT_BYTES: u32 = 64 * 1024;

/** Writes the records of one call into the output frame. */
export class Output {
  /** The frame being written (raw memory). */
  readonly buf: ByteBuffer = new ByteBuffer(INITIAL_OUTPUT_BYTES);
  private _count: u32 = 0;
  private _rec: u32 = 0;
  private _keyEnd: u32 = 0;
  private _payloadStart: u32 = 0;
  private _open: bool = false;
  private _json: JsonObject | null = null;

  /** Number of records written in this call. */
  get count(): u32 {
    return this._count;
  }

  /** Starts a new frame (the SDK calls it before each call into the rule). */
  begin(): void {
    const buf = this.buf;
    buf.clear();
    buf.u32(FRAME_MAGIC);
    buf.u32(0);
    buf.u32(0);
    buf.u32(0);
    this._count = 0;
    this._open = false;
  }

  /** Completes the frame header (the SDK calls it after the rule returns). */
  finish(): void {
    if (this._open) abort('sluice sdk: a record was left open (missing .end())');
    this.buf.patchU32(4, this._count);
    this.buf.patchU32(8, this.buf.len);
  }

  /**
   * Opens a record: header, key, then the output name; the payload is written next, then
   * `close()`. Low level: prefer the methods below.
   */
  openKeyBytes(output: string, keyPtr: usize, keyLen: usize, id: u64, time: i64, format: u8): void {
    this.head(id, time, format);
    this.buf.bytes(keyPtr, <u32>keyLen);
    this.name(output);
  }

  /** Like `openKeyBytes` with the key given as a string. */
  openKey(output: string, key: string, id: u64, time: i64, format: u8): void {
    this.head(id, time, format);
    this.buf.utf8(key);
    this.name(output);
  }

  /** Closes the open record: fills in its lengths. */
  close(): void {
    const buf = this.buf;
    const rec = this._rec;
    const keyLen = this._keyEnd - rec - RECORD_HEADER_SIZE;
    const topicLen = this._payloadStart - this._keyEnd;
    if (keyLen > MAX_NAME_BYTES) abort('sluice sdk: an output key is longer than 65535 bytes');
    if (topicLen > MAX_NAME_BYTES) abort('sluice sdk: an output name is longer than 65535 bytes');
    const at = buf.ptr + <usize>rec;
    store<u32>(at, buf.len - rec, REC_SIZE);
    store<u16>(at, <u16>keyLen, REC_KEY_LEN);
    store<u16>(at, <u16>topicLen, REC_TOPIC_LEN);
    store<u32>(at, buf.len - this._payloadStart, REC_PAYLOAD_LEN);
    this._count++;
    this._open = false;
  }

  /** Writes a whole record. */
  record(
    output: string,
    keyPtr: usize,
    keyLen: usize,
    id: u64,
    time: i64,
    format: u8,
    payloadPtr: usize,
    payloadLen: usize,
  ): void {
    this.openKeyBytes(output, keyPtr, keyLen, id, time, format);
    this.buf.bytes(payloadPtr, <u32>payloadLen);
    this.close();
  }

  /** Forwards `ev` to `default` unchanged: same key, id, time, format and payload. */
  forward(ev: Event): void {
    this.forwardTo(OUTPUT_DEFAULT, ev);
  }

  /** Forwards `ev` unchanged to the named output. */
  forwardTo(output: string, ev: Event): void {
    this.record(
      output,
      ev.keyPtr,
      ev.keyLen,
      ev.id,
      ev.time,
      ev.format,
      ev.payloadPtr,
      ev.payloadLen,
    );
  }

  /** Sends `ev` to `dead` with `reason` (UTF-8 text); the host stores the event with it. */
  dead(ev: Event, reason: string): void {
    this.openKeyBytes(OUTPUT_DEAD, ev.keyPtr, ev.keyLen, ev.id, ev.time, FORMAT_TEXT);
    this.buf.utf8(reason);
    this.close();
  }

  /**
   * Sends `ev` to `dead` with the reason its last failed field read gives, e.g.
   * `field "temp" is missing`, `field "temp" is not a number`, `payload is not valid JSON`.
   */
  deadField(ev: Event): void {
    const buf = this.buf;
    this.openKeyBytes(OUTPUT_DEAD, ev.keyPtr, ev.keyLen, ev.id, ev.time, FORMAT_TEXT);
    const status = ev.status;
    const path = ev.failedPath;
    if (status == FIELD_MALFORMED || path === null) {
      buf.utf8(
        ev.payloadFormat == FORMAT_CBOR
          ? 'payload is not well-formed CBOR'
          : 'payload is not valid JSON',
      );
    } else {
      buf.utf8('field ');
      writeJsonString(buf, path.text);
      if (status == FIELD_MISSING) {
        buf.utf8(' is missing');
      } else {
        const expect = ev.failedExpect;
        buf.utf8(
          expect == EXPECT_NUMBER
            ? ' is not a number'
            : expect == EXPECT_INTEGER
              ? ' is not an integer'
              : expect == EXPECT_BOOLEAN
                ? ' is not a boolean'
                : expect == EXPECT_TIME
                  ? ' is not a timestamp'
                  : ' is not a string',
        );
      }
    }
    this.close();
  }

  /** Starts a JSON object record to `output`; add members, then `.end()`. */
  json(output: string, key: string, id: u64, time: i64): JsonObject {
    this.openKey(output, key, id, time, FORMAT_JSON);
    return this.object();
  }

  /** Starts a JSON object record to `output` with `ev`'s key, id and time. */
  jsonFor(output: string, ev: Event): JsonObject {
    this.openKeyBytes(output, ev.keyPtr, ev.keyLen, ev.id, ev.time, FORMAT_JSON);
    return this.object();
  }

  /** Starts a JSON object record to `output` with a key given as bytes. */
  jsonKeyBytes(output: string, keyPtr: usize, keyLen: usize, id: u64, time: i64): JsonObject {
    this.openKeyBytes(output, keyPtr, keyLen, id, time, FORMAT_JSON);
    return this.object();
  }

  /** Starts a JSON command to the device `key` (output `device`); add members, then `.end()`. */
  command(key: string, id: u64, time: i64): JsonObject {
    return this.json(OUTPUT_DEVICE, key, id, time);
  }

  /** Starts a JSON command back to the device that sent `ev` (its key, id and time). */
  commandFor(ev: Event): JsonObject {
    return this.jsonFor(OUTPUT_DEVICE, ev);
  }

  private object(): JsonObject {
    let json = this._json;
    if (json === null) {
      json = new JsonObject(this);
      this._json = json;
    }
    json.start();
    return json;
  }

  private head(id: u64, time: i64, format: u8): void {
    if (this._open)
      abort('sluice sdk: a record was opened while another was open (missing .end())');
    const buf = this.buf;
    const rec = buf.len;
    const at = buf.reserve(RECORD_HEADER_SIZE);
    store<u64>(at, 0, 0);
    store<u64>(at, 0, 8);
    store<u8>(at, format, REC_FORMAT);
    store<u64>(at, id, REC_ID);
    store<i64>(at, time, REC_TIME);
    buf.len += RECORD_HEADER_SIZE;
    this._rec = rec;
    this._open = true;
  }

  private name(output: string): void {
    this._keyEnd = this.buf.len;
    this.buf.utf8(output);
    this._payloadStart = this.buf.len;
  }
}
