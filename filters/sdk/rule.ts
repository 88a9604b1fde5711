/**
 * @module `Rule`, the class a rule author extends, and `register`, which makes an instance the
 * rule the module's exports (`exports.ts`) call.
 */

import { Batch } from './batch';
import { Config } from './config';
import { Output } from './output';
import { StateReader, StateWriter } from './state';

/**
 * A rule: override `process` and whatever else it needs. Every method has a default that does
 * nothing, so a stateless filter overrides only `init` and `process`.
 */
export abstract class Rule {
  /** Reads the parameters; `cfg.fail(message)` refuses them. Called once, before any batch. */
  init(cfg: Config): void {}

  /** Handles one batch: iterate `batch.next()` / `batch.event`, write records to `out`. */
  abstract process(batch: Batch, out: Output, now: i64): void;

  /** Time passes without events (`now`: the gateway's clock, epoch ms): close due windows. */
  tick(out: Output, now: i64): void {}

  /** Shutdown or hand-over: emit everything still open. */
  flush(out: Output): void {}

  /** Writes the rule's state (open windows, per-key values). Stateless rules write nothing. */
  snapshot(state: StateWriter): void {}

  /**
   * Replaces the rule's state with what `snapshot` wrote (possibly by an older version of the
   * rule); `state.fail(message)` refuses it. Called with no bytes left for a stateless snapshot.
   */
  restore(state: StateReader): void {}
}

let current: Rule | null = null;

/** Makes `rule` the module's rule. Call it once, at the top level of the rule file. */
export function register(rule: Rule): void {
  current = rule;
}

/** The registered rule (aborts with a hint when the rule file forgot `register`). */
export function registeredRule(): Rule {
  const rule = current;
  if (rule === null)
    abort('sluice sdk: no rule registered: call register(new MyRule()) in the rule file');
  return rule!;
}
