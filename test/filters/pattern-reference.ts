/**
 * @module A plain-JS reference of door-alarm and the SDK's `Pattern` helper behind it
 * (`filters/sdk/pattern.ts`), to compare the Wasm rule's outputs with.
 */
import { windowId } from './rule-harness.js';
import type { InEvent } from './rule-harness.js';
import type { Expected } from './reference.js';

/** door-alarm's config (filters/rules/door-alarm.ts). */
export interface DoorConfig {
  field?: string;
  openValue?: string;
  closedValue?: string;
  withinMs?: number;
  mode?: 'absent' | 'followed';
  label?: string;
  timeField?: string;
  outOfOrderMs?: number;
  latenessMs?: number;
  idleMs?: number;
}

interface DoorState {
  max: number;
  closed: number;
  armed: number | undefined;
  lastB: number;
  lastBId: number;
}

/** door-alarm (the `Pattern` helper) in plain JS. */
export class DoorAlarmReference {
  readonly #c: Required<DoorConfig>;
  readonly #keys = new Map<string, DoorState>();
  #out: Expected[] = [];

  constructor(config: DoorConfig) {
    this.#c = {
      field: 'door',
      openValue: 'open',
      closedValue: 'closed',
      withinMs: 300000,
      mode: 'absent',
      label: 'door-open',
      timeField: 'ts',
      outOfOrderMs: 0,
      latenessMs: 0,
      idleMs: 0,
      ...config,
    };
  }

  process(events: readonly InEvent[]): Expected[] {
    this.#out = [];
    for (const e of events) this.#event(e);
    return this.#out;
  }

  tick(now: number): Expected[] {
    this.#out = [];
    if (this.#c.idleMs >= 0) {
      const bound = now - this.#c.idleMs - this.#c.outOfOrderMs - this.#c.latenessMs;
      for (const [key, s] of this.#keys) this.#due(key, s, bound);
    }
    return this.#out;
  }

  #event(e: InEvent): void {
    const payload = e.payload as Record<string, unknown>;
    const state = payload[this.#c.field];
    const isA = state === this.#c.openValue;
    const isB = state === this.#c.closedValue;
    if (typeof state !== 'string') throw new Error('the reference needs a state string');
    const t = this.#c.timeField === '' ? (e.time ?? 0) : (payload[this.#c.timeField] as number);
    const T = this.#c.withinMs;
    const hold = this.#c.outOfOrderMs + this.#c.latenessMs;
    let s = this.#keys.get(e.key);
    if (s === undefined) {
      s = { max: -Infinity, closed: -Infinity, armed: undefined, lastB: -Infinity, lastBId: 0 };
      this.#keys.set(e.key, s);
    }
    if (t > s.max) {
      s.max = t;
      this.#due(e.key, s, t - hold);
    }
    if (!isA && !isB) return;
    if (t < s.closed || t + T <= s.max - hold) {
      this.#out.push({
        output: 'late',
        key: e.key,
        id: BigInt(e.id),
        time: e.time ?? 0,
        text: JSON.stringify(e.payload),
      });
      return;
    }
    if (isA) {
      if (s.lastB > t && s.lastB <= t + T) {
        if (this.#c.mode === 'followed') this.#match(e.key, t, s.lastB, s.lastBId);
        return;
      }
      if (s.armed === undefined || t < s.armed) s.armed = t;
      return;
    }
    if (t > s.lastB) {
      s.lastB = t;
      s.lastBId = e.id;
    }
    if (s.armed !== undefined && t >= s.armed && t <= s.armed + T) {
      const a = s.armed;
      s.armed = undefined;
      if (this.#c.mode === 'followed') this.#match(e.key, a, t, e.id);
    }
  }

  #due(key: string, s: DoorState, bound: number): void {
    if (s.armed === undefined) return;
    const deadline = s.armed + this.#c.withinMs;
    if (deadline > bound) return;
    const since = s.armed;
    s.armed = undefined;
    if (deadline > s.closed) s.closed = deadline;
    if (this.#c.mode === 'followed') return;
    const body: Record<string, unknown> = { key };
    if (this.#c.label !== '') body['pattern'] = this.#c.label;
    body['since'] = since;
    body['deadline'] = deadline;
    this.#out.push({
      output: 'default',
      key,
      id: windowId(key, since),
      time: deadline,
      text: JSON.stringify(body),
    });
  }

  #match(key: string, a: number, b: number, id: number): void {
    const body: Record<string, unknown> = { key };
    if (this.#c.label !== '') body['pattern'] = this.#c.label;
    Object.assign(body, { first: a, second: b, elapsedMs: b - a });
    this.#out.push({ output: 'default', key, id: BigInt(id), time: b, text: JSON.stringify(body) });
  }
}
