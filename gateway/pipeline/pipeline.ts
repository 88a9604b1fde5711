/**
 * @module One pipeline: batches events from ingest into a frame (by count, bytes, linger and the
 * broker's in-flight window), runs each batch through the rule chain, offers the outputs to the
 * outbox and commits the batch (releases its held MQTT acks) once every record is accepted.
 *
 * Bounds: at most one processed batch waits for outbox room, plus the batch being filled. When
 * that one is full too, `append` refuses and ingest stops reading the socket. Ticks run only
 * when nothing waits; a tick first processes the batch being filled, so that no window is
 * closed ahead of events already received.
 */
import type { Logger } from 'pino';
import { FrameEventTooLargeError, FrameWriter } from '../../runtime/index.js';
import { RuleRestoreError, RuleTrapError } from '../../runtime/index.js';
import type { RuleInstance } from '../../runtime/index.js';
import type { PipelineConfig } from '../config/types.js';
import type { DeadLetterFile } from '../dead-letter/dead-letter-file.js';
import { formatId } from '../dead-letter/dead-letter-file.js';
import type { AckGate, AckTicket } from '../ingest/ack-gate.js';
import type { IngestTarget } from '../ingest/ingest-target.js';
import type { Outbox } from '../outbox/outbox.js';
import type { Counters } from './counters.js';
import type { EventIds } from './event-ids.js';
import { OutputCollector } from './output-collector.js';
import { RuleChain } from './rule-chain.js';
import type { RuleStats } from './rule-stats.js';
import type { ShadowRun } from './shadow-run.js';

const FORMAT_CODES = { json: 1, cbor: 2, unknown: 0 } as const;

/** Options of a {@link Pipeline}. */
export interface PipelineOptions {
  /** The pipeline's resolved configuration (batching, format, command topic, tick interval). */
  config: PipelineConfig;
  /** Instances of the configured rules, in order. */
  rules: readonly RuleInstance[];
  outbox: Outbox;
  gate: AckGate;
  ids: EventIds;
  deadLetters: DeadLetterFile;
  counters: Counters;
  /** Publishes a device command (QoS 1). */
  publishCommand: (topic: string, payload: Uint8Array) => void;
  /** Called when the pipeline can take events again after refusing one. */
  onRoom: () => void;
  logger: Logger;
}

/** A batch whose outputs wait for outbox room before it can be committed. */
interface WaitingBatch {
  readonly ticket: AckTicket;
  readonly frame: Uint8Array | undefined;
  readonly total: number;
  skip: number;
  readonly deadLetters: Promise<void> | undefined;
  /** The outbox's write of the accepted records (durable outboxes only). */
  readonly durable: Promise<void> | undefined;
}

/** What {@link Pipeline.swapRule} did. */
export interface RuleSwap {
  /** The instance that was replaced. */
  previous: RuleInstance;
  /** `state`: the new instance took the old one's state; `flushed`: it refused, the old one was flushed. */
  handover: 'state' | 'flushed';
  /** Size of the handed-over snapshot. */
  stateBytes: number;
  /** Time from the start of the handover to the swap, in milliseconds. */
  swapMs: number;
}

/** A pipeline: topic filters → batches → rule chain → outbox. */
export class Pipeline implements IngestTarget {
  readonly #name: string;
  readonly #format: number;
  readonly #maxEvents: number;
  readonly #lingerMs: number;
  readonly #tickIntervalMs: number;
  readonly #writer: FrameWriter;
  readonly #chain: RuleChain;
  readonly #collector = new OutputCollector();
  readonly #outbox: Outbox;
  readonly #gate: AckGate;
  readonly #ids: EventIds;
  readonly #deadLetters: DeadLetterFile;
  readonly #counters: Counters;
  readonly #onRoom: () => void;
  readonly #logger: Logger;
  #ticket: AckTicket;
  #waiting: WaitingBatch | undefined;
  /** The writer refused an event: ingest waits for room. */
  #full = false;
  /** The filling batch should be processed as soon as nothing waits. */
  #cutRequested = false;
  #busy = false;
  #closing = false;
  #linger: ReturnType<typeof setTimeout> | undefined;
  #ticker: ReturnType<typeof setInterval> | undefined;
  #idleWaiters: (() => void)[] = [];

