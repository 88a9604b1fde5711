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
export { Event, EXPECT_BOOLEAN, EXPECT_INTEGER, EXPECT_NUMBER, EXPECT_STRING } from './event';
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
export { KeyTable } from './key-table';
export { StateReader, StateWriter } from './state';
export { LOG_DEBUG, LOG_ERROR, LOG_INFO, LOG_TRACE, LOG_WARN, log, metric } from './host';
export { FORMAT_CBOR, FORMAT_JSON, FORMAT_TEXT, FORMAT_UNKNOWN } from './frame';
export { windowId } from './hash';
export { ByteBuffer } from './byte-buffer';
