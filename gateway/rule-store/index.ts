/**
 * @module The rule store (uploaded rule modules by content hash, with versions) and upload
 * validation.
 */
export { RuleStore, checkRuleName } from './rule-store.js';
export type { NewRuleVersion, RuleVersion, StoredRule } from './rule-store.js';
export { validateUpload } from './upload.js';
export type { UploadLimits } from './upload.js';
export { dryRunInit } from './dry-run.js';
export { AuditLog } from './audit-log.js';
export { ModuleSignatureCheck, generateSigningKey, signModule } from './signature.js';
export type { AuditEntry } from './audit-log.js';
export {
  RuleConfigInvalidError,
  RuleDryRunError,
  RuleNameInvalidError,
  RuleNotFoundError,
  RuleSignatureError,
  RuleStoreCorruptError,
  RuleVersionInUseError,
  RuleVersionNotFoundError,
} from './errors.js';
export type { RuleDryRunReason } from './errors.js';
