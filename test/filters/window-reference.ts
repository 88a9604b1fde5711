/**
 * @module A plain-JS reference of the SDK's windows (`filters/sdk/window-engine.ts` and the
 * kinds) and of `WindowRule` around them: the same semantics written the obvious way (arrays,
 * objects, sorting), to compare the Wasm rules' outputs with. Quantiles here are exact (the item of rank ⌊q·(n − 1)⌋); the rule's sketch is
 * compared with them within its relative accuracy.
 */
import { payloadBytes, windowId } from './rule-harness.js';
import type { InEvent } from './rule-harness.js';
import { readNumber } from './reference.js';
import type { Expected } from './reference.js';

/** The config keys of `WindowRule` (filters/sdk/window-spec.ts), all optional. */
export interface WindowConfig {
  window?: 'tumbling' | 'hopping' | 'sliding' | 'session' | 'count';
  windowMs?: number;
  slideMs?: number;
  gapMs?: number;
  windowCount?: number;
  field?: string;
  timeField?: string;
  timeFormat?: 'ms' | 's' | 'iso' | 'auto';
  outOfOrderMs?: number;
  latenessMs?: number;
  idleMs?: number;
  /** window-stats' name of idleMs. */
  graceMs?: number;
  watermark?: 'key' | 'global';
  keyField?: string;
  aggregates?: string;
  accuracy?: number;
  min?: number;
  max?: number;
  output?: string;
  lateOutput?: string;
}

interface Agg {
  count: number;
  minTime: number;
  maxTime: number;
  sum: number;
  min: number;
  max: number;
  first: number;
  last: number;
  mean: number;
  m2: number;
  values: number[];
}

function startAgg(t: number, v: number): Agg {
  return {
    count: 1,
    minTime: t,
    maxTime: t,
    sum: v,
    min: v,
    max: v,
    first: v,
    last: v,
    mean: v,
    m2: 0,
    values: [v],
  };
}

function addAgg(a: Agg, t: number, v: number): void {
  a.count++;
  if (t < a.minTime) {
    a.minTime = t;
    a.first = v;
  }
  if (t >= a.maxTime) {
    a.maxTime = t;
    a.last = v;
  }
  a.sum += v;
  if (v < a.min) a.min = v;
  if (v > a.max) a.max = v;
  const d = v - a.mean;
  const next = a.mean + d / a.count;
  a.mean = next;
  a.m2 = a.m2 + d * (v - next);
  a.values.push(v);
}

/** Merges `b` (the later window) into `a` exactly as `Aggregates.merge` does. */
function mergeAgg(a: Agg, b: Agg): void {
  const na = a.count;
  const nb = b.count;
  a.count = na + nb;
  if (b.minTime < a.minTime) {
    a.minTime = b.minTime;
    a.first = b.first;
  }
  if (b.maxTime >= a.maxTime) {
    a.maxTime = b.maxTime;
    a.last = b.last;
  }
  a.sum = a.sum + b.sum;
  if (b.min < a.min) a.min = b.min;
  if (b.max > a.max) a.max = b.max;
  const n = na + nb;
  const d = b.mean - a.mean;
  a.mean = a.mean + (d * nb) / n;
  const m2 = a.m2 + b.m2;
  a.m2 = m2 + (d * d * na * nb) / n;
  a.values.push(...b.values);
}

/** The exact quantile the sketch estimates: the item of rank ⌊q·(n − 1)⌋. */
export function exactQuantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.floor(q * (sorted.length - 1))]!;
}

function aggValue(a: Agg, item: string): number {
  switch (item) {
    case 'count':
      return a.count;
    case 'sum':
      return a.sum;
    case 'min':
      return a.min;
    case 'max':
      return a.max;
    case 'mean':
    case 'avg':
      return a.sum / a.count;
    case 'first':
      return a.first;
    case 'last':
      return a.last;
    case 'stddev':
      return Math.sqrt(a.m2 / a.count);
    case 'duration':
      return a.maxTime - a.minTime;
    default:
      return exactQuantile(a.values, Number.parseFloat(item.slice(1)) / 100);
  }
}

interface Win {
  start: number;
  end: number;
  seq: number;
  agg: Agg;
}

interface Entry {
  t: number;
  v: number;
  id: number;
}

