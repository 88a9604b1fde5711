/**
 * @module A pipeline's rule-state checkpoint: the rule states (`snapshot()` of each rule, by
 * chain position and name; layout in gateway/spool/spool-format.ts) plus the identities of the
 * QoS 1/2 events processed since the previous checkpoint, and restoring the rules from one.
 *
 * With the rules on worker threads a rule's checkpointed state is its states in every worker
 * ({@link encodeWorkerStates}): a rule's state is opaque, so it is restored only onto the same
 * number of workers, and rules on the gateway thread never take it (nor the reverse).
 */
import type { Logger } from 'pino';
import { RuleRestoreError, RuleTrapError } from '../../runtime/index.js';
import type { RuleInstance } from '../../runtime/index.js';
import type { PipelineConfig } from '../config/types.js';
import type { CheckpointCapture } from '../spool/spool-state.js';
import { IdentityList } from './event-identity.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();
/** "SWK1": a rule's state taken on workers, one state per worker. */
const WORKER_STATES_MAGIC = 0x314b5753;

/** One rule's state in a checkpoint. */
export interface RuleState {
  readonly name: string;
  readonly state: Uint8Array;
}

/** Encodes rule states: u32 count, then per rule u16 name length, name, u32 length, state. */
export function encodeRuleStates(states: readonly RuleState[]): Uint8Array {
  const names = states.map((s) => encoder.encode(s.name));
  let size = 4;
  for (let i = 0; i < states.length; i++) {
    size += 6 + (names[i] as Uint8Array).length + (states[i] as RuleState).state.length;
  }
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  view.setUint32(0, states.length, true);
  let at = 4;
  for (let i = 0; i < states.length; i++) {
    const name = names[i] as Uint8Array;
    const state = (states[i] as RuleState).state;
    view.setUint16(at, name.length, true);
    out.set(name, at + 2);
    at += 2 + name.length;
    view.setUint32(at, state.length, true);
    out.set(state, at + 4);
    at += 4 + state.length;
  }
  return out;
}

/** Decodes {@link encodeRuleStates}'s layout; undefined when malformed. */
export function decodeRuleStates(bytes: Uint8Array): RuleState[] | undefined {
  if (bytes.length < 4) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = view.getUint32(0, true);
  const states: RuleState[] = [];
  let at = 4;
  for (let i = 0; i < count; i++) {
    if (at + 2 > bytes.length) return undefined;
    const nameLength = view.getUint16(at, true);
    if (at + 6 + nameLength > bytes.length) return undefined;
    const name = decoder.decode(bytes.subarray(at + 2, at + 2 + nameLength));
    at += 2 + nameLength;
    const length = view.getUint32(at, true);
    if (at + 4 + length > bytes.length) return undefined;
    states.push({ name, state: bytes.subarray(at + 4, at + 4 + length) });
    at += 4 + length;
  }
  return at === bytes.length ? states : undefined;
}

/** Encodes a rule's states on workers: u32 magic "SWK1", u32 count, then per worker u32 length, state. */
export function encodeWorkerStates(states: readonly Uint8Array[]): Uint8Array {
  let size = 8;
  for (const state of states) size += 4 + state.length;
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  view.setUint32(0, WORKER_STATES_MAGIC, true);
  view.setUint32(4, states.length, true);
  let at = 8;
  for (const state of states) {
    view.setUint32(at, state.length, true);
    out.set(state, at + 4);
    at += 4 + state.length;
  }
  return out;
}

/** Whether a checkpointed rule state was taken on workers ({@link encodeWorkerStates}). */
export function isWorkerStates(bytes: Uint8Array): boolean {
  return (
    bytes.length >= 8 &&
    new DataView(bytes.buffer, bytes.byteOffset, 8).getUint32(0, true) === WORKER_STATES_MAGIC
  );
}

