/**
 * @module quantiles: per-device latency quantiles per minute of event time — p50, p90 and p99
 * within 1% (`WindowRule` with a quantile sketch; `filters/sdk/quantile-sketch.ts`).
 *
 * Config (a CBOR map; every key optional):
 *   field        string  dotted path of the number (the latency)                 default "latencyMs"
 *   windowMs     integer window length in ms                                      default 60000
 *   aggregates   string  e.g. "count,p50,p90,p99,p99.9,max"                       default "count,p50,p90,p99,max"
 *   accuracy     number  relative error of every quantile (0.01 = 1%)             default 0.01
 *   timeField    string  dotted path of the event time; "" = the arrival time     default "ts"
 *   window, slideMs, timeFormat, outOfOrderMs, latenessMs, idleMs, watermark, keyField, min, max,
 *   output, lateOutput: see `filters/sdk/window-spec.ts` and `window-rule.ts`
 *
 * A quantile pQ is the sketch's estimate of the value of rank ⌊Q/100 · (count − 1)⌋ in sorted
 * order, within `accuracy` of it (relative); p0 and p100 are the exact min and max.
 *
 * Outputs:
 *   default  one JSON record per closed window, key = device key, time = window end, id = FNV-1a
 *            64 of (key, start): {"key","start","end","count","p50","p90","p99","max"}
 *   late     a reading for a window of its device that already closed, unchanged
 *   dead     a reading that is malformed or lacks the number or the time
 * State: open windows with their sketches (snapshot/restore).
 */

import { WindowRule, WindowSpec, register } from '../sdk';

function defaults(): WindowSpec {
  const spec = new WindowSpec();
  spec.sizeMs = 60000;
  spec.timeField = 'ts';
  spec.aggregates = 'count,p50,p90,p99,max';
  return spec;
}

register(new WindowRule(defaults(), 'latencyMs'));
export * from '../sdk/exports';
