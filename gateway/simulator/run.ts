/**
 * @module `runSimulator`: publishes the fleet's readings at a rate (or as fast as the broker
 * takes them) over one or more connections, and reports exactly what it published.
 *
 * Flow control: a connection takes messages while its socket buffer is under the high-water
 * mark and (QoS 1/2) fewer than `maxInflight` await acknowledgement; otherwise the run waits
 * for `drain` or an acknowledgement. Nothing is awaited per message.
 */

import { Connection } from './connection.js';
import { Fleet, readingOf, type InvalidKind } from './fleet.js';
import {
  resolveSimulatorOptions,
  type PublishedMessage,
  type ResolvedSimulatorOptions,
  type SimulatorOptions,
} from './options.js';

/** How long an interrupted run waits for acknowledgements of messages in flight. */
const SIGNAL_GRACE_MS = 3000;

/** Why a run stopped publishing. */
export type SimulatorStop = 'count' | 'duration' | 'signal';

/** What a simulator run did. */
export interface SimulatorResult {
  /** Messages handed to the connections. */
  published: number;
  /** Messages completed: written to the socket (QoS 0) or acknowledged by the broker (QoS 1/2). */
  sent: number;
  /** Messages whose publish failed (connection closed before completion). */
  failed: number;
  /** Messages neither completed nor failed when an interrupted run gave up waiting. */
  unconfirmed: number;
  /** Valid readings published. */
  valid: number;
  /** Invalid messages published, by kind. */
  invalid: Record<InvalidKind, number>;
  /** Payload bytes published. */
  bytes: number;
  /** From the first publish to the last completion. */
  elapsedMs: number;
  /** `sent` per second of `elapsedMs`. */
  rate: number;
  stoppedBy: SimulatorStop;
  /** The seed used (pass it back as `seed` to publish the same messages again). */
  seed: number | string;
  format: 'json' | 'cbor';
  qos: 0 | 1 | 2;
  devices: number;
  clients: number;
  /** Every message, in publish order, when `collect` was set. */
  messages?: PublishedMessage[];
}

/**
 * Runs the simulator until `count` messages, `durationMs`, or `signal` (whichever first; with
 * none of them it runs until `signal` aborts), waits for the in-flight messages and closes.
 * @throws SimulatorOptionsError for invalid options, SimulatorConnectError when a connection fails.
 */
export async function runSimulator(options: SimulatorOptions = {}): Promise<SimulatorResult> {
  const resolved = resolveSimulatorOptions(options);
  const fleet = new Fleet({
    devices: resolved.devices,
    devicePrefix: resolved.devicePrefix,
    topic: resolved.topic,
    format: resolved.format,
    invalidRatio: resolved.invalidRatio,
    invalidKinds: resolved.invalidKinds,
    seed: resolved.seed,
    startTs: resolved.startTs,
    tsStep: resolved.tsStep,
  });
  const run = new SimulatorRun(resolved, fleet);
  const connections: Connection[] = [];
  try {
    for (let i = 0; i < resolved.clients; i++) {
      connections.push(
        await Connection.open({
          url: resolved.url,
          clientId: `${resolved.clientIdPrefix}-${i}`,
          protocolVersion: resolved.protocolVersion,
          qos: resolved.qos,
          maxInflight: resolved.maxInflight,
          connectTimeoutMs: resolved.connectTimeoutMs,
          username: resolved.username,
          password: resolved.password,
          onReady: run.wake,
        }),
      );
    }
    return await run.run(connections);
  } finally {
    const force = options.signal?.aborted === true;
    await Promise.all(connections.map((connection) => connection.close(force)));
  }
}

/** One run's state; `wake` is handed to the connections. */
class SimulatorRun {
  readonly #options: ResolvedSimulatorOptions;
  readonly #fleet: Fleet;
  #connections: Connection[] = [];
  #published = 0;
  #valid = 0;
  readonly #invalid: Record<InvalidKind, number> = { range: 0, missing: 0, malformed: 0 };
  #bytes = 0;
  readonly #messages: PublishedMessage[] | undefined;
  #start = 0;
  #stoppedBy: SimulatorStop | undefined;
  #blocked = false;
  #timer: NodeJS.Timeout | undefined;
  #immediate: NodeJS.Immediate | undefined;
  #finish: (() => void) | undefined;

  constructor(options: ResolvedSimulatorOptions, fleet: Fleet) {
    this.#options = options;
    this.#fleet = fleet;
    this.#messages = options.collect ? [] : undefined;
  }

  /** A connection has room again (or reconnected): resume if the run was waiting for it. */
  readonly wake = (): void => {
    if (this.#blocked) {
      this.#blocked = false;
      this.#schedule(0);
    } else if (this.#stoppedBy !== undefined) {
      this.#checkDone();
    }
  };

