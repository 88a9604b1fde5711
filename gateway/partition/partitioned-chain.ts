/**
 * @module The partitioned rule chain: a pipeline's rules run on a pool of worker threads, one
 * partition per worker. Each input batch is split by device key (FNV-1a of the key bytes, mod
 * the worker count; see key-partitioner.ts), so all events of one key go to one worker in
 * arrival order; each worker runs its own instance of every rule of the chain through the same
 * `RuleChain` as the main thread. The replies are merged into one result per call: the
 * outbox-bound records as one frame, the dead letters and the device commands.
 *
 * Batches cross through a SharedArrayBuffer per worker (shared-channel.ts): each record is
 * copied once into its partition's frame, which is copied whole into the worker's input region;
 * the worker blocks in `Atomics.wait` between calls. That was the faster transport in one run
 * of `npm run bench:workers` (numbers in shared-channel.ts).
 *
 * Watchdog: each call has `ruleTimeoutMs`. A worker that overruns it (an infinite loop in a
 * rule) is terminated and a new one starts from the partition's checkpoint; the partition's
 * events of that batch become dead letters with code `RULE_TIMEOUT`. The other partitions
 * carry on.
 *
 * Snapshots: a `snapshot()` is queued behind the calls sent before it, so it reflects exactly
 * those batches; it returns, per rule, one state per partition. Those states (and those given
 * to `restore`) are each partition's checkpoint. State a partition built after its checkpoint
 * is lost when its worker is replaced, as on the main thread after a trap (rule-chain.ts).
 */
import { FrameReader } from '../../runtime/index.js';
import type { DeadLetter } from '../dead-letter/dead-letter-file.js';
import { formatId } from '../dead-letter/dead-letter-file.js';
import { RuleStats } from '../pipeline/rule-stats.js';
import { PartitionCallError, PartitionClosedError, PartitionOptionsError } from './errors.js';
import { FrameMerger } from './frame-merger.js';
import { resolvePartitionedChainOptions } from './partitioned-chain-options.js';
import type {
  PartitionedChainOptions,
  PartitionedRule,
  ResolvedPartitionedChainOptions,
} from './partitioned-chain-options.js';
import { KeyPartitioner, fnv1a } from './key-partitioner.js';
import { PartitionSlot } from './partition-slot.js';
import type { PartitionFailure } from './partition-slot.js';
import { Figure, RULE_FIGURES } from './protocol.js';
import type {
  DeviceCommand,
  PartitionMessage,
  PartitionReply,
  PartitionRuleSpec,
} from './protocol.js';

/** What one call produced, over every partition. */
export interface ChainResult {
  /** Outbox-bound records of every partition, as one frame the caller owns (undefined when none). */
  frame: Uint8Array | undefined;
  /** Dead letters (rule traps, `dead` outputs, timeouts); add them to the dead-letter file. */
  deadLetters: DeadLetter[];
  /** Device commands to publish. */
  commands: DeviceCommand[];
  /** Rule calls that failed (a timed-out partition counts once). */
  ruleTraps: number;
}

/** One rule's memory in one partition. */
export interface PartitionMemory {
  rule: string;
  partition: number;
  /** Current size in 64 KiB pages (0 while an instance is discarded after a trap). */
  pages: number;
  /** The rule's declared maximum, in pages (growth past it fails and the rule traps). */
  maximumPages: number;
}

/** The figures of a partitioned chain the metrics read when scraped. */
export interface PartitionFigures {
  /** The pipeline's name. */
  readonly pipeline: string;
  /** Calls that overran `ruleTimeoutMs`. */
  readonly timeouts: number;
  /** Workers replaced after a timeout or a crash. */
  readonly workerRestarts: number;
  /** Each rule's memory in each partition. */
  memory(): PartitionMemory[];
}

/** A rule's state in each partition (index = partition). */
export type PartitionStates = readonly Uint8Array[];

/** A pipeline's rule chain on a pool of worker threads, partitioned by device key. */
export class PartitionedChain implements PartitionFigures {
  readonly #options: ResolvedPartitionedChainOptions;
  readonly #slots: PartitionSlot[];
  readonly #partitioner: KeyPartitioner;
  readonly #stats: RuleStats[];
  readonly #merge = new FrameMerger();
  readonly #reader = new FrameReader();
  #closing: Promise<void> | undefined;

