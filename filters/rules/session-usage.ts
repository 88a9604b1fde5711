/**
 * @module session-usage: per-device sessions of activity in event time — a session is a run of
 * events of one device less than `gapMs` apart — with how long each lasted and how many events
 * it had (`WindowRule` with session windows).
 *
 * Config (a CBOR map; every key optional):
 *   gapMs        integer a session ends after this long without events (ms)       default 300000
 *   field        string  dotted path of a number to aggregate; "" = none           default ""
 *   aggregates   string  what each session reports (`filters/sdk/aggregates.ts`)   default "count,duration"
 *                        (with a field, e.g. "count,duration,sum,max")
 *   timeField    string  dotted path of the event time; "" = the arrival time      default "ts"
 *   timeFormat, outOfOrderMs, latenessMs, idleMs (default gapMs), watermark, keyField, min, max,
 *   accuracy, output, lateOutput: see `filters/sdk/window-spec.ts` and `window-rule.ts`
 *
 * Outputs:
 *   default  one JSON record per closed session, key = device key, time = end, id = FNV-1a 64 of
 *            (key, start): {"key","start","end","count","duration"}, start = first event time,
 *            end = last event time + gapMs, duration = last − first event time (ms)
 *   late     an event older than a session of its device already closed, unchanged
 *   dead     an event that is malformed or lacks the time (or the number at `field`)
 * State: open sessions and watermarks (snapshot/restore).
 */

import { WINDOW_SESSION, WindowRule, WindowSpec, register } from '../sdk';

function defaults(): WindowSpec {
  const spec = new WindowSpec();
  spec.kind = WINDOW_SESSION;
  spec.gapMs = 300000;
  spec.timeField = 'ts';
  spec.aggregates = 'count,duration';
  return spec;
}

register(new WindowRule(defaults(), ''));
export * from '../sdk/exports';
