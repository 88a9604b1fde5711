/**
 * @module The public names of the gateway: what `sluice start` runs, usable from code
 * (`import { Gateway, loadConfig } from 'sluice/gateway'`).
 */

export { SluiceError } from '../runtime/index.js';
export { Gateway } from './gateway.js';
export type {
  GatewayOptions,
  GatewayStats,
  PipelineStats,
  SinkStats,
  SpoolStats,
} from './gateway.js';
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
  SpoolConfig,
  WorkersConfig,
  FileSinkConfig,
  NatsSinkConfig,
  MqttSinkConfig,
  TlsConfig,
} from './config/index.js';
export { createLogger } from './log.js';
export type { Logger, LogLevel } from './log.js';
export { EmbeddedBroker } from './broker/embedded-broker.js';
export type { EmbeddedBrokerOptions } from './broker/embedded-broker.js';
export { BrokerPortInUseError, BrokerStartError } from './broker/errors.js';
export { IngestConnectError, IngestSubscribeError } from './ingest/errors.js';
export { RuleLoadError } from './pipeline/errors.js';
export { RuleStats, RULE_LATENCY_SAMPLES } from './pipeline/rule-stats.js';
export { createGatewayMetrics, RULE_LATENCY_QUANTILES } from './metrics/gateway-metrics.js';
export type { GatewayMetricsSources } from './metrics/gateway-metrics.js';
export { MemoryOutbox } from './outbox/memory-outbox.js';
export type { MemoryOutboxOptions } from './outbox/memory-outbox.js';
export type { Outbox, OutboxBatch } from './outbox/outbox.js';
export { Spool } from './spool/spool.js';
export { resolveSpoolOptions, DEFAULT_SPOOL } from './spool/spool-options.js';
export type { SpoolOptions, SpoolFsync, SpoolFullPolicy } from './spool/spool-options.js';
export { SpoolOpenError, SpoolOptionsError, SpoolWriteError } from './spool/errors.js';
export type {
  CheckpointCapture,
  CheckpointSource,
  RestoredCheckpoint,
} from './spool/spool-state.js';
export { FileSink } from './sinks/file-sink.js';
export type { FileSinkOptions } from './sinks/file-sink.js';
export { NatsSink } from './sinks/nats-sink.js';
export type { NatsSinkOptions } from './sinks/nats-sink.js';
export { MqttSink } from './sinks/mqtt-sink.js';
export type { MqttSinkOptions } from './sinks/mqtt-sink.js';
export { createSink } from './sinks/create-sink.js';
export { HttpSink } from './sinks/http-sink.js';
export type { HttpSinkOptions } from './sinks/http-sink.js';
export type { Sink, SinkBatching } from './sinks/sink.js';
export { SinkRejectedError } from './sinks/errors.js';
export { DeadLetterFile } from './dead-letter/dead-letter-file.js';
export type { DeadLetter, DeadLetterFileOptions } from './dead-letter/dead-letter-file.js';
export { DeadLetterReadError, DeadLetterWriteError } from './dead-letter/errors.js';
export {
  isSinkDeadLetter,
  matchesFilter,
  parseDeadLetters,
  payloadBytes,
  readDeadLetters,
  removeDeadLetters,
  selectDeadLetters,
} from './dead-letter/dead-letter-store.js';
export type {
  DeadLetterFileContents,
  DeadLetterFilter,
  RemoveDeadLettersOptions,
  StoredDeadLetter,
} from './dead-letter/dead-letter-store.js';
export { runSimulator, resolveSimulatorOptions } from './simulator/index.js';
export type { SimulatorOptions, SimulatorResult, PublishedMessage } from './simulator/index.js';
export { startReceiver } from './demo/receiver.js';
export type { Receiver, ReceiverOptions, ReceivedBatch } from './demo/receiver.js';
export { ApiServer } from './http/api-server.js';
export type { ApiServerOptions } from './http/api-server.js';
export {
  ApiBadRequestError,
  ApiBodyTooLargeError,
  ApiListenError,
  ApiPipelineNotFoundError,
  ApiRouteNotFoundError,
  ApiUnauthorizedError,
} from './http/errors.js';
export { AuditLog, RuleStore, validateUpload } from './rule-store/index.js';
export type { AuditEntry, RuleVersion, StoredRule, UploadLimits } from './rule-store/index.js';
export {
  RuleConfigInvalidError,
  RuleDryRunError,
  RuleNameInvalidError,
  RuleNotFoundError,
  RuleStoreCorruptError,
  RuleVersionInUseError,
  RuleVersionNotFoundError,
} from './rule-store/index.js';
export type { ApiConfig } from './config/types.js';
