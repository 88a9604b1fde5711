/**
 * @module Rule-state checkpoints in the spool: the payload of a state entry (layout in
 * spool-format.ts), the state the spool keeps to start each new segment with a self-contained
 * entry (the latest durable rule states and the recent event identities), and the search for the
 * newest checkpoint when a spool is opened.
 */
import { open } from 'node:fs/promises';
import { scanEntries } from './entry-scan.js';
import { ENTRY_HEADER_BYTES, isStateEntry } from './spool-format.js';

/** What a pipeline hands the spool for one state entry. */
export interface CheckpointCapture {
  /** The encoded rule states, or undefined when they did not change since the previous capture. */
  readonly rules: Uint8Array | undefined;
  /** Identities (packet id, hash low, hash high) of the QoS 1/2 events newly covered. */
  readonly identities: Uint32Array;
}

/**
 * Gives the spool the pipeline's checkpoint when a group commit starts (synchronously), or
 * undefined when the pipeline is not consistent now (a batch's outputs not all offered).
 */
export interface CheckpointSource {
  capture(): CheckpointCapture | undefined;
}

/** The newest checkpoint found when the spool was opened. */
export interface RestoredCheckpoint {
  /** The encoded rule states (undefined: no state entry had any). */
  readonly rules: Uint8Array | undefined;
  /** Identities of the most recently covered QoS 1/2 events, oldest first (triples). */
  readonly identities: Uint32Array;
}

/** Identity count flag: the entry starts a segment and holds the recent identities itself. */
const BASE_FLAG = 0x80000000;
const UNCHANGED = 0xffffffff;

/** Encodes a state payload. `base`: it starts a segment (self-contained). */
export function encodeStatePayload(
  rules: Uint8Array | undefined,
  identities: Uint32Array,
  base: boolean,
): Uint8Array {
  const r = rules === undefined ? 0 : rules.length;
  const out = new Uint8Array(8 + r + identities.length * 4);
  const view = new DataView(out.buffer);
  view.setUint32(0, rules === undefined ? UNCHANGED : r, true);
  if (rules !== undefined) out.set(rules, 4);
  const n = identities.length / 3;
  view.setUint32(4 + r, base ? (n | BASE_FLAG) >>> 0 : n, true);
  for (let i = 0; i < identities.length; i++) {
    view.setUint32(8 + r + i * 4, identities[i] as number, true);
  }
  return out;
}

/** A decoded state payload. */
interface StatePayload {
  rules: Uint8Array | undefined;
  identities: Uint32Array;
  base: boolean;
}

/** Decodes the state payload `bytes[start, end)`; undefined when it is malformed. */
export function decodeStatePayload(
  bytes: Uint8Array,
  start: number,
  end: number,
): StatePayload | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset + start, end - start);
  const r = view.getUint32(0, true);
  const rulesLength = r === UNCHANGED ? 0 : r;
  if (8 + rulesLength > view.byteLength) return undefined;
  const flags = view.getUint32(4 + rulesLength, true);
  const n = flags & ~BASE_FLAG;
  if (8 + rulesLength + n * 12 !== view.byteLength) return undefined;
  const identities = new Uint32Array(n * 3);
  for (let i = 0; i < identities.length; i++) {
    identities[i] = view.getUint32(8 + rulesLength + i * 4, true);
  }
  // A copy (a Buffer's slice would share the file's bytes).
  const rules =
    r === UNCHANGED
      ? undefined
      : new Uint8Array(bytes.subarray(start + 4, start + 4 + rulesLength));
  return { rules, identities, base: (flags & BASE_FLAG) !== 0 };
}

/** The most recent identities, up to a window (a ring of triples). */
export class IdentityRing {
  readonly #ring: Uint32Array;
  readonly #window: number;
  #next = 0;
  #size = 0;

  constructor(window: number) {
    this.#window = window;
    this.#ring = new Uint32Array(window * 3);
  }

  /** Identities held. */
  get size(): number {
    return this.#size;
  }

