/**
 * @module `WindowSpec`: everything that defines a set of windows (kind, lengths, event time,
 * watermark, lateness, key, aggregates, outputs) and `readWindowSpec`, which reads it from a
 * rule's config at `init` so that one built module serves many pipelines:
 *
 *   window        "tumbling" | "hopping" | "sliding" | "session" | "count"
 *   windowMs      length of tumbling, hopping and sliding windows (ms, > 0)
 *   slideMs       hopping: a window starts every slideMs (0 < slideMs ≤ windowMs)
 *   gapMs         session: a session ends after gapMs without events of its key (> 0)
 *   windowCount   count: events per window (> 0)
 *   timeField     dotted path of the event time; "" = the arrival time at the gateway
 *   timeFormat    "ms" | "s" | "iso" | "auto" (see `event-time.ts`)
 *   outOfOrderMs  bounded out-of-orderness: watermark = latest event time − outOfOrderMs (≥ 0)
 *   latenessMs    a window closes once the watermark passes its end + latenessMs (≥ 0)
 *   idleMs        `tick(now)` closes windows as if an event at now − idleMs had arrived for every
 *                 key; -1 = never (only events close windows)
 *   watermark     "key" (one watermark per key: a device's clock never makes another's events
 *                 late) | "global" (one for all keys)
 *   keyField      dotted path of a string field to group by; "" = the event's key (the device)
 *   aggregates    comma-separated accumulators (`aggregates.ts`), e.g. "count,mean,p99"
 *   accuracy      relative accuracy of quantiles (0 < accuracy ≤ 0.5)
 *   output        output of the results;   lateOutput  output of late events ("" = counted only)
 * A rule passes its own defaults; keys absent from the config keep them.
 */

import { Config } from './config';
import { timeFormatName, timeFormatOf, TIME_MS } from './event-time';
import { Aggregates } from './aggregates';
import { OUTPUT_DEFAULT, OUTPUT_LATE } from './output';

/** Tumbling windows: `[k·size, (k+1)·size)`. */
export const WINDOW_TUMBLING: i32 = 0;
/** Hopping windows: `[k·slide, k·slide + size)`; an event is in about size / slide of them. */
export const WINDOW_HOPPING: i32 = 1;
/** Sliding windows: one per event, over the `size` ms up to and including its time. */
export const WINDOW_SLIDING: i32 = 2;
/** Session windows: events of a key less than `gap` ms apart. */
export const WINDOW_SESSION: i32 = 3;
/** Count windows: every `count` events of a key, in arrival order. */
export const WINDOW_COUNT: i32 = 4;

/** `idleMs` that means "the window length" (size or gap; never for count windows). */
export const IDLE_WINDOW_LENGTH: i64 = -2;
/** `idleMs` that means "tick never closes windows". */
export const IDLE_NEVER: i64 = -1;
/** Largest length, lateness or out-of-orderness accepted, in ms (2^40 ms, about 35 years). */
export const MAX_SPAN_MS: i64 = 1099511627776;
/** Most hopping windows one event may fall into (windowMs / slideMs). */
export const MAX_HOPS: i64 = 1000;

/** A set of windows. Fill it directly, or with `readWindowSpec` from a rule's config. */
export class WindowSpec {
  /** WINDOW_TUMBLING, WINDOW_HOPPING, WINDOW_SLIDING, WINDOW_SESSION or WINDOW_COUNT. @default WINDOW_TUMBLING */
  kind: i32 = WINDOW_TUMBLING;
  /** Window length in ms (tumbling, hopping, sliding). @default 1000 */
  sizeMs: i64 = 1000;
  /** Hopping: a window starts every slideMs; 0 = sizeMs. @default 0 */
  slideMs: i64 = 0;
  /** Session gap in ms. @default 30000 */
  gapMs: i64 = 30000;
  /** Events per count window. @default 100 */
  count: i64 = 100;
  /** Event-time field; "" = the arrival time. @default "" */
  timeField: string = '';
  /** TIME_MS, TIME_S, TIME_ISO or TIME_AUTO. @default TIME_MS */
  timeFormat: i32 = TIME_MS;
  /** Bounded out-of-orderness in ms. @default 0 */
  outOfOrderMs: i64 = 0;
  /** Allowed lateness in ms. @default 0 */
  latenessMs: i64 = 0;
  /** Idle close delay of `tick` in ms; IDLE_NEVER, or IDLE_WINDOW_LENGTH. @default IDLE_WINDOW_LENGTH */
  idleMs: i64 = IDLE_WINDOW_LENGTH;
  /** One watermark for all keys (true) or one per key (false). @default false */
  globalWatermark: bool = false;
  /** String field to group by; "" = the event's key. @default "" */
  keyField: string = '';
  /** Accumulators. @default "count,sum,min,max,avg" */
  aggregates: string = 'count,sum,min,max,avg';
  /** Relative accuracy of quantiles. @default 0.01 */
  accuracy: f64 = 0.01;
  /** Output of the results. @default "default" */
  output: string = OUTPUT_DEFAULT;
  /** Output of late events; "" = counted only. @default "late" */
  lateOutput: string = OUTPUT_LATE;

