/**
 * @module Rule-state checkpoints in the spool: the payload of a state entry (layout in
 * spool-format.ts), the state the spool keeps to start each new segment with a self-contained
 * entry (the latest durable rule states and the recent event identities), and the search for the
 * newest checkpoint when a spool is opened.
 */
import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { scanEntries } from './entry-scan.js';
import { ENTRY_HEADER_BYTES, isStateEntry } from './spool-format.js';
import { applyDelta, encodeDelta } from './state-delta.js';

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
/** Rule-states field: unchanged since the previous entry. */
const UNCHANGED = 0xffffffff;
/** Rule-states field: a delta from the previous entry's (state-delta.ts) follows. */
const DELTA = 0xfffffffe;

/** The rule states of a state entry: whole, as a delta from the previous entry's, or unchanged. */
export type RulesField =
  | { kind: 'whole'; bytes: Uint8Array }
  | { kind: 'delta'; bytes: Uint8Array }
  | { kind: 'unchanged' };

/** Encodes a state payload. `base`: it starts a segment (self-contained). */
export function encodeStatePayload(
  rules: RulesField,
  identities: Uint32Array,
  base: boolean,
): Uint8Array {
  // Whole: u32 length R, R bytes. Delta: u32 DELTA, u32 length D, D bytes. Unchanged: u32 UNCHANGED.
  const head = rules.kind === 'delta' ? 8 : 4;
  const r = rules.kind === 'unchanged' ? 0 : rules.bytes.length;
  const out = new Uint8Array(head + r + 4 + identities.length * 4);
  const view = new DataView(out.buffer);
  if (rules.kind === 'unchanged') view.setUint32(0, UNCHANGED, true);
  else if (rules.kind === 'whole') view.setUint32(0, r, true);
  else {
    view.setUint32(0, DELTA, true);
    view.setUint32(4, r, true);
  }
  if (rules.kind !== 'unchanged') out.set(rules.bytes, head);
  const n = identities.length / 3;
  const at = head + r;
  view.setUint32(at, base ? (n | BASE_FLAG) >>> 0 : n, true);
  for (let i = 0; i < identities.length; i++) {
    view.setUint32(at + 4 + i * 4, identities[i] as number, true);
  }
  return out;
}

/** A decoded state payload. */
interface StatePayload {
  rules: RulesField;
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
  if (r === DELTA && view.byteLength < 12) return undefined;
  const head = r === DELTA ? 8 : 4;
  const rulesLength = r === UNCHANGED ? 0 : r === DELTA ? view.getUint32(4, true) : r;
  if (head + rulesLength + 4 > view.byteLength) return undefined;
  const flags = view.getUint32(head + rulesLength, true);
  const n = flags & ~BASE_FLAG;
  if (head + rulesLength + 4 + n * 12 !== view.byteLength) return undefined;
  const identities = new Uint32Array(n * 3);
  for (let i = 0; i < identities.length; i++) {
    identities[i] = view.getUint32(head + rulesLength + 4 + i * 4, true);
  }
  // A copy (a Buffer's slice would share the file's bytes).
  const copy = (): Uint8Array =>
    new Uint8Array(bytes.subarray(start + head, start + head + rulesLength));
  const rules: RulesField =
    r === UNCHANGED
      ? { kind: 'unchanged' }
      : { kind: r === DELTA ? 'delta' : 'whole', bytes: copy() };
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
  /** Bytes of the deltas written since the last whole rule states (what a restore replays). */
  #deltaBytes = 0;

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

