/**
 * @module A shadow run: an instance of another rule version beside an active rule, fed the
 * same input batches and ticks. Its outputs are never forwarded: they are compared with the
 * active rule's, record by record, matched by output name, key and id (a window result's id is
 * a hash of its key and window start, a forwarded event keeps its id), so one dropped record
 * does not shift every later one. Counts and the first differing records are kept for the
 * report. Anything the shadow does wrong (a trap, a malformed frame) is counted, never thrown:
 * the active path is not affected. Costs: one more rule call per batch plus a map of the
 * active outputs, only while a shadow runs.
 */
import { FrameReader } from '../../runtime/index.js';
import type { RuleInstance } from '../../runtime/index.js';

/** One output record in a shadow report. */
export interface ShadowRecord {
  output: string;
  key: string;
  /** The record id as 16 hex digits. */
  id: string;
  time: number;
  /** The payload as UTF-8 text. */
  payload: string;
}

/** One difference between the active and the shadow outputs. */
export interface ShadowDifference {
  /** `missing`: only the active rule emitted it; `extra`: only the shadow; `changed`: both, with different time or payload. */
  kind: 'missing' | 'extra' | 'changed';
  active?: ShadowRecord;
  shadow?: ShadowRecord;
}

/** What a shadow run saw so far. */
export interface ShadowReport {
  /** The shadowed version, `name@version`. */
  rule: string;
  hash: string;
  startedAt: string;
  /** Batches and ticks compared. */
  batches: number;
  ticks: number;
  activeRecords: number;
  shadowRecords: number;
  /** Records equal on both sides. */
  matching: number;
  missing: number;
  extra: number;
  changed: number;
  /** Calls into the shadow that failed (trap, malformed output). */
  errors: number;
  lastError: string | undefined;
  /** The first `maxDifferences` differences, in order. */
  differences: ShadowDifference[];
}

const utf8 = new TextDecoder();

interface Pending {
  time: number;
  payload: Uint8Array;
  record: ShadowRecord | undefined;
}

/** A shadow instance and its running comparison. */
export class ShadowRun {
  readonly instance: RuleInstance;
  /** The configuration the shadow's `init` ran with. */
  readonly config: Record<string, unknown>;
  readonly #report: ShadowReport;
  readonly #maxDifferences: number;
  readonly #active = new FrameReader();
  readonly #shadow = new FrameReader();

  constructor(
    instance: RuleInstance,
    rule: string,
    hash: string,
    config: Record<string, unknown>,
    maxDifferences = 20,
  ) {
    this.instance = instance;
    this.config = config;
    this.#maxDifferences = maxDifferences;
    this.#report = {
      rule,
      hash,
      startedAt: new Date().toISOString(),
      batches: 0,
      ticks: 0,
      activeRecords: 0,
      shadowRecords: 0,
      matching: 0,
      missing: 0,
      extra: 0,
      changed: 0,
      errors: 0,
      lastError: undefined,
      differences: [],
    };
  }

  /** Runs `process(input)` on the shadow and compares with the active rule's output `activeOut`. */
  process(input: Uint8Array, activeOut: Uint8Array, now: number): void {
    this.#report.batches++;
    let out: Uint8Array;
    try {
      out = this.instance.process(input, now);
    } catch (error) {
      this.#fail(error);
      return;
    }
    this.#compare(activeOut, out);
  }

  /** Runs `tick(now)` on the shadow and compares with the active rule's tick output. */
  tick(activeOut: Uint8Array, now: number): void {
    this.#report.ticks++;
    let out: Uint8Array;
    try {
      out = this.instance.tick(now);
    } catch (error) {
      this.#fail(error);
      return;
    }
    this.#compare(activeOut, out);
  }

  /** A copy of the report. */
  report(): ShadowReport {
    return { ...this.#report, differences: [...this.#report.differences] };
  }

  #fail(error: unknown): void {
    this.#report.errors++;
    this.#report.lastError = error instanceof Error ? error.message : String(error);
  }

  #compare(activeOut: Uint8Array, shadowOut: Uint8Array): void {
    const report = this.#report;
    const active = this.#active;
    const shadow = this.#shadow;
    try {
      active.reset(activeOut);
      shadow.reset(shadowOut);
    } catch (error) {
      this.#fail(error);
      return;
    }
    report.activeRecords += active.count;
    report.shadowRecords += shadow.count;
    if (active.count === 0 && shadow.count === 0) return;
    const pending = new Map<string, Pending>();
    const seen = new Map<string, number>();
    while (active.next()) {
      const key = this.#matchKey(active, seen);
      pending.set(key, {
        time: active.time,
        payload: active.payload().slice(),
        record: report.differences.length < this.#maxDifferences ? recordOf(active) : undefined,
      });
    }
    seen.clear();
    const order: ShadowDifference[] = [];
    while (shadow.next()) {
      const key = this.#matchKey(shadow, seen);
      const found = pending.get(key);
      if (found === undefined) {
        report.extra++;
        order.push({ kind: 'extra', shadow: recordOf(shadow) });
        continue;
      }
      pending.delete(key);
      if (found.time === shadow.time && equalBytes(found.payload, shadow.payload())) {
        report.matching++;
      } else {
        report.changed++;
        order.push({
          kind: 'changed',
          ...(found.record === undefined ? {} : { active: found.record }),
          shadow: recordOf(shadow),
        });
      }
    }
    for (const missing of pending.values()) {
      report.missing++;
      order.push({
        kind: 'missing',
        ...(missing.record === undefined ? {} : { active: missing.record }),
      });
    }
    for (const difference of order) {
      if (report.differences.length >= this.#maxDifferences) break;
      report.differences.push(difference);
    }
  }

  /** `output \0 key \0 id`, with a count appended for a repeated triple. */
  #matchKey(reader: FrameReader, seen: Map<string, number>): string {
    const base = `${reader.topic()}\u0000${reader.key()}\u0000${reader.idHigh}:${reader.idLow}`;
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    return n === 0 ? base : `${base}#${n}`;
  }
}

function recordOf(reader: FrameReader): ShadowRecord {
  return {
    output: reader.topic(),
    key: reader.key(),
    id:
      (reader.idHigh >>> 0).toString(16).padStart(8, '0') +
      (reader.idLow >>> 0).toString(16).padStart(8, '0'),
    time: reader.time,
    payload: utf8.decode(reader.payload()),
  };
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