  /** The idle delay `tick` uses: idleMs, with IDLE_WINDOW_LENGTH resolved. */
  get effectiveIdleMs(): i64 {
    if (this.idleMs != IDLE_WINDOW_LENGTH) return this.idleMs;
    if (this.kind == WINDOW_COUNT) return IDLE_NEVER;
    return this.kind == WINDOW_SESSION ? this.gapMs : this.sizeMs;
  }

  /** The slide of hopping windows (sizeMs for every other kind). */
  get effectiveSlideMs(): i64 {
    return this.kind == WINDOW_HOPPING && this.slideMs > 0 ? this.slideMs : this.sizeMs;
  }

  /** A copy. */
  copy(): WindowSpec {
    const c = new WindowSpec();
    c.kind = this.kind;
    c.sizeMs = this.sizeMs;
    c.slideMs = this.slideMs;
    c.gapMs = this.gapMs;
    c.count = this.count;
    c.timeField = this.timeField;
    c.timeFormat = this.timeFormat;
    c.outOfOrderMs = this.outOfOrderMs;
    c.latenessMs = this.latenessMs;
    c.idleMs = this.idleMs;
    c.globalWatermark = this.globalWatermark;
    c.keyField = this.keyField;
    c.aggregates = this.aggregates;
    c.accuracy = this.accuracy;
    c.output = this.output;
    c.lateOutput = this.lateOutput;
    return c;
  }
}

/** The name of a window kind as written in a config. */
export function windowKindName(kind: i32): string {
  if (kind == WINDOW_HOPPING) return 'hopping';
  if (kind == WINDOW_SLIDING) return 'sliding';
  if (kind == WINDOW_SESSION) return 'session';
  if (kind == WINDOW_COUNT) return 'count';
  return 'tumbling';
}

function kindOf(name: string): i32 {
  for (let k = WINDOW_TUMBLING; k <= WINDOW_COUNT; k++) if (windowKindName(k) == name) return k;
  return -1;
}

/** What the windows of a spec are, for messages: "hopping windows of 60000 ms every 10000 ms". */
export function describeWindows(kind: i32, size: i64, slide: i64, gap: i64, count: i64): string {
  const lengths = describeLengths(kind, size, slide, gap, count);
  if (kind == WINDOW_TUMBLING) return 'windows of ' + lengths;
  return (
    windowKindName(kind) + (kind == WINDOW_SESSION ? ' windows with ' : ' windows of ') + lengths
  );
}

/** The lengths alone: "1000 ms", "60000 ms every 10000 ms", "a gap of 5000 ms", "100 events". */
export function describeLengths(kind: i32, size: i64, slide: i64, gap: i64, count: i64): string {
  if (kind == WINDOW_HOPPING) return size.toString() + ' ms every ' + slide.toString() + ' ms';
  if (kind == WINDOW_SESSION) return 'a gap of ' + gap.toString() + ' ms';
  if (kind == WINDOW_COUNT) return count.toString() + ' events';
  return size.toString() + ' ms';
}

/**
 * Reads the window keys of `cfg` over a copy of `defaults` (see the module comment). Problems
 * are recorded with `cfg.fail`, naming the key, the value and what is expected.
 */
