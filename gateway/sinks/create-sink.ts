/**
 * @module Builds a pipeline's {@link Sink} from its resolved `sink` section.
 */
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { PipelineConfig, SinkConfig } from '../config/types.js';
import { FileSink } from './file-sink.js';
import { HttpSink, httpSinkOptionsFromConfig } from './http-sink.js';
import { MqttSink } from './mqtt-sink.js';
import { NatsSink } from './nats-sink.js';
import type { Sink } from './sink.js';

/**
 * The sink `config` of `pipeline` (`dataDir` places a file sink without a path:
 * `<dataDir>/out/<pipeline>.jsonl`, or `<pipeline>.<sink name>.jsonl` when the name is not the
 * type).
 */
export function createSink(
  pipeline: PipelineConfig,
  config: SinkConfig,
  dataDir: string,
  logger: Logger,
): Sink {
  const log = logger.child({ sink: config.name });
  switch (config.type) {
    case 'http':
      return new HttpSink(httpSinkOptionsFromConfig(config, log));
    case 'file':
      return new FileSink({
        path:
          config.path === ''
            ? join(
                dataDir,
                'out',
                config.name === 'file'
                  ? `${pipeline.name}.jsonl`
                  : `${pipeline.name}.${config.name}.jsonl`,
              )
            : config.path,
        maxFileBytes: config.maxFileBytes,
        maxFiles: config.maxFiles,
        fsync: config.fsync,
        maxRecords: config.maxRecords,
        maxBytes: config.maxBytes,
        lingerMs: config.lingerMs,
        initialDelayMs: config.retry.initialDelayMs,
        maxDelayMs: config.retry.maxDelayMs,
        logger: log,
      });
    case 'nats':
      return new NatsSink({
        servers: config.servers,
        subject: config.subject,
        // Ids are unique per gateway run and pipeline: keep pipelines apart in one stream.
        msgIdPrefix: `${pipeline.name}-`,
        timeoutMs: config.timeoutMs,
        maxRecords: config.maxRecords,
        maxBytes: config.maxBytes,
        lingerMs: config.lingerMs,
        initialDelayMs: config.retry.initialDelayMs,
        maxDelayMs: config.retry.maxDelayMs,
        breaker: { ...config.breaker },
        ...(config.user === undefined ? {} : { user: config.user }),
        ...(config.pass === undefined ? {} : { pass: config.pass }),
        logger: log,
      });
    case 'mqtt':
      return new MqttSink({
        url: config.url,
        clientId: config.clientId,
        protocolVersion: config.protocolVersion,
        topic: config.topic,
        timeoutMs: config.timeoutMs,
        maxRecords: config.maxRecords,
        maxBytes: config.maxBytes,
        lingerMs: config.lingerMs,
        initialDelayMs: config.retry.initialDelayMs,
        maxDelayMs: config.retry.maxDelayMs,
        breaker: { ...config.breaker },
        ...(config.username === undefined ? {} : { username: config.username }),
        ...(config.password === undefined ? {} : { password: config.password }),
        logger: log,
      });
  }
}
