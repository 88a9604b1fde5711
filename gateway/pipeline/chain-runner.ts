/**
 * @module Where a pipeline's rules run: `SyncChainRunner` runs them on the gateway thread through
 * a `RuleChain` (each call completes before it returns), `PoolChainRunner` on a pool of worker
 * threads through a `PartitionedChain` (each call completes later, in call order). The pipeline
 * drives both through one interface: a call returns `undefined` when it is done, or a promise
 * that settles once its dead letters, commands and counters are applied (no promise per batch on
 * the gateway thread); `takeFrame()` then hands over the outbox-bound records of that call.
 */
import { encode as encodeCbor } from 'cbor-x/encode';
import type { Logger } from 'pino';
import { RuleRestoreError, RuleTrapError } from '../../runtime/index.js';
import type { RuleInstance, RuleModule } from '../../runtime/index.js';
import type { PipelineConfig } from '../config/types.js';
import type { DeadLetterFile } from '../dead-letter/dead-letter-file.js';
import type { ChainResult, PartitionFigures, PartitionStates } from '../partition/index.js';
import { PartitionedChain } from '../partition/index.js';
import type { Counters } from './counters.js';
import { PipelineOnWorkersError } from './errors.js';
import { OutputCollector } from './output-collector.js';
import { RuleChain } from './rule-chain.js';
import type { RuleChainOptions } from './rule-chain.js';
import type { RuleSwap } from './pipeline-options.js';
import type { RuleStats } from './rule-stats.js';
import type { ShadowRun } from './shadow-run.js';

/** Bytes in a WebAssembly memory page. */
const WASM_PAGE_BYTES = 65536;

/** What the metrics and the API read of a rule position (a `RuleInstance` on the gateway thread). */
export interface RuleView {
  readonly name: string;
  readonly module: RuleModule;
  /** Instances re-created since this one took the position (0 on workers: see `RuleStats.restartsBefore`). */
  readonly restarts: number;
  /** Memory of the rule (summed over the workers). */
  readonly memoryBytes: number;
}

/** A pipeline's rules, on the gateway thread or on worker threads. */
export interface ChainRunner {
  /** The rule positions, in chain order. */
  readonly rules: readonly RuleView[];
  /** The figures of each rule position, in chain order. */
  readonly stats: readonly RuleStats[];
  /** The worker pool's figures, when the rules run on workers. */
  readonly partitions: PartitionFigures | undefined;
  /**
   * Runs one batch. Returns undefined when done, else a promise of whether it succeeded (never
   * rejected: a failure of the pool itself is logged, and the batch must stay unacknowledged).
   * `batch` must not change until then.
   */
  process(batch: Uint8Array, now: number): Promise<boolean> | undefined;
  /** Lets time pass in every rule; settles as `process` does. */
  tick(now: number): Promise<boolean> | undefined;
  /** Emits everything open in every rule; settles as `process` does. */
  flush(now: number): Promise<boolean> | undefined;
  /** The outbox-bound records of the last call, as a frame the caller owns (undefined when none). */
  takeFrame(): Uint8Array | undefined;
  /** The gateway-thread chain, for a hot swap or a shadow. @throws PipelineOnWorkersError on workers */
  onGatewayThread(feature: string): SyncChainRunner;
  /** The shadow run beside rule `index`, if any. */
  shadow(index: number): ShadowRun | undefined;
  /** Lets calls already sent finish, then stops the workers (nothing to do on the gateway thread). Idempotent. */
  close(): Promise<void>;
}

/** Options of a {@link SyncChainRunner}: those of the chain it runs. */
export type SyncChainRunnerOptions = RuleChainOptions;

/** The rules on the gateway thread: every call is done when it returns. */
export class SyncChainRunner implements ChainRunner {
  /** The chain (hot swaps and shadows act on it directly). */
  readonly chain: RuleChain;
  /** Collects the outbox-bound records of a call (also of a swap's flush). */
  readonly collector = new OutputCollector();
  readonly #pipeline: string;

  constructor(options: SyncChainRunnerOptions) {
    this.chain = new RuleChain(options);
    this.#pipeline = options.pipeline;
  }

  get rules(): readonly RuleInstance[] {
    return this.chain.rules;
  }

  get stats(): readonly RuleStats[] {
    return this.chain.stats;
  }

  get partitions(): undefined {
    return undefined;
  }

  process(batch: Uint8Array, now: number): undefined {
    this.chain.process(batch, now, this.collector);
    return undefined;
  }

  tick(now: number): undefined {
    this.chain.tick(now, this.collector);
    return undefined;
  }

