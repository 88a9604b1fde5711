/**
 * @module Builds the JSON body of an upstream batch by byte concatenation, straight from an
 * output frame: `[{"id":"<16 hex>","key":…,"time":…,"output":…,"value":<payload>},…]`. A JSON
 * payload is embedded as is (no JSON.parse per record: ~380 ns per message, FINDINGS.md);
 * text becomes a JSON string, CBOR is converted (rare), and other bytes become a UTF-8 string
 * when valid, else a base64 string.
 */
import { decode as decodeCbor } from 'cbor-x/decode';
import { Format, FrameReader } from '../../runtime/index.js';

const HEX = new TextEncoder().encode('0123456789abcdef');
const utf8 = new TextDecoder('utf-8', { fatal: true });
const encoder = new TextEncoder();

const PART_OPEN_ID = encoder.encode('{"id":"');
const PART_KEY = encoder.encode('","key":');
const PART_TIME = encoder.encode(',"time":');
const PART_OUTPUT = encoder.encode(',"output":');
const PART_VALUE = encoder.encode(',"value":');

/** Reusable encoder of JSON batch bodies (its scratch buffer grows to the largest batch). */
export class JsonBodyEncoder {
  readonly #reader = new FrameReader();
  #buf: Uint8Array<ArrayBuffer> = new Uint8Array(64 * 1024);
  #pos = 0;
  /** Encoding JSON lines: a JSON payload's line breaks (whitespace) become spaces. */
  #lines = false;

  /** Returns the JSON body (a fresh array) for the records of `frame`. */
  encode(frame: Uint8Array): Uint8Array<ArrayBuffer> {
    return this.#encode(frame, 0x5b, 0x2c, 0x5d); // [ , ]
  }

  /** Returns the records of `frame` as JSON lines (one object per line, each ending in `\n`). */
  encodeLines(frame: Uint8Array): Uint8Array<ArrayBuffer> {
    return this.#encode(frame, -1, 0x0a, 0x0a);
  }

  #encode(
    frame: Uint8Array,
    open: number,
    separator: number,
    close: number,
  ): Uint8Array<ArrayBuffer> {
    const reader = this.#reader.reset(frame);
    const src = reader.frame;
    this.#pos = 0;
    this.#lines = open < 0;
    this.#ensure(2);
    if (open >= 0) this.#buf[this.#pos++] = open;
    let first = true;
    while (reader.next()) {
      const keyLength = reader.keyLength;
      const topicLength = reader.topicLength;
      const payloadLength = reader.payloadLength;
      this.#ensure(96 + 6 * (keyLength + topicLength) + 6 * payloadLength + 8);
      if (!first) this.#buf[this.#pos++] = separator;
      first = false;
      this.#put(PART_OPEN_ID);
      this.#hex32(reader.idHigh);
      this.#hex32(reader.idLow);
      this.#put(PART_KEY);
      this.#string(src, reader.keyStart, keyLength);
      this.#put(PART_TIME);
      this.#integer(reader.time);
      this.#put(PART_OUTPUT);
      this.#string(src, reader.topicStart, topicLength);
      this.#put(PART_VALUE);
      this.#value(src, reader.payloadStart, payloadLength, reader.format);
      this.#buf[this.#pos++] = 0x7d; // }
    }
    this.#ensure(1);
    if (!first || open >= 0) this.#buf[this.#pos++] = close;
    return this.#buf.slice(0, this.#pos);
  }

  #ensure(extra: number): void {
    const needed = this.#pos + extra;
    if (needed <= this.#buf.length) return;
    let size = this.#buf.length * 2;
    while (size < needed) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.#buf.subarray(0, this.#pos));
    this.#buf = next;
  }

  #put(bytes: Uint8Array): void {
    this.#buf.set(bytes, this.#pos);
    this.#pos += bytes.length;
  }

  #hex32(value: number): void {
    const buf = this.#buf;
    let pos = this.#pos;
    for (let shift = 28; shift >= 0; shift -= 4) buf[pos++] = HEX[(value >>> shift) & 15] as number;
    this.#pos = pos;
  }

  #integer(value: number): void {
    // Times are safe integers; writing digits directly avoids one string per record.
    const buf = this.#buf;
    let v = value;
    if (v < 0) {
      buf[this.#pos++] = 0x2d;
      v = -v;
    }
    if (v === 0) {
      buf[this.#pos++] = 0x30;
      return;
    }
    let digits = 0;
    for (let t = v; t >= 1; t = Math.floor(t / 10)) digits++;
    let pos = this.#pos + digits - 1;
    for (let t = v; t >= 1; t = Math.floor(t / 10)) buf[pos--] = 0x30 + (t % 10);
    this.#pos += digits;
  }

  /** Writes src[start, start+length) as a JSON string, escaping `"`, `\` and controls. */
  #string(src: Uint8Array, start: number, length: number): void {
    const buf = this.#buf;
    let pos = this.#pos;
    buf[pos++] = 0x22;
    const end = start + length;
    for (let i = start; i < end; i++) {
      const c = src[i] as number;
      if (c === 0x22 || c === 0x5c) {
        buf[pos++] = 0x5c;
        buf[pos++] = c;
      } else if (c < 0x20) {
        buf[pos++] = 0x5c;
        buf[pos++] = 0x75; // u
        buf[pos++] = 0x30;
        buf[pos++] = 0x30;
        buf[pos++] = HEX[c >>> 4] as number;
        buf[pos++] = HEX[c & 15] as number;
      } else {
        buf[pos++] = c;
      }
    }
    buf[pos++] = 0x22;
    this.#pos = pos;
  }

  #value(src: Uint8Array, start: number, length: number, format: number): void {
    if (format === Format.Json) {
      if (length === 0) {
        this.#put(NULL);
        return;
      }
      this.#buf.set(src.subarray(start, start + length), this.#pos);
      if (this.#lines) {
        // Raw line breaks can only be whitespace in valid JSON (strings escape them).
        const buf = this.#buf;
        for (let i = this.#pos, end = this.#pos + length; i < end; i++) {
          if (buf[i] === 0x0a || buf[i] === 0x0d) buf[i] = 0x20;
        }
      }
      this.#pos += length;
      return;
    }
    if (format === Format.Text) {
      this.#string(src, start, length);
      return;
    }
    const payload = src.subarray(start, start + length);
    let text: string;
    try {
      if (format === Format.Cbor) {
        text = JSON.stringify(decodeCbor(payload)) ?? 'null';
      } else {
        utf8.decode(payload);
        this.#string(src, start, length);
        return;
      }
    } catch {
      text = JSON.stringify(Buffer.from(payload).toString('base64'));
    }
    const bytes = encoder.encode(text);
    this.#ensure(bytes.length);
    this.#put(bytes);
  }
}

const NULL = encoder.encode('null');