  /**
   * The payload of a state entry for `capture`, following the latest durable one: its rule
   * states as a delta when that is at most half their size and the deltas since the last whole
   * states stay under twice it (so a restore replays at most that), else whole.
   */
  payload(capture: CheckpointCapture): { bytes: Uint8Array; rules: RulesField } {
    const next = capture.rules;
    let rules: RulesField = { kind: 'unchanged' };
    if (next !== undefined) {
      const budget = Math.min(next.length / 2, 2 * next.length - this.#deltaBytes);
      const delta =
        this.#rules === undefined || budget <= 0
          ? undefined
          : encodeDelta(this.#rules, next, budget);
      rules =
        delta === undefined ? { kind: 'whole', bytes: next } : { kind: 'delta', bytes: delta };
    }
    return { bytes: encodeStatePayload(rules, capture.identities, false), rules };
  }

  /** Notes that a state entry with `capture` (its rules written as `rules`) is durable. */
  committed(capture: CheckpointCapture, rules: RulesField): void {
    if (capture.rules !== undefined) this.#rules = capture.rules.slice();
    if (rules.kind === 'whole') this.#deltaBytes = 0;
    else if (rules.kind === 'delta') this.#deltaBytes += rules.bytes.length;
    this.#ring.add(capture.identities);
  }

  /** The payload of a self-contained state entry (rule states and recent identities). */
  basePayload(): Uint8Array {
    // The deltas that follow apply to these whole states.
    this.#deltaBytes = 0;
    const rules: RulesField =
      this.#rules === undefined ? { kind: 'unchanged' } : { kind: 'whole', bytes: this.#rules };
    return encodeStatePayload(rules, this.#ring.toArray(), true);
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
  scanned?: ScannedStateEntries,
): Promise<RestoredCheckpoint | undefined> {
  let rules: Uint8Array | undefined;
  /** The newest rule states are known: whole states were found and the deltas after them applied. */
  let rulesKnown = false;
  /** State entries with a delta newer than any whole states met so far, newest first. */
  const deltas: EntryAt[] = [];
  const parts: Uint32Array[] = [];
  let count = 0;
  let found = false;
  const reader = new EntryReader();
  try {
    for (let s = paths.length - 1; s >= 0; s--) {
      const path = paths[s] as string;
      // Offsets and sizes of the valid state entries, oldest first; then read newest first.
      let entries = scanned?.path === path ? scanned.entries : undefined;
      if (entries === undefined) {
        const found: number[] = [];
        await scanEntries(path, { maxRecord: maxEntry }, (bytes, pos, size, offset) => {
          if (isStateEntry(bytes, pos)) found.push(offset, size);
        });
        entries = found;
      }
      for (let e = entries.length - 2; e >= 0; e -= 2) {
        const at = { path, offset: entries[e] as number, size: entries[e + 1] as number };
        const payload = await reader.read(at);
        if (payload === undefined) continue;
        found = true;
        if (!rulesKnown && payload.rules.kind === 'delta') deltas.push(at);
        else if (!rulesKnown && payload.rules.kind === 'whole') {
          rules = await replayDeltas(payload.rules.bytes, deltas, reader);
          rulesKnown = true;
        }
        if (count < window) {
          parts.unshift(payload.identities);
          count += payload.identities.length / 3;
        }
        // A segment's first entry holds everything before it; else stop once both are found.
        if (payload.base || (count >= window && rulesKnown)) {
          return { rules, identities: concat(parts) };
        }
      }
    }
  } finally {
    await reader.close();
  }
  return found ? { rules, identities: concat(parts) } : undefined;
}

/** The valid state entries of one segment file, as found by a scan of it: offset, size pairs in file order. */
export interface ScannedStateEntries {
  path: string;
  entries: readonly number[];
}

/** Where a state entry is. */
interface EntryAt {
  path: string;
  offset: number;
  size: number;
}

/** Reads and decodes single state entries, into one reused buffer, keeping the last file open. */
class EntryReader {
  #buffer = Buffer.alloc(0);
  #path = '';
  #handle: FileHandle | undefined;

  async read(at: EntryAt): Promise<StatePayload | undefined> {
    if (at.size > this.#buffer.length) this.#buffer = Buffer.allocUnsafe(at.size);
    if (this.#handle === undefined || this.#path !== at.path) {
      await this.close();
      this.#handle = await open(at.path, 'r');
      this.#path = at.path;
    }
    await this.#handle.read(this.#buffer, 0, at.size, at.offset);
    return decodeStatePayload(this.#buffer, ENTRY_HEADER_BYTES, at.size);
  }

  async close(): Promise<void> {
    const handle = this.#handle;
    this.#handle = undefined;
    await handle?.close();
  }
}

/**
 * Applies the deltas of `newestFirst` to `whole`, oldest first, up to the first that does not
 * apply (a delta whose predecessor was lost to corruption): the newest states they rebuild.
 */
async function replayDeltas(
  whole: Uint8Array,
  newestFirst: readonly EntryAt[],
  reader: EntryReader,
): Promise<Uint8Array> {
  let states = whole;
  for (let d = newestFirst.length - 1; d >= 0; d--) {
    const payload = await reader.read(newestFirst[d] as EntryAt);
    if (payload === undefined || payload.rules.kind !== 'delta') break;
    const next = applyDelta(states, payload.rules.bytes);
    if (next === undefined) break;
    states = next;
  }
  return states;
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
