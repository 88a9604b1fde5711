/**
 * @module window-stats: per-device count, sum, min, max and avg of a value per tumbling window
 * of event time.
 *
 * Config (a CBOR map; every key optional):
 *   field      string  dotted path of the number to aggregate                     default "temp"
 *   timeField  string  dotted path of the event time (epoch ms) in the payload;
 *                      "" = the arrival time at the gateway                        default "ts"
 *   windowMs   integer window length in ms (windows start at multiples of it)      default 1000
 *   graceMs    integer `tick(now)` closes a window once its end ≤ now − graceMs   default windowMs
 *   min, max   number  validity range: readings outside it are dropped (counted)  default none
 *
 * A device's window closes when a reading of that device arrives for a later window, when a
 * tick finds it due, or at flush.
 *
 * Outputs:
 *   default  one JSON record per closed window, key = device key, time = window end, id = FNV-1a
 *            64 of (key, start): {"key","start","end","count","sum","min","max","avg"}
 *   late     a reading for a window of its device that already closed, unchanged
 *   dead     a reading that is malformed or lacks a number at `field` or `timeField`, with the reason
 * Metrics (once per batch, only when non-zero): `dropped` = readings outside [min, max],
 * `late` = late readings.
 * State: all open windows (snapshot/restore), so a restart or hot swap loses no aggregate.
 */

import {
  Batch,
  Config,
  FIELD_OK,
  FieldPath,
  Output,
  Rule,
  StateReader,
  StateWriter,
  TumblingWindows,
  WindowOptions,
  metric,
  register,
} from '../sdk';

class WindowStats extends Rule {
  field: FieldPath = new FieldPath('temp');
  min: f64 = -Infinity;
  max: f64 = Infinity;
  windows: TumblingWindows = new TumblingWindows(new WindowOptions());

  init(cfg: Config): void {
    this.field = new FieldPath(cfg.str('field', 'temp'));
    const options = new WindowOptions();
    options.timeField = cfg.str('timeField', 'ts');
    options.sizeMs = cfg.i64('windowMs', 1000);
    options.graceMs = cfg.i64('graceMs', options.sizeMs);
    this.min = cfg.f64('min', -Infinity);
    this.max = cfg.f64('max', Infinity);
    if (cfg.error !== null) return;
    if (options.sizeMs <= 0) {
      cfg.fail(
        'config.windowMs: got ' +
          options.sizeMs.toString() +
          ', expected a positive number of milliseconds',
      );
    } else if (options.graceMs < 0) {
      cfg.fail(
        'config.graceMs: got ' + options.graceMs.toString() + ', expected 0 or more milliseconds',
      );
    } else if (!(this.min <= this.max)) {
      cfg.fail(
        'config.min (' +
          this.min.toString() +
          ') is greater than config.max (' +
          this.max.toString() +
          ')',
      );
    } else {
      this.windows = new TumblingWindows(options);
    }
  }

  process(batch: Batch, out: Output, now: i64): void {
    const field = this.field;
    const windows = this.windows;
    const min = this.min;
    const max = this.max;
    const lateBefore = windows.lateCount;
    let dropped = 0;
    while (batch.next()) {
      const ev = batch.event;
      const v = ev.f64(field);
      if (ev.status != FIELD_OK) {
        out.deadField(ev);
      } else if (!(v >= min && v <= max)) {
        dropped++;
      } else if (windows.add(ev, v, out) != FIELD_OK) {
        out.deadField(ev);
      }
    }
    if (dropped > 0) metric('dropped', <f64>dropped);
    const late = windows.lateCount - lateBefore;
    if (late > 0) metric('late', <f64>late);
  }

  tick(out: Output, now: i64): void {
    this.windows.tick(now, out);
  }

  flush(out: Output): void {
    this.windows.flush(out);
  }

  snapshot(state: StateWriter): void {
    this.windows.save(state);
  }

  restore(state: StateReader): void {
    this.windows.load(state);
  }
}

register(new WindowStats());
export * from '../sdk/exports';