/** Decodes {@link encodeWorkerStates}'s layout; undefined when it is not one or is malformed. */
export function decodeWorkerStates(bytes: Uint8Array): Uint8Array[] | undefined {
  if (!isWorkerStates(bytes)) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = view.getUint32(4, true);
  const states: Uint8Array[] = [];
  let at = 8;
  for (let i = 0; i < count; i++) {
    if (at + 4 > bytes.length) return undefined;
    const length = view.getUint32(at, true);
    if (at + 4 + length > bytes.length) return undefined;
    states.push(bytes.subarray(at + 4, at + 4 + length));
    at += 4 + length;
  }
  return at === bytes.length ? states : undefined;
}

/**
 * The states to restore rules on `workers` workers from, per rule (chain order): its state in
 * each worker, or undefined to start it clean. A rule resumes from the checkpoint's state at its
 * chain position when the names match and the state was taken on as many workers; otherwise it
 * starts clean, with a warning naming it and the reason. Nothing here throws.
 */
export function workerStatesToRestore(
  names: readonly string[],
  workers: number,
  encoded: Uint8Array | undefined,
  logger: Logger,
): (Uint8Array[] | undefined)[] {
  const plan: (Uint8Array[] | undefined)[] = names.map(() => undefined);
  if (encoded === undefined) return plan;
  const saved = decodeRuleStates(encoded);
  if (saved === undefined) {
    logger.warn('rule states in the spool checkpoint are malformed: every rule starts clean');
    return plan;
  }
  for (let i = 0; i < names.length; i++) {
    const name = names[i] as string;
    const state = saved[i];
    if (state === undefined || state.name !== name) {
      logger.warn(
        { rule: name, position: i, checkpointed: state?.name ?? null },
        'rule starts clean: the spool checkpoint has no state for this rule at this position',
      );
      continue;
    }
    if (state.state.length === 0) continue;
    const perWorker = decodeWorkerStates(state.state);
    if (perWorker === undefined) {
      logger.warn(
        { rule: name, position: i, workers },
        'rule starts clean on workers: its checkpointed state was taken on the gateway thread (workers.count 0)',
      );
    } else if (perWorker.length !== workers) {
      logger.warn(
        { rule: name, position: i, workers, checkpointedWorkers: perWorker.length },
        'rule starts clean: its state was checkpointed on another number of workers (a state cannot be re-split by device key)',
      );
    } else {
      plan[i] = perWorker;
    }
  }
  return plan;
}

/**
 * Restores the rules of a pipeline on workers from a checkpoint ({@link workerStatesToRestore});
 * a rule that refuses its state is left to start clean in the workers that refused, with a
 * warning. Nothing here throws.
 */
export async function restoreWorkerRules(
  runner: { restore(states: readonly (readonly Uint8Array[] | undefined)[]): Promise<void> },
  pipeline: Pick<PipelineConfig, 'rules' | 'workers'>,
  encoded: Uint8Array | undefined,
  logger: Logger,
): Promise<void> {
  if (encoded === undefined) return;
  const names = pipeline.rules.map((rule) => rule.name);
  const states = workerStatesToRestore(names, pipeline.workers.count, encoded, logger);
  if (states.every((state) => state === undefined)) return;
  await runner.restore(states).catch((error: unknown) => {
    logger.warn(
      { err: error },
      'rules on workers refused the spool checkpoint: the workers that refused start clean',
    );
  });
}

/**
 * Restores each rule from the checkpoint's state at its chain position, when the names match.
 * A rule whose state is missing, named differently or refused starts clean, with a warning
 * naming it and the reason; nothing here throws.
 */
