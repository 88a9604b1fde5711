/**
 * @module The one place where error codes become HTTP statuses, and the JSON error body
 * `{ "error": { "code", "message", "reason"? } }` every failed request gets.
 */
import { SluiceError } from '../../runtime/index.js';

/** HTTP status per stable error code; anything else is a 500. */
const STATUS_BY_CODE: Readonly<Record<string, number>> = {
  API_UNAUTHORIZED: 401,
  API_BAD_REQUEST: 400,
  API_NOT_FOUND: 404,
  API_BODY_TOO_LARGE: 413,
  RULE_NAME_INVALID: 400,
  RULE_CONFIG_INVALID: 400,
  RULE_INVALID: 422,
  RULE_DRY_RUN_FAILED: 422,
  RULE_SIGNATURE_INVALID: 422,
  RULE_NOT_FOUND: 404,
  RULE_VERSION_NOT_FOUND: 404,
  RULE_VERSION_IN_USE: 409,
  PIPELINE_NOT_FOUND: 404,
  SHADOW_NOT_FOUND: 404,
  RULE_RESTORE_FAILED: 409,
  RULE_TRAP: 409,
  RULE_INIT_FAILED: 422,
  PIPELINE_ON_WORKERS: 409,
};

/** Validation reasons with a status of their own (an oversized module is a 413, like an oversized body). */
const STATUS_BY_REASON: Readonly<Record<string, number>> = {
  'RULE_INVALID/TOO_LARGE': 413,
};

/** The JSON body of a failed request. */
export interface ApiErrorBody {
  error: { code: string; message: string; reason?: string };
}

/** The HTTP status for `error`. */
export function statusOf(error: unknown): number {
  if (!(error instanceof SluiceError)) return 500;
  const reason = (error as { reason?: unknown }).reason;
  if (typeof reason === 'string') {
    const status = STATUS_BY_REASON[`${error.code}/${reason}`];
    if (status !== undefined) return status;
  }
  return STATUS_BY_CODE[error.code] ?? 500;
}

/** The body for `error`; an unexpected error is not described beyond its being internal. */
export function errorBody(error: unknown): ApiErrorBody {
  if (!(error instanceof SluiceError)) {
    return { error: { code: 'INTERNAL', message: 'internal error (see the gateway log)' } };
  }
  const body: ApiErrorBody = { error: { code: error.code, message: error.message } };
  const reason = (error as { reason?: unknown }).reason;
  if (typeof reason === 'string') body.error.reason = reason;
  return body;
}
