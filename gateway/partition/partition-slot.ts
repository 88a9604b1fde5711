/**
 * @module One partition of a partitioned chain: its worker thread and shared channel, the queue
 * of calls waiting for it (one call in flight at a time, so replies match requests and a
 * timeout blames exactly one call), the watchdog of the call in flight (the channel's wait has
 * `ruleTimeoutMs` as its timeout), and the partition's checkpoint (the rule states of its last
 * snapshot or restore). When a call overruns `ruleTimeoutMs`, or the worker dies,
 * the worker is terminated and a new one starts from the checkpoint; the call settles as
 * failed and the queue goes on with the new worker.
 */
import { MessageChannel, Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { RuleStats } from '../pipeline/rule-stats.js';
import {
  PartitionCallError,
  PartitionClosedError,
  PartitionWorkerExitedError,
  RuleTimeoutError,
} from './errors.js';
import { Figure, RULE_FIGURES } from './protocol.js';
import type {
  PartitionMessage,
  PartitionRequest,
  PartitionRuleSpec,
  PartitionWorkerData,
} from './protocol.js';
import { SharedChannel } from './shared-channel.js';
import type { ChannelReply } from './shared-channel.js';

/** How a call ended when the worker did not answer it. */
export type PartitionFailure = RuleTimeoutError | PartitionWorkerExitedError;

/** The change of figure `at` between two replies. */
function delta(next: Float64Array, previous: Float64Array, at: number): number {
  return (next[at] as number) - (previous[at] as number);
}

/** A queued or in-flight call. */
interface Call {
  request: PartitionRequest;
  resolve: (message: PartitionMessage | PartitionFailure) => void;
}

/** What a slot is built from. */
export interface PartitionSlotOptions {
  pipeline: string;
  partition: number;
  rules: readonly PartitionRuleSpec[];
  commandTopic: string;
  entry: URL;
  timeoutMs: number;
  maxQueuedCalls: number;
  logLevel: string;
  logger: Logger;
  /** The chain's per-rule figures, summed over partitions; the slot adds its deltas. */
  stats: readonly RuleStats[];
}

/** One partition's worker and its queue. */
export class PartitionSlot {
  readonly #options: PartitionSlotOptions;
  readonly #partition: number;
  #worker: Worker | undefined;
  #channel: SharedChannel | undefined;
  readonly #queue: Call[] = [];
  #inFlight: Call | undefined;
  /** Per rule, the state a new worker restores (from the last snapshot or restore). */
  #checkpoint: (Uint8Array | undefined)[];
  /** The current worker's cumulative figures (deltas go to the chain's stats). */
  #figures: Float64Array;
  #errors: Map<string, number>[];
  /** Set while a worker is being replaced (no call is sent meanwhile). */
  #starting: Promise<void> | undefined;
  #closed = false;
  #restarts = 0;
  #timeouts = 0;

  constructor(options: PartitionSlotOptions) {
    this.#options = options;
    this.#partition = options.partition;
    this.#checkpoint = options.rules.map(() => undefined);
    this.#figures = new Float64Array(options.rules.length * RULE_FIGURES);
    this.#errors = options.rules.map(() => new Map());
  }

  /** Workers started after the first (after a timeout or a crash). */
  get restarts(): number {
    return this.#restarts;
  }

  /** Calls that overran the time budget. */
  get timeouts(): number {
    return this.#timeouts;
  }

  /** The current worker's figures (see `Figure`), per rule. */
  get figures(): Float64Array {
    return this.#figures;
  }

  /** Calls waiting or in flight. */
  get pending(): number {
    return this.#queue.length + (this.#inFlight === undefined ? 0 : 1);
  }

  /** Starts the first worker; rejects when its rules cannot start. */
  async start(): Promise<void> {
    await this.#spawn();
  }

  /**
   * Queues a request; resolves with the worker's reply, or with the failure when the call
   * overran its budget or the worker died (the worker is replaced either way).
   */
  call(request: PartitionRequest): Promise<PartitionMessage | PartitionFailure> {
    if (this.#closed)
      return Promise.reject(new PartitionClosedError('the partitioned chain is closed'));
    if (this.#queue.length >= this.#options.maxQueuedCalls) {
      return Promise.reject(
        new PartitionCallError(
          this.#partition,
          'PARTITION_QUEUE_FULL',
          `partition ${this.#partition}: ${this.#queue.length} calls already wait (maxQueuedCalls); await earlier calls before sending more`,
        ),
      );
    }
    return new Promise((resolve) => {
      this.#queue.push({ request, resolve });
      this.#next();
    });
  }

  /** Records the states a new worker of this partition must restore. */
  checkpoint(states: readonly (Uint8Array | undefined)[]): void {
    this.#checkpoint = states.map((s, i) => (s === undefined ? this.#checkpoint[i] : s.slice()));
  }

  /** Waits for every queued call, then stops the worker. Idempotent. */
  async close(): Promise<void> {
    while (this.pending > 0 || this.#starting !== undefined) {
      await new Promise<void>((resolve) => {
        const last = this.#queue.at(-1) ?? this.#inFlight;
        if (last === undefined) {
          void this.#starting?.then(resolve, resolve);
          return;
        }
        const settle = last.resolve;
        last.resolve = (message) => {
          settle(message);
          resolve();
        };
      });
    }
    this.#closed = true;
    const worker = this.#worker;
    this.#worker = undefined;
    if (worker !== undefined) await worker.terminate();
    this.#retireChannel();
  }

  /** Releases a wait still pending on the current channel and closes its port. */
  #retireChannel(): void {
    const channel = this.#channel;
    this.#channel = undefined;
    channel?.wake();
    channel?.close();
  }

  #next(): void {
    if (this.#inFlight !== undefined || this.#starting !== undefined) return;
    const worker = this.#worker;
    const channel = this.#channel;
    if (worker === undefined || channel === undefined) {
      // The last restart failed: try again for the calls now waiting.
      if (!this.#closed && this.#queue.length > 0) this.#starting = this.#retry();
      return;
    }
    const call = this.#queue.shift();
    if (call === undefined) return;
    this.#inFlight = call;
    worker.ref();
    channel.send(call.request);
    void this.#await(call, channel);
  }

  /** Waits for the reply of `call` within the time budget; settles it either way. */
  async #await(call: Call, channel: SharedChannel): Promise<void> {
    const replied = await channel.wait(this.#options.timeoutMs);
    // Settled already when the worker died meanwhile.
    if (call !== this.#inFlight) return;
    if (!replied) {
      this.#timeouts++;
      const { timeoutMs, pipeline } = this.#options;
      this.#fail(
        call,
        new RuleTimeoutError(
          this.#partition,
          timeoutMs,
          `partition ${this.#partition} of pipeline "${pipeline}" did not finish a ${call.request.type} call within ruleTimeoutMs (${timeoutMs} ms): its worker was restarted from its last checkpoint`,
        ),
      );
      return;
    }
    const reply = channel.read();
    this.#inFlight = undefined;
    this.#addFigures(channel.figures.slice());
    const message = this.#message(call.request, reply);
    if (this.#queue.length === 0) this.#worker?.unref();
    call.resolve(message);
    this.#next();
  }

  /** The reply as the chain sees it; records checkpoints and error counts on the way. */
  #message(request: PartitionRequest, reply: ChannelReply): PartitionMessage {
    const side = reply.side;
    if (side?.error !== undefined) return { type: 'error', ...side.error };
    if (side?.errors !== undefined) this.#addErrors(side.errors);
    switch (request.type) {
      case 'snapshot': {
        const states = side?.states ?? [];
        this.checkpoint(states);
        return { type: 'snapshot', states };
      }
      case 'restore':
        this.checkpoint(request.states);
        return { type: 'restored' };
      default:
        return {
          type: 'done',
          frame: reply.frame,
          input: request.type === 'process' ? (request.frame.buffer as ArrayBuffer) : undefined,
          deadLetters: side?.deadLetters,
          commands: side?.commands,
          ruleTraps: side?.ruleTraps ?? 0,
        };
    }
  }

  #onExit(worker: Worker, code: number): void {
    if (worker !== this.#worker || this.#closed) return;
    this.#worker = undefined;
    const error = new PartitionWorkerExitedError(
      this.#partition,
      `the worker of partition ${this.#partition} of pipeline "${this.#options.pipeline}" exited with code ${code}: it was restarted from its last checkpoint`,
    );
    const call = this.#inFlight;
    if (call !== undefined) this.#fail(call, error);
    else this.#replace(error);
  }

  #retry(): Promise<void> {
    const cause = new PartitionWorkerExitedError(
      this.#partition,
      `no worker could start for partition ${this.#partition} of pipeline "${this.#options.pipeline}"`,
    );
    return this.#restart(undefined, cause).finally(() => {
      this.#starting = undefined;
      if (this.#worker !== undefined) this.#next();
    });
  }

  /** Fails the call in flight, then replaces the worker. */
  #fail(call: Call, error: PartitionFailure): void {
    this.#inFlight = undefined;
    call.resolve(error);
    this.#replace(error);
  }

  #replace(error: PartitionFailure): void {
    const worker = this.#worker;
    this.#worker = undefined;
    this.#retireChannel();
    this.#restarts++;
    // The dead worker's figures stay counted; the new one's start from zero.
    this.#figures = new Float64Array(this.#figures.length);
    this.#errors = this.#errors.map(() => new Map());
    this.#options.logger.error(
      { err: error, pipeline: this.#options.pipeline, partition: this.#partition },
      'rule worker replaced',
    );
    this.#starting = this.#restart(worker, error).finally(() => {
      this.#starting = undefined;
      this.#next();
    });
  }

  /**
   * Starts a new worker from the checkpoint (without state when the rules refuse it). When no
   * worker can start at all, the waiting calls fail with `cause` (their events become dead
   * letters) and the next call tries again.
   */
  async #restart(old: Worker | undefined, cause: PartitionFailure): Promise<void> {
    const { logger, pipeline } = this.#options;
    // terminate() of a worker stuck in Wasm takes 2.5–4 ms (FINDINGS.md).
    if (old !== undefined) await old.terminate();
    try {
      await this.#spawn();
      return;
    } catch (error) {
      logger.error(
        { err: error, pipeline, partition: this.#partition },
        'the restarted worker refused its checkpoint: it starts with empty rule state',
      );
    }
    try {
      this.#checkpoint = this.#checkpoint.map(() => undefined);
      await this.#spawn();
    } catch (error) {
      logger.error(
        { err: error, pipeline, partition: this.#partition },
        'no worker could start for the partition: its waiting calls fail',
      );
      for (const call of this.#queue.splice(0)) call.resolve(cause);
    }
  }

  async #spawn(): Promise<void> {
    const { pipeline, rules, commandTopic, entry, logLevel } = this.#options;
    const { port1, port2 } = new MessageChannel();
    const channel = new SharedChannel(rules.length * RULE_FIGURES, port1, port2);
    const data: PartitionWorkerData = {
      pipeline,
      partition: this.#partition,
      rules: [...rules],
      states: this.#checkpoint,
      commandTopic,
      logLevel,
      channel: channel.init(),
    };
    const worker = new Worker(entry, { workerData: data, transferList: [port2] });
    const first = await new Promise<PartitionMessage>((resolve, reject) => {
      const onExit = (code: number): void =>
        reject(
          new PartitionWorkerExitedError(
            this.#partition,
            `the worker of partition ${this.#partition} exited with code ${code} while starting`,
          ),
        );
      worker.once('error', reject);
      worker.once('exit', onExit);
      worker.once('message', (message: PartitionMessage) => {
        worker.off('error', reject);
        worker.off('exit', onExit);
        resolve(message);
      });
    }).catch(async (error: unknown) => {
      channel.close();
      await worker.terminate();
      throw error;
    });
    if (first.type === 'error') {
      channel.close();
      await worker.terminate();
      throw new PartitionCallError(
        this.#partition,
        first.code,
        `partition ${this.#partition}: ${first.message}`,
      );
    }
    this.#figures = channel.figures.slice();
    worker.on('error', (error: Error) =>
      this.#options.logger.error(
        { err: error, pipeline, partition: this.#partition },
        'rule worker failed',
      ),
    );
    worker.once('exit', (code: number) => this.#onExit(worker, code));
    worker.unref();
    this.#worker = worker;
    this.#channel = channel;
  }

  /** Adds the difference between `next` and the last figures to the chain's stats. */
  #addFigures(next: Float64Array): void {
    const previous = this.#figures;
    const stats = this.#options.stats;
    for (let i = 0; i < stats.length; i++) {
      const s = stats[i] as RuleStats;
      const at = i * RULE_FIGURES;
      s.calls += delta(next, previous, at + Figure.Calls);
      s.eventsIn += delta(next, previous, at + Figure.EventsIn);
      s.eventsOut += delta(next, previous, at + Figure.EventsOut);
      s.callMs += delta(next, previous, at + Figure.CallMs);
      s.restartsBefore += delta(next, previous, at + Figure.Restarts);
      // One sampled call per rule per batch: its duration feeds the chain's quantiles.
      if (delta(next, previous, at + Figure.Sampled) === 1)
        s.sample(delta(next, previous, at + Figure.SampledMs));
    }
    this.#figures = next;
  }

  #addErrors(errors: [string, number][][]): void {
    const stats = this.#options.stats;
    for (let i = 0; i < errors.length; i++) {
      const seen = this.#errors[i] as Map<string, number>;
      for (const [code, count] of errors[i] as [string, number][]) {
        for (let n = seen.get(code) ?? 0; n < count; n++) (stats[i] as RuleStats).error(code);
        seen.set(code, count);
      }
    }
  }
}
