/**
 * @module A pipeline's rule-state checkpoint: the rule states (`snapshot()` of each rule, by
 * chain position and name; layout in gateway/spool/spool-format.ts) plus the identities of the
 * QoS 1/2 events processed since the previous checkpoint, and restoring the rules from one.
 */
import type { Logger } from 'pino';
import { RuleRestoreError, RuleTrapError } from '../../runtime/index.js';
import type { RuleInstance } from '../../runtime/index.js';
import type { CheckpointCapture } from '../spool/spool-state.js';
import { IdentityList } from './event-identity.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

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