export function restoreRuleStates(
  rules: readonly RuleInstance[],
  encoded: Uint8Array | undefined,
  logger: Logger,
): void {
  if (encoded === undefined) return;
  const states = decodeRuleStates(encoded);
  if (states === undefined) {
    logger.warn('rule states in the spool checkpoint are malformed: every rule starts clean');
    return;
  }
  for (let i = 0; i < rules.length; i++) {
    const rule = rules[i] as RuleInstance;
    const saved = states[i];
    if (saved === undefined || saved.name !== rule.name) {
      logger.warn(
        { rule: rule.name, position: i, checkpointed: saved?.name ?? null },
        'rule starts clean: the spool checkpoint has no state for this rule at this position',
      );
      continue;
    }
    if (saved.state.length === 0) continue;
    if (isWorkerStates(saved.state)) {
      logger.warn(
        { rule: rule.name, position: i },
        'rule starts clean: its state was checkpointed on worker threads (workers.count was above 0)',
      );
      continue;
    }
    try {
      rule.restore(saved.state);
    } catch (error) {
      if (!(error instanceof RuleRestoreError || error instanceof RuleTrapError)) throw error;
      logger.warn(
        { rule: rule.name, position: i, bytes: saved.state.length, reason: error.message },
        'rule starts clean: it refused the state from the spool checkpoint',
      );
    }
  }
}

/** Builds a pipeline's checkpoints: rule states and the identities of processed events. */
export class RuleCheckpoint {
  /** Identities of the events in the batch being filled. */
  readonly #filling: IdentityList;
  /** Identities of processed events not yet in a checkpoint. */
  readonly #processed: IdentityList;
  #lastRules: Uint8Array | undefined;
  #stateful: boolean;
  readonly #logger: Logger;

  /** `restored`: the rule states the spool's newest checkpoint holds. */
  constructor(window: number, restored: Uint8Array | undefined, logger: Logger) {
    this.#filling = new IdentityList(window);
    this.#processed = new IdentityList(window);
    this.#lastRules = restored;
    this.#stateful = restored !== undefined && (decodeRuleStates(restored) ?? []).some(nonEmpty);
    this.#logger = logger;
  }

  /** Notes a QoS 1/2 event appended to the batch being filled (or skipped as a redelivery). */
  note(messageId: number, topic: string, payload: Uint8Array): void {
    this.#filling.add(messageId, topic, payload);
  }

  /** The batch being filled was processed: its events are covered by the next checkpoint. */
  processed(): void {
    this.#processed.takeAll(this.#filling);
  }

  /**
   * Whether the chain holds state (a batch without outputs must then wait for a checkpoint).
   * Once a rule held state, the chain counts as stateful until {@link chainChanged}.
   */
  holdsState(rules: readonly RuleInstance[]): boolean {
    if (this.#stateful) return true;
    for (const rule of rules) {
      if (this.#snapshot(rule).length > 0) return (this.#stateful = true);
    }
    return false;
  }

  /** A rule was swapped: statefulness is checked again. */
  chainChanged(): void {
    this.#stateful = false;
  }

  /** The checkpoint now: rule states when they changed since the last one, and new identities. */
  capture(rules: readonly RuleInstance[]): CheckpointCapture {
    const states: RuleState[] = [];
    for (const rule of rules) states.push({ name: rule.name, state: this.#snapshot(rule) });
    return this.captureStates(states);
  }

  /** {@link capture} from states taken elsewhere (the rules on workers). */
  captureStates(states: readonly RuleState[]): CheckpointCapture {
    const encoded = encodeRuleStates(states);
    if (states.some(nonEmpty)) this.#stateful = true;
    const last = this.#lastRules;
    const unchanged = last !== undefined && Buffer.compare(last, encoded) === 0;
    this.#lastRules = encoded;
    return { rules: unchanged ? undefined : encoded, identities: this.#processed.drain() };
  }

  #snapshot(rule: RuleInstance): Uint8Array {
    try {
      return rule.snapshot();
    } catch (error) {
      this.#logger.error(
        { err: error, rule: rule.name },
        'rule snapshot failed: its state is checkpointed as empty',
      );
      return new Uint8Array(0);
    }
  }
}

function nonEmpty(state: RuleState): boolean {
  return state.state.length > 0;
}
