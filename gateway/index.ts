/**
 * @module The public names of the gateway: what `sluice start` runs, usable from code
 * (`import { Gateway, loadConfig } from 'sluice/gateway'`).
 */

export { SluiceError } from '../runtime/index.js';
export { Gateway } from './gateway.js';
export type { GatewayOptions, GatewayStats, PipelineStats } from './gateway.js';
export {
  loadConfig,
  resolveConfig,
  parseConfigText,
  ConfigError,
  ConfigFileError,
  ENV_PREFIX,
  ENV_SHORTCUTS,
} from './config/index.js';
export type {
  Config,
  ConfigProblem,
  HttpSinkConfig,
  MqttConfig,
  PipelineConfig,
  ResolveConfigOptions,
  RuleConfig,
  SinkConfig,
  TlsConfig,
} from './config/index.js';
export { createLogger } from './log.js';
export type { Logger, LogLevel } from './log.js';
export { EmbeddedBroker } from './broker/embedded-broker.js';
export type { EmbeddedBrokerOptions } from './broker/embedded-broker.js';
export { BrokerPortInUseError, BrokerStartError } from './broker/errors.js';
export { IngestConnectError, IngestSubscribeError } from './ingest/errors.js';
export { RuleLoadError } from './pipeline/errors.js';
export { MemoryOutbox } from './outbox/memory-outbox.js';
export type { MemoryOutboxOptions } from './outbox/memory-outbox.js';
export type { Outbox, OutboxBatch } from './outbox/outbox.js';
export { HttpSink } from './sinks/http-sink.js';
export type { HttpSinkOptions } from './sinks/http-sink.js';
export type { Sink, SinkBatching } from './sinks/sink.js';
export { SinkRejectedError } from './sinks/errors.js';
export { DeadLetterFile } from './dead-letter/dead-letter-file.js';
export type { DeadLetter, DeadLetterFileOptions } from './dead-letter/dead-letter-file.js';
export { DeadLetterWriteError } from './dead-letter/errors.js';
export { runSimulator, resolveSimulatorOptions } from './simulator/index.js';
export type { SimulatorOptions, SimulatorResult, PublishedMessage } from './simulator/index.js';
export { startReceiver } from './demo/receiver.js';
export type { Receiver, ReceiverOptions, ReceivedBatch } from './demo/receiver.js';