  flush(now: number): undefined {
    this.chain.flush(now, this.collector);
    return undefined;
  }

  takeFrame(): Uint8Array | undefined {
    return this.collector.finish();
  }

  onGatewayThread(): SyncChainRunner {
    return this;
  }

  shadow(index: number): ShadowRun | undefined {
    return this.chain.shadow(index);
  }

  /**
   * Replaces rule `index` with an instance from `create`, handing the old instance's state over
   * (`snapshot` → `restore`). When the new instance refuses it (or traps restoring it): with
   * `fail` the old rule stays and the `RuleRestoreError`/`RuleTrapError` is thrown; with `flush`
   * the old rule's open windows are flushed down the chain (into the collector) and a fresh
   * instance starts clean.
   * @throws RangeError when there is no rule at `index`
   */
  swap(
    index: number,
    create: () => RuleInstance,
    onStateRefused: 'flush' | 'fail',
    now: number,
  ): Omit<RuleSwap, 'swapMs'> {
    const previous = this.#rule(index);
    const state = previous.snapshot();
    let next = create();
    let handover: RuleSwap['handover'] = 'state';
    try {
      next.restore(state);
    } catch (error) {
      if (!(error instanceof RuleRestoreError || error instanceof RuleTrapError)) throw error;
      if (onStateRefused === 'fail') throw error;
      handover = 'flushed';
      this.chain.flushRule(index, now, this.collector);
      next = create();
    }
    this.chain.replace(index, next);
    return { previous, handover, stateBytes: state.length };
  }

  /**
   * Starts a shadow beside rule `index` from the active rule's state (`start` gets its
   * snapshot), or stops it (`undefined`).
   * @throws RangeError when there is no rule at `index`
   */
  setShadow(
    index: number,
    start: ((activeState: Uint8Array) => ShadowRun) | undefined,
  ): ShadowRun | undefined {
    const active = this.#rule(index);
    const run = start === undefined ? undefined : start(active.snapshot());
    this.chain.setShadow(index, run);
    return run;
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  #rule(index: number): RuleInstance {
    const rule = this.chain.rules[index];
    if (rule === undefined)
      throw new RangeError(`pipeline "${this.#pipeline}" has no rule at index ${index}`);
    return rule;
  }
}

/** Least time between two in-memory checkpoints of the rules on workers. */
export const WORKER_CHECKPOINT_MS = 1000;

/** Options of {@link PoolChainRunner.start}. */
export interface PoolChainRunnerOptions {
  /** The pipeline's configuration (`workers`, `rules`, `commandTopic`). */
  config: PipelineConfig;
  /** The compiled module of each rule, in chain order. */
  modules: readonly RuleModule[];
  deadLetters: Pick<DeadLetterFile, 'add'>;
  counters: Counters;
  publishCommand: (topic: string, payload: Uint8Array) => void;
  /** The partition worker's entry module. @default `partition-worker.js` in dist */
  workerEntry?: URL | undefined;
  logger: Logger;
}

/** A rule position on the pool: its name and module, its memory summed over the workers. */
class PoolRuleView implements RuleView {
  readonly name: string;
  readonly module: RuleModule;
  readonly #chain: PartitionedChain;
  readonly restarts = 0;

  constructor(name: string, module: RuleModule, chain: PartitionedChain) {
    this.name = name;
    this.module = module;
    this.#chain = chain;
  }

  get memoryBytes(): number {
    let pages = 0;
    for (const m of this.#chain.memory()) if (m.rule === this.name) pages += m.pages;
    return pages * WASM_PAGE_BYTES;
  }
}

/**
 * The rules on a pool of worker threads. The pipeline sends one call at a time and waits for it,
 * so a tick never overtakes a batch and at most one batch is in the pool.
 *
 * Checkpoints: `snapshot()` is the pool's (queued behind the calls sent before it; per rule, one
 * state per worker). Taken while the pipeline is between calls, it reflects exactly the batches
 * settled so far, as `RuleInstance.snapshot()` does on the gateway thread. The runner takes one
 * at most every {@link WORKER_CHECKPOINT_MS} after a call, right as it settles: the pool keeps it
 * as each worker's checkpoint, so a worker replaced after a timeout or a crash resumes its open
 * windows from at most that long ago instead of from nothing.
 */
export class PoolChainRunner implements ChainRunner {
  readonly #chain: PartitionedChain;
  readonly #rules: readonly RuleView[];
  readonly #pipeline: string;
  readonly #deadLetters: Pick<DeadLetterFile, 'add'>;
  readonly #counters: Counters;
  readonly #publishCommand: (topic: string, payload: Uint8Array) => void;
  readonly #logger: Logger;
  #frame: Uint8Array | undefined;
  #checkpointAt = Date.now();

