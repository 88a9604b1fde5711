/**
 * @module The simulated devices: per-device temperature and humidity random walks, the topic of
 * each device, and the encoding of readings (JSON or CBOR) including the invalid kinds
 * (out-of-range value, missing field, malformed payload). Topics and name fragments are built
 * once; each message costs one payload encoding.
 */

import { SeededRandom } from './random.js';

/** The kinds of invalid message the simulator mixes in. */
export type InvalidKind = 'range' | 'missing' | 'malformed';
/** The kind of one published message. */
export type MessageKind = 'valid' | InvalidKind;

/** Every invalid kind, in the order used by `--invalid-kinds`. */
export const INVALID_KINDS: readonly InvalidKind[] = ['range', 'missing', 'malformed'];

/** A reading as encoded in a payload (`temp` is absent in a `missing` message). */
export interface Reading {
  id: number;
  device: string;
  ts: number;
  temp?: number;
  hum: number;
}

/** Options of a `Fleet`. */
export interface FleetOptions {
  devices: number;
  /** Device names are `<prefix><n>`, n from 1. */
  devicePrefix: string;
  /** Topic with `{device}` replaced by the device name. */
  topic: string;
  format: 'json' | 'cbor';
  invalidRatio: number;
  invalidKinds: readonly InvalidKind[];
  seed: number | string;
  /** Event time of message 0; undefined → the send time. */
  startTs: number | undefined;
  /** Event time step per message when `startTs` is set. */
  tsStep: number;
}

/** The last message a `Fleet` produced. Overwritten by the next `next()`: copy what you keep. */
export interface FleetMessage {
  /** 0-based position in the run. */
  index: number;
  deviceIndex: number;
  device: string;
  topic: string;
  kind: MessageKind;
  /** The reading's `id` (index + 1). */
  id: number;
  ts: number;
  /** The temperature encoded, NaN when the field is missing. */
  temp: number;
  hum: number;
  payload: Buffer;
}

const KEY_ID = Buffer.from([0x62, 0x69, 0x64]); // "id"
const KEY_DEVICE = Buffer.from([0x66, 0x64, 0x65, 0x76, 0x69, 0x63, 0x65]); // "device"
const KEY_TS = Buffer.from([0x62, 0x74, 0x73]); // "ts"
const KEY_TEMP = Buffer.from([0x64, 0x74, 0x65, 0x6d, 0x70]); // "temp"
const KEY_HUM = Buffer.from([0x63, 0x68, 0x75, 0x6d]); // "hum"

/** Generates the messages of a simulated fleet, in a reproducible order for a given seed. */
export class Fleet {
  readonly names: readonly string[];
  readonly topics: readonly string[];
  readonly #options: FleetOptions;
  readonly #random: SeededRandom;
  readonly #jsonNames: string[];
  readonly #cborNames: Buffer[];
  readonly #base: Float64Array;
  readonly #temp: Float64Array;
  readonly #hum: Float64Array;
  readonly #message: FleetMessage;
  #index = 0;

