/**
 * @module A pipeline's chain of rule instances and the routing of their outputs: `default`
 * records feed the next rule (the output frame passed through as is when every record is
 * `default`, else the `default` records selected into a new frame), `dead` records become
 * dead letters (with the original event looked up by id in the batch), `device` records become
 * commands to the device, and every other output (and the last rule's `default`) goes to the
 * outbox. A rule that traps (or returns a malformed frame) fails the batch: its events are
 * dead-lettered with the reason and the chain goes on with the next batch (the runtime
 * re-creates the instance).
 */
import type { Logger } from 'pino';
import {
  FrameFormatError,
  FrameReader,
  FrameSelector,
  OUTPUT_NAME_BYTES,
  RuleOutputInvalidError,
  RuleRestoreError,
  RuleTrapError,
} from '../../runtime/index.js';
import type { RuleInstance } from '../../runtime/index.js';
import type { DeadLetterFile } from '../dead-letter/dead-letter-file.js';
import { formatId } from '../dead-letter/dead-letter-file.js';
import type { Counters } from './counters.js';
import type { OutputCollector } from './output-collector.js';
import type { ShadowRun } from './shadow-run.js';

const DEFAULT = OUTPUT_NAME_BYTES.default;
const DEAD = OUTPUT_NAME_BYTES.dead;
const DEVICE = OUTPUT_NAME_BYTES.device;

const utf8 = new TextDecoder();

/** Options of a {@link RuleChain}. */
export interface RuleChainOptions {
  pipeline: string;
  /** The rule instances, in order. */
  rules: readonly RuleInstance[];
  deadLetters: DeadLetterFile;
  counters: Counters;
  /** Topic of `device` outputs; `{key}` is replaced by the record's key. */
  commandTopic: string;
  /** Publishes a device command. */
  publishCommand: (topic: string, payload: Uint8Array) => void;
  logger: Logger;
}

/** Whether an error from a rule call means "this batch failed" rather than a gateway bug. */
function isRuleFailure(error: unknown): error is Error {
  return (
    error instanceof RuleTrapError ||
    error instanceof RuleOutputInvalidError ||
    error instanceof RuleRestoreError ||
    error instanceof FrameFormatError
  );
}

type Call = 'process' | 'tick' | 'flush';

/** Runs batches, ticks and flushes through a pipeline's rules. */
export class RuleChain {
  readonly #pipeline: string;
  /** Mutable only through `replace` (a hot swap between batches). */
  readonly #rules: RuleInstance[];
  readonly #deadLetters: DeadLetterFile;
  readonly #counters: Counters;
  readonly #commandParts: readonly string[];
  readonly #publishCommand: (topic: string, payload: Uint8Array) => void;
  readonly #logger: Logger;
  readonly #readers: FrameReader[];
  readonly #selector = new FrameSelector();
  readonly #lookup = new FrameReader();
  /** The input batch being processed (for dead-letter lookups), or undefined in tick/flush. */
  #batch: Uint8Array | undefined;
  #lookupReady = false;
  #collector: OutputCollector | undefined;
  /** Shadow runs by rule index (empty unless a shadow runs: one length check per batch). */
  #shadows: (ShadowRun | undefined)[] = [];

  constructor(options: RuleChainOptions) {
    this.#pipeline = options.pipeline;
    this.#rules = [...options.rules];
    this.#deadLetters = options.deadLetters;
    this.#counters = options.counters;
    this.#commandParts = options.commandTopic.split('{key}');
    this.#publishCommand = options.publishCommand;
    this.#logger = options.logger;
    this.#readers = options.rules.map(() => new FrameReader());
  }

  /** Runs one input batch through every rule; outbox-bound records are appended to `collector`. */
  process(batch: Uint8Array, now: number, collector: OutputCollector): void {
    this.#batch = batch;
    this.#lookupReady = false;
    this.#collector = collector;
    try {
      this.#run(0, batch, now);
    } finally {
      this.#batch = undefined;
      this.#collector = undefined;
    }
  }

  /** Lets time pass in every rule (`tick(now)`); what closes flows down the chain. */
  tick(now: number, collector: OutputCollector): void {
    this.#timer('tick', now, collector);
  }

  /** Emits everything still open in every rule (`flush()`), as at shutdown. */
  flush(now: number, collector: OutputCollector): void {
    this.#timer('flush', now, collector);
  }

  /** The rule instances, in order (the live array: do not keep it across a swap). */
  get rules(): readonly RuleInstance[] {
    return this.#rules;
  }

  /** The shadow run beside rule `index`, if any. */
  shadow(index: number): ShadowRun | undefined {
    return this.#shadows[index];
  }

  /** Starts (`run`) or stops (undefined) a shadow beside rule `index` (call only between batches). */
  setShadow(index: number, run: ShadowRun | undefined): void {
    const shadows = this.#rules.map((_, i) => (i === index ? run : this.#shadows[i]));
    this.#shadows = shadows.some((s) => s !== undefined) ? shadows : [];
  }

