/**
 * @module Logging and metrics through the host (`$root.log`, `$root.metric`). Messages are
 * encoded to UTF-8 in a reusable scratch buffer, so a call allocates nothing on the heap.
 */

import { log as hostLog, metric as hostMetric } from './$root';
import { ByteBuffer } from './byte-buffer';

/** Log level: trace. */
export const LOG_TRACE: i32 = 0;
/** Log level: debug. */
export const LOG_DEBUG: i32 = 1;
/** Log level: info. */
export const LOG_INFO: i32 = 2;
/** Log level: warn. */
export const LOG_WARN: i32 = 3;
/** Log level: error. */
export const LOG_ERROR: i32 = 4;

const scratch = new ByteBuffer(256);

/** Writes `message` to the gateway's log at `level` (LOG_TRACE … LOG_ERROR). */
export function log(level: i32, message: string): void {
  scratch.clear();
  const n = scratch.utf8(message);
  hostLog(level, scratch.ptr, <usize>n);
}

/**
 * Reports `value` for the metric `name` (the host prefixes the rule's name). Call it once per
 * batch with a count, not once per event: each call crosses into the host.
 */
export function metric(name: string, value: f64): void {
  scratch.clear();
  const n = scratch.utf8(name);
  hostMetric(scratch.ptr, <usize>n, value);
}