  constructor(options: PipelineOptions) {
    const { config } = options;
    this.#name = config.name;
    this.#format = FORMAT_CODES[config.format];
    this.#maxEvents = config.batch.maxEvents;
    this.#lingerMs = config.batch.lingerMs;
    this.#tickIntervalMs = config.tickIntervalMs;
    this.#writer = new FrameWriter({
      maxEvents: config.batch.maxEvents,
      maxBytes: config.batch.maxBytes,
    });
    this.#outbox = options.outbox;
    this.#gate = options.gate;
    this.#ids = options.ids;
    this.#deadLetters = options.deadLetters;
    this.#counters = options.counters;
    this.#onRoom = options.onRoom;
    this.#logger = options.logger;
    this.#ticket = options.gate.ticket();
    this.#chain = new RuleChain({
      pipeline: config.name,
      rules: options.rules,
      deadLetters: options.deadLetters,
      counters: options.counters,
      commandTopic: config.commandTopic,
      publishCommand: options.publishCommand,
      logger: options.logger,
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
    return this.#waiting !== undefined;
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
    const writer = this.#writer;
    const id = this.#ids.next();
    try {
      if (!writer.append(topic, key, payload, id, time, qos, this.#format)) {
        // The frame is full: process it if nothing waits, else make ingest wait.
        this.#cut();
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
    if (qos !== 0) this.#gate.hold(this.#ticket, messageId);
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

  /**
   * Processes what is batched, flushes every rule (open windows are emitted) and waits until all
   * outputs are in the outbox, or `signal` aborts. Call after ingest stopped.
   */
  async finish(signal: AbortSignal): Promise<void> {
    this.#stopTimers();
    await this.#idle(signal);
    if (signal.aborted) return;
    this.#closing = true;
    if (this.#writer.count > 0) this.#processFilling();
    await this.#idle(signal);
    if (signal.aborted) return;
    this.#runTimer('flush');
    await this.#idle(signal);
  }

  /** Stops timers; a batch still waiting for room is abandoned (its acks are never sent). */
  close(): void {
    this.#closing = true;
    this.#stopTimers();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
  }

  /** The rule instances of the chain, in order (they change on a swap). */
  get rules(): readonly RuleInstance[] {
    return this.#chain.rules;
  }

  /**
   * Replaces rule `index` with an instance from `create`, between batches: waits until no
   * processed batch waits for outbox room, then, synchronously (so no batch runs in between),
   * hands the old instance's state over (`snapshot` → `restore`). When the new instance
   * refuses the state (or traps restoring it) and `onStateRefused` is `flush`, the old rule's
   * open windows are flushed down the chain and a fresh instance starts clean; with `fail` the
   * old rule stays in place and the `RuleRestoreError`/`RuleTrapError` is thrown. Events
   * batched but not yet processed go to the new instance: none is processed twice or lost.
   */
  async swapRule(
    index: number,
    create: () => RuleInstance,
    onStateRefused: 'flush' | 'fail',
  ): Promise<RuleSwap> {
    const never = new AbortController().signal;
    while (this.#waiting !== undefined) await this.#idle(never);
    if (this.#closing) throw new RangeError(`pipeline "${this.#name}" is closing`);
    const started = performance.now();
    const old = this.#chain.rules[index];
    if (old === undefined)
      throw new RangeError(`pipeline "${this.#name}" has no rule at index ${index}`);
    const state = old.snapshot();
    let next = create();
    let handover: RuleSwap['handover'] = 'state';
    try {
      next.restore(state);
    } catch (error) {
      if (!(error instanceof RuleRestoreError || error instanceof RuleTrapError)) throw error;
      if (onStateRefused === 'fail') throw error;
      handover = 'flushed';
      this.#busy = true;
      try {
        this.#chain.flushRule(index, Date.now(), this.#collector);
      } finally {
        this.#busy = false;
      }
      next = create();
    }
    this.#chain.replace(index, next);
    if (handover === 'flushed') this.#settle(this.#gate.ticket());
    return {
      previous: old,
      handover,
      stateBytes: state.length,
      swapMs: performance.now() - started,
    };
  }

  /** The figures of each rule position of the chain, in order (kept across hot swaps). */
  get ruleStats(): readonly RuleStats[] {
    return this.#chain.stats;
  }

  /** The shadow run beside rule `index`, if any. */
  shadow(index: number): ShadowRun | undefined {
    return this.#chain.shadow(index);
  }

  /**
   * Starts a shadow beside rule `index` between batches, with the active rule's state (so both
   * start from the same open windows; a shadow refusing it starts clean), or stops it (`undefined`).
   */
  async setShadow(
    index: number,
    start: ((activeState: Uint8Array) => ShadowRun) | undefined,
  ): Promise<ShadowRun | undefined> {
    const never = new AbortController().signal;
    while (this.#waiting !== undefined) await this.#idle(never);
    const active = this.#chain.rules[index];
    if (active === undefined)
      throw new RangeError(`pipeline "${this.#name}" has no rule at index ${index}`);
    const run = start === undefined ? undefined : start(active.snapshot());
    this.#chain.setShadow(index, run);
    return run;
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
    if (this.#waiting !== undefined || this.#busy || this.#closing) return;
    if (this.#writer.count > 0) {
      this.#processFilling();
      if (this.#waiting !== undefined) return;
    }
    this.#runTimer('tick');
  };

  #cut(): void {
    if (this.#writer.count === 0) return;
    if (this.#waiting !== undefined || this.#busy) {
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
    try {
      this.#chain.process(writer.bytes(), Date.now(), this.#collector);
    } finally {
      writer.reset();
      this.#full = false;
      this.#busy = false;
    }
    this.#counters.processed += count;
    this.#counters.batches++;
    this.#settle(ticket);
  }

  #runTimer(call: 'tick' | 'flush'): void {
    this.#busy = true;
    try {
      if (call === 'tick') this.#chain.tick(Date.now(), this.#collector);
      else this.#chain.flush(Date.now(), this.#collector);
    } finally {
      this.#busy = false;
    }
    this.#settle(this.#gate.ticket());
  }

  /** Offers the collected outputs; commits now, or waits for room and dead-letter writes. */
  #settle(ticket: AckTicket): void {
    const frame = this.#collector.finish();
    const deadLetters = this.#deadLetters.commit();
    const total = frame === undefined ? 0 : frameCount(frame);
    let accepted = 0;
    if (frame !== undefined) {
      accepted = this.#outbox.offer(frame, 0);
      this.#counters.outputRecords += accepted;
    }
    const durable = accepted > 0 ? this.#outbox.flushed?.() : undefined;
    if (accepted === total && deadLetters === undefined && durable === undefined) {
      this.#gate.commit(ticket);
      return;
    }
    this.#waiting = { ticket, frame, total, skip: accepted, deadLetters, durable };
    void this.#drainWaiting();
  }

  async #drainWaiting(): Promise<void> {
    const waiting = this.#waiting as WaitingBatch;
    const outbox = this.#outbox;
    if (waiting.deadLetters !== undefined) await waiting.deadLetters;
    while (waiting.skip < waiting.total && !outbox.closed) {
      await outbox.waitForRoom();
      const accepted = outbox.offer(waiting.frame as Uint8Array, waiting.skip);
      waiting.skip += accepted;
      this.#counters.outputRecords += accepted;
    }
    // A durable outbox: acknowledge only once the accepted records are on disk.
    let durable = true;
    const flushed = waiting.skip === 0 ? undefined : (outbox.flushed?.() ?? waiting.durable);
    if (flushed !== undefined) {
      await flushed.catch((error: unknown) => {
        durable = false;
        this.#logger.error(
          { err: error, pipeline: this.#name },
          'outbox write failed: the batch stays unacknowledged (the broker redelivers it)',
        );
      });
    }
    if (!durable) {
      // Nothing to commit; the messages are redelivered after a reconnect or restart.
    } else if (waiting.skip < waiting.total) {
      this.#logger.warn(
        { pipeline: this.#name, records: waiting.total - waiting.skip },
        'outbox closed with a batch not accepted: its messages stay unacknowledged',
      );
    } else {
      this.#gate.commit(waiting.ticket);
    }
    this.#waiting = undefined;
    if ((this.#full || this.#cutRequested) && !this.#closing) this.#cut();
    if (this.#waiting === undefined) {
      this.#wakeIdle();
      if (!this.#full && !this.#closing) this.#onRoom();
    }
  }

  #idle(signal: AbortSignal): Promise<void> {
    if (this.#waiting === undefined || signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        signal.removeEventListener('abort', done);
        resolve();
      };
      this.#idleWaiters.push(done);
      signal.addEventListener('abort', done, { once: true });
    });
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

/** The record count in a frame's header. */
function frameCount(frame: Uint8Array): number {
  return new DataView(frame.buffer, frame.byteOffset, 8).getUint32(4, true);
}
