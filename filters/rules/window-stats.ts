/**
 * @module window-stats: per-device count, sum, min, max and avg of a value per window of event
 * time — tumbling by default; any window kind and set of aggregates by config (`WindowRule`).
 *
 * Config (a CBOR map; every key optional):
 *   field        string  dotted path of the number to aggregate                   default "temp"
 *   timeField    string  dotted path of the event time; "" = the arrival time      default "ts"
 *   timeFormat   string  "ms" | "s" | "iso" | "auto"                              default "ms"
 *   windowMs     integer window length in ms (windows start at multiples of it)    default 1000
 *   outOfOrderMs integer watermark = latest event time of the device − this       default 0
 *   latenessMs   integer a window closes once the watermark passes end + this      default 0
 *   graceMs      integer `tick(now)` closes a window once its end ≤ now − graceMs
 *                        − outOfOrderMs − latenessMs (the same as idleMs)           default windowMs
 *   min, max     number  validity range: readings outside it are dropped (counted) default none
 *   window, slideMs, gapMs, windowCount, watermark, keyField, aggregates, accuracy, output,
 *   lateOutput: see `filters/sdk/window-spec.ts`         (defaults: tumbling, per-device watermark,
 *                                                          "count,sum,min,max,avg")
 *
 * With the defaults a device's window closes when a reading of that device arrives for a later
 * window, when a tick finds it due, or at flush — as before event time had watermarks; set
 * outOfOrderMs to wait that long for readings that arrive out of order.
 *
 * Outputs:
 *   default  one JSON record per closed window, key = device key, time = window end, id = FNV-1a
 *            64 of (key, start): {"key","start","end","count","sum","min","max","avg"}
 *   late     a reading for a window of its device that already closed, unchanged
 *   dead     a reading that is malformed or lacks a number at `field` or a time at `timeField`
 * Metrics (once per batch, only when non-zero): `dropped` = readings outside [min, max],
 * `late` = late readings.
 * State: all open windows and watermarks (snapshot/restore), so a restart or hot swap loses no
 * aggregate.
 */

import { Config, WindowRule, WindowSpec, register } from '../sdk';

class WindowStats extends WindowRule {
  init(cfg: Config): void {
    if (cfg.has('graceMs')) {
      const grace = cfg.i64('graceMs', 0);
      if (cfg.error === null && grace < 0) {
        cfg.fail('config.graceMs: got ' + grace.toString() + ', expected 0 or more milliseconds');
      }
      this.defaults.idleMs = grace;
    }
    super.init(cfg);
  }
}

function defaults(): WindowSpec {
  const spec = new WindowSpec();
  spec.timeField = 'ts';
  return spec;
}

register(new WindowStats(defaults(), 'temp'));
export * from '../sdk/exports';