  private constructor(
    chain: PartitionedChain,
    options: PoolChainRunnerOptions,
    rules: readonly RuleView[],
  ) {
    this.#chain = chain;
    this.#rules = rules;
    this.#pipeline = options.config.name;
    this.#deadLetters = options.deadLetters;
    this.#counters = options.counters;
    this.#publishCommand = options.publishCommand;
    this.#logger = options.logger;
  }

  /**
   * Starts `config.workers.count` workers, each with an instance of every rule.
   * @throws PartitionOptionsError, PartitionCallError (a rule did not start)
   */
  static async start(options: PoolChainRunnerOptions): Promise<PoolChainRunner> {
    const { config, modules } = options;
    const chain = await PartitionedChain.start({
      pipeline: config.name,
      rules: config.rules.map((rule, i) => ({
        name: rule.name,
        module: modules[i] as RuleModule,
        config: new Uint8Array(encodeCbor(rule.config)),
        ...(rule.fuel === undefined ? {} : { fuel: rule.fuel }),
      })),
      commandTopic: config.commandTopic,
      workers: config.workers.count,
      ruleTimeoutMs: config.workers.ruleTimeoutMs,
      ...(options.workerEntry === undefined ? {} : { workerEntry: options.workerEntry }),
      logger: options.logger,
    });
    const views = config.rules.map(
      (rule, i) => new PoolRuleView(rule.name, modules[i] as RuleModule, chain),
    );
    return new PoolChainRunner(chain, options, views);
  }

  get rules(): readonly RuleView[] {
    return this.#rules;
  }

  get stats(): readonly RuleStats[] {
    return this.#chain.stats;
  }

  get partitions(): PartitionFigures {
    return this.#chain;
  }

  process(batch: Uint8Array, now: number): Promise<boolean> {
    return this.#run(this.#chain.process(batch, now), 'process');
  }

  tick(now: number): Promise<boolean> {
    return this.#run(this.#chain.tick(now), 'tick');
  }

  flush(now: number): Promise<boolean> {
    return this.#run(this.#chain.flush(now), 'flush');
  }

  takeFrame(): Uint8Array | undefined {
    const frame = this.#frame;
    this.#frame = undefined;
    return frame;
  }

  onGatewayThread(feature: string): never {
    throw new PipelineOnWorkersError(
      `pipeline "${this.#pipeline}": ${feature} is not available while its rules run on worker threads (workers.count: ${this.#chain.partitions}): set pipelines[].workers.count to 0 for this pipeline to use it`,
    );
  }

  shadow(): undefined {
    return undefined;
  }

  /** Per rule (chain order), one state per worker, after the calls sent so far. */
  snapshot(): Promise<PartitionStates[]> {
    return this.#chain.snapshot();
  }

  /** Restores per-worker states taken by {@link snapshot} with the same worker count. */
  restore(states: readonly (PartitionStates | undefined)[]): Promise<void> {
    return this.#chain.restore(states);
  }

  close(): Promise<void> {
    return this.#chain.close();
  }

  /**
   * Applies a call's result: dead letters to the file, commands published, counters; the frame
   * waits for `takeFrame()`. A failing pool (a closed chain, a worker refusing a call) is
   * logged and reported as `false`: the batch stays unacknowledged, the broker redelivers it.
   */
  async #run(call: Promise<ChainResult>, kind: string): Promise<boolean> {
    let result: ChainResult;
    try {
      result = await call;
    } catch (error) {
      this.#logger.error(
        { err: error, pipeline: this.#pipeline, call: kind },
        'rule worker pool failed a call: the batch stays unacknowledged',
      );
      this.#frame = undefined;
      return false;
    }
    const deadLetters = this.#deadLetters;
    for (const d of result.deadLetters) deadLetters.add(d);
    this.#counters.deadLetters += result.deadLetters.length;
    for (const c of result.commands) this.#publishCommand(c.topic, c.payload);
    this.#counters.ruleTraps += result.ruleTraps;
    this.#frame = result.frame;
    const now = Date.now();
    if (kind !== 'flush' && now - this.#checkpointAt >= WORKER_CHECKPOINT_MS) {
      this.#checkpointAt = now;
      // Sent before the pipeline's next call: it covers exactly the calls settled so far.
      this.#chain.snapshot().catch((error: unknown) => {
        this.#logger.warn(
          { err: error, pipeline: this.#pipeline },
          'rule worker checkpoint failed: a replaced worker resumes from an older one',
        );
      });
    }
    return true;
  }
}
