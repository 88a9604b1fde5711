/**
 * @module `resolveConfig`: a raw parsed document plus environment overrides → a complete,
 * validated `Config`. Every default is filled here and every value is checked once; all
 * problems are collected into one `ConfigError`.
 */

import { join } from 'node:path';
import { ConfigChecker, renderValue, type ConfigPath } from './check.js';
import {
  DEFAULT_DATA_DIR,
  DEFAULT_DEAD_LETTER_FILE,
  DEFAULT_LOG_LEVEL,
  DEFAULT_SHUTDOWN_TIMEOUT_MS,
  DEFAULT_MQTT,
  DEFAULT_RULE_MEMORY_BYTES,
  DEFAULT_RULE_INIT_TIMEOUT_MS,
  DEFAULT_RULE_MODULE_BYTES,
  LOG_LEVELS,
  defaultClientId,
} from './defaults.js';
import { readEnvOverrides } from './env.js';
import { ConfigError } from './errors.js';
import { resolveApi } from './resolve-api.js';
import { resolvePipelines } from './resolve-pipeline.js';
import type { Config, MqttConfig, TlsConfig } from './types.js';

/** Options of `resolveConfig`. */
export interface ResolveConfigOptions {
  /** Directory that relative paths in `raw` are resolved against (the config file's). @default undefined (kept as written) */
  baseDir?: string;
  /** Maps a path to its place in the source (`sluice.yaml:12`) for messages. @default undefined */
  locate?: (path: ConfigPath) => string | undefined;
  /** Where `raw` came from, named in the error message (`sluice.yaml`). @default undefined */
  origin?: string;
}

const TOP_KEYS = [
  'dataDir',
  'mqtt',
  'pipelines',
  'deadLetter',
  'limits',
  'shutdownTimeoutMs',
  'log',
  'api',
] as const;
const MQTT_KEYS = [
  'url',
  'clientId',
  'protocolVersion',
  'clean',
  'username',
  'password',
  'keepaliveSeconds',
  'receiveMaximum',
  'reconnectPeriodMs',
  'inflightWindow',
  'tls',
  'embedded',
] as const;
const MQTT_SCHEMES = ['mqtt:', 'mqtts:', 'ws:', 'wss:'];
const TLS_SCHEMES = ['mqtts:', 'wss:'];

/**
 * Fills every default and validates `raw` (a parsed YAML/JSON document, `undefined`/`null` for
 * an empty one) with the overrides in `env` (see `env.ts`; pass `process.env` to honour them).
 * @throws ConfigError listing every problem found.
 */