export function readWindowSpec(cfg: Config, defaults: WindowSpec): WindowSpec {
  const s = defaults.copy();
  const kindName = cfg.str('window', windowKindName(s.kind));
  const kind = kindOf(kindName);
  if (kind < 0) {
    cfg.fail(
      'config.window: got "' +
        kindName +
        '", expected "tumbling", "hopping", "sliding", "session" or "count"',
    );
  } else {
    s.kind = kind;
  }
  s.sizeMs = cfg.i64('windowMs', s.sizeMs);
  s.slideMs = cfg.i64('slideMs', s.slideMs > 0 ? s.slideMs : s.sizeMs);
  s.gapMs = cfg.i64('gapMs', s.gapMs);
  s.count = cfg.i64('windowCount', s.count);
  s.timeField = cfg.str('timeField', s.timeField);
  const formatName = cfg.str('timeFormat', timeFormatName(s.timeFormat));
  const format = timeFormatOf(formatName);
  if (format < 0) {
    cfg.fail('config.timeFormat: got "' + formatName + '", expected "ms", "s", "iso" or "auto"');
  } else {
    s.timeFormat = format;
  }
  s.outOfOrderMs = cfg.i64('outOfOrderMs', s.outOfOrderMs);
  s.latenessMs = cfg.i64('latenessMs', s.latenessMs);
  s.idleMs = cfg.i64('idleMs', s.effectiveIdleMs);
  const scope = cfg.str('watermark', s.globalWatermark ? 'global' : 'key');
  if (scope != 'key' && scope != 'global') {
    cfg.fail('config.watermark: got "' + scope + '", expected "key" or "global"');
  }
  s.globalWatermark = scope == 'global';
  s.keyField = cfg.str('keyField', s.keyField);
  s.aggregates = cfg.str('aggregates', s.aggregates);
  s.accuracy = cfg.f64('accuracy', s.accuracy);
  s.output = cfg.str('output', s.output);
  s.lateOutput = cfg.str('lateOutput', s.lateOutput);
  if (cfg.error !== null) return s;
  if (s.kind != WINDOW_SESSION && s.kind != WINDOW_COUNT) positive(cfg, 'windowMs', s.sizeMs);
  if (s.kind == WINDOW_HOPPING) {
    positive(cfg, 'slideMs', s.slideMs);
    if (cfg.error === null && s.slideMs > s.sizeMs) {
      cfg.fail(
        'config.slideMs: got ' +
          s.slideMs.toString() +
          ', expected at most windowMs (' +
          s.sizeMs.toString() +
          ')',
      );
    } else if (cfg.error === null && s.sizeMs / s.slideMs > MAX_HOPS) {
      cfg.fail(
        'config.slideMs: got ' +
          s.slideMs.toString() +
          ', which puts every event in ' +
          (s.sizeMs / s.slideMs).toString() +
          ' windows (at most ' +
          MAX_HOPS.toString() +
          '): expected at least windowMs / ' +
          MAX_HOPS.toString(),
      );
    }
  }
  if (s.kind == WINDOW_SESSION) positive(cfg, 'gapMs', s.gapMs);
  if (s.kind == WINDOW_COUNT && s.count <= 0) {
    cfg.fail(
      'config.windowCount: got ' + s.count.toString() + ', expected a positive number of events',
    );
  }
  notNegative(cfg, 'outOfOrderMs', s.outOfOrderMs);
  notNegative(cfg, 'latenessMs', s.latenessMs);
  if (s.idleMs < IDLE_NEVER || s.idleMs > MAX_SPAN_MS) {
    cfg.fail(
      'config.idleMs: got ' +
        s.idleMs.toString() +
        ', expected 0 or more milliseconds, or -1 for never',
    );
  }
  if (!(s.accuracy > 0 && s.accuracy <= 0.5)) {
    cfg.fail(
      'config.accuracy: got ' +
        s.accuracy.toString() +
        ', expected a relative error above 0 and at most 0.5 (0.01 = 1%)',
    );
  }
  const aggs = new Aggregates(s.aggregates, s.accuracy);
  if (aggs.error !== null) cfg.fail('config.aggregates: ' + aggs.error!);
  return s;
}

function positive(cfg: Config, key: string, value: i64): void {
  if (value <= 0 || value > MAX_SPAN_MS) {
    cfg.fail(
      'config.' +
        key +
        ': got ' +
        value.toString() +
        ', expected a positive number of milliseconds' +
        (value > 0 ? ' up to 2^40' : ''),
    );
  }
}

function notNegative(cfg: Config, key: string, value: i64): void {
  if (value < 0 || value > MAX_SPAN_MS) {
    cfg.fail('config.' + key + ': got ' + value.toString() + ', expected 0 or more milliseconds');
  }
}
