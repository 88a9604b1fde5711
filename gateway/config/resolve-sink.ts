/**
 * @module Resolution of the `file` and `nats` sink sections of a pipeline (the `http` sink is
 * resolved in resolve-pipeline.ts), and the peek at `sink.type` that picks the resolver.
 */
import { renderValue, type ConfigChecker, type ConfigPath } from './check.js';
import { EnvValue } from './env.js';
import type { FileSinkConfig, MqttSinkConfig, NatsSinkConfig, SinkBreakerConfig } from './types.js';

/** Defaults of the file sink. */
export const DEFAULT_FILE_SINK = {
  path: '',
  maxFileBytes: 64 * 1024 * 1024,
  maxFiles: 5,
  fsync: true,
  maxRecords: 1000,
  maxBytes: 1_048_576,
  lingerMs: 100,
  retryInitialDelayMs: 100,
  retryMaxDelayMs: 10_000,
} as const;

/** Defaults of the NATS JetStream sink. */
export const DEFAULT_NATS_SINK = {
  servers: ['nats://127.0.0.1:4222'],
  subject: 'sluice.{output}.{key}',
  timeoutMs: 10_000,
  maxRecords: 500,
  maxBytes: 1_048_576,
  lingerMs: 20,
  retryInitialDelayMs: 100,
  retryMaxDelayMs: 10_000,
} as const;

/** Defaults of the MQTT sink. */
export const DEFAULT_MQTT_SINK = {
  url: 'mqtt://127.0.0.1:1883',
  protocolVersion: 5,
  topic: 'sluice/{output}/{key}',
  timeoutMs: 10_000,
  maxRecords: 500,
  maxBytes: 1_048_576,
  lingerMs: 20,
  retryInitialDelayMs: 100,
  retryMaxDelayMs: 10_000,
} as const;

/** Keys every sink section accepts (resolved in resolve-sinks.ts). */
export const SINK_COMMON_KEYS = ['name', 'maxInFlight', 'latencyTargetMs'] as const;

/** The sink types a pipeline may name. */
export const SINK_TYPES = ['http', 'file', 'nats', 'mqtt'] as const;

const MS = 'milliseconds';
const FILE_KEYS = [
  'type',
  ...SINK_COMMON_KEYS,
  'path',
  'maxFileBytes',
  'maxFiles',
  'fsync',
  'maxRecords',
  'maxBytes',
  'lingerMs',
  'retry',
] as const;
const NATS_KEYS = [
  'type',
  ...SINK_COMMON_KEYS,
  'servers',
  'subject',
  'timeoutMs',
  'user',
  'pass',
  'maxRecords',
  'maxBytes',
  'lingerMs',
  'retry',
  'breaker',
] as const;

const MQTT_KEYS = [
  'type',
  ...SINK_COMMON_KEYS,
  'url',
  'clientId',
  'protocolVersion',
  'topic',
  'timeoutMs',
  'username',
  'password',
  'maxRecords',
  'maxBytes',
  'lingerMs',
  'retry',
  'breaker',
] as const;

/** Defaults of `sink.breaker`. */
export const DEFAULT_SINK_BREAKER = {
  failureThreshold: 5,
  cooldownMs: 1000,
  maxCooldownMs: 30_000,
} as const;

/** Resolves a sink's `breaker` section (HTTP, NATS and MQTT sinks). */
export function resolveSinkBreaker(
  check: ConfigChecker,
  path: ConfigPath,
  raw: unknown,
): SinkBreakerConfig {
  const at = (key: string): ConfigPath => [...path, 'breaker', key];
  const b = check.section([...path, 'breaker'], raw, [
    'failureThreshold',
    'cooldownMs',
    'maxCooldownMs',
  ]);
  const d = DEFAULT_SINK_BREAKER;
  const cooldownMs = check.int(at('cooldownMs'), b.cooldownMs, d.cooldownMs, {
    min: 1,
    unit: MS,
  });
  const maxCooldownMs = check.int(at('maxCooldownMs'), b.maxCooldownMs, d.maxCooldownMs, {
    min: 1,
    unit: MS,
  });
  if (maxCooldownMs < cooldownMs) {
    check.report(
      at('maxCooldownMs'),
      `${maxCooldownMs} is below breaker.cooldownMs ${cooldownMs} (the longest cool-down must be at least the first)`,
      b.maxCooldownMs,
    );
  }
  return {
    failureThreshold: check.int(at('failureThreshold'), b.failureThreshold, d.failureThreshold, {
      min: 0,
      max: 1_000_000,
      unit: 'failed attempts',
    }),
    cooldownMs,
    maxCooldownMs,
  };
}

