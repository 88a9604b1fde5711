/**
 * @module Resolution of the `pipelines` list: topic filters, the rule chain (resolve-rules.ts)
 * and the sinks of each pipeline, with the checks that span fields (key level within the
 * filters, unique names).
 */

import { hostname } from 'node:os';
import { renderValue, type ConfigChecker, type ConfigPath } from './check.js';
import {
  DEFAULT_HTTP_SINK,
  DEFAULT_PIPELINE,
  DEFAULT_WORKERS_CONFIG,
  defaultPipelines,
} from './defaults.js';
import { resolveRules } from './resolve-rules.js';
import { filterLevels, topicFilterProblem, topicNameProblem } from './topic-filter.js';
import {
  peekSinkType,
  resolveBatching,
  resolveFileSink,
  resolveMqttSink,
  resolveNatsSink,
  SINK_COMMON_KEYS,
  SINK_TYPES,
  resolveSinkBreaker,
} from './resolve-sink.js';
import type { HttpSinkConfig, PipelineConfig, SinkConfig, WorkersConfig } from './types.js';
import { resolveSpool } from './resolve-spool.js';
import { resolveSinks, type SinkSection } from './resolve-sinks.js';

const PIPELINE_KEYS = [
  'name',
  'topics',
  'qos',
  'keyLevel',
  'format',
  'rules',
  'sink',
  'sinks',
  'commandTopic',
  'batch',
  'tickIntervalMs',
  'outboxMaxRecords',
  'spool',
  'workers',
] as const;
const SINK_KEYS = [
  'type',
  ...SINK_COMMON_KEYS,
  'url',
  'format',
  'maxRecords',
  'maxBytes',
  'lingerMs',
  'timeoutMs',
  'headers',
  'retry',
  'breaker',
] as const;
const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const MS = 'milliseconds';

/** Resolves `pipelines` (absent → the demo pipeline). */
export function resolvePipelines(check: ConfigChecker, raw: unknown): PipelineConfig[] {
  const items = check.list(['pipelines'], raw, 'pipelines', defaultPipelines()) ?? [];
  if (items.length === 0) {
    check.report(
      ['pipelines'],
      `[] is empty (remove the key to run the default pipeline, or add a pipeline with topics:)`,
    );
  }
  const pipelines: PipelineConfig[] = [];
  const names = new Map<string, number>();
  for (let i = 0; i < items.length; i++) {
    const pipeline = resolvePipeline(check, ['pipelines', i], items[i], i);
    const first = names.get(pipeline.name);
    if (first === undefined) names.set(pipeline.name, i);
    else {
      check.report(
        ['pipelines', i, 'name'],
        `${renderValue(pipeline.name)} is already the name of pipelines[${first}] ` +
          `(pipeline names must be unique; set name: on each pipeline)`,
      );
    }
    pipelines.push(pipeline);
  }
  return pipelines;
}

function resolvePipeline(
  check: ConfigChecker,
  path: ConfigPath,
  raw: unknown,
  index: number,
): PipelineConfig {
  const at = (...keys: (string | number)[]): ConfigPath => [...path, ...keys];
  const p = check.section(path, raw, PIPELINE_KEYS);
  const name = check.string(
    at('name'),
    p.name,
    index === 0 ? DEFAULT_PIPELINE.name : `pipeline-${index}`,
  );
  if (!NAME_PATTERN.test(name)) {
    check.report(
      at('name'),
      `${renderValue(name)} is not a valid name (use letters, digits, ".", "_" and "-", starting with a letter or digit)`,
      p.name,
    );
  }
  const topics = resolveTopics(check, at('topics'), p.topics);
  const keyLevel = check.int(at('keyLevel'), p.keyLevel, DEFAULT_PIPELINE.keyLevel, {
    min: -1,
    max: 65535,
    note: '0 is the first topic level, -1 the whole topic',
  });
  if (keyLevel >= 0) {
    for (const topic of topics) {
      const levels = filterLevels(topic);
      const last = levels.length - 1;
      if (levels[last] === '#' || keyLevel <= last) continue;
      check.report(
        at('keyLevel'),
        `${keyLevel} is past the last level of the topic filter ${renderValue(topic)} (levels 0 to ${last}; ` +
          `set keyLevel to the level that holds the device id, or -1 for the whole topic)`,
        p.keyLevel,
      );
      break;
    }
  }
  const commandTopic = check.string(
    at('commandTopic'),
    p.commandTopic,
    DEFAULT_PIPELINE.commandTopic,
  );
  const commandProblem = topicNameProblem(commandTopic.replaceAll('{key}', 'key'));
  if (commandProblem !== undefined) {
    check.report(
      at('commandTopic'),
      `${renderValue(commandTopic)} ${commandProblem}`,
      p.commandTopic,
    );
  }
  const b = check.section(at('batch'), p.batch, ['maxEvents', 'maxBytes', 'lingerMs']);
  const sinks = resolveSinks(
    check,
    path,
    p.sink,
    p.sinks,
    `sluice-sink-${hostname()}-${name}`,
    (sinkPath, sinkRaw, clientId) => resolveSink(check, sinkPath, sinkRaw, clientId),
  );
  return {
    name,
    topics,
    qos: check.choice(at('qos'), p.qos, DEFAULT_PIPELINE.qos, [0, 1, 2] as const, 'an MQTT QoS'),
    keyLevel,
    format: check.choice(
      at('format'),
      p.format,
      DEFAULT_PIPELINE.format,
      ['json', 'cbor', 'unknown'] as const,
      'a payload format',
    ),
    rules: resolveRules(check, at('rules'), p.rules),
    sinks,
    sink: sinks[0] as SinkConfig,
    commandTopic,
    batch: {
      maxEvents: check.int(at('batch', 'maxEvents'), b.maxEvents, DEFAULT_PIPELINE.batchMaxEvents, {
        min: 1,
        max: 1_000_000,
        unit: 'events',
      }),
      maxBytes: check.int(at('batch', 'maxBytes'), b.maxBytes, DEFAULT_PIPELINE.batchMaxBytes, {
        min: 1024,
        unit: 'bytes',
      }),
      lingerMs: check.int(at('batch', 'lingerMs'), b.lingerMs, DEFAULT_PIPELINE.batchLingerMs, {
        min: 0,
        max: 60_000,
        unit: MS,
      }),
    },
    tickIntervalMs: check.int(
      at('tickIntervalMs'),
      p.tickIntervalMs,
      DEFAULT_PIPELINE.tickIntervalMs,
      {
        min: 1,
        unit: MS,
      },
    ),
    outboxMaxRecords: check.int(
      at('outboxMaxRecords'),
      p.outboxMaxRecords,
      DEFAULT_PIPELINE.outboxMaxRecords,
      {
        min: 1,
        unit: 'records',
      },
    ),
    spool: resolveSpool(check, at('spool'), p.spool),
    workers: resolveWorkers(check, at('workers'), p.workers),
  };
}

