/**
 * @module One pipeline: batches events from ingest into a frame (by count, bytes, linger and the
 * broker's in-flight window), runs each batch through the rule chain, offers the outputs to the
 * outbox and commits the batch (releases its held MQTT acks) once every record is accepted.
 *
 * Bounds: at most one processed batch waits for outbox room, plus the batch being filled. When
 * that one is full too, `append` refuses and ingest stops reading the socket. Ticks run only
 * when nothing waits; a tick first processes the batch being filled, so that no window is
 * closed ahead of events already received.
 *
 * With rule-state checkpoints (a durable spool), a batch that produced records, or whose events
 * a stateful chain absorbed, is committed only once a state entry covering it is durable
 * (rule-checkpoint.ts, docs/delivery.md); the spool captures it at the start of a group commit,
 * when every processed batch's outputs are offered.
 *
 * With its rules on worker threads (chain-runner.ts), a batch is in the pool while ingest fills
 * the other of two frames; the pipeline sends the pool one call at a time, so that a tick due
 * meanwhile runs after that batch, with the time it was due. Bounds: one batch in the pool or
 * waiting for outbox room, plus the one being filled.
 */
import type { Logger } from 'pino';
import { FrameEventTooLargeError, FrameWriter } from '../../runtime/index.js';
import type { RuleInstance } from '../../runtime/index.js';
import type { DeadLetterFile } from '../dead-letter/dead-letter-file.js';
import { formatId } from '../dead-letter/dead-letter-file.js';
import type { AckGate, AckTicket } from '../ingest/ack-gate.js';
import type { IngestTarget } from '../ingest/ingest-target.js';
import { BatchCommits } from './batch-commit.js';
import { RedeliveredEvents } from './event-identity.js';
import { PipelineCheckpoints } from './pipeline-checkpoints.js';
import type { Counters } from './counters.js';
import type { EventIds } from './event-ids.js';
import type { PartitionFigures } from '../partition/index.js';
import { SyncChainRunner } from './chain-runner.js';
import type { ChainRunner, RuleView } from './chain-runner.js';
import type { PipelineOptions, RuleSwap } from './pipeline-options.js';
import type { RuleStats } from './rule-stats.js';
import type { ShadowRun } from './shadow-run.js';

export type { CheckpointStore, PipelineOptions, RuleSwap } from './pipeline-options.js';

const FORMAT_CODES = { json: 1, cbor: 2, unknown: 0 } as const;

/** A pipeline: topic filters → batches → rule chain → outbox. */
export class Pipeline implements IngestTarget {
  readonly #name: string;
  readonly #format: number;
  readonly #maxEvents: number;
  readonly #lingerMs: number;
  readonly #tickIntervalMs: number;
  /** The batch being filled. */
  #writer: FrameWriter;
  /** On workers: the frame of the batch in the pool, refilled once it is done. */
  #spare: FrameWriter | undefined;
  readonly #runner: ChainRunner;
  readonly #gate: AckGate;
  readonly #ids: EventIds;
  readonly #deadLetters: DeadLetterFile;
  readonly #counters: Counters;
  readonly #onRoom: () => void;
  readonly #logger: Logger;
  #ticket: AckTicket;
  readonly #commits: BatchCommits;
  /** The writer refused an event: ingest waits for room. */
  #full = false;
  /** The filling batch should be processed as soon as nothing waits. */
  #cutRequested = false;
  #busy = false;
  /** On workers: when a tick came due while a call was in the pool (it runs next, with this time). */
  #tickAt: number | undefined;
  /** On workers: the handling of the last call's result (settled once it is applied). */
  #pending: Promise<void> | undefined;
  #closing = false;
  #linger: ReturnType<typeof setTimeout> | undefined;
  #ticker: ReturnType<typeof setInterval> | undefined;
  #idleWaiters: (() => void)[] = [];
  /** Rule-state checkpoints, with a durable spool. */
  readonly #checkpoints: PipelineCheckpoints | undefined;
  readonly #redelivered: RedeliveredEvents;

