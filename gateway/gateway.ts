/**
 * @module The `Gateway`: wires a resolved configuration into running parts — the embedded broker
 * (when no `mqtt.url` is set), MQTT ingest, one pipeline per configured pipeline (batches → rule
 * chain → bounded outbox → one forwarder per sink), and the dead-letter file — and takes them down in
 * order on `close()`. This is what `sluice start` runs.
 */
import type { Logger } from 'pino';
import { pino } from 'pino';
import { EmbeddedBroker } from './broker/embedded-broker.js';
import type { Config } from './config/types.js';
import { DeadLetterFile } from './dead-letter/dead-letter-file.js';
import { AckGate } from './ingest/ack-gate.js';
import type { IngestTarget } from './ingest/ingest-target.js';
import { MqttIngest } from './ingest/mqtt-ingest.js';
import type { IngestSubscription } from './ingest/mqtt-connection.js';
import { TopicRouter } from './ingest/topic-router.js';
import { MemoryOutbox } from './outbox/memory-outbox.js';
import type { Outbox } from './outbox/outbox.js';
import { join } from 'node:path';
import { Spool } from './spool/spool.js';
import { Counters } from './pipeline/counters.js';
import { collectStats, type GatewayStats, type PipelineParts } from './gateway-stats.js';
import { EventIds } from './pipeline/event-ids.js';
import { Pipeline } from './pipeline/pipeline.js';
import { compileRules, createRuleInstances, pipelineModules } from './pipeline/rule-loader.js';
import { restoreRuleStates, restoreWorkerRules } from './pipeline/rule-checkpoint.js';
import { PoolChainRunner } from './pipeline/chain-runner.js';
import { RuleLoadError } from './pipeline/errors.js';
import type { PartitionFigures } from './partition/index.js';
import type { ApiServer } from './http/api-server.js';
import type { Registry } from 'prom-client';
import { Forwarder } from './sinks/forwarder.js';
import { createSink } from './sinks/create-sink.js';

export type { GatewayStats, PipelineStats, SinkStats, SpoolStats } from './gateway-stats.js';

/** Options of {@link Gateway.start}. */
export interface GatewayOptions {
  /** @default a silent pino logger */
  logger?: Logger;
  /** Overrides `config.mqtt.inflightWindow`. @default the configured window */
  inflightLimit?: number;
  /** Overrides `config.shutdownTimeoutMs`. @default the configured timeout */
  closeTimeoutMs?: number;
  /** How long `start()` waits for the first connection to the broker. @default 30000 */
  connectTimeoutMs?: number;
  /**
   * The rule worker's entry module, for pipelines with `workers.count` > 0. Needed only when the
   * gateway does not run from `dist/` (a bundle, or TypeScript sources).
   * @default `dist/gateway/partition/partition-worker.js`
   */
  workerEntry?: URL;
  /**
   * Called once when the API generated its token on this start (no `api.token`, no token file
   * yet), so that it can be shown to the operator. @default log the token file's path
   */
  onApiTokenGenerated?: (token: string, file: string) => void;
}

/** What a started gateway is made of. */
interface GatewayParts {
  logger: Logger;
  counters: Counters;
  parts: PipelineParts[];
  ingest: MqttIngest;
  gate: AckGate;
  deadLetters: DeadLetterFile;
  broker: EmbeddedBroker | undefined;
  closeTimeoutMs: number;
  mqttUrl: string;
  api: ApiServer | undefined;
  metrics: Registry | undefined;
}

/** A running Sluice gateway. */
export class Gateway {
  readonly #logger: Logger;
  readonly #counters: Counters;
  readonly #parts: PipelineParts[];
  readonly #ingest: MqttIngest;
  readonly #gate: AckGate;
  readonly #deadLetters: DeadLetterFile;
  readonly #broker: EmbeddedBroker | undefined;
  readonly #closeTimeoutMs: number;
  readonly #mqttUrl: string;
  readonly #api: ApiServer | undefined;
  readonly #metrics: Registry | undefined;
  #closing: Promise<void> | undefined;