  /** Adds identities (triples), oldest first. */
  add(identities: Uint32Array): void {
    const n = identities.length / 3;
    const from = Math.max(0, n - this.#window);
    for (let i = from; i < n; i++) {
      this.#ring.set(identities.subarray(i * 3, i * 3 + 3), this.#next * 3);
      this.#next = (this.#next + 1) % this.#window;
    }
    this.#size = Math.min(this.#window, this.#size + n - from);
  }

  /** The identities held, oldest first. */
  toArray(): Uint32Array {
    const out = new Uint32Array(this.#size * 3);
    const start = (this.#next - this.#size + this.#window) % this.#window;
    for (let i = 0; i < this.#size; i++) {
      const at = ((start + i) % this.#window) * 3;
      out.set(this.#ring.subarray(at, at + 3), i * 3);
    }
    return out;
  }
}

/** The latest durable checkpoint, from which each new segment's first entry is written. */
export class DurableState {
  #rules: Uint8Array | undefined;
  readonly #ring: IdentityRing;

  constructor(window: number, restored: RestoredCheckpoint | undefined) {
    this.#ring = new IdentityRing(window);
    this.#rules = restored?.rules;
    if (restored !== undefined) this.#ring.add(restored.identities);
  }

  /** Whether any checkpoint is known (a new segment must then start with one). */
  get known(): boolean {
    return this.#rules !== undefined;
  }

  /** Size of a self-contained state entry now (0 when no checkpoint is known). */
  get entryBytes(): number {
    if (this.#rules === undefined) return 0;
    return ENTRY_HEADER_BYTES + 8 + this.#rules.length + this.#ring.size * 12;
  }

  /** Notes that a state entry with `capture` is durable. */
  committed(capture: CheckpointCapture): void {
    if (capture.rules !== undefined) this.#rules = capture.rules.slice();
    this.#ring.add(capture.identities);
  }

  /** The payload of a self-contained state entry (rule states and recent identities). */
  basePayload(): Uint8Array {
    return encodeStatePayload(this.#rules, this.#ring.toArray(), true);
  }
}

/**
 * Finds the newest checkpoint in the segment files `paths` (oldest first): the newest rule
 * states, and identities from the newest state entries back to `window` of them or to a
 * self-contained (segment-starting) entry. Corrupted entries are skipped.
 */
export async function findCheckpoint(
  paths: readonly string[],
  window: number,
  maxEntry: number,
): Promise<RestoredCheckpoint | undefined> {
  let rules: Uint8Array | undefined;
  const parts: Uint32Array[] = [];
  let count = 0;
  let found = false;
  let entry = Buffer.alloc(0);
  for (let s = paths.length - 1; s >= 0; s--) {
    const path = paths[s] as string;
    // Offsets and sizes of the valid state entries, oldest first; then read newest first.
    const entries: number[] = [];
    await scanEntries(path, { maxRecord: maxEntry }, (bytes, pos, size, offset) => {
      if (isStateEntry(bytes, pos)) entries.push(offset, size);
    });
    if (entries.length === 0) continue;
    const handle = await open(path, 'r');
    try {
      for (let e = entries.length - 2; e >= 0; e -= 2) {
        const size = entries[e + 1] as number;
        if (size > entry.length) entry = Buffer.allocUnsafe(size);
        await handle.read(entry, 0, size, entries[e] as number);
        const payload = decodeStatePayload(entry, ENTRY_HEADER_BYTES, size);
        if (payload === undefined) continue;
        found = true;
        rules ??= payload.rules;
        if (count < window) {
          parts.unshift(payload.identities);
          count += payload.identities.length / 3;
        }
        // A segment's first entry holds everything before it; else stop once both are found.
        if (payload.base || (count >= window && rules !== undefined)) {
          return { rules, identities: concat(parts) };
        }
      }
    } finally {
      await handle.close();
    }
  }
  return found ? { rules, identities: concat(parts) } : undefined;
}

function concat(parts: readonly Uint32Array[]): Uint32Array {
  let length = 0;
  for (const part of parts) length += part.length;
  const out = new Uint32Array(length);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