interface KeyState {
  max: number;
  closed: number;
  seq: number;
  wins: Win[];
  entries: Entry[];
  pending: number;
}

const floorTo = (t: number, step: number) => t - (((t % step) + step) % step);

/** `WindowRule` (and so window-stats, session-usage, quantiles) in plain JS. */
export class WindowRuleReference {
  readonly kind: NonNullable<WindowConfig['window']>;
  readonly items: string[];
  readonly #size: number;
  readonly #slide: number;
  readonly #gap: number;
  readonly #count: number;
  readonly #hold: number;
  readonly #idle: number;
  readonly #global: boolean;
  readonly #field: string;
  readonly #timeField: string;
  readonly #keyField: string;
  readonly #min: number;
  readonly #max: number;
  readonly #output: string;
  readonly #lateOutput: string;
  readonly #keys = new Map<string, KeyState>();
  #globalMax = -Infinity;
  #out: Expected[] = [];
  dropped = 0;
  late = 0;

  /** `defaults` are the rule's own (window-stats: field "temp", timeField "ts", …). */
  constructor(config: WindowConfig, defaults: WindowConfig = {}) {
    const c = { ...defaults, ...config };
    this.kind = c.window ?? 'tumbling';
    this.#size = c.windowMs ?? 1000;
    this.#slide = this.kind === 'hopping' ? (c.slideMs ?? this.#size) : this.#size;
    this.#gap = c.gapMs ?? 30000;
    this.#count = c.windowCount ?? 100;
    this.#hold = (c.outOfOrderMs ?? 0) + (c.latenessMs ?? 0);
    const length = this.kind === 'count' ? -1 : this.kind === 'session' ? this.#gap : this.#size;
    this.#idle = c.idleMs ?? c.graceMs ?? length;
    this.#global = c.watermark === 'global';
    this.#field = c.field ?? '';
    this.#timeField = c.timeField ?? '';
    this.#keyField = c.keyField ?? '';
    this.#min = c.min ?? -Infinity;
    this.#max = c.max ?? Infinity;
    this.#output = c.output ?? 'default';
    this.#lateOutput = c.lateOutput ?? 'late';
    this.items = (c.aggregates ?? 'count,sum,min,max,avg').split(',').map((s) => s.trim());
    if (c.timeFormat !== undefined && c.timeFormat !== 'ms') {
      throw new Error('the reference reads epoch-ms times only');
    }
  }

  process(events: readonly InEvent[]): Expected[] {
    this.#out = [];
    for (const e of events) this.#event(e);
    return this.#out;
  }

