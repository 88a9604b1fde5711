/**
 * @module Small JS references of the example rules' semantics, to compare the Wasm rules'
 * outputs with, and a generator of device readings (valid, out of range and broken).
 */
import { decode } from 'cbor-x';
import { payloadBytes, windowId } from './rule-harness.js';
import type { InEvent } from './rule-harness.js';

/** A deterministic PRNG (mulberry32), so failures reproduce. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const decoder = new TextDecoder();

/** The number at `path` of the event's payload, or the dead-letter reason the SDK gives. */
export function readNumber(event: InEvent, path: string): number | { reason: string } {
  const bytes = payloadBytes(event);
  const cbor = event.format === 'cbor';
  let value: unknown;
  try {
    value = cbor ? decode(bytes) : JSON.parse(decoder.decode(bytes));
  } catch {
    return { reason: cbor ? 'payload is not well-formed CBOR' : 'payload is not valid JSON' };
  }
  for (const segment of path.split('.')) {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      return { reason: `field ${JSON.stringify(path)} is not a number` };
    }
    if (!Object.prototype.hasOwnProperty.call(value, segment)) {
      return { reason: `field ${JSON.stringify(path)} is missing` };
    }
    value = (value as Record<string, unknown>)[segment];
  }
  if (typeof value !== 'number') return { reason: `field ${JSON.stringify(path)} is not a number` };
  return value;
}

/** One expected output record. */
export interface Expected {
  output: string;
  key: string;
  id: bigint;
  time: number;
  text: string;
}

/** Options of `readings`. */
export interface ReadingOptions {
  devices: number;
  /** Share of broken events (bad JSON/CBOR, missing or non-number fields). @default 0.05 */
  broken?: number;
  /** Share of values outside -40..125. @default 0.05 */
  outOfRange?: number;
  /** Share of CBOR payloads. @default 0.2 */
  cbor?: number;
}

/** Generates `n` readings `{id, device, ts, temp, hum}` with ids from `firstId`, times from `clock()`. */
export function readings(
  rng: () => number,
  n: number,
  firstId: number,
  clock: () => number,
  options: ReadingOptions,
): InEvent[] {
  const broken = options.broken ?? 0.05;
  const outOfRange = options.outOfRange ?? 0.05;
  const cborShare = options.cbor ?? 0.2;
  const events: InEvent[] = [];
  for (let i = 0; i < n; i++) {
    const id = firstId + i;
    const device = `dev-${Math.floor(rng() * options.devices)}`;
    const ts = clock();
    const format = rng() < cborShare ? 'cbor' : 'json';
    let temp: unknown = Math.round((rng() * 60 - 10) * 10) / 10;
    if (rng() < outOfRange)
      temp = rng() < 0.5 ? -41 - Math.round(rng() * 100) : 125.5 + Math.round(rng() * 100);
    let payload: unknown = { id, device, ts, temp, hum: Math.round(rng() * 1000) / 10 };
    if (rng() < broken) {
      const kind = Math.floor(rng() * 5);
      if (kind === 0)
        payload = format === 'cbor' ? new Uint8Array([0xbf, 0x64, 0x74]) : `{"id":${id},"temp":`;
      else if (kind === 1) payload = { id, device, ts, hum: 40 };
      else if (kind === 2) payload = { id, device, ts, temp: 'warm' };
      else if (kind === 3) payload = { id, device, temp: 20 };
      else payload = { id, device, ts: 'yesterday', temp: 20 };
    }
    events.push({ key: device, id, time: ts, payload, format });
  }
  return events;
}

/** The JSON window result the SDK writes (members in the SDK's order). */
export function windowResult(
  key: string,
  start: number,
  size: number,
  count: number,
  sum: number,
  min: number,
  max: number,
): Expected {
  const end = start + size;
  const text = JSON.stringify({ key, start, end, count, sum, min, max, avg: sum / count });
  return { output: 'default', key, id: windowId(key, start), time: end, text };
}

interface WindowState {
  open: boolean;
  start: number;
  closedEnd: number;
  count: number;
  sum: number;
  min: number;
  max: number;
}

/** window-stats in plain JS. */
export class WindowStatsReference {
  readonly #size: number;
  readonly #grace: number;
  readonly #field: string;
  readonly #timeField: string;
  readonly #min: number;
  readonly #max: number;
  readonly #keys = new Map<string, WindowState>();
  dropped = 0;
  late = 0;

  constructor(config: {
    field?: string;
    timeField?: string;
    windowMs?: number;
    graceMs?: number;
    min?: number;
    max?: number;
  }) {
    this.#size = config.windowMs ?? 1000;
    this.#grace = config.graceMs ?? this.#size;
    this.#field = config.field ?? 'temp';
    this.#timeField = config.timeField ?? 'ts';
    this.#min = config.min ?? -Infinity;
    this.#max = config.max ?? Infinity;
  }

  process(events: readonly InEvent[]): Expected[] {
    const out: Expected[] = [];
    for (const e of events) {
      const dead = (reason: string) =>
        out.push({ output: 'dead', key: e.key, id: BigInt(e.id), time: e.time ?? 0, text: reason });
      const v = readNumber(e, this.#field);
      if (typeof v !== 'number') {
        dead(v.reason);
        continue;
      }
      if (!(v >= this.#min && v <= this.#max)) {
        this.dropped++;
        continue;
      }
      let time = e.time ?? 0;
      if (this.#timeField !== '') {
        const t = readNumber(e, this.#timeField);
        if (typeof t !== 'number') {
          dead(t.reason);
          continue;
        }
        time = Math.floor(t);
      }
      const start = time - (((time % this.#size) + this.#size) % this.#size);
      let w = this.#keys.get(e.key);
      if (w === undefined) {
        w = { open: false, start: 0, closedEnd: -Infinity, count: 0, sum: 0, min: 0, max: 0 };
        this.#keys.set(e.key, w);
      }
      if (w.open && start === w.start) {
        w.count++;
        w.sum += v;
        if (v < w.min) w.min = v;
        if (v > w.max) w.max = v;
        continue;
      }
      if ((w.open && start < w.start) || (!w.open && start < w.closedEnd)) {
        this.late++;
        out.push({
          output: 'late',
          key: e.key,
          id: BigInt(e.id),
          time: e.time ?? 0,
          text: decoder.decode(payloadBytes(e)),
        });
        continue;
      }
      if (w.open) this.#emit(e.key, w, out);
      Object.assign(w, { open: true, start, count: 1, sum: v, min: v, max: v });
    }
    return out;
  }

  tick(now: number): Expected[] {
    const out: Expected[] = [];
    for (const [key, w] of this.#keys) {
      if (w.open && w.start + this.#size <= now - this.#grace) {
        this.#emit(key, w, out);
        w.open = false;
      }
    }
    return out;
  }

  flush(): Expected[] {
    const out: Expected[] = [];
    for (const [key, w] of this.#keys) {
      if (w.open) {
        this.#emit(key, w, out);
        w.open = false;
      }
    }
    return out;
  }

  #emit(key: string, w: WindowState, out: Expected[]): void {
    out.push(windowResult(key, w.start, this.#size, w.count, w.sum, w.min, w.max));
    w.closedEnd = w.start + this.#size;
  }
}