  async run(connections: Connection[]): Promise<SimulatorResult> {
    this.#connections = connections;
    const options = this.#options;
    this.#start = performance.now();
    const done = new Promise<void>((resolve) => {
      this.#finish = resolve;
    });
    const onAbort = (): void => this.#stop('signal');
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const durationTimer =
      options.durationMs === undefined
        ? undefined
        : setTimeout(() => this.#stop('duration'), options.durationMs);
    if (options.signal?.aborted) this.#stop('signal');
    else this.#pump();
    try {
      await done;
    } finally {
      clearTimeout(durationTimer);
      options.signal?.removeEventListener('abort', onAbort);
    }
    return this.#result();
  }

  #pump = (): void => {
    this.#timer = undefined;
    this.#immediate = undefined;
    if (this.#stoppedBy !== undefined) return;
    const options = this.#options;
    const fleet = this.#fleet;
    const connections = this.#connections;
    const clients = connections.length;
    const count = options.count ?? Number.POSITIVE_INFINITY;
    const elapsed = performance.now() - this.#start;
    let budget =
      options.rate > 0 ? Math.floor((elapsed * options.rate) / 1000) - this.#published : 4096;
    if (budget <= 0) {
      this.#schedule(((this.#published + 1) * 1000) / options.rate - elapsed);
      return;
    }
    // Bound one turn so acknowledgements, timers and the abort signal get their turn.
    if (budget > 4096) budget = 4096;
    let now = Date.now();
    for (let i = 0; i < budget; i++) {
      if (this.#published >= count) {
        this.#stop('count');
        return;
      }
      const deviceIndex = fleet.deviceOf(this.#published);
      const connection = connections[deviceIndex % clients];
      if (connection === undefined) return;
      if (!connection.ready) {
        this.#blocked = true;
        return;
      }
      if ((i & 255) === 255) now = Date.now();
      const message = fleet.next(now);
      connection.publish(message.topic, message.payload);
      this.#published++;
      this.#bytes += message.payload.length;
      switch (message.kind) {
        case 'valid':
          this.#valid++;
          break;
        case 'range':
          this.#invalid.range++;
          break;
        case 'missing':
          this.#invalid.missing++;
          break;
        case 'malformed':
          this.#invalid.malformed++;
          break;
      }
      if (this.#messages !== undefined || options.onPublish !== undefined) {
        const published: PublishedMessage = {
          index: message.index,
          topic: message.topic,
          device: message.device,
          kind: message.kind,
          payload: message.payload,
          reading: readingOf(message),
          client: deviceIndex % clients,
        };
        this.#messages?.push(published);
        options.onPublish?.(published);
      }
    }
    if (this.#published >= count) this.#stop('count');
    else if (options.rate > 0)
      this.#schedule(
        ((this.#published + 1) * 1000) / options.rate - (performance.now() - this.#start),
      );
    else this.#schedule(0);
  };

  #schedule(delayMs: number): void {
    if (this.#timer !== undefined || this.#immediate !== undefined) return;
    if (delayMs < 1) this.#immediate = setImmediate(this.#pump);
    else this.#timer = setTimeout(this.#pump, Math.min(delayMs, 50));
  }

  #stop(reason: SimulatorStop): void {
    if (this.#stoppedBy !== undefined) return;
    this.#stoppedBy = reason;
    clearTimeout(this.#timer);
    if (this.#immediate !== undefined) clearImmediate(this.#immediate);
    if (reason === 'signal') {
      // Interrupted: wait a little for acknowledgements, not for a broker that may be gone.
      setTimeout(() => this.#checkDone(true), SIGNAL_GRACE_MS).unref();
    }
    this.#checkDone();
  }

  #checkDone(force = false): void {
    if (!force) for (const connection of this.#connections) if (connection.inflight > 0) return;
    const finish = this.#finish;
    if (finish === undefined) return;
    this.#finish = undefined;
    this.#elapsed = performance.now() - this.#start;
    finish?.();
  }

  #elapsed = 0;

  #result(): SimulatorResult {
    let sent = 0;
    let failed = 0;
    for (const connection of this.#connections) {
      sent += connection.sent;
      failed += connection.failed;
    }
    const options = this.#options;
    const result: SimulatorResult = {
      published: this.#published,
      sent,
      failed,
      unconfirmed: this.#published - sent - failed,
      valid: this.#valid,
      invalid: { ...this.#invalid },
      bytes: this.#bytes,
      elapsedMs: this.#elapsed,
      rate: this.#elapsed > 0 ? (sent * 1000) / this.#elapsed : 0,
      stoppedBy: this.#stoppedBy ?? 'signal',
      seed: options.seed,
      format: options.format,
      qos: options.qos,
      devices: options.devices,
      clients: options.clients,
    };
    if (this.#messages !== undefined) result.messages = this.#messages;
    return result;
  }
}