/** `sink.type` as written (file or environment), when it is text. */
export function peekSinkType(raw: unknown): string | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const type = (raw as { type?: unknown }).type;
  if (typeof type === 'string') return type;
  if (type instanceof EnvValue) return type.text.trim();
  return undefined;
}

interface Batching {
  maxRecords: number;
  maxBytes: number;
  lingerMs: number;
  retry: { initialDelayMs: number; maxDelayMs: number };
}

/** Batching and retry keys every sink shares, with the backoff ceiling checked against the first delay. */
export function resolveBatching(
  check: ConfigChecker,
  path: ConfigPath,
  s: Record<string, unknown>,
  d: {
    maxRecords: number;
    maxBytes: number;
    lingerMs: number;
    retryInitialDelayMs: number;
    retryMaxDelayMs: number;
  },
): Batching {
  const at = (...keys: string[]): ConfigPath => [...path, ...keys];
  const r = check.section(at('retry'), s.retry, ['initialDelayMs', 'maxDelayMs']);
  const initialDelayMs = check.int(
    at('retry', 'initialDelayMs'),
    r.initialDelayMs,
    d.retryInitialDelayMs,
    { min: 1, unit: MS },
  );
  const maxDelayMs = check.int(at('retry', 'maxDelayMs'), r.maxDelayMs, d.retryMaxDelayMs, {
    min: 1,
    unit: MS,
  });
  if (maxDelayMs < initialDelayMs) {
    check.report(
      at('retry', 'maxDelayMs'),
      `${maxDelayMs} is below retry.initialDelayMs ${initialDelayMs} (the backoff ceiling must be at least the first delay)`,
      r.maxDelayMs,
    );
  }
  return {
    maxRecords: check.int(at('maxRecords'), s.maxRecords, d.maxRecords, {
      min: 1,
      max: 1_000_000,
      unit: 'records',
    }),
    maxBytes: check.int(at('maxBytes'), s.maxBytes, d.maxBytes, { min: 1024, unit: 'bytes' }),
    lingerMs: check.int(at('lingerMs'), s.lingerMs, d.lingerMs, {
      min: 0,
      max: 3_600_000,
      unit: MS,
    }),
    retry: { initialDelayMs, maxDelayMs },
  };
}

/** Resolves a `type: file` sink section. */
export function resolveFileSink(
  check: ConfigChecker,
  path: ConfigPath,
  raw: unknown,
): FileSinkConfig {
  const at = (key: string): ConfigPath => [...path, key];
  const s = check.section(path, raw, FILE_KEYS);
  const d = DEFAULT_FILE_SINK;
  const filePath =
    s.path === undefined || s.path === null || s.path === ''
      ? ''
      : check.filePath(at('path'), s.path, '');
  return {
    type: 'file',
    path: filePath,
    maxFileBytes: check.int(at('maxFileBytes'), s.maxFileBytes, d.maxFileBytes, {
      min: 1024,
      unit: 'bytes',
    }),
    maxFiles: check.int(at('maxFiles'), s.maxFiles, d.maxFiles, {
      min: 0,
      max: 1000,
      unit: 'files',
    }),
    fsync: check.bool(at('fsync'), s.fsync, d.fsync),
    ...resolveBatching(check, path, s, d),
  };
}