  private constructor(options: ResolvedPartitionedChainOptions) {
    this.#options = options;
    this.#stats = options.rules.map(() => new RuleStats());
    const specs: PartitionRuleSpec[] = options.rules.map((r) => ({
      name: r.name,
      module: r.module.module,
      config: r.config ?? new Uint8Array(0),
      fuel: r.fuel,
    }));
    this.#partitioner = new KeyPartitioner(options.workers);
    this.#slots = Array.from(
      { length: options.workers },
      (_, partition) =>
        new PartitionSlot({
          pipeline: options.pipeline,
          partition,
          rules: specs,
          commandTopic: options.commandTopic,
          entry: options.workerEntry,
          timeoutMs: options.ruleTimeoutMs,
          maxQueuedCalls: options.maxQueuedCalls,
          logLevel: options.workerLogLevel,
          logger: options.logger,
          stats: this.#stats,
        }),
    );
  }

  /**
   * Starts the workers (36–97 ms each, in parallel) and their rules.
   * @throws PartitionOptionsError for a bad option; PartitionCallError when a rule cannot start.
   */
  static async start(options: PartitionedChainOptions): Promise<PartitionedChain> {
    const chain = new PartitionedChain(resolvePartitionedChainOptions(options));
    const started = await Promise.allSettled(chain.#slots.map((slot) => slot.start()));
    const failed = started.find((s) => s.status === 'rejected');
    if (failed !== undefined) {
      await chain.close();
      throw (failed as PromiseRejectedResult).reason;
    }
    return chain;
  }

  /** The pipeline's name. */
  get pipeline(): string {
    return this.#options.pipeline;
  }

  /** Number of partitions (workers). */
  get partitions(): number {
    return this.#slots.length;
  }

  /** Per-rule figures, summed over partitions (kept across worker restarts), in chain order. */
  get stats(): readonly RuleStats[] {
    return this.#stats;
  }

  /** Workers replaced since start (timeouts and crashes). */
  get workerRestarts(): number {
    let n = 0;
    for (const slot of this.#slots) n += slot.restarts;
    return n;
  }

  /** Calls that overran `ruleTimeoutMs`. */
  get timeouts(): number {
    let n = 0;
    for (const slot of this.#slots) n += slot.timeouts;
    return n;
  }

  /** Each rule's memory in each partition, as of the partition's last reply. */
  memory(): PartitionMemory[] {
    const out: PartitionMemory[] = [];
    const rules = this.#options.rules;
    for (let p = 0; p < this.#slots.length; p++) {
      const figures = (this.#slots[p] as PartitionSlot).figures;
      for (let i = 0; i < rules.length; i++) {
        const rule = rules[i] as PartitionedRule;
        out.push({
          rule: rule.name,
          partition: p,
          pages: figures[i * RULE_FIGURES + Figure.MemoryPages] as number,
          maximumPages: rule.module.memory.maximumPages,
        });
      }
    }
    return out;
  }

  /**
   * Runs one input batch through the chain, each partition on its worker. `batch` must stay
   * unchanged until the promise settles (a timed-out partition's events are read from it).
   */
  async process(batch: Uint8Array, now: number): Promise<ChainResult> {
    this.#open();
    this.#checkRoom();
    const partitioner = this.#partitioner;
    partitioner.split(batch);
    const calls: Promise<PartitionMessage | PartitionFailure>[] = [];
    const sent: number[] = [];
    for (let p = 0; p < this.#slots.length; p++) {
      const frame = partitioner.take(p);
      if (frame === undefined) continue;
      sent.push(p);
      calls.push((this.#slots[p] as PartitionSlot).call({ type: 'process', frame, now }));
    }
    return this.#collect(await Promise.all(calls), sent, batch);
  }

  /** Lets time pass in every rule of every partition. */
  tick(now: number): Promise<ChainResult> {
    return this.#broadcast('tick', now);
  }

  /** Emits everything still open in every rule of every partition (as at shutdown). */
  flush(now: number): Promise<ChainResult> {
    return this.#broadcast('flush', now);
  }

  /**
   * Snapshots every rule in every partition, after the calls sent before it: per rule (chain
   * order), one state per partition. The states become the partitions' checkpoints.
   */
  async snapshot(): Promise<PartitionStates[]> {
    this.#open();
    const replies = await Promise.all(this.#slots.map((slot) => slot.call({ type: 'snapshot' })));
    const states: Uint8Array[][] = this.#options.rules.map(() => []);
    for (let p = 0; p < replies.length; p++) {
      const reply = this.#expect(replies[p] as PartitionMessage | PartitionFailure, p, 'snapshot');
      if (reply.type !== 'snapshot') continue;
      for (let i = 0; i < states.length; i++)
        (states[i] as Uint8Array[]).push(reply.states[i] as Uint8Array);
    }
    return states;
  }

  /**
   * Restores rules from states taken by {@link snapshot} with the same number of partitions
   * (a rule's state is opaque: it cannot be re-split by key). `undefined` leaves a rule as is.
   * @throws PartitionOptionsError when the partition count differs; PartitionCallError when a rule refuses its state.
   */
  async restore(states: readonly (PartitionStates | undefined)[]): Promise<void> {
    this.#open();
    const n = this.#slots.length;
    for (let i = 0; i < states.length; i++) {
      const s = states[i];
      if (s !== undefined && s.length !== n) {
        throw new PartitionOptionsError(
          `states[${i}]: ${s.length} partition states for ${n} workers: restore with the worker count the snapshot was taken with`,
        );
      }
    }
    const replies = await Promise.all(
      this.#slots.map((slot, p) =>
        slot.call({ type: 'restore', states: states.map((s) => s?.[p]) }),
      ),
    );
    for (let p = 0; p < replies.length; p++)
      this.#expect(replies[p] as PartitionMessage | PartitionFailure, p, 'restore');
  }

  /** Lets the calls already sent finish, then stops the workers. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= Promise.all(this.#slots.map((slot) => slot.close())).then(() => undefined);
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** Refuses a call before any partition got it when one partition's queue is full. */
  #checkRoom(): void {
    const max = this.#options.maxQueuedCalls;
    for (let p = 0; p < this.#slots.length; p++) {
      if ((this.#slots[p] as PartitionSlot).pending > max) {
        throw new PartitionCallError(
          p,
          'PARTITION_QUEUE_FULL',
          `partition ${p}: more than maxQueuedCalls (${max}) calls wait; await earlier calls before sending more`,
        );
      }
    }
  }

  #open(): void {
    if (this.#closing !== undefined)
      throw new PartitionClosedError('the partitioned chain is closed: start a new one');
  }

  async #broadcast(type: 'tick' | 'flush', now: number): Promise<ChainResult> {
    this.#open();
    this.#checkRoom();
    const sent = this.#slots.map((_, p) => p);
    const replies = await Promise.all(this.#slots.map((slot) => slot.call({ type, now })));
    return this.#collect(replies, sent, undefined);
  }

  #expect(reply: PartitionMessage | PartitionFailure, p: number, call: string): PartitionMessage {
    if (reply instanceof Error) throw reply;
    if (reply.type === 'error') {
      throw new PartitionCallError(
        p,
        reply.code,
        `partition ${p} refused ${call}: ${reply.message}`,
      );
    }
    return reply;
  }

  #collect(
    replies: (PartitionMessage | PartitionFailure)[],
    sent: number[],
    batch: Uint8Array | undefined,
  ): ChainResult {
    const merge = this.#merge;
    const result: ChainResult = { frame: undefined, deadLetters: [], commands: [], ruleTraps: 0 };
    for (let r = 0; r < replies.length; r++) {
      const reply = replies[r] as PartitionMessage | PartitionFailure;
      const p = sent[r] as number;
      if (reply instanceof Error) {
        result.ruleTraps++;
        if (batch !== undefined) this.#deadLetterPartition(batch, p, reply, result.deadLetters);
        continue;
      }
      if (reply.type === 'error') {
        throw new PartitionCallError(p, reply.code, `partition ${p}: ${reply.message}`);
      }
      if (reply.type !== 'done') continue;
      const done: PartitionReply = reply;
      if (done.input !== undefined) this.#partitioner.giveBack(p, done.input);
      if (done.frame !== undefined) merge.add(done.frame);
      if (done.deadLetters !== undefined)
        for (const d of done.deadLetters) result.deadLetters.push(d);
      if (done.commands !== undefined) for (const c of done.commands) result.commands.push(c);
      result.ruleTraps += done.ruleTraps;
    }
    result.frame = merge.finish();
    return result;
  }

  /** Dead-letters the events of partition `p` in `batch` (its worker failed on them). */
  #deadLetterPartition(
    batch: Uint8Array,
    p: number,
    error: PartitionFailure,
    out: DeadLetter[],
  ): void {
    const n = this.#slots.length;
    const reader = this.#reader.reset(batch);
    const reason = `${error.code}: ${error.message}`;
    const rules = this.#options.rules;
    const rule = rules.length === 1 ? (rules[0] as PartitionedRule).name : null;
    while (reader.next()) {
      if (n > 1 && fnv1a(batch, reader.keyStart, reader.keyLength) % n !== p) continue;
      out.push({
        pipeline: this.#options.pipeline,
        rule,
        reason,
        topic: reader.topic(),
        key: reader.key(),
        id: formatId(reader.idHigh, reader.idLow),
        payload: reader.payload().slice(),
      });
    }
  }
}