  /** Replaces rule `index` (call only between batches). */
  replace(index: number, next: RuleInstance): void {
    if (index < 0 || index >= this.#rules.length) throw new RangeError(`no rule at index ${index}`);
    this.#rules[index] = next;
  }

  /** Emits everything open in rule `index` alone (`flush()`); its outputs flow down the chain. */
  flushRule(index: number, now: number, collector: OutputCollector): void {
    this.#collector = collector;
    try {
      const rule = this.#rules[index] as RuleInstance;
      const next = this.#route(rule.flush(), index);
      if (next !== undefined) this.#run(index + 1, next, now);
    } finally {
      this.#collector = undefined;
    }
  }

  #timer(call: Call, now: number, collector: OutputCollector): void {
    this.#collector = collector;
    try {
      const rules = this.#rules;
      for (let i = 0; i < rules.length; i++) {
        const rule = rules[i] as RuleInstance;
        let next: Uint8Array | undefined;
        try {
          const out = call === 'tick' ? rule.tick(now) : rule.flush();
          if (call === 'tick' && this.#shadows.length > 0) this.#shadows[i]?.tick(out, now);
          next = this.#route(out, i);
        } catch (error) {
          if (!isRuleFailure(error)) throw error;
          this.#counters.ruleTraps++;
          this.#logger.error(
            { err: error, pipeline: this.#pipeline, rule: rule.name, call },
            'rule failed',
          );
          continue;
        }
        if (next !== undefined) this.#run(i + 1, next, now);
      }
    } finally {
      this.#collector = undefined;
    }
  }

  /** Runs `input` through rules `first`…last. */
  #run(first: number, input: Uint8Array, now: number): void {
    const rules = this.#rules;
    let frame: Uint8Array | undefined = input;
    for (let i = first; i < rules.length && frame !== undefined; i++) {
      const rule = rules[i] as RuleInstance;
      try {
        const out = rule.process(frame, now);
        if (this.#shadows.length > 0) this.#shadows[i]?.process(frame, out, now);
        frame = this.#route(out, i);
      } catch (error) {
        if (!isRuleFailure(error)) throw error;
        this.#failBatch(rule.name, error);
        return;
      }
    }
  }

  /**
   * Routes the output frame of rule `index`. Returns the frame of `default` records for the next
   * rule, or undefined when there is none (or this is the last rule).
   */
  #route(out: Uint8Array, index: number): Uint8Array | undefined {
    const reader = (this.#readers[index] as FrameReader).reset(out);
    if (reader.count === 0) return undefined;
    const collector = this.#collector as OutputCollector;
    const last = index === this.#rules.length - 1;
    // Pass 1: dead letters and commands (rare) are handled here; count what is left.
    let special = 0;
    let defaults = 0;
    while (reader.next()) {
      if (reader.topicEquals(DEFAULT)) {
        defaults++;
      } else if (reader.topicEquals(DEAD)) {
        special++;
        this.#deadLetter(reader, index);
      } else if (reader.topicEquals(DEVICE)) {
        special++;
        this.#command(reader);
      }
    }
    const others = reader.count - special - defaults;
    if (last) {
      // Everything but dead letters and commands goes to the outbox.
      if (special === 0) {
        collector.appendAll(reader);
      } else if (reader.count > special) {
        reader.reset(out);
        while (reader.next()) {
          if (!reader.topicEquals(DEAD) && !reader.topicEquals(DEVICE))
            collector.appendRecord(reader);
        }
      }
      return undefined;
    }
    if (others > 0) {
      // Named outputs of an inner rule go to the outbox too.
      reader.reset(out);
      while (reader.next()) {
        if (
          !reader.topicEquals(DEFAULT) &&
          !reader.topicEquals(DEAD) &&
          !reader.topicEquals(DEVICE)
        ) {
          collector.appendRecord(reader);
        }
      }
    }
    if (defaults === 0) return undefined;
    return defaults === reader.count ? out : this.#selector.select(out, DEFAULT);
  }

  #deadLetter(reader: FrameReader, index: number): void {
    const found = this.#findEvent(reader.idHigh, reader.idLow);
    const event = this.#lookup;
    this.#deadLetters.add({
      pipeline: this.#pipeline,
      rule: (this.#rules[index] as RuleInstance).name,
      reason: utf8.decode(reader.payload()),
      topic: found ? event.topic() : null,
      key: found ? event.key() : reader.key(),
      id: formatId(reader.idHigh, reader.idLow),
      payload: found ? event.payload() : null,
    });
    this.#counters.deadLetters++;
  }

  /** Positions the lookup reader on the batch event with this id (ids increase within a batch). */
  #findEvent(idHigh: number, idLow: number): boolean {
    const batch = this.#batch;
    if (batch === undefined) return false;
    const lookup = this.#lookup;
    if (!this.#lookupReady) {
      lookup.reset(batch);
      this.#lookupReady = true;
    }
    // Dead letters usually come in batch order: scan on from the last hit, then from the start.
    for (let pass = 0; pass < 2; pass++) {
      while (lookup.next()) {
        if (lookup.idLow === idLow && lookup.idHigh === idHigh) return true;
      }
      lookup.reset(batch);
    }
    return false;
  }

  #command(reader: FrameReader): void {
    const key = reader.key();
    const parts = this.#commandParts;
    const topic = parts.length === 1 ? (parts[0] as string) : parts.join(key);
    this.#publishCommand(topic, reader.payload().slice());
  }

  #failBatch(rule: string, error: Error): void {
    this.#counters.ruleTraps++;
    const batch = this.#batch;
    this.#logger.error(
      { err: error, pipeline: this.#pipeline, rule },
      batch === undefined ? 'rule failed' : 'rule failed: the batch goes to the dead-letter file',
    );
    if (batch === undefined) return;
    const reason = `${(error as { code?: string }).code ?? error.name}: ${error.message}`;
    const reader = this.#lookup.reset(batch);
    this.#lookupReady = false;
    while (reader.next()) {
      this.#deadLetters.add({
        pipeline: this.#pipeline,
        rule,
        reason,
        topic: reader.topic(),
        key: reader.key(),
        id: formatId(reader.idHigh, reader.idLow),
        payload: reader.payload(),
      });
      this.#counters.deadLetters++;
    }
  }
}
