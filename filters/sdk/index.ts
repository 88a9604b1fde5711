/**
 * @module The Sluice rule SDK: the one import a rule author needs.
 *
 * ```ts
 * import { Batch, Config, FieldPath, FIELD_OK, Output, Rule, register } from "../sdk";
 *
 * class Threshold extends Rule {
 *   field: FieldPath = new FieldPath("temp");
 *   max: f64 = 125;
 *   init(cfg: Config): void {
 *     this.field = new FieldPath(cfg.str("field", "temp"));
 *     this.max = cfg.f64("max", 125);
 *   }
 *   process(batch: Batch, out: Output, now: i64): void {
 *     while (batch.next()) {
 *       const ev = batch.event;
 *       const v = ev.f64(this.field);
 *       if (ev.status != FIELD_OK) out.deadField(ev);
 *       else if (v <= this.max) out.forward(ev);
 *     }
 *   }
 * }
 * register(new Threshold());
 * export * from "../sdk/exports";
 * ```
 */

export { Rule, register } from './rule';
export { Batch } from './batch';
export {
  Event,
  EXPECT_BOOLEAN,
  EXPECT_INTEGER,
  EXPECT_NUMBER,
  EXPECT_STRING,
  EXPECT_TIME,
} from './event';
export { Output, OUTPUT_DEAD, OUTPUT_DEFAULT, OUTPUT_DEVICE, OUTPUT_LATE } from './output';
export { JsonObject } from './json-object';
export { Config } from './config';
export {
  FIELD_MALFORMED,
  FIELD_MISSING,
  FIELD_OK,
  FIELD_WRONG_TYPE,
  FieldPath,
  FieldText,
  fieldStringLength,
  fieldStringPtr,
} from './field';
export { TumblingWindows, WindowOptions } from './windows';
export {
  IDLE_NEVER,
  IDLE_WINDOW_LENGTH,
  MAX_HOPS,
  MAX_SPAN_MS,
  WINDOW_COUNT,
  WINDOW_HOPPING,
  WINDOW_SESSION,
  WINDOW_SLIDING,
  WINDOW_TUMBLING,
  WindowSpec,
  describeWindows,
  readWindowSpec,
  windowKindName,
} from './window-spec';
export { NO_TIME, Windows } from './window-engine';
export { WINDOW_STATE_TAG } from './window-state';
export { createWindows } from './create-windows';
export { WindowRule } from './window-rule';
export { AGGREGATE_ITEMS, Aggregates } from './aggregates';
export { QuantileSketch } from './quantile-sketch';
export {
  KeySource,
  TIME_AUTO,
  TIME_ISO,
  TIME_MS,
  TIME_S,
  TimeSource,
  timeFormatName,
  timeFormatOf,
} from './event-time';
export { NOT_A_TIME, parseIsoTime } from './iso-time';
export {
  PATTERN_ABSENT,
  PATTERN_FOLLOWED,
  PATTERN_STATE_TAG,
  Pattern,
  PatternOptions,
} from './pattern';
export { KeyTable } from './key-table';
export { StateReader, StateWriter } from './state';
export { LOG_DEBUG, LOG_ERROR, LOG_INFO, LOG_TRACE, LOG_WARN, log, metric } from './host';
export { FORMAT_CBOR, FORMAT_JSON, FORMAT_TEXT, FORMAT_UNKNOWN } from './frame';
export { windowId } from './hash';
export { ByteBuffer } from './byte-buffer';
