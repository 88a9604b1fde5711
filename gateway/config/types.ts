/**
 * @module The shape of a resolved Sluice configuration: every field present, defaults filled.
 * The loader (`load.ts`) turns a YAML/JSON file plus environment overrides into this shape.
 */

/** TLS options for an MQTT connection or the HTTP API. Paths are read at start. */
export interface TlsConfig {
  /** PEM file of the CA to trust. @default undefined (system CAs) */
  ca?: string;
  /** PEM client certificate. @default undefined */
  cert?: string;
  /** PEM client key. @default undefined */
  key?: string;
  /** Verify the server's certificate. @default true */
  rejectUnauthorized: boolean;
}

/** Where events come from. */
export interface MqttConfig {
  /** Broker URL (mqtt://, mqtts://, ws://, wss://). Empty → the embedded broker. @default '' */
  url: string;
  /** Stable client id, so that a persistent session survives restarts. @default 'sluice-<hostname>' */
  clientId: string;
  /** 4 = MQTT 3.1.1, 5 = MQTT 5. The embedded broker speaks 3.1.1 only. @default 4 */
  protocolVersion: 4 | 5;
  /** Start a clean session; false keeps a persistent session. @default false */
  clean: boolean;
  /** @default undefined */
  username?: string;
  /** @default undefined */
  password?: string;
  /** @default 30 */
  keepaliveSeconds: number;
  /** MQTT 5 receive maximum: QoS 1/2 messages the broker may have in flight to Sluice. @default 1000 */
  receiveMaximum: number;
  /** @default 1000 */
  reconnectPeriodMs: number;
  /**
   * QoS 1/2 messages the broker sends before it waits for acknowledgements; Sluice cuts a batch
   * when it holds this many unacknowledged messages. Set it to the broker's window (Mosquitto
   * `max_inflight_messages`). 0 = automatic: 20 (Mosquitto's default) with an MQTT 3.1.1 broker,
   * `receiveMaximum` with MQTT 5, unlimited with the embedded broker.
   * @default 0
   */
  inflightWindow: number;
  /** @default undefined */
  tls?: TlsConfig;
  /** The embedded broker, used when `url` is empty. */
  embedded: {
    /** @default '127.0.0.1' */
    host: string;
    /** @default 1883 */
    port: number;
  };
}

/** One rule in a pipeline's chain. */
export interface RuleConfig {
  /** Name shown in logs and metrics. @default the module file's base name */
  name: string;
  /** Path to a .wasm file, `store:<name>[@<version>]` for an uploaded rule, or the name of a built-in example rule (`BUILTIN_RULES`). */
  module: string;
  /** Rule parameters, passed to the rule's `init` as CBOR. @default {} */
  config: Record<string, unknown>;
  /**
   * Fuel per call (function entries + loop iterations): the module is metered when loaded (needs
   * binaryen) and traps once a call used it up. @default undefined (no metering)
   */
  fuel?: number;
}

/** Upstream HTTP sink. */
export interface HttpSinkConfig {
  type: 'http';
  /** @default 'http://127.0.0.1:8787/ingest' */
  url: string;
  /** Body encoding. @default 'json' */
  format: 'json' | 'cbor';
  /** A batch is posted when it holds this many records... @default 500 */
  maxRecords: number;
  /** ...or this many bytes... @default 1048576 */
  maxBytes: number;
  /** ...or when its first record is this old. @default 100 */
  lingerMs: number;
  /** Request timeout. @default 10000 */
  timeoutMs: number;
  /** Extra request headers. @default {} */
  headers: Record<string, string>;
  retry: {
    /** First backoff delay. @default 100 */
    initialDelayMs: number;
    /** Backoff ceiling. @default 10000 */
    maxDelayMs: number;
  };
  breaker: SinkBreakerConfig;
}

/** Local JSON-lines file sink, rotated by size. */
export interface FileSinkConfig {
  type: 'file';
  /** The file; '' → `<dataDir>/out/<pipeline name>.jsonl`. @default '' */
  path: string;
  /** Rotate before a write would take the file past this size. @default 67108864 (64 MiB) */
  maxFileBytes: number;
  /** Rotated files kept (`<path>.1` newest). @default 5 */
  maxFiles: number;
  /** fsync each batch before accepting it. @default true */
  fsync: boolean;
  /** @default 1000 */
  maxRecords: number;
  /** @default 1048576 */
  maxBytes: number;
  /** @default 100 */
  lingerMs: number;
  retry: {
    /** @default 100 */
    initialDelayMs: number;
    /** @default 10000 */
    maxDelayMs: number;
  };
}

