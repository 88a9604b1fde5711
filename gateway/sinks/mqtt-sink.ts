/**
 * @module `MqttSink`: publishes each output record to another MQTT broker (a cloud broker) at
 * QoS 1 and resolves a batch once every record's PUBACK arrived. The message body is the record
 * as JSON (`{"id","key","time","output","value"}`); the topic is built from the record's output
 * and key; with MQTT 5 the record id also travels as the user property `sluice-id` so upstream
 * can de-duplicate without parsing. Nothing is published while the connection is down (the
 * attempt fails and is retried with backoff), so MQTT.js's offline queue never holds records
 * the sink has given up on.
 */
import { connect } from '../mqtt-library.js';
import type { IClientOptions, MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { pino } from 'pino';
import { FrameReader } from '../../runtime/index.js';
import type { OutboxBatch } from '../outbox/outbox.js';
import { sendWithRetries } from './backoff.js';
import { recordRoutes } from './record-routes.js';
import { CircuitBreaker, type CircuitBreakerOptions } from './circuit-breaker.js';
import { JsonBodyEncoder } from './json-body.js';
import type { Sink, SinkBatching } from './sink.js';

/** Options of an {@link MqttSink}. */
export interface MqttSinkOptions {
  /** Broker URL (mqtt://, mqtts://, ws://, wss://). */
  url: string;
  /** @default 'sluice-sink-<random>' */
  clientId?: string;
  /** 4 = MQTT 3.1.1, 5 = MQTT 5 (adds the `sluice-id` user property). @default 5 */
  protocolVersion?: 4 | 5;
  /** `{output}` and `{key}` are replaced (`/`, `+` and `#` in them become `_`). @default 'sluice/{output}/{key}' */
  topic?: string;
  /** How long to wait for a batch's PUBACKs. @default 10000 */
  timeoutMs?: number;
  /** @default undefined */
  username?: string;
  /** @default undefined */
  password?: string;
  /** @default 500 */
  maxRecords?: number;
  /** @default 1048576 */
  maxBytes?: number;
  /** @default 20 */
  lingerMs?: number;
  /** @default 100 */
  initialDelayMs?: number;
  /** @default 10000 */
  maxDelayMs?: number;
  /** Delay between reconnection attempts. @default 1000 */
  reconnectPeriodMs?: number;
  /** The circuit breaker (see circuit-breaker.ts). @default its defaults */
  breaker?: CircuitBreakerOptions;
  /** @default a silent logger */
  logger?: Logger;
}

/** A {@link Sink} publishing to an MQTT broker at QoS 1. */
export class MqttSink implements Sink {
  readonly #url: string;
  readonly #clientOptions: IClientOptions;
  readonly #topic: string;
  readonly #v5: boolean;
  readonly #timeoutMs: number;
  readonly #initialDelayMs: number;
  readonly #maxDelayMs: number;
  readonly #batching: SinkBatching;
  readonly #logger: Logger;
  readonly #json = new JsonBodyEncoder();
  readonly #reader = new FrameReader();
  readonly #closed = new AbortController();
  #client: MqttClient | undefined;
  #failures = 0;
  /** Guards the attempts; in the stats. */
  readonly breaker: CircuitBreaker;

  constructor(options: MqttSinkOptions) {
    this.#url = options.url;
    this.#v5 = (options.protocolVersion ?? 5) === 5;
    this.#clientOptions = {
      clientId: options.clientId ?? `sluice-sink-${Math.random().toString(16).slice(2, 10)}`,
      protocolVersion: this.#v5 ? 5 : 4,
      clean: true,
      reconnectPeriod: options.reconnectPeriodMs ?? 1000,
      connectTimeout: options.timeoutMs ?? 10_000,
      ...(options.username === undefined ? {} : { username: options.username }),
      ...(options.password === undefined ? {} : { password: options.password }),
    };
    this.#topic = options.topic ?? 'sluice/{output}/{key}';
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#initialDelayMs = options.initialDelayMs ?? 100;
    this.#maxDelayMs = options.maxDelayMs ?? 10_000;
    this.#batching = {
      maxRecords: options.maxRecords ?? 500,
      maxBytes: options.maxBytes ?? 1_048_576,
      lingerMs: options.lingerMs ?? 20,
    };
    this.#logger = options.logger ?? pino({ level: 'silent' });
    this.breaker = new CircuitBreaker({ ...options.breaker, name: 'mqtt', logger: this.#logger });
  }

  get batching(): SinkBatching {
    return this.#batching;
  }

  /** Batch attempts that failed (and were retried). */
  get failures(): number {
    return this.#failures;
  }

  async send(batch: OutboxBatch, signal?: AbortSignal): Promise<void> {
    const lines = this.#json.encodeLines(batch.frame);
    const { names: topics, ids } = recordRoutes(
      this.#reader.reset(batch.frame),
      this.#topic,
      level,
    );
    const stop =
      signal === undefined ? this.#closed.signal : AbortSignal.any([signal, this.#closed.signal]);
    await sendWithRetries(() => this.#publish(topics, ids, lines, stop), {
      breaker: this.breaker,
      logger: this.#logger,
      initialDelayMs: this.#initialDelayMs,
      maxDelayMs: this.#maxDelayMs,
      records: batch.count,
      what: 'publishing a batch to the MQTT sink',
      stop,
      onFailure: () => this.#failures++,
    });
  }

  async #publish(
    topics: string[],
    ids: string[],
    lines: Uint8Array,
    stop: AbortSignal,
  ): Promise<void> {
    this.#client ??= connect(this.#url, this.#clientOptions).on('error', (error) =>
      this.#logger.debug({ err: error }, 'MQTT sink connection error'),
    );
    const client = this.#client;
    if (!client.connected) throw new Error(`not connected to ${this.#url}`);
    const acks: Promise<unknown>[] = [];
    let start = 0;
    for (let i = 0; i < topics.length; i++) {
      const end = lines.indexOf(0x0a, start);
      acks.push(
        client.publishAsync(
          topics[i] as string,
          Buffer.from(lines.buffer, lines.byteOffset + start, end - start),
          this.#v5
            ? { qos: 1, properties: { userProperties: { 'sluice-id': ids[i] as string } } }
            : { qos: 1 },
        ),
      );
      start = end + 1;
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no PUBACK within ${this.#timeoutMs} ms`)),
        this.#timeoutMs,
      );
    });
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(stop.reason);
      stop.addEventListener('abort', onAbort, { once: true });
    });
    try {
      await Promise.race([Promise.all(acks), expired, aborted]);
    } finally {
      clearTimeout(timer);
      if (onAbort !== undefined) stop.removeEventListener('abort', onAbort);
      for (const ack of acks) ack.catch(() => undefined);
    }
  }

  closing(): void {
    // The connection closes in close().
  }

  async close(): Promise<void> {
    this.#closed.abort(new DOMException('the sink was closed', 'AbortError'));
    const client = this.#client;
    this.#client = undefined;
    await client?.endAsync(true).catch(() => undefined);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/** A topic level: no separators or wildcards (they would change the topic's shape). */
function level(text: string): string {
  return text === '' ? '_' : text.replace(/[/+#]/g, '_');
}
