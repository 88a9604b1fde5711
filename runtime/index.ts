/**
 * @module Public surface of the Sluice rule runtime: frames, module validation and compilation,
 * rule instances and their errors. Knows nothing of MQTT or HTTP.
 */
export {
  FRAME_HEADER_BYTES,
  FRAME_MAGIC,
  Format,
  MAX_FIELD_BYTES,
  OUTPUT_NAME_BYTES,
  OutputName,
  RECORD_HEADER_BYTES,
  createEmptyFrame,
  frameRecordCount,
} from './frame.js';
export {
  DEFAULT_FRAME_MAX_BYTES,
  DEFAULT_FRAME_MAX_EVENTS,
  FrameWriter,
  resolveFrameWriterOptions,
} from './frame-writer.js';
export type { FrameWriterOptions, ResolvedFrameWriterOptions } from './frame-writer.js';
export { FrameReader } from './frame-reader.js';
export { FrameSelector } from './frame-selector.js';

export {
  FrameEventTooLargeError,
  FrameFormatError,
  RuleInitError,
  RuleOutputInvalidError,
  RuleRestoreError,
  RuleTrapError,
  RuleValidationError,
  RuntimeOptionsError,
  SluiceError,
  WasmBinaryError,
} from './errors.js';
export type { RuleCall, RuleValidationReason } from './errors.js';

export {
  DEFAULT_MAX_MEMORY_BYTES,
  DEFAULT_MAX_MODULE_BYTES,
  resolveRuleModuleOptions,
  validateRule,
} from './validate.js';
export type { ResolvedRuleModuleOptions, RuleModuleInfo, RuleModuleOptions } from './validate.js';

export { compileRule, sha256Hex } from './rule-module.js';
export type { RuleModule } from './rule-module.js';

export { RuleInstance } from './rule-instance.js';
export { FUEL_GLOBAL, resolveRuleInstanceOptions } from './rule-instance-options.js';
export type { ResolvedRuleInstanceOptions, RuleInstanceOptions } from './rule-instance-options.js';

export { isWasmComponent, readWasmModule } from './wasm-binary.js';
export type { WasmFuncType, WasmModuleInfo } from './wasm-binary.js';