  private constructor(parts: GatewayParts) {
    this.#logger = parts.logger;
    this.#counters = parts.counters;
    this.#parts = parts.parts;
    this.#ingest = parts.ingest;
    this.#gate = parts.gate;
    this.#deadLetters = parts.deadLetters;
    this.#broker = parts.broker;
    this.#closeTimeoutMs = parts.closeTimeoutMs;
    this.#mqttUrl = parts.mqttUrl;
    this.#api = parts.api;
    this.#metrics = parts.metrics;
  }

  /**
   * Starts everything and resolves once ingest is connected and subscribed.
   * @throws ConfigError (MQTT 5 with the embedded broker), BrokerPortInUseError,
   *   RuleLoadError, DeadLetterWriteError, IngestConnectError, IngestSubscribeError.
   */
  static async start(config: Config, options: GatewayOptions = {}): Promise<Gateway> {
    const logger = options.logger ?? pino({ level: 'silent' });
    const cleanup: (() => Promise<void>)[] = [];
    try {
      let broker: EmbeddedBroker | undefined;
      let url = config.mqtt.url;
      if (url === '') {
        broker = await EmbeddedBroker.start({
          host: config.mqtt.embedded.host,
          port: config.mqtt.embedded.port,
          protocolVersion: config.mqtt.protocolVersion,
          logger: logger.child({ component: 'broker' }),
        });
        cleanup.push(() => (broker as EmbeddedBroker).close());
        url = broker.url;
      }
      const modules = await compileRules(config);
      const deadLetters = await DeadLetterFile.open(config.deadLetter.path, { logger });
      cleanup.push(() => deadLetters.close());

      const counters = new Counters();
      const gate = new AckGate();
      const ids = new EventIds();
      // Pipelines and ingest refer to each other: ingest feeds the pipelines, which publish
      // commands through it and tell it when they have room again (only once it exists).
      const publishCommand = (topic: string, payload: Uint8Array): void =>
        ingest.publish(topic, payload);
      const onRoom = (): void => ingest.resume();

      // Identities kept for recognising redeliveries: the broker's in-flight window, or the
      // whole packet id space when it is not configured.
      const identityWindow =
        config.mqtt.inflightWindow > 0 ? Math.min(config.mqtt.inflightWindow, 65_535) : 65_535;
      const spools: (Spool | undefined)[] = [];
      cleanup.push(async () => {
        for (const spool of spools) await spool?.shutdown();
      });
      for (const p of config.pipelines) {
        spools.push(
          p.spool.enabled
            ? await Spool.open({
                dir: join(config.dataDir, 'spool', p.name),
                maxBytes: p.spool.maxBytes,
                segmentBytes: p.spool.segmentBytes,
                maxAgeMs: p.spool.maxAgeMs,
                fsync: p.spool.fsync,
                fsyncIntervalMs: p.spool.fsyncIntervalMs,
                onFull: p.spool.onFull,
                identityWindow,
                readers: p.sinks.map((sink) => sink.name),
                logger: logger.child({ pipeline: p.name, component: 'spool' }),
              })
            : undefined,
        );
      }

      // Pipelines with workers: their pools start first (in parallel; 36–97 ms per worker).
      const runners = await Promise.all(
        config.pipelines.map((p, index) =>
          p.workers.count === 0
            ? undefined
            : PoolChainRunner.start({
                config: p,
                modules: pipelineModules(index, p.rules, modules),
                deadLetters,
                counters,
                publishCommand,
                workerEntry: options.workerEntry,
                logger: logger.child({ pipeline: p.name, component: 'workers' }),
              }).then(
                async (runner) => {
                  // They resume from the spool's newest checkpoint, onto as many workers.
                  const log = logger.child({ pipeline: p.name });
                  await restoreWorkerRules(
                    runner,
                    p,
                    spools[index]?.restoredCheckpoint?.rules,
                    log,
                  );
                  return runner;
                },
                (error: unknown) => {
                  throw new RuleLoadError(
                    `pipelines[${index}].workers: the rule workers of "${p.name}" did not start: ${(error as Error).message}`,
                    { cause: error },
                  );
                },
              ),
        ),
      );
      cleanup.push(async () => {
        for (const runner of runners) await runner?.close();
      });

      const parts: PipelineParts[] = config.pipelines.map((pipelineConfig, index) => {
        const log = logger.child({ pipeline: pipelineConfig.name });
        const spool = spools[index];
        const outbox: Outbox =
          spool ??
          new MemoryOutbox({
            capacity: pipelineConfig.outboxMaxRecords,
            onHighWater: (depth) =>
              log.warn({ depth }, 'outbox full: upstream is slower than ingest; pausing'),
            onLowWater: (depth) => log.info({ depth }, 'outbox below low water: resuming'),
          });
        // One forwarder per sink, each reading the outbox through its own cursor.
        const forwarders = pipelineConfig.sinks.map(
          (sinkConfig) =>
            new Forwarder({
              pipeline: pipelineConfig.name,
              outbox,
              reader: outbox.reader(sinkConfig.name),
              sink: createSink(pipelineConfig, sinkConfig, config.dataDir, log),
              deadLetters,
              counters,
              sinkName: sinkConfig.name,
              drain: {
                maxInFlight: sinkConfig.maxInFlight,
                latencyTargetMs: sinkConfig.latencyTargetMs,
              },
              logger: log.child({ sink: sinkConfig.name }),
            }),
        );
        const runner = runners[index];
        // On the gateway thread, rules resume from the spool's newest checkpoint (a refused
        // state starts clean); rules on workers were restored above.
        const rules =
          runner === undefined
            ? createRuleInstances(index, pipelineConfig.rules, modules, log)
            : [];
        restoreRuleStates(rules, spool?.restoredCheckpoint?.rules, log);
        const pipeline = new Pipeline({
          config: pipelineConfig,
          rules,
          ...(runner === undefined ? {} : { runner }),
          ...(spool === undefined ? {} : { checkpoints: spool, identityWindow }),
          outbox,
          gate,
          ids,
          deadLetters,
          counters,
          publishCommand,
          onRoom,
          logger: log,
        });
        return { pipeline, outbox, spool, forwarders };
      });

      const router = new TopicRouter<IngestTarget>(
        config.pipelines.map((p, i) => ({
          filters: p.topics,
          keyLevel: p.keyLevel,
          target: (parts[i] as PipelineParts).pipeline,
        })),
      );
      const subscriptions = new Map<string, IngestSubscription>();
      for (const p of config.pipelines) {
        for (const filter of p.topics) {
          const qos = Math.max(subscriptions.get(filter)?.qos ?? 0, p.qos) as 0 | 1 | 2;
          subscriptions.set(filter, { filter, qos });
        }
      }
      for (const part of parts) for (const forwarder of part.forwarders) forwarder.start();
      cleanup.push(async () => {
        for (const part of parts) {
          await part.pipeline.close();
          for (const forwarder of part.forwarders) {
            await forwarder.drain(0);
            await forwarder.sink.close();
          }
        }
      });
      let api: ApiServer | undefined;
      let metrics: Registry | undefined;
      if (config.api.enabled) {
        // The API and its metrics registry (Hono, prom-client: ~25 MB resident together) load
        // only when the API is on.
        const [{ ApiServer }, { createGatewayMetrics }] = await Promise.all([
          import('./http/api-server.js'),
          import('./metrics/gateway-metrics.js'),
        ]);
        metrics = createGatewayMetrics({
          stats: () => collectStats(counters, parts, gate, deadLetters.size()),
          pipelines: parts.map((part) => part.pipeline),
          ...(runners.some((r) => r !== undefined)
            ? { partitions: (): PartitionFigures[] => runners.flatMap((r) => r?.partitions ?? []) }
            : {}),
        });
        api = await ApiServer.start(config, {
          logger: logger.child({ component: 'api' }),
          pipelines: parts.map((part) => part.pipeline),
          metrics,
          ...(options.onApiTokenGenerated === undefined
            ? {}
            : { onTokenGenerated: options.onApiTokenGenerated }),
        });
        cleanup.push(() => (api as ApiServer).close());
      }
      const configuredWindow =
        config.mqtt.inflightWindow > 0 ? config.mqtt.inflightWindow : undefined;
      const inflightLimit =
        options.inflightLimit ??
        configuredWindow ??
        (broker === undefined ? undefined : Number.POSITIVE_INFINITY);
      const ingest = MqttIngest.create({
        url,
        mqtt: config.mqtt,
        subscriptions: [...subscriptions.values()],
        router,
        targets: parts.map((part) => part.pipeline),
        gate,
        counters,
        ...(inflightLimit === undefined ? {} : { inflightLimit }),
        ...(options.connectTimeoutMs === undefined
          ? {}
          : { connectTimeoutMs: options.connectTimeoutMs }),
        logger: logger.child({ component: 'ingest' }),
      });
      await ingest.connect();
      for (const part of parts) part.pipeline.start();
      logger.info(
        {
          mqtt: url,
          pipelines: parts.map((part) => part.pipeline.name),
          inflightLimit: ingest.inflightLimit,
        },
        'gateway started',
      );
      return new Gateway({
        logger,
        counters,
        parts,
        ingest,
        gate,
        deadLetters,
        broker,
        closeTimeoutMs: options.closeTimeoutMs ?? config.shutdownTimeoutMs,
        mqttUrl: url,
        api,
        metrics,
      });
    } catch (error) {
      for (const step of cleanup.reverse()) await step().catch(() => undefined);
      throw error;
    }
  }

