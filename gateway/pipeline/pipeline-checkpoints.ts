/**
 * @module A pipeline's rule-state checkpoints in its spool (docs/delivery.md): which batches wait
 * for one, and taking one. On the gateway thread the spool captures the rules' state
 * synchronously at the start of a group commit. On workers the pool's snapshot is taken first
 * (queued behind the calls sent so far, so it covers exactly the batches processed) and the spool
 * captures that, as long as no call ran since.
 */
import type { Logger } from 'pino';
import { PoolChainRunner, SyncChainRunner } from './chain-runner.js';
import type { ChainRunner } from './chain-runner.js';
import type { CheckpointStore } from './pipeline-options.js';
import { RuleCheckpoint, encodeWorkerStates } from './rule-checkpoint.js';
import type { RuleState } from './rule-checkpoint.js';

/** Options of {@link PipelineCheckpoints}. */
export interface PipelineCheckpointsOptions {
  /** Identities of checkpointed events kept for recognising redeliveries. */
  identityWindow: number;
  /** Whether the pipeline is between batches with every output offered (a capture is consistent). */
  consistent: () => boolean;
  pipeline: string;
  logger: Logger;
}

/** The checkpoints of one pipeline's rules. */
export class PipelineCheckpoints {
  readonly #store: CheckpointStore;
  readonly #checkpoint: RuleCheckpoint;
  readonly #sync: SyncChainRunner | undefined;
  readonly #pool: PoolChainRunner | undefined;
  readonly #pipeline: string;
  readonly #logger: Logger;
  /** On workers: the states of the pool's last snapshot, while no call ran since. */
  #poolStates: RuleState[] | undefined;
  /** On workers: whether the last snapshot held any state (assumed until one is taken). */
  #poolStateful = true;

  constructor(store: CheckpointStore, runner: ChainRunner, options: PipelineCheckpointsOptions) {
    this.#store = store;
    this.#pipeline = options.pipeline;
    this.#logger = options.logger;
    this.#sync = runner instanceof SyncChainRunner ? runner : undefined;
    this.#pool = runner instanceof PoolChainRunner ? runner : undefined;
    const checkpoint = new RuleCheckpoint(
      options.identityWindow,
      store.restoredCheckpoint?.rules,
      options.logger,
    );
    this.#checkpoint = checkpoint;
    const sync = this.#sync;
    store.setCheckpointSource({
      capture: () => {
        // Consistent only when every processed batch's outputs are offered and its dead
        // letters written (a redelivery the checkpoint covers is skipped, not dead-lettered).
        if (!options.consistent()) return undefined;
        if (sync !== undefined) return checkpoint.capture(sync.rules);
        const states = this.#poolStates;
        return states === undefined ? undefined : checkpoint.captureStates(states);
      },
    });
  }

  /** Notes a QoS 1/2 event appended to the batch being filled (or skipped as a redelivery). */
  note(messageId: number, topic: string, payload: Uint8Array): void {
    this.#checkpoint.note(messageId, topic, payload);
  }

  /** The batch being filled was processed; `ran`: its events went to the rules. */
  processed(ran: boolean): void {
    if (ran) this.#poolStates = undefined;
    this.#checkpoint.processed();
  }

  /** A tick or a flush ran: the rules' state changed. */
  timerRan(): void {
    this.#poolStates = undefined;
  }

  /** A rule was swapped: statefulness is checked again. */
  chainChanged(): void {
    this.#checkpoint.chainChanged();
  }

  /**
   * Whether a batch holding QoS 1/2 messages that produced `records` output records waits for
   * a checkpoint covering it: when it produced records, or a rule holds state.
   */
  needsState(records: number): boolean {
    if (records > 0) return true;
    return this.#sync !== undefined
      ? this.#checkpoint.holdsState(this.#sync.rules)
      : this.#poolStateful;
  }

  /** Resolves once a checkpoint of the rules' state now is durable (on workers, after a snapshot). */
  take(): Promise<void> {
    const store = this.#store;
    const pool = this.#pool;
    if (pool === undefined || this.#poolStates !== undefined) return store.checkpoint();
    return pool.snapshot().then(
      (states) => {
        this.#poolStates = pool.rules.map((rule, i) => ({
          name: rule.name,
          state: encodeWorkerStates(states[i] ?? []),
        }));
        this.#poolStateful = states.some((perWorker) => perWorker.some((s) => s.length > 0));
        return store.checkpoint();
      },
      (error: unknown) => {
        this.#logger.error(
          { err: error, pipeline: this.#pipeline },
          'rule worker snapshot failed: the batch stays unacknowledged',
        );
        throw error;
      },
    );
  }
}