/** Resolves a pipeline's `workers` section. */
function resolveWorkers(check: ConfigChecker, path: ConfigPath, raw: unknown): WorkersConfig {
  const w = check.section(path, raw, ['count', 'ruleTimeoutMs']);
  return {
    count: check.int([...path, 'count'], w.count, DEFAULT_WORKERS_CONFIG.count, {
      min: 0,
      max: 256,
      unit: 'worker threads',
    }),
    ruleTimeoutMs: check.int(
      [...path, 'ruleTimeoutMs'],
      w.ruleTimeoutMs,
      DEFAULT_WORKERS_CONFIG.ruleTimeoutMs,
      { min: 1, max: 600_000, unit: MS },
    ),
  };
}

function resolveTopics(check: ConfigChecker, path: ConfigPath, raw: unknown): string[] {
  const items = check.list(path, raw, 'topic filters', [...DEFAULT_PIPELINE.topics]) ?? [];
  if (items.length === 0) {
    check.report(
      path,
      `[] is empty (a pipeline subscribes to at least one topic filter, e.g. "sensors/+/reading")`,
    );
  }
  const topics: string[] = [];
  for (let i = 0; i < items.length; i++) {
    const topic = check.string([...path, i], items[i], '', false);
    const problem = topicFilterProblem(topic);
    if (problem !== undefined)
      check.report([...path, i], `${renderValue(topic)} ${problem}`, items[i]);
    topics.push(topic);
  }
  return topics;
}

function resolveSink(
  check: ConfigChecker,
  path: ConfigPath,
  raw: unknown,
  mqttClientId: string,
): SinkSection {
  const peeked = peekSinkType(raw);
  if (peeked === 'file') return resolveFileSink(check, path, raw);
  if (peeked === 'nats') return resolveNatsSink(check, path, raw);
  if (peeked === 'mqtt') return resolveMqttSink(check, path, raw, mqttClientId);
  return resolveHttpSink(check, path, raw);
}

function resolveHttpSink(check: ConfigChecker, path: ConfigPath, raw: unknown): HttpSinkConfig {
  const at = (...keys: string[]): ConfigPath => [...path, ...keys];
  const s = check.section(path, raw, SINK_KEYS);
  // Reports a type that is none of SINK_TYPES; file and nats were dispatched before.
  check.choice(at('type'), s.type, 'http', SINK_TYPES, 'a sink type');
  const url = check.string(at('url'), s.url, DEFAULT_HTTP_SINK.url).trim();
  if (!isHttpUrl(url)) {
    check.report(
      at('url'),
      `${renderValue(url)} is not an HTTP URL (expected http:// or https://)`,
      s.url,
    );
  }
  const headersRaw = check.record(at('headers'), s.headers, 'header names to values');
  const headers: Record<string, string> = {};
  for (const [key, value] of Object.entries(headersRaw)) {
    headers[key] = check.string([...at('headers'), key], value, '', false);
  }
  const batching = resolveBatching(check, path, s, DEFAULT_HTTP_SINK);
  return {
    type: 'http',
    url,
    format: check.choice(
      at('format'),
      s.format,
      DEFAULT_HTTP_SINK.format,
      ['json', 'cbor'] as const,
      'a body format',
    ),
    maxRecords: batching.maxRecords,
    maxBytes: batching.maxBytes,
    lingerMs: batching.lingerMs,
    timeoutMs: check.int(at('timeoutMs'), s.timeoutMs, DEFAULT_HTTP_SINK.timeoutMs, {
      min: 1,
      unit: MS,
    }),
    headers,
    retry: batching.retry,
    breaker: resolveSinkBreaker(check, path, s.breaker),
  };
}

function isHttpUrl(url: string): boolean {
  try {
    const parsed = new URL(url);
    return (parsed.protocol === 'http:' || parsed.protocol === 'https:') && parsed.hostname !== '';
  } catch {
    return false;
  }
}
