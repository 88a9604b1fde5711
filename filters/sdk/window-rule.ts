/**
 * @module `WindowRule`: a complete windowed-aggregation rule over one number field, configured
 * at `init` (`readWindowSpec` plus `field`, `min`, `max`), so that one built module serves any
 * window kind and set of aggregates. The example rules `window-stats`, `session-usage` and
 * `quantiles` are this class with other defaults:
 *
 * ```ts
 * const defaults = new WindowSpec();
 * defaults.sizeMs = 60000;
 * defaults.aggregates = "count,p50,p90,p99";
 * register(new WindowRule(defaults, "latencyMs"));
 * export * from "../sdk/exports";
 * ```
 *
 * Config, besides the window keys: `field` (dotted path of the number; "" = none, every event
 * counts as 0, for count-only windows), `min` / `max` (readings outside are dropped and counted).
 * Outputs: results to `output`, late events to `lateOutput`, readings without a number, time or
 * key to `dead` with the reason. Metrics (per batch, when non-zero): `dropped`, `late`.
 */

import { Batch } from './batch';
import { Config } from './config';
import { createWindows } from './create-windows';
import { FIELD_OK, FieldPath } from './field';
import { metric } from './host';
import { Output } from './output';
import { Rule } from './rule';
import { StateReader, StateWriter } from './state';
import { Windows } from './window-engine';
import { WindowSpec, readWindowSpec } from './window-spec';

/** A rule that aggregates one number field in windows. */
export class WindowRule extends Rule {
  /** Defaults of the window keys (change them before `init`, e.g. in a subclass's `init`). */
  defaults: WindowSpec;
  /** Default of `field`. */
  defaultField: string;
  /** The number read from each event, or null: every event counts as 0. */
  field: FieldPath | null = null;
  /** Readings below are dropped. */
  min: f64 = -Infinity;
  /** Readings above are dropped. */
  max: f64 = Infinity;
  /** The windows, created at `init` (the host never calls anything else before it succeeds). */
  windows: Windows | null = null;

  constructor(defaults: WindowSpec, defaultField: string) {
    super();
    this.defaults = defaults;
    this.defaultField = defaultField;
  }

  init(cfg: Config): void {
    const name = cfg.str('field', this.defaultField);
    this.field = name.length > 0 ? new FieldPath(name) : null;
    this.min = cfg.f64('min', -Infinity);
    this.max = cfg.f64('max', Infinity);
    const spec = readWindowSpec(cfg, this.defaults);
    if (cfg.error !== null) return;
    if (!(this.min <= this.max)) {
      cfg.fail(
        'config.min (' +
          this.min.toString() +
          ') is greater than config.max (' +
          this.max.toString() +
          ')',
      );
      return;
    }
    this.windows = createWindows(spec);
  }

  process(batch: Batch, out: Output, now: i64): void {
    const field = this.field;
    const windows = this.windows!;
    const min = this.min;
    const max = this.max;
    const lateBefore = windows.lateCount;
    let dropped = 0;
    while (batch.next()) {
      const ev = batch.event;
      let v: f64 = 0;
      if (field !== null) {
        v = ev.f64(field);
        if (ev.status != FIELD_OK) {
          out.deadField(ev);
          continue;
        }
        if (!(v >= min && v <= max)) {
          dropped++;
          continue;
        }
      }
      if (windows.add(ev, v, out) != FIELD_OK) out.deadField(ev);
    }
    if (dropped > 0) metric('dropped', <f64>dropped);
    const late = windows.lateCount - lateBefore;
    if (late > 0) metric('late', <f64>late);
  }

  tick(out: Output, now: i64): void {
    this.windows!.tick(now, out);
  }

  flush(out: Output): void {
    this.windows!.flush(out);
  }

  snapshot(state: StateWriter): void {
    this.windows!.save(state);
  }

  restore(state: StateReader): void {
    this.windows!.load(state);
  }
}
