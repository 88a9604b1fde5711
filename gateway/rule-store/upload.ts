/**
 * @module Validation of an uploaded rule before anything is stored: the runtime's checks
 * (header, size, exports, imports, memory limits, compilation) and then a dry run of `init`
 * with the given configuration in a worker thread under a time limit. A rejected upload
 * changes nothing.
 */
import { encode as encodeCbor } from 'cbor-x/encode';
import { compileRule } from '../../runtime/index.js';
import type { RuleModule } from '../../runtime/index.js';
import { dryRunInit } from './dry-run.js';
import { RuleConfigInvalidError } from './errors.js';

/** Limits an upload is checked against. */
export interface UploadLimits {
  /** config `limits.ruleModuleBytes` */
  maxModuleBytes: number;
  /** config `limits.ruleMemoryBytes` */
  maxMemoryBytes: number;
  /** config `limits.ruleInitTimeoutMs` */
  initTimeoutMs: number;
}

/**
 * Validates, compiles and dry-runs `bytes` with `config`.
 * @throws RuleValidationError (`reason` names the failed check), RuleDryRunError,
 *   RuleConfigInvalidError.
 */
export async function validateUpload(
  bytes: Uint8Array,
  config: unknown,
  limits: UploadLimits,
): Promise<RuleModule> {
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    throw new RuleConfigInvalidError(
      `the rule configuration must be a JSON object (the rule's parameters), not ${Array.isArray(config) ? 'an array' : JSON.stringify(config)}`,
    );
  }
  const mod = await compileRule(bytes, {
    maxModuleBytes: limits.maxModuleBytes,
    maxMemoryBytes: limits.maxMemoryBytes,
  });
  await dryRunInit(mod, new Uint8Array(encodeCbor(config)), limits.initTimeoutMs);
  return mod;
}