  constructor(options: PipelineOptions) {
    const { config } = options;
    this.#name = config.name;
    this.#format = FORMAT_CODES[config.format];
    this.#maxEvents = config.batch.maxEvents;
    this.#lingerMs = config.batch.lingerMs;
    this.#tickIntervalMs = config.tickIntervalMs;
    const frameLimits = { maxEvents: config.batch.maxEvents, maxBytes: config.batch.maxBytes };
    this.#writer = new FrameWriter(frameLimits);
    this.#spare = options.runner === undefined ? undefined : new FrameWriter(frameLimits);
    this.#gate = options.gate;
    this.#ids = options.ids;
    this.#deadLetters = options.deadLetters;
    this.#counters = options.counters;
    this.#onRoom = options.onRoom;
    this.#logger = options.logger;
    this.#ticket = options.gate.ticket();
    this.#runner =
      options.runner ??
      new SyncChainRunner({
        pipeline: config.name,
        rules: options.rules,
        deadLetters: options.deadLetters,
        counters: options.counters,
        commandTopic: config.commandTopic,
        publishCommand: options.publishCommand,
        logger: options.logger,
      });
    const store = options.checkpoints;
    const restored = store?.restoredCheckpoint;
    this.#redelivered = new RedeliveredEvents(restored?.identities);
    if (store !== undefined) {
      this.#checkpoints = new PipelineCheckpoints(store, this.#runner, {
        identityWindow: options.identityWindow ?? 65_535,
        consistent: () => !this.#busy && this.#commits.offered,
        pipeline: this.#name,
        logger: options.logger,
      });
    }
    this.#commits = new BatchCommits({
      pipeline: this.#name,
      outbox: options.outbox,
      gate: options.gate,
      deadLetters: options.deadLetters,
      counters: options.counters,
      checkpoints: this.#checkpoints,
      logger: options.logger,
      onDone: this.#afterCommit,
    });
  }

  /** The pipeline's name. */
  get name(): string {
    return this.#name;
  }

  /** Events in the batch being filled. */
  get pendingEvents(): number {
    return this.#writer.count;
  }

  /** Whether a processed batch waits for outbox room. */
  get waiting(): boolean {
    return this.#commits.waiting;
  }

  /** Starts the tick timer. */
  start(): void {
    if (this.#ticker !== undefined || this.#closing) return;
    this.#ticker = setInterval(this.#onTick, this.#tickIntervalMs);
    this.#ticker.unref?.();
  }

  append(
    topic: string,
    key: string,
    payload: Uint8Array,
    qos: number,
    messageId: number,
    time: number,
  ): boolean {
    if (this.#full || this.#closing) return false;
    let writer = this.#writer;
    const id = this.#ids.next();
    try {
      if (!writer.append(topic, key, payload, id, time, qos, this.#format)) {
        // The frame is full: process it if nothing waits, else make ingest wait.
        this.#cut();
        writer = this.#writer;
        if (writer.count > 0) {
          this.#full = true;
          return false;
        }
        writer.append(topic, key, payload, id, time, qos, this.#format);
      }
    } catch (error) {
      if (!(error instanceof FrameEventTooLargeError)) throw error;
      this.#tooLarge(error, topic, key, payload, id);
      return true;
    }
    if (qos !== 0) {
      this.#gate.hold(this.#ticket, messageId);
      this.#checkpoints?.note(messageId, topic, payload);
    }
    if (writer.count === 1 && this.#linger === undefined) {
      this.#linger = setTimeout(this.#onLinger, this.#lingerMs);
      this.#linger.unref?.();
    }
    if (writer.count >= this.#maxEvents) this.#cut();
    return true;
  }

  cutHeld(): void {
    if (this.#ticket.count > 0) this.#cut();
  }

  redelivered(topic: string, payload: Uint8Array, messageId: number): boolean {
    if (this.#redelivered.empty || this.#full || this.#closing) return false;
    if (!this.#redelivered.has(messageId, topic, payload)) return false;
    // Acknowledged in order with the batch being filled, not processed again; noted again so
    // that the next checkpoints keep recognising it.
    this.#gate.hold(this.#ticket, messageId);
    this.#checkpoints?.note(messageId, topic, payload);
    if (this.#linger === undefined) {
      this.#linger = setTimeout(this.#onLinger, this.#lingerMs);
      this.#linger.unref?.();
    }
    return true;
  }

  /**
   * Processes what is batched, flushes every rule (open windows are emitted) and waits until all
   * outputs are in the outbox, or `signal` aborts. Call after ingest stopped.
   */
  async finish(signal: AbortSignal): Promise<void> {
    this.#stopTimers();
    await this.#idle(signal);
    if (signal.aborted) return;
    this.#closing = true;
    if (this.#writer.count > 0 || this.#ticket.count > 0) this.#processFilling();
    await this.#idle(signal);
    if (signal.aborted) return;
    this.#runTimer('flush');
    await this.#idle(signal);
    // The windows just flushed are emitted: checkpoint the state after them, so that a restart
    // does not resume (and emit again) windows that were closed here.
    if (this.#checkpoints !== undefined && !signal.aborted) {
      await this.#checkpoints.take().catch((error: unknown) => {
        this.#logger.warn(
          { err: error, pipeline: this.#name },
          'the last checkpoint failed: the next start resumes windows this shutdown emitted',
        );
      });
    }
  }

  /**
   * Stops timers; a batch still waiting for room is abandoned (its acks are never sent). On
   * workers, resolves once the batch in the pool is done and the workers stopped. Idempotent.
   */
  async close(): Promise<void> {
    this.#closing = true;
    this.#stopTimers();
    await this.#runner.close();
    // The last call's outputs are offered before the caller closes the outbox.
    await this.#pending;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** The rule positions of the chain, in order (the instances on the gateway thread; they change on a swap). */
  get rules(): readonly RuleView[] {
    return this.#runner.rules;
  }

  /** The worker pool's figures (memory per worker, timeouts), when the rules run on workers. */
  get partitions(): PartitionFigures | undefined {
    return this.#runner.partitions;
  }

  /**
   * Replaces rule `index` with an instance from `create`, between batches: waits until no
   * processed batch waits for outbox room, then, synchronously (so no batch runs in between),
   * hands the old instance's state over (`snapshot` → `restore`). When the new instance
   * refuses the state (or traps restoring it) and `onStateRefused` is `flush`, the old rule's
   * open windows are flushed down the chain and a fresh instance starts clean; with `fail` the
   * old rule stays in place and the `RuleRestoreError`/`RuleTrapError` is thrown. Events
   * batched but not yet processed go to the new instance: none is processed twice or lost.
   * @throws PipelineOnWorkersError when the rules run on worker threads.
   */
  async swapRule(
    index: number,
    create: () => RuleInstance,
    onStateRefused: 'flush' | 'fail',
  ): Promise<RuleSwap> {
    const sync = this.#runner.onGatewayThread('activating a rule version (hot swap)');
    const never = new AbortController().signal;
    while (this.#commits.waiting) await this.#idle(never);
    if (this.#closing) throw new RangeError(`pipeline "${this.#name}" is closing`);
    const started = performance.now();
    this.#busy = true;
    let swap: Omit<RuleSwap, 'swapMs'>;
    try {
      swap = sync.swap(index, create, onStateRefused, Date.now());
    } finally {
      this.#busy = false;
    }
    this.#checkpoints?.chainChanged();
    // The old rule's flushed windows go out like a batch's outputs.
    if (swap.handover === 'flushed') this.#settle(this.#gate.ticket());
    return { ...swap, swapMs: performance.now() - started };
  }

  /** The figures of each rule position of the chain, in order (kept across hot swaps). */
  get ruleStats(): readonly RuleStats[] {
    return this.#runner.stats;
  }

  /** The shadow run beside rule `index`, if any. */
  shadow(index: number): ShadowRun | undefined {
    return this.#runner.shadow(index);
  }

  /**
   * Starts a shadow beside rule `index` between batches, with the active rule's state (so both
   * start from the same open windows; a shadow refusing it starts clean), or stops it (`undefined`).
   * @throws PipelineOnWorkersError when the rules run on worker threads.
   */
  async setShadow(
    index: number,
    start: ((activeState: Uint8Array) => ShadowRun) | undefined,
  ): Promise<ShadowRun | undefined> {
    const sync = this.#runner.onGatewayThread('a shadow run');
    const never = new AbortController().signal;
    while (this.#commits.waiting) await this.#idle(never);
    return sync.setShadow(index, start);
  }

  #stopTimers(): void {
    if (this.#ticker !== undefined) clearInterval(this.#ticker);
    this.#ticker = undefined;
    if (this.#linger !== undefined) clearTimeout(this.#linger);
    this.#linger = undefined;
  }

  readonly #onLinger = (): void => {
    this.#linger = undefined;
    this.#cut();
  };

  readonly #onTick = (): void => {
    if (this.#busy && !this.#closing) this.#tickAt ??= Date.now();
    if (this.#commits.waiting || this.#busy || this.#closing) return;
    if (this.#writer.count > 0 || this.#ticket.count > 0) {
      this.#processFilling();
      if (this.#busy) this.#tickAt ??= Date.now();
      if (this.#commits.waiting || this.#busy) return;
    }
    this.#runTimer('tick');
  };

  #cut(): void {
    if (this.#writer.count === 0 && this.#ticket.count === 0) return;
    if (this.#commits.waiting || this.#busy) {
      this.#cutRequested = true;
      return;
    }
    this.#processFilling();
  }

  #processFilling(): void {
    if (this.#linger !== undefined) {
      clearTimeout(this.#linger);
      this.#linger = undefined;
    }
    this.#cutRequested = false;
    const writer = this.#writer;
    const count = writer.count;
    const ticket = this.#ticket;
    this.#ticket = this.#gate.ticket();
    this.#busy = true;
    let call: Promise<boolean> | undefined;
    try {
      // A batch of skipped redeliveries only has acks to commit.
      if (count > 0) call = this.#runner.process(writer.bytes(), Date.now());
      this.#checkpoints?.processed(count > 0);
    } finally {
      if (call === undefined) {
        writer.reset();
        this.#busy = false;
      } else {
        // The workers read this frame until the call is done: ingest fills the spare meanwhile.
        this.#writer = this.#spare as FrameWriter;
        this.#spare = writer;
      }
      this.#full = false;
    }
    if (call === undefined) {
      this.#counters.processed += count;
      if (count > 0) this.#counters.batches++;
      this.#settle(ticket);
    } else {
      this.#pending = call.then((ok) => {
        if (ok) {
          this.#counters.processed += count;
          this.#counters.batches++;
        }
        this.#afterCall(ok, ticket, writer);
      });
    }
  }

  #runTimer(call: 'tick' | 'flush', now = Date.now()): void {
    this.#busy = true;
    this.#checkpoints?.timerRan();
    let pending: Promise<boolean> | undefined;
    try {
      pending = call === 'tick' ? this.#runner.tick(now) : this.#runner.flush(now);
    } finally {
      if (pending === undefined) this.#busy = false;
    }
    if (pending === undefined) this.#settle(this.#gate.ticket());
    else this.#pending = pending.then((ok) => this.#afterCall(ok, undefined, undefined));
  }

  /**
   * A call on the worker pool is done: settles it (a failed call stays unacknowledged), then runs
   * what came due meanwhile, in order: a tick, then the batch filled in the meantime.
   */
  #afterCall(ok: boolean, ticket: AckTicket | undefined, frame: FrameWriter | undefined): void {
    frame?.reset();
    this.#busy = false;
    if (ok) this.#settle(ticket ?? this.#gate.ticket());
    if (this.#commits.waiting) return; // #afterCommit goes on once it is committed.
    if (this.#tickAt !== undefined && !this.#closing) {
      const at = this.#tickAt;
      this.#tickAt = undefined;
      this.#runTimer('tick', at);
      if (this.#busy || this.#commits.waiting) return;
    }
    if ((this.#full || this.#cutRequested) && !this.#closing) this.#cut();
    if (this.#commits.waiting) return;
    if (!this.#full && !this.#closing) this.#onRoom();
    if (!this.#busy) this.#wakeIdle();
  }

  /** Offers the collected outputs; commits now, or once they are accepted and durable. */
  #settle(ticket: AckTicket): void {
    this.#commits.settle(ticket, this.#runner.takeFrame());
  }

  /** The waiting batch is done: process what was cut meanwhile, or let ingest go on. */
  readonly #afterCommit = (): void => {
    if ((this.#full || this.#cutRequested) && !this.#closing) this.#cut();
    if (!this.#commits.waiting) {
      this.#wakeIdle();
      if (!this.#full && !this.#closing) this.#onRoom();
    }
  };

  /** Resolves once no batch waits for room and no call is in the worker pool, or `signal` aborts. */
  async #idle(signal: AbortSignal): Promise<void> {
    while ((this.#commits.waiting || this.#busy) && !signal.aborted) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          signal.removeEventListener('abort', done);
          resolve();
        };
        this.#idleWaiters.push(done);
        signal.addEventListener('abort', done, { once: true });
      });
    }
  }

  #wakeIdle(): void {
    const waiters = this.#idleWaiters;
    if (waiters.length === 0) return;
    this.#idleWaiters = [];
    for (const wake of waiters) wake();
  }

  #tooLarge(error: Error, topic: string, key: string, payload: Uint8Array, id: number): void {
    this.#logger.warn(
      { pipeline: this.#name, topic, bytes: payload.length },
      'event too large for a batch: dead-lettered',
    );
    this.#deadLetters.add({
      pipeline: this.#name,
      rule: null,
      reason: error.message,
      topic,
      key,
      id: formatId(Math.floor(id / 4294967296), id >>> 0),
      payload,
    });
    this.#counters.deadLetters++;
    void this.#deadLetters.commit();
  }
}