  tick(now: number): Expected[] {
    this.#out = [];
    if (this.#idle >= 0) this.#closeAll(now - this.#idle - this.#hold);
    return this.#out;
  }

  flush(): Expected[] {
    this.#out = [];
    this.#closeAll(Infinity);
    return this.#out;
  }

  #event(e: InEvent): void {
    const dead = (reason: string) =>
      this.#out.push({
        output: 'dead',
        key: e.key,
        id: BigInt(e.id),
        time: e.time ?? 0,
        text: reason,
      });
    let v = 0;
    if (this.#field !== '') {
      const r = readNumber(e, this.#field);
      if (typeof r !== 'number') return void dead(r.reason);
      if (!(r >= this.#min && r <= this.#max)) {
        this.dropped++;
        return;
      }
      v = r;
    }
    let t = e.time ?? 0;
    if (this.#timeField !== '') {
      const r = readNumber(e, this.#timeField);
      if (typeof r !== 'number') return void dead(r.reason);
      t = Math.floor(r);
    }
    let key = e.key;
    if (this.#keyField !== '') {
      const payload = e.payload as Record<string, unknown>;
      const k = payload[this.#keyField];
      if (typeof k !== 'string') throw new Error('the reference needs string keys');
      key = k;
    }
    let k = this.#keys.get(key);
    if (k === undefined) {
      k = { max: -Infinity, closed: -Infinity, seq: 0, wins: [], entries: [], pending: 0 };
      this.#keys.set(key, k);
    }
    if (this.kind !== 'count') {
      let max: number;
      if (this.#global) {
        if (t > this.#globalMax) {
          this.#globalMax = t;
          this.#closeAll(t - this.#hold);
        }
        max = this.#globalMax;
      } else {
        if (t > k.max) {
          k.max = t;
          this.#closeKey(key, k, t - this.#hold);
        }
        max = k.max;
      }
      if (t < k.closed || this.#firstEnd(t) <= max - this.#hold) {
        this.late++;
        if (this.#lateOutput !== '') {
          this.#out.push({
            output: this.#lateOutput,
            key: e.key,
            id: BigInt(e.id),
            time: e.time ?? 0,
            text: new TextDecoder().decode(payloadBytes(e)),
          });
        }
        return;
      }
    }
    this.#insert(key, k, t, v, e.id);
  }

  #firstEnd(t: number): number {
    if (this.kind === 'session') return t + this.#gap;
    if (this.kind === 'sliding') return t + 1;
    return floorTo(t - this.#size, this.#slide) + this.#slide + this.#size;
  }

  #insert(key: string, k: KeyState, t: number, v: number, id: number): void {
    if (this.kind === 'tumbling' || this.kind === 'hopping') {
      for (
        let s = floorTo(t - this.#size, this.#slide) + this.#slide;
        s <= floorTo(t, this.#slide);
        s += this.#slide
      ) {
        const w = k.wins.find((x) => x.start === s);
        if (w !== undefined) addAgg(w.agg, t, v);
        else {
          k.wins.push({ start: s, end: s + this.#size, seq: 0, agg: startAgg(t, v) });
          k.wins.sort((a, b) => a.start - b.start);
        }
      }
    } else if (this.kind === 'session') {
      const overlapping = k.wins.filter((w) => w.start < t + this.#gap && t < w.end);
      if (overlapping.length === 0) {
        k.wins.push({ start: t, end: t + this.#gap, seq: 0, agg: startAgg(t, v) });
        k.wins.sort((a, b) => a.start - b.start);
        return;
      }
      const [first, ...rest] = overlapping;
      addAgg(first!.agg, t, v);
      for (const w of rest) mergeAgg(first!.agg, w.agg);
      k.wins = k.wins.filter((w) => !rest.includes(w));
      first!.start = first!.agg.minTime;
      first!.end = first!.agg.maxTime + this.#gap;
    } else if (this.kind === 'sliding') {
      let i = k.entries.length;
      while (i > 0 && k.entries[i - 1]!.t > t) i--;
      k.entries.splice(i, 0, { t, v, id });
    } else {
      let w = k.wins[0];
      if (w === undefined) {
        w = { start: t, end: t + 1, seq: k.seq++, agg: startAgg(t, v) };
        k.wins.push(w);
      } else {
        addAgg(w.agg, t, v);
      }
      w.start = w.agg.minTime;
      w.end = w.agg.maxTime + 1;
      if (w.agg.count >= this.#count) this.#closeKey(key, k, Infinity);
    }
  }

  #closeAll(bound: number): void {
    for (const [key, k] of this.#keys) this.#closeKey(key, k, bound);
  }

  #closeKey(key: string, k: KeyState, bound: number): void {
    if (this.kind === 'sliding') {
      while (k.pending < k.entries.length && k.entries[k.pending]!.t + 1 <= bound) {
        const { t, id } = k.entries[k.pending]!;
        const from = t - this.#size + 1;
        const span = k.entries.filter((x) => x.t >= from && x.t <= t);
        const agg = startAgg(span[0]!.t, span[0]!.v);
        for (const x of span.slice(1)) addAgg(agg, x.t, x.v);
        this.#emit(key, k, from, t + 1, BigInt(id), agg);
        k.pending++;
      }
      return;
    }
    while (k.wins.length > 0 && k.wins[0]!.end <= bound) {
      const w = k.wins.shift()!;
      const id = this.kind === 'count' ? windowId(key, w.seq) : windowId(key, w.start);
      this.#emit(key, k, w.start, w.end, id, w.agg);
    }
  }

  #emit(key: string, k: KeyState, start: number, end: number, id: bigint, agg: Agg): void {
    const body: Record<string, unknown> = { key, start, end };
    for (const item of this.items) body[item] = aggValue(agg, item);
    this.#out.push({ output: this.#output, key, id, time: end, text: JSON.stringify(body) });
    if (this.kind !== 'count' && end > k.closed) k.closed = end;
  }
}
