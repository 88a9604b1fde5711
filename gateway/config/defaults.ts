/**
 * @module Default values of every configuration key. An empty file resolves to these: the demo
 * pipeline (`sensors/+/reading` → threshold → window-stats → HTTP sink on 127.0.0.1:8787) on the
 * embedded broker.
 */

import { hostname } from 'node:os';
import { EXAMPLE_RULES } from '../rules/build.js';

/** Names of the built-in example rules a `module` may name instead of a `.wasm` path. */
export const BUILTIN_RULES = EXAMPLE_RULES;

/** @default './.sluice' */
export const DEFAULT_DATA_DIR = './.sluice';

/** File name of the dead-letter file inside `dataDir`. */
export const DEFAULT_DEAD_LETTER_FILE = 'dead-letter.jsonl';

/** `mqtt.clientId` when none is set: stable across restarts of the same box. */
export function defaultClientId(): string {
  return `sluice-${hostname()}`;
}

/** Scalar defaults of the `mqtt` section. */
export const DEFAULT_MQTT = {
  url: '',
  protocolVersion: 4,
  clean: false,
  keepaliveSeconds: 30,
  receiveMaximum: 1000,
  reconnectPeriodMs: 1000,
  inflightWindow: 0,
  embeddedHost: '127.0.0.1',
  embeddedPort: 1883,
  tlsRejectUnauthorized: true,
} as const;

/** Defaults of the HTTP sink. */
export const DEFAULT_HTTP_SINK = {
  url: 'http://127.0.0.1:8787/ingest',
  format: 'json',
  maxRecords: 500,
  maxBytes: 1_048_576,
  lingerMs: 100,
  timeoutMs: 10_000,
  retryInitialDelayMs: 100,
  retryMaxDelayMs: 10_000,
} as const;

/** Scalar defaults of a pipeline. */
export const DEFAULT_PIPELINE = {
  name: 'default',
  topics: ['sensors/+/reading'],
  qos: 1,
  keyLevel: 1,
  format: 'json',
  commandTopic: 'devices/{key}/commands',
  batchMaxEvents: 500,
  batchMaxBytes: 1_048_576,
  batchLingerMs: 5,
  tickIntervalMs: 1000,
  outboxMaxRecords: 10_000,
} as const;

/** Defaults of a pipeline's `workers` section: off (rules on the gateway thread). */
export const DEFAULT_WORKERS_CONFIG = {
  count: 0,
  ruleTimeoutMs: 1000,
} as const;

/** Defaults of a pipeline's `spool` section. Off by default: see docs/delivery.md. */
export const DEFAULT_SPOOL_CONFIG = {
  enabled: true,
  maxBytes: 256 * 1024 * 1024,
  segmentBytes: 8 * 1024 * 1024,
  maxAgeMs: 0,
  fsync: 'always',
  fsyncIntervalMs: 1000,
  onFull: 'block',
} as const;

/**
 * The rule chain of a pipeline that names none: drop temperatures outside -40..125 °C, then
 * per-device count/avg/min/max of `temp` per 1 s tumbling window of event time `ts`.
 * A function so that every caller gets its own copy.
 */
export function defaultRules(): { module: string; config: Record<string, unknown> }[] {
  return [
    { module: 'threshold', config: { field: 'temp', min: -40, max: 125 } },
    { module: 'window-stats', config: { field: 'temp', timeField: 'ts', windowMs: 1000 } },
  ];
}

/** The pipelines when the file names none: one pipeline with every default. */
export function defaultPipelines(): Record<string, unknown>[] {
  return [{}];
}

/** @default 67108864 (64 MiB) */
export const DEFAULT_RULE_MEMORY_BYTES = 64 * 1024 * 1024;
/** @default 8388608 (8 MiB) */
export const DEFAULT_RULE_MODULE_BYTES = 8 * 1024 * 1024;
/** @default 'info' */
export const DEFAULT_LOG_LEVEL = 'info';

/** Default of `shutdownTimeoutMs`. */
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 10_000;
/** The accepted log levels, most verbose first. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'silent'] as const;

/** How long the dry run of an uploaded rule's `init` may take. @default 1000 */
export const DEFAULT_RULE_INIT_TIMEOUT_MS = 1000;

/** Defaults of the `api` section. */
export const DEFAULT_API = {
  enabled: false,
  host: '127.0.0.1',
  port: 8686,
  maxBodyBytes: 16 * 1024 * 1024,
} as const;