/** NATS JetStream sink: one message per record, `Nats-Msg-Id` = the record's id. */
export interface NatsSinkConfig {
  type: 'nats';
  /** @default ['nats://127.0.0.1:4222'] */
  servers: string[];
  /** `{output}` and `{key}` are replaced. A stream must capture it. @default 'sluice.{output}.{key}' */
  subject: string;
  /** How long to wait for a batch's acknowledgements. @default 10000 */
  timeoutMs: number;
  /** @default undefined */
  user?: string;
  /** @default undefined */
  pass?: string;
  /** @default 500 */
  maxRecords: number;
  /** @default 1048576 */
  maxBytes: number;
  /** @default 20 */
  lingerMs: number;
  retry: {
    /** @default 100 */
    initialDelayMs: number;
    /** @default 10000 */
    maxDelayMs: number;
  };
  breaker: SinkBreakerConfig;
}

/** MQTT sink: one QoS 1 message per record to another broker, acknowledged by PUBACK. */
export interface MqttSinkConfig {
  type: 'mqtt';
  /** Broker URL (mqtt://, mqtts://, ws://, wss://). @default 'mqtt://127.0.0.1:1883' */
  url: string;
  /** @default 'sluice-sink-<hostname>-<pipeline>' */
  clientId: string;
  /** 5 adds the record id as the user property `sluice-id`. @default 5 */
  protocolVersion: 4 | 5;
  /** `{output}` and `{key}` are replaced. @default 'sluice/{output}/{key}' */
  topic: string;
  /** How long to wait for a batch's PUBACKs. @default 10000 */
  timeoutMs: number;
  /** @default undefined */
  username?: string;
  /** @default undefined */
  password?: string;
  /** @default 500 */
  maxRecords: number;
  /** @default 1048576 */
  maxBytes: number;
  /** @default 20 */
  lingerMs: number;
  retry: {
    /** @default 100 */
    initialDelayMs: number;
    /** @default 10000 */
    maxDelayMs: number;
  };
  breaker: SinkBreakerConfig;
}

/**
 * A sink's circuit breaker: after `failureThreshold` consecutive failed attempts no request goes
 * upstream for a cool-down (from `cooldownMs`, doubling per consecutive opening up to
 * `maxCooldownMs`), then one probe.
 */
export interface SinkBreakerConfig {
  /** Consecutive failed attempts that open the breaker; 0 disables it. @default 5 */
  failureThreshold: number;
  /** The first cool-down. @default 1000 */
  cooldownMs: number;
  /** The longest cool-down. @default 30000 */
  maxCooldownMs: number;
}

/** Fields every sink has, whatever its type. */
export interface SinkCommonConfig {
  /**
   * Unique within the pipeline: names the sink's cursor in the spool, its stats and metrics, and
   * its dead letters (`rule: "sink:<name>"`).
   * @default the type (`http`), or `<type>-<index>` when the pipeline has several sinks of that type
   */
  name: string;
  /**
   * Most batches in flight to this sink at once (the adaptive drain grows towards it while
   * upstream keeps up); 1 sends one batch at a time and keeps the order of batches upstream.
   * The file sink always uses 1. @default 4
   */
  maxInFlight: number;
  /** A send (retries included) slower than this halves the batches in flight. @default 1000 */
  latencyTargetMs: number;
}

/** One sink of a pipeline: its type's section plus the common fields. */
export type SinkConfig = (HttpSinkConfig | FileSinkConfig | NatsSinkConfig | MqttSinkConfig) &
  SinkCommonConfig;

/** The durable disk spool of a pipeline (in `<dataDir>/spool/<pipeline name>`). */
export interface SpoolConfig {
  /** Spool output records on disk instead of the in-memory outbox. @default false */
  enabled: boolean;
  /** Most bytes of records not yet accepted upstream. @default 268435456 (256 MiB) */
  maxBytes: number;
  /** Size at which a segment file is closed and a new one started (≤ maxBytes / 4). @default 8388608 (8 MiB) */
  segmentBytes: number;
  /** Records older than this are dropped (counted) before they are sent; 0 = never. @default 0 */
  maxAgeMs: number;
  /** fsync each group commit (`always`), every `fsyncIntervalMs` (`interval`), or never. @default 'always' */
  fsync: 'always' | 'interval' | 'never';
  /** Period of `fsync: interval`. @default 1000 */
  fsyncIntervalMs: number;
  /** At the byte budget: `block` ingest (backpressure) or `drop-oldest` records (counted). @default 'block' */
  onFull: 'block' | 'drop-oldest';
}