/** Resolves a `type: nats` sink section. */
export function resolveNatsSink(
  check: ConfigChecker,
  path: ConfigPath,
  raw: unknown,
): NatsSinkConfig {
  const at = (key: string): ConfigPath => [...path, key];
  const s = check.section(path, raw, NATS_KEYS);
  const d = DEFAULT_NATS_SINK;
  const items = check.list(at('servers'), s.servers, 'NATS server URLs', [...d.servers]) ?? [];
  const servers: string[] = [];
  for (let i = 0; i < items.length; i++) {
    const server = check.string([...at('servers'), i], items[i], '', false).trim();
    if (!/^(nats|tls|ws|wss):\/\/[^/]+/.test(server)) {
      check.report(
        [...at('servers'), i],
        `${renderValue(server)} is not a NATS URL (expected nats://host:port, tls://, ws:// or wss://)`,
        items[i],
      );
    }
    servers.push(server);
  }
  if (items.length === 0) {
    check.report(
      at('servers'),
      `[] is empty (expected at least one URL, e.g. nats://127.0.0.1:4222)`,
    );
  }
  const subject = check.string(at('subject'), s.subject, d.subject);
  if (/[\s*>]/.test(subject) || subject.startsWith('.') || subject.endsWith('.')) {
    check.report(
      at('subject'),
      `${renderValue(subject)} is not a NATS subject to publish to (no spaces, wildcards or empty tokens; {output} and {key} are replaced)`,
      s.subject,
    );
  }
  const config: NatsSinkConfig = {
    type: 'nats',
    servers,
    subject,
    timeoutMs: check.int(at('timeoutMs'), s.timeoutMs, d.timeoutMs, { min: 1, unit: MS }),
    ...resolveBatching(check, path, s, d),
    breaker: resolveSinkBreaker(check, path, s.breaker),
  };
  if (s.user !== undefined && s.user !== null) config.user = check.string(at('user'), s.user, '');
  if (s.pass !== undefined && s.pass !== null) config.pass = check.string(at('pass'), s.pass, '');
  return config;
}

/** Resolves a `type: mqtt` sink section; `clientId` defaults to `defaultClientId`. */
export function resolveMqttSink(
  check: ConfigChecker,
  path: ConfigPath,
  raw: unknown,
  defaultClientId: string,
): MqttSinkConfig {
  const at = (key: string): ConfigPath => [...path, key];
  const s = check.section(path, raw, MQTT_KEYS);
  const d = DEFAULT_MQTT_SINK;
  const url = check.string(at('url'), s.url, d.url).trim();
  if (!/^(mqtts?|wss?):\/\/[^/]+/.test(url)) {
    check.report(
      at('url'),
      `${renderValue(url)} is not a broker URL (expected mqtt://, mqtts://, ws:// or wss://)`,
      s.url,
    );
  }
  const topic = check.string(at('topic'), s.topic, d.topic);
  if (/[+#]/.test(topic)) {
    check.report(
      at('topic'),
      `${renderValue(topic)} has a wildcard (a topic to publish to has none; {output} and {key} are replaced)`,
      s.topic,
    );
  }
  const config: MqttSinkConfig = {
    type: 'mqtt',
    url,
    clientId: check.string(at('clientId'), s.clientId, defaultClientId),
    protocolVersion: check.choice(
      at('protocolVersion'),
      s.protocolVersion,
      d.protocolVersion,
      [4, 5] as const,
      'an MQTT protocol version',
    ),
    topic,
    timeoutMs: check.int(at('timeoutMs'), s.timeoutMs, d.timeoutMs, { min: 1, unit: MS }),
    ...resolveBatching(check, path, s, d),
    breaker: resolveSinkBreaker(check, path, s.breaker),
  };
  if (s.username !== undefined && s.username !== null) {
    config.username = check.string(at('username'), s.username, '');
  }
  if (s.password !== undefined && s.password !== null) {
    config.password = check.string(at('password'), s.password, '');
  }
  return config;
}