export function resolveConfig(
  raw: unknown,
  env: Readonly<Record<string, string | undefined>> = {},
  options: ResolveConfigOptions = {},
): Config {
  const { overrides, problems } = readEnvOverrides(env);
  const check = new ConfigChecker({
    overrides,
    ...(options.locate === undefined ? {} : { locate: options.locate }),
    ...(options.baseDir === undefined ? {} : { baseDir: options.baseDir }),
  });
  if (raw !== undefined && raw !== null && (typeof raw !== 'object' || Array.isArray(raw))) {
    check.report(
      [],
      `${renderValue(raw)} is not a mapping (a configuration file holds keys such as ` +
        `mqtt:, pipelines:; see docs/configuration.md)`,
    );
    raw = {};
  }
  const top = check.section([], raw, TOP_KEYS);
  const dataDir = check.filePath(['dataDir'], top.dataDir, DEFAULT_DATA_DIR);
  const mqtt = resolveMqtt(check, top.mqtt);
  const pipelines = resolvePipelines(check, top.pipelines);
  const deadLetterRaw = check.section(['deadLetter'], top.deadLetter, ['path']);
  const deadLetterPath = check.filePath(
    ['deadLetter', 'path'],
    deadLetterRaw.path,
    join(dataDir, DEFAULT_DEAD_LETTER_FILE),
  );
  const limitsRaw = check.section(['limits'], top.limits, [
    'ruleMemoryBytes',
    'ruleModuleBytes',
    'ruleInitTimeoutMs',
  ]);
  const ruleMemoryBytes = check.int(
    ['limits', 'ruleMemoryBytes'],
    limitsRaw.ruleMemoryBytes,
    DEFAULT_RULE_MEMORY_BYTES,
    {
      min: 65536,
      max: 4 * 1024 * 1024 * 1024,
      unit: 'bytes',
      note: 'at least one 64 KiB Wasm page',
    },
  );
  const ruleModuleBytes = check.int(
    ['limits', 'ruleModuleBytes'],
    limitsRaw.ruleModuleBytes,
    DEFAULT_RULE_MODULE_BYTES,
    { min: 1024, max: 1024 * 1024 * 1024, unit: 'bytes' },
  );
  const ruleInitTimeoutMs = check.int(
    ['limits', 'ruleInitTimeoutMs'],
    limitsRaw.ruleInitTimeoutMs,
    DEFAULT_RULE_INIT_TIMEOUT_MS,
    { min: 1, max: 600_000, unit: 'milliseconds' },
  );
  for (let i = 0; i < pipelines.length; i++) {
    const batchBytes = pipelines[i]?.batch.maxBytes ?? 0;
    if (batchBytes > ruleMemoryBytes) {
      check.report(
        ['pipelines', i, 'batch', 'maxBytes'],
        `${batchBytes} is larger than limits.ruleMemoryBytes ${ruleMemoryBytes} (a batch must fit ` +
          `in a rule's memory; lower batch.maxBytes or raise limits.ruleMemoryBytes)`,
      );
    }
  }
  const shutdownTimeoutMs = check.int(
    ['shutdownTimeoutMs'],
    top.shutdownTimeoutMs,
    DEFAULT_SHUTDOWN_TIMEOUT_MS,
    { min: 0, unit: 'milliseconds' },
  );
  const logRaw = check.section(['log'], top.log, ['level']);
  const level = check.choice(
    ['log', 'level'],
    logRaw.level,
    DEFAULT_LOG_LEVEL,
    LOG_LEVELS,
    'a log level',
  );
  const api = resolveApi(check, top.api);
  check.finish();

  const all = [...problems, ...check.problems];
  if (all.length > 0) throw new ConfigError(all, options.origin);
  return {
    dataDir,
    mqtt,
    pipelines,
    deadLetter: { path: deadLetterPath },
    limits: { ruleMemoryBytes, ruleModuleBytes, ruleInitTimeoutMs },
    shutdownTimeoutMs,
    log: { level },
    api,
  };
}

