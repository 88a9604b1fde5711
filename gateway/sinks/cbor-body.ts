/**
 * @module Builds the CBOR body of an upstream batch: an array of maps
 * `{id, key, time, output, value}` encoded with cbor-x. JSON payloads are decoded then encoded
 * (fine at output rates; the JSON body embeds them without parsing).
 */
import { decode as decodeCbor } from 'cbor-x/decode';
import { encode as encodeCbor } from 'cbor-x/encode';
import { Format, FrameReader } from '../../runtime/index.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** One record of a CBOR body. */
interface BodyRecord {
  id: string;
  key: string;
  time: number;
  output: string;
  value: unknown;
}

/** Reusable encoder of CBOR batch bodies. */
export class CborBodyEncoder {
  readonly #reader = new FrameReader();

  /** Returns the CBOR body for the records of `frame`. */
  encode(frame: Uint8Array): Uint8Array<ArrayBuffer> {
    const reader = this.#reader.reset(frame);
    const records: BodyRecord[] = [];
    while (reader.next()) {
      records.push({
        id:
          reader.idHigh.toString(16).padStart(8, '0') + reader.idLow.toString(16).padStart(8, '0'),
        key: reader.key(),
        time: reader.time,
        output: reader.topic(),
        value: decodeValue(reader.payload(), reader.format),
      });
    }
    return new Uint8Array(encodeCbor(records));
  }
}

function decodeValue(payload: Uint8Array, format: number): unknown {
  try {
    if (format === Format.Json)
      return payload.length === 0 ? null : JSON.parse(utf8.decode(payload));
    if (format === Format.Cbor) return decodeCbor(payload);
    return utf8.decode(payload);
  } catch {
    // Not what the format hint says: forward the bytes as a CBOR byte string.
    return payload.slice();
  }
}
