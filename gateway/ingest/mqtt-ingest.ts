/**
 * @module MQTT ingest: one MQTT.js client subscribed to every pipeline's topic filters, feeding
 * each message into the matching pipeline's batch from `handleMessage`.
 *
 * Backpressure: MQTT.js parses the next packet only after `handleMessage`'s callback (and, for
 * QoS 1/2, the ack write) completes (MQTT.js 5.16.0, `client.js` `connect()` `work()` loop). So
 * while a pipeline has room the callback runs at once; when it has none the callback is kept
 * and the socket is not read until room frees; the broker then holds the messages. Acks of
 * QoS 1/2 messages wait in the {@link AckGate} until their batch is committed, and batches are
 * cut as soon as the held acks reach the broker's in-flight window (`inflightLimit`), which would
 * otherwise stall the broker's flow to us until the linger timer fires.
 *
 * A redelivered QoS 1/2 message (DUP set) whose event the pipeline's restored checkpoint already
 * holds is acknowledged with the current batch but not processed again (`redeliveredSkipped`).
 *
 * A message goes to the first pipeline (in configuration order) whose filter matches its topic.
 */
import { connect } from '../mqtt-library.js';
import type { IPublishPacket, MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { pino } from 'pino';
import type { MqttConfig } from '../config/types.js';
import type { Counters } from '../pipeline/counters.js';
import { AckGate } from './ack-gate.js';
import type { AckGateClient } from './ack-gate.js';
import type { IngestTarget } from './ingest-target.js';
import { clientOptions, subscribe, waitForConnect } from './mqtt-connection.js';
import type { IngestSubscription } from './mqtt-connection.js';
import { PublishTap } from './publish-tap.js';
import type { PublishSink, TapClient } from './publish-tap.js';
import { TopicCache } from './topic-cache.js';
import type { Route, TopicRouter } from './topic-router.js';

const utf8 = new TextDecoder();

/** Options of {@link MqttIngest.create}. */
export interface MqttIngestOptions {
  /** The broker's URL (mqtt://, mqtts://, ws://, wss://). */
  url: string;
  /** The resolved `mqtt` configuration section (client id, session, credentials, TLS, timers). */
  mqtt: MqttConfig;
  subscriptions: readonly IngestSubscription[];
  router: TopicRouter<IngestTarget>;
  /** Every pipeline, for cutting batches when the in-flight window is full. */
  targets: readonly IngestTarget[];
  gate: AckGate;
  counters: Counters;
  /**
   * QoS 1/2 messages the broker sends before waiting for acks (Mosquitto
   * `max_inflight_messages`, MQTT 5 receive maximum): batches holding this many acks are cut.
   * @default 20 for MQTT 3.1.1, `mqtt.receiveMaximum` for MQTT 5
   */
  inflightLimit?: number;
  /** How long `connect` waits for the first connection. @default 30000 */
  connectTimeoutMs?: number;
  /** @default a silent logger */
  logger?: Logger;
}

/** Default in-flight window of MQTT 3.1.1 brokers (Mosquitto's `max_inflight_messages`). */
export const DEFAULT_INFLIGHT_LIMIT_V4 = 20;

/** The MQTT ingest of one gateway. */
export class MqttIngest {
  readonly #client: MqttClient;
  readonly #router: TopicRouter<IngestTarget>;
  readonly #topics: TopicCache<IngestTarget>;
  readonly #tap: PublishTap;
  readonly #targets: readonly IngestTarget[];
  readonly #gate: AckGate;
  readonly #counters: Counters;
  readonly #inflightLimit: number;
  readonly #logger: Logger;
  readonly #url: string;
  readonly #subscriptions: readonly IngestSubscription[];
  readonly #connectTimeoutMs: number;
  #stopped = false;
  #pendingPacket: IPublishPacket | undefined;
  #pendingRoute: Route<IngestTarget> | undefined;
  #pendingCallback: ((error?: Error) => void) | undefined;
  #pendingGeneration = 0;
  #parked: ((error?: Error) => void)[] = [];
  #warnedUnrouted = false;
  #closing: Promise<void> | undefined;

  private constructor(
    client: MqttClient,
    options: MqttIngestOptions,
    inflightLimit: number,
    logger: Logger,
  ) {
    this.#client = client;
    this.#router = options.router;
    this.#topics = new TopicCache(options.router);
    this.#tap = new PublishTap(this.#tapSink, options.mqtt.protocolVersion);
    this.#targets = options.targets;
    this.#gate = options.gate;
    this.#counters = options.counters;
    this.#inflightLimit = inflightLimit;
    this.#logger = logger;
    this.#url = options.url;
    this.#subscriptions = options.subscriptions;
    this.#connectTimeoutMs = options.connectTimeoutMs ?? 30_000;
  }

  /**
   * Creates the client (not connected yet) with its `handleMessage` hook and ack gate in place,
   * so that pipelines can be wired to `resume` and `publish` before any message arrives.
   */
  static create(options: MqttIngestOptions): MqttIngest {
    const logger = options.logger ?? pino({ level: 'silent' });
    const { mqtt } = options;
    const inflightLimit =
      options.inflightLimit ??
      (mqtt.protocolVersion === 5 ? mqtt.receiveMaximum : DEFAULT_INFLIGHT_LIMIT_V4);
    const client = connect(options.url, clientOptions(mqtt));
    const ingest = new MqttIngest(client, options, inflightLimit, logger);
    options.gate.attach(client as unknown as AckGateClient);
    ingest.#tap.attach(client as unknown as TapClient);
    client.handleMessage = ingest.#handleMessage;
    client.on('close', ingest.#onClose);
    client.on('connect', (connack) => {
      logger.info(
        { url: options.url, sessionPresent: connack.sessionPresent },
        'connected to the MQTT broker',
      );
    });
    client.on('offline', () =>
      logger.warn({ url: options.url }, 'MQTT broker unreachable; reconnecting'),
    );
    client.on('error', (error) =>
      logger.warn({ err: error, url: options.url }, 'MQTT client error'),
    );
    return ingest;
  }

  /**
   * Connects, subscribes every filter, and resolves once the broker granted the subscriptions.
   * Messages may flow into the pipelines before this resolves (a persistent session's queue).
   * @throws IngestConnectError when no connection is made within `connectTimeoutMs`, or the
   *   broker refuses the connection.
   * @throws IngestSubscribeError when the broker refuses a subscription.
   */
  async connect(): Promise<void> {
    const client = this.#client;
    client.connect();
    try {
      await waitForConnect(client, this.#url, this.#connectTimeoutMs);
      await subscribe(client, this.#subscriptions);
    } catch (error) {
      this.#stopped = true;
      await new Promise<void>((resolve) => client.end(true, {}, () => resolve()));
      throw error;
    }
  }

  /** Publishes a device command (QoS 1). MQTT.js queues it while disconnected. */
  publish(topic: string, payload: Uint8Array): void {
    this.#client.publish(
      topic,
      Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength),
      { qos: 1 },
    );
    this.#counters.commands++;
  }

  /** Resumes reading after a pipeline freed room (pass as the pipelines' room listener). */
  readonly resume = (): void => {
    this.#tap.resume();
    const packet = this.#pendingPacket;
    if (packet === undefined || this.#stopped) return;
    const route = this.#pendingRoute as Route<IngestTarget>;
    const callback = this.#pendingCallback as (error?: Error) => void;
    // A QoS 1/2 message from a dropped connection is redelivered by the broker: do not append it.
    const stale = packet.qos !== 0 && this.#pendingGeneration !== this.#gate.generation;
    if (!stale && !this.#offer(route, packet)) return;
    this.#pendingPacket = undefined;
    this.#pendingRoute = undefined;
    this.#pendingCallback = undefined;
    if (!stale && packet.qos !== 0 && this.#gate.held >= this.#inflightLimit) this.#cutHeld();
    callback();
  };

  /** Whether the client is connected. */
  get connected(): boolean {
    return this.#client.connected;
  }

  /** The in-flight limit in use. */
  get inflightLimit(): number {
    return this.#inflightLimit;
  }

  /**
   * Stops taking messages: from now on the socket is not read and nothing more is acknowledged
   * except batches already in the pipelines when they commit.
   */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#tap.stop();
    if (this.#pendingPacket !== undefined) {
      if (this.#pendingPacket.qos === 0) this.#dropQos0(this.#pendingPacket.topic);
      this.#pendingPacket = undefined;
      this.#pendingRoute = undefined;
      if (this.#pendingCallback !== undefined) this.#parked.push(this.#pendingCallback);
      this.#pendingCallback = undefined;
    }
  }

  /** Stops, then disconnects (no ack of unfinished batches is ever sent). Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    this.stop();
    const client = this.#client;
    // A polite DISCONNECT needs MQTT.js to see its in-flight publishes (device commands)
    // acknowledged, which cannot happen while the socket is not read: then close at once.
    const force = this.#parked.length > 0 || Object.keys(client.outgoing).length > 0;
    const ended = new Promise<void>((resolve) => client.end(force, {}, () => resolve()));
    // The socket may be paused (we stopped reading), so its 'close' may never come: destroy it.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), 1000);
    });
    if ((await Promise.race([ended, late])) === 'late') {
      client.stream?.destroy();
      await ended;
    }
    clearTimeout(timer);
    this.#parked = [];
    this.#logger.info({ url: this.#url }, 'disconnected from the MQTT broker');
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  readonly #handleMessage = (packet: IPublishPacket, callback: (error?: Error) => void): void => {
    const qos = packet.qos;
    if (qos !== 0) this.#gate.received(packet.messageId as number);
    if (this.#stopped) {
      // Not read, not acknowledged: a QoS 1/2 message is redelivered; a QoS 0 one is lost.
      if (qos === 0) this.#dropQos0(packet.topic);
      this.#parked.push(callback);
      return;
    }
    const route = this.#router.route(packet.topic);
    if (route === null) {
      this.#unrouted(packet.topic);
      callback();
      return;
    }
    if (!this.#offer(route, packet)) {
      this.#pendingPacket = packet;
      this.#pendingRoute = route;
      this.#pendingCallback = callback;
      this.#pendingGeneration = this.#gate.generation;
      return;
    }
    if (qos !== 0 && this.#gate.held >= this.#inflightLimit) this.#cutHeld();
    callback();
  };

  /** Hands the message to its pipeline; false when the pipeline has no room. */
  #offer(route: Route<IngestTarget>, packet: IPublishPacket): boolean {
    const payload = packet.payload as Buffer;
    const id = packet.messageId ?? 0;
    if (packet.dup && packet.qos !== 0 && route.target.redelivered(route.topic, payload, id)) {
      this.#counters.redeliveredSkipped++;
      return true;
    }
    if (!route.target.append(route.topic, route.key, payload, packet.qos, id, Date.now())) {
      return false;
    }
    this.#counters.received++;
    return true;
  }

  /** QoS 0/1 PUBLISH packets taken off the socket by the publish tap (the hot path). */
  readonly #tapSink: PublishSink = {
    publish: (chunk, topicStart, topicEnd, payloadStart, payloadEnd, qos, messageId, dup) => {
      const gate = this.#gate;
      if (qos !== 0) gate.received(messageId, true);
      if (this.#stopped) return false;
      const route = this.#topics.route(chunk, topicStart, topicEnd);
      if (route === null) {
        this.#unrouted(utf8.decode(chunk.subarray(topicStart, topicEnd)));
        if (qos !== 0) gate.ackNow(messageId);
        return true;
      }
      const holds = gate.holds;
      const payload = chunk.subarray(payloadStart, payloadEnd);
      if (dup && qos !== 0 && route.target.redelivered(route.topic, payload, messageId)) {
        this.#counters.redeliveredSkipped++;
        return true;
      }
      if (!route.target.append(route.topic, route.key, payload, qos, messageId, Date.now())) {
        return false;
      }
      this.#counters.received++;
      if (qos !== 0) {
        // Not held (dead-lettered on arrival): acknowledge at once, as MQTT.js would.
        if (gate.holds === holds) gate.ackNow(messageId);
        else if (gate.held >= this.#inflightLimit) this.#cutHeld();
      }
      return true;
    },
    abandoned: (qos) => {
      if (qos === 0) this.#dropQos0('(taken off the socket)');
    },
  };

  readonly #onClose = (): void => {
    this.#gate.connectionLost();
    // A QoS 1/2 message waiting for room came on the dropped connection: let it go (the broker
    // redelivers it) and let MQTT.js's old read loop finish; its ack is dropped by the gate.
    const packet = this.#pendingPacket;
    if (packet !== undefined && packet.qos !== 0 && !this.#stopped) {
      const callback = this.#pendingCallback as (error?: Error) => void;
      this.#pendingPacket = undefined;
      this.#pendingRoute = undefined;
      this.#pendingCallback = undefined;
      callback();
    }
  };

  #cutHeld(): void {
    const targets = this.#targets;
    for (let i = 0; i < targets.length; i++) (targets[i] as IngestTarget).cutHeld();
  }

  #unrouted(topic: string): void {
    this.#counters.unrouted++;
    if (this.#warnedUnrouted) return;
    this.#warnedUnrouted = true;
    this.#logger.warn(
      { topic },
      'message on a topic no pipeline matches (a subscription left in the persistent session?); ignored',
    );
  }

  #dropQos0(topic: string): void {
    this.#counters.qos0Dropped++;
    this.#logger.warn({ topic }, 'QoS 0 message dropped at shutdown');
  }
}