function resolveMqtt(check: ConfigChecker, raw: unknown): MqttConfig {
  const at = (key: string): ConfigPath => ['mqtt', key];
  const m = check.section(['mqtt'], raw, MQTT_KEYS);
  const url = check.string(at('url'), m.url, DEFAULT_MQTT.url, false).trim();
  let scheme = '';
  if (url !== '') {
    scheme = urlScheme(url);
    if (!MQTT_SCHEMES.includes(scheme)) {
      check.report(
        at('url'),
        `${renderValue(url)} is not a URL (expected mqtt://, mqtts://, ws:// or wss://)`,
        m.url,
      );
    }
  }
  const protocolVersion = check.choice(
    at('protocolVersion'),
    m.protocolVersion,
    DEFAULT_MQTT.protocolVersion,
    [4, 5] as const,
    'a supported MQTT version',
  );
  if (url === '' && protocolVersion === 5) {
    check.report(
      at('protocolVersion'),
      `5 is not supported by the embedded broker (it speaks MQTT 3.1.1 only; set ` +
        `mqtt.protocolVersion to 4, or set mqtt.url to an MQTT 5 broker such as Mosquitto)`,
      m.protocolVersion,
    );
  }
  const config: MqttConfig = {
    url,
    clientId: check.string(at('clientId'), m.clientId, defaultClientId()),
    protocolVersion,
    clean: check.bool(at('clean'), m.clean, DEFAULT_MQTT.clean),
    keepaliveSeconds: check.int(
      at('keepaliveSeconds'),
      m.keepaliveSeconds,
      DEFAULT_MQTT.keepaliveSeconds,
      {
        min: 0,
        max: 65535,
        unit: 'seconds',
        note: '0 disables keepalive',
      },
    ),
    receiveMaximum: check.int(at('receiveMaximum'), m.receiveMaximum, DEFAULT_MQTT.receiveMaximum, {
      min: 1,
      max: 65535,
    }),
    reconnectPeriodMs: check.int(
      at('reconnectPeriodMs'),
      m.reconnectPeriodMs,
      DEFAULT_MQTT.reconnectPeriodMs,
      {
        min: 1,
        unit: 'milliseconds',
      },
    ),
    inflightWindow: check.int(at('inflightWindow'), m.inflightWindow, DEFAULT_MQTT.inflightWindow, {
      min: 0,
      max: 65535,
      note: '0 = automatic',
    }),
    embedded: resolveEmbedded(check, m.embedded),
  };
  const username = check.optionalString(at('username'), m.username);
  if (username !== undefined) config.username = username;
  const password = check.optionalString(at('password'), m.password);
  if (password !== undefined) config.password = password;
  if (m.tls !== undefined || check.hasOverrides(at('tls'))) {
    config.tls = resolveTls(check, m.tls);
    if (url === '') {
      check.report(
        at('tls'),
        `is set, but mqtt.url is empty (the embedded broker has no TLS; set mqtt.url to an ` +
          `mqtts:// or wss:// broker, or remove mqtt.tls)`,
      );
    } else if (MQTT_SCHEMES.includes(scheme) && !TLS_SCHEMES.includes(scheme)) {
      check.report(
        at('tls'),
        `is set, but mqtt.url ${renderValue(url)} does not use TLS (use mqtts:// or wss://, or remove mqtt.tls)`,
      );
    }
  }
  return config;
}

function resolveEmbedded(check: ConfigChecker, raw: unknown): MqttConfig['embedded'] {
  const e = check.section(['mqtt', 'embedded'], raw, ['host', 'port']);
  return {
    host: check.string(['mqtt', 'embedded', 'host'], e.host, DEFAULT_MQTT.embeddedHost),
    port: check.int(['mqtt', 'embedded', 'port'], e.port, DEFAULT_MQTT.embeddedPort, {
      min: 0,
      max: 65535,
      note: '0 picks a free port',
    }),
  };
}

function resolveTls(check: ConfigChecker, raw: unknown): TlsConfig {
  const at = (key: string): ConfigPath => ['mqtt', 'tls', key];
  const t = check.section(['mqtt', 'tls'], raw, ['ca', 'cert', 'key', 'rejectUnauthorized']);
  const tls: TlsConfig = {
    rejectUnauthorized: check.bool(
      at('rejectUnauthorized'),
      t.rejectUnauthorized,
      DEFAULT_MQTT.tlsRejectUnauthorized,
    ),
  };
  for (const key of ['ca', 'cert', 'key'] as const) {
    if (t[key] === undefined || t[key] === null) continue;
    tls[key] = check.filePath(at(key), t[key], '');
  }
  if ((tls.cert === undefined) !== (tls.key === undefined)) {
    const [set, missing] = tls.cert === undefined ? ['key', 'cert'] : ['cert', 'key'];
    check.report(
      at(missing),
      `is missing (mqtt.tls.${set} is set; a client certificate needs both cert and key)`,
    );
  }
  return tls;
}

/** `mqtt:` for `mqtt://host`, '' when the text is not a URL at all. */
function urlScheme(url: string): string {
  try {
    const parsed = new URL(url);
    return parsed.hostname === '' ? '' : parsed.protocol;
  } catch {
    return '';
  }
}