  /** The MQTT URL ingest is connected to (the embedded broker's when it runs). */
  get mqttUrl(): string {
    return this.#mqttUrl;
  }

  /** The API's base URL (`http://127.0.0.1:8686`), or undefined when `api.enabled` is false. */
  get apiUrl(): string | undefined {
    return this.#api?.url;
  }

  /** The counters and outbox depths now. */
  stats(): GatewayStats {
    return collectStats(this.#counters, this.#parts, this.#gate, this.#deadLetters.size());
  }

  /**
   * The gateway's Prometheus registry (served at `GET /metrics` by the API): gateway counters,
   * outbox and spool figures, per-rule series. `await gateway.metrics.metrics()` is the text.
   * Undefined when the API is off (`api.enabled: false`): nothing could serve it.
   */
  get metrics(): Registry | undefined {
    return this.#metrics;
  }

  /**
   * Stops reading from the broker, processes what was received, flushes every rule (open
   * windows are emitted), sends what the outboxes hold — all within `closeTimeoutMs` — then
   * disconnects and stops the embedded broker. Messages whose batches were not committed are
   * not acknowledged: the broker redelivers them on the persistent session. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    const started = Date.now();
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(), this.#closeTimeoutMs);
    try {
      await this.#api?.close();
      this.#ingest.stop();
      await Promise.all(this.#parts.map((part) => part.pipeline.finish(deadline.signal)));
      await this.#ingest.close();
      const remaining = Math.max(0, this.#closeTimeoutMs - (Date.now() - started));
      await Promise.all(
        this.#parts.flatMap((part) => part.forwarders.map((f) => f.drain(remaining))),
      );
    } finally {
      clearTimeout(timer);
      for (const part of this.#parts) {
        await part.pipeline.close();
        for (const forwarder of part.forwarders) await forwarder.sink.close();
        await part.spool?.shutdown();
      }
      await this.#deadLetters.close();
      await this.#broker?.close();
      this.#logger.info({ stats: this.stats() }, 'gateway closed');
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