/** Topic filters → chain of rules → sink. */
export interface PipelineConfig {
  /** @default 'default' */
  name: string;
  /** MQTT topic filters (wildcards allowed). @default ['sensors/+/reading'] */
  topics: string[];
  /** Subscription QoS. @default 1 */
  qos: 0 | 1 | 2;
  /** Topic level (0-based) that holds the device key; -1 → the whole topic. @default 1 */
  keyLevel: number;
  /** Payload format hint passed to rules. @default 'json' */
  format: 'json' | 'cbor' | 'unknown';
  /** Rules, applied in order. @default threshold → window-stats */
  rules: RuleConfig[];
  /**
   * Where the outputs go: every sink gets every record, each from its own cursor (`sink:` in
   * the file is the one-sink shorthand of `sinks:`). @default one HTTP sink
   */
  sinks: SinkConfig[];
  /** The first of `sinks` (the same object). */
  sink: SinkConfig;
  /** Topic for `device` outputs; `{key}` is replaced by the record's key. @default 'devices/{key}/commands' */
  commandTopic: string;
  /** Batching of events into one rule call. */
  batch: {
    /** @default 500 */
    maxEvents: number;
    /** @default 1048576 */
    maxBytes: number;
    /** @default 5 */
    lingerMs: number;
  };
  /** Rule `tick` interval when no events arrive. @default 1000 */
  tickIntervalMs: number;
  /** Output records held in memory for the sink before ingest pauses. @default 10000 */
  outboxMaxRecords: number;
  /** The disk spool (replaces the in-memory outbox when enabled). */
  spool: SpoolConfig;
  /** The rules on worker threads, partitioned by device key (off by default). */
  workers: WorkersConfig;
}

/** A pipeline's rule worker pool (`gateway/partition`). */
export interface WorkersConfig {
  /** Worker threads running the rules; 0 = on the gateway thread. @default 0 */
  count: number;
  /** Time budget of one call into a worker's rules (a batch, a tick); past it the worker is replaced and the batch's events dead-lettered (`RULE_TIMEOUT`). @default 1000 */
  ruleTimeoutMs: number;
}

/** The HTTP API (rule lifecycle). */
export interface ApiConfig {
  /** Start the API. Off unless asked for: it listens on the network and controls the rules. @default false */
  enabled: boolean;
  /** Address to listen on. @default '127.0.0.1' */
  host: string;
  /** Port to listen on; 0 picks a free port. @default 8686 */
  port: number;
  /**
   * Bearer token every route but `/healthz` requires. Unset → one is generated on the first
   * start and kept in `<dataDir>/api-token`. @default undefined
   */
  token?: string;
  /** Largest request body accepted (a rule upload). @default 16777216 (16 MiB) */
  maxBodyBytes: number;
  /** HTTPS when both are set: PEM certificate and key files. @default undefined (plain HTTP) */
  tls?: { cert: string; key: string };
  /**
   * Ed25519 public key (32 raw bytes, base64): uploads must carry a valid signature over the
   * module's SHA-256 (`sluice rules keygen|sign`). @default undefined (unsigned uploads accepted)
   */
  signingKey?: string;
}

export interface Config {
  /** Directory for the gateway's files. @default './.sluice' */
  dataDir: string;
  mqtt: MqttConfig;
  pipelines: PipelineConfig[];
  deadLetter: {
    /** JSON-lines file for events that could not be processed. @default '<dataDir>/dead-letter.jsonl' */
    path: string;
  };
  limits: {
    /** Largest memory a rule instance may declare (its maximum). @default 67108864 (64 MiB) */
    ruleMemoryBytes: number;
    /** Largest rule module accepted. @default 8388608 (8 MiB) */
    ruleModuleBytes: number;
    /** How long the dry run of an uploaded rule's `init` may take. @default 1000 */
    ruleInitTimeoutMs: number;
  };
  api: ApiConfig;
  /** How long a shutdown may take to process, flush and send what was received. @default 10000 */
  shutdownTimeoutMs: number;
  log: {
    /** @default 'info' */
    level: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'silent';
  };
}