  constructor(options: FleetOptions) {
    this.#options = options;
    this.#random = new SeededRandom(options.seed);
    const names: string[] = [];
    const topics: string[] = [];
    this.#jsonNames = [];
    this.#cborNames = [];
    this.#base = new Float64Array(options.devices);
    this.#temp = new Float64Array(options.devices);
    this.#hum = new Float64Array(options.devices);
    for (let d = 0; d < options.devices; d++) {
      const name = `${options.devicePrefix}${d + 1}`;
      names.push(name);
      topics.push(options.topic.replaceAll('{device}', name));
      this.#jsonNames.push(JSON.stringify(name));
      this.#cborNames.push(cborText(name));
      this.#base[d] = 18 + this.#random.next() * 6;
      this.#temp[d] = this.#base[d] ?? 20;
      this.#hum[d] = 35 + this.#random.next() * 20;
    }
    this.names = names;
    this.topics = topics;
    this.#message = {
      index: 0,
      deviceIndex: 0,
      device: '',
      topic: '',
      kind: 'valid',
      id: 0,
      ts: 0,
      temp: 0,
      hum: 0,
      payload: Buffer.alloc(0),
    };
  }

  /** The device of message `index`: devices take turns, so each gets an equal share. */
  deviceOf(index: number): number {
    return index % this.#options.devices;
  }

  /** Produces the next message; `now` is its send time in ms (used when no `startTs`). */
  next(now: number): FleetMessage {
    const options = this.#options;
    const random = this.#random;
    const index = this.#index++;
    const d = index % options.devices;
    // Random walk pulled back towards the device's base, rounded to 0.1 as a sensor would.
    let temp = (this.#temp[d] ?? 20) + (random.next() - 0.5) * 0.6;
    temp += ((this.#base[d] ?? 20) - temp) * 0.05;
    this.#temp[d] = temp;
    let hum = (this.#hum[d] ?? 45) + (random.next() - 0.5) * 0.8;
    hum = hum < 5 ? 5 : hum > 95 ? 95 : hum;
    this.#hum[d] = hum;

    let kind: MessageKind = 'valid';
    if (options.invalidRatio > 0 && random.next() < options.invalidRatio) {
      kind =
        options.invalidKinds[Math.floor(random.next() * options.invalidKinds.length)] ??
        'malformed';
    }
    let value = Math.round(temp * 10) / 10;
    if (kind === 'range') {
      // Outside any plausible sensor range (the demo's threshold keeps -40..125).
      const magnitude = Math.round(random.next() * 8000) / 10;
      value = random.next() < 0.5 ? 126 + magnitude : -41 - magnitude / 4;
      value = Math.round(value * 10) / 10;
    } else if (kind === 'missing') {
      value = Number.NaN;
    }
    const id = index + 1;
    const ts =
      options.startTs === undefined ? now : Math.floor(options.startTs + index * options.tsStep);
    const humValue = Math.round(hum * 10) / 10;
    let payload =
      options.format === 'json'
        ? this.#json(id, d, ts, value, humValue)
        : this.#cbor(id, d, ts, value, humValue);
    if (kind === 'malformed') {
      // Any strict prefix of one JSON object or one definite-length CBOR map is invalid.
      const cut = 1 + Math.floor(random.next() * (payload.length - 1));
      payload = payload.subarray(0, cut);
    }
    const message = this.#message;
    message.index = index;
    message.deviceIndex = d;
    message.device = this.names[d] ?? '';
    message.topic = this.topics[d] ?? '';
    message.kind = kind;
    message.id = id;
    message.ts = ts;
    message.temp = value;
    message.hum = humValue;
    message.payload = payload;
    return message;
  }

  #json(id: number, d: number, ts: number, temp: number, hum: number): Buffer {
    const name = this.#jsonNames[d] ?? '""';
    const text = Number.isNaN(temp)
      ? `{"id":${id},"device":${name},"ts":${ts},"hum":${hum}}`
      : `{"id":${id},"device":${name},"ts":${ts},"temp":${temp},"hum":${hum}}`;
    return Buffer.from(text);
  }

  #cbor(id: number, d: number, ts: number, temp: number, hum: number): Buffer {
    const name = this.#cborNames[d] ?? Buffer.from([0x60]);
    const missing = Number.isNaN(temp);
    const buf = Buffer.allocUnsafe(64 + name.length);
    let o = 0;
    buf[o++] = missing ? 0xa4 : 0xa5; // map of 4 or 5 pairs
    o += KEY_ID.copy(buf, o);
    o = cborUint(buf, o, id);
    o += KEY_DEVICE.copy(buf, o);
    o += name.copy(buf, o);
    o += KEY_TS.copy(buf, o);
    o = cborUint(buf, o, ts);
    if (!missing) {
      o += KEY_TEMP.copy(buf, o);
      buf[o++] = 0xfb;
      o = buf.writeDoubleBE(temp, o);
    }
    o += KEY_HUM.copy(buf, o);
    buf[o++] = 0xfb;
    o = buf.writeDoubleBE(hum, o);
    return buf.subarray(0, o);
  }
}

/** The reading a message carries, as a fresh object (for records and offline checks). */
export function readingOf(message: FleetMessage): Reading | undefined {
  if (message.kind === 'malformed') return undefined;
  const reading: Reading = {
    id: message.id,
    device: message.device,
    ts: message.ts,
    hum: message.hum,
  };
  if (!Number.isNaN(message.temp)) reading.temp = message.temp;
  return reading;
}

function cborText(text: string): Buffer {
  const bytes = Buffer.from(text);
  const head = Buffer.allocUnsafe(9);
  const end = cborHead(head, 0, 0x60, bytes.length);
  return Buffer.concat([head.subarray(0, end), bytes]);
}

/**
 * A non-negative integer: as a CBOR uint below 2^32, above as a float64 (exact below 2^53), the
 * way cbor-x encodes JS numbers, so that a JS consumer decodes a number, not a BigInt.
 */
function cborUint(buf: Buffer, o: number, value: number): number {
  if (value < 0x100000000) return cborHead(buf, o, 0x00, value);
  buf[o++] = 0xfb;
  return buf.writeDoubleBE(value, o);
}

/** Writes a CBOR head of major type `major` (already shifted) with argument `value` < 2^32. */
function cborHead(buf: Buffer, o: number, major: number, value: number): number {
  if (value < 24) {
    buf[o++] = major | value;
  } else if (value < 0x100) {
    buf[o++] = major | 24;
    buf[o++] = value;
  } else if (value < 0x10000) {
    buf[o++] = major | 25;
    o = buf.writeUInt16BE(value, o);
  } else {
    buf[o++] = major | 26;
    o = buf.writeUInt32BE(value, o);
  }
  return o;
}
