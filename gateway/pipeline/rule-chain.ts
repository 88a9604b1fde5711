/**
 * @module A pipeline's chain of rule instances and the routing of their outputs: `default`
 * records feed the next rule (the output frame passed through as is when every record is
 * `default`, else the `default` records selected into a new frame), `dead` records become
 * dead letters (with the original event looked up by id in the batch), `device` records become
 * commands to the device, and every other output (and the last rule's `default`) goes to the
 * outbox. A rule that traps (or returns a malformed frame) on a batch does not fail the batch:
 * the batch is retried once at the same chain position, event by event (each as a one-event
 * frame), to isolate the bad events. Only those go to the dead-letter file, with the failure's
 * code and message as the reason; the others flow on down the chain as usual.
 *
 * State after a trap: the runtime discards the trapped instance and re-creates it on the next
 * call from its last snapshot (`RuleInstance.snapshot`/`restore`: the last hot swap or restore;
 * the gateway takes no periodic checkpoints yet), or empty when there is none. For a window rule
 * this means every window still open when it trapped loses the events it had accumulated since
 * that snapshot (all of them when there is none): the windows' results will miss those events.
 * The batch's good events, retried one by one, do reach the new instance's windows. What the
 * rule wrote during the failed call is discarded with it, and records
 * of earlier rules of the chain are not re-run. Cost: a retry is one call per event plus one
 * re-instantiation (0.2–0.45 ms) per failing event, on the pipeline's thread.
 *
 * Per-rule figures ({@link RuleStats}) are updated once per rule call, never per event.
 */
import type { Logger } from 'pino';
import {
  FRAME_HEADER_BYTES,
  FRAME_MAGIC,
  FrameFormatError,
  FrameReader,
  FrameSelector,
  frameRecordCount,
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
import { RuleStats } from './rule-stats.js';
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
  /** Where dead letters go (the dead-letter file; a list in a partition's worker). */
  deadLetters: Pick<DeadLetterFile, 'add'>;
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

/** The stable code of a rule failure. */
function codeOf(error: Error): string {
  return (error as { code?: string }).code ?? error.name;
}

/** Runs batches, ticks and flushes through a pipeline's rules. */
export class RuleChain {
  readonly #pipeline: string;
  /** Mutable only through `replace` (a hot swap between batches). */
  readonly #rules: RuleInstance[];
  readonly #deadLetters: Pick<DeadLetterFile, 'add'>;
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
  /** Per-position figures (kept across hot swaps). */
  readonly #stats: RuleStats[];
  /** One-event frames of a retry, reused. */
  #single = new Uint8Array(1024);
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
    this.#stats = options.rules.map(() => new RuleStats());
  }

  /** The figures of each rule position, in chain order. */
  get stats(): readonly RuleStats[] {
    return this.#stats;
  }

  /** Runs one input batch through every rule; outbox-bound records are appended to `collector`. */
  process(batch: Uint8Array, now: number, collector: OutputCollector): void {
    this.#batch = batch;
    this.#lookupReady = false;
    this.#collector = collector;
    try {
      this.#run(0, batch, now, false);
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
    const previous = this.#rules[index] as RuleInstance;
    if (previous !== next) (this.#stats[index] as RuleStats).restartsBefore += previous.restarts;
    this.#rules[index] = next;
  }

  /** Emits everything open in rule `index` alone (`flush()`); its outputs flow down the chain. */
  flushRule(index: number, now: number, collector: OutputCollector): void {
    this.#collector = collector;
    try {
      let next: Uint8Array | undefined;
      try {
        next = this.#route(this.#call(index, 'flush', undefined, now), index);
      } catch (error) {
        if (isRuleFailure(error)) (this.#stats[index] as RuleStats).error(codeOf(error));
        throw error;
      }
      if (next !== undefined) this.#run(index + 1, next, now, false);
    } finally {
      this.#collector = undefined;
    }
  }

  #timer(call: Call, now: number, collector: OutputCollector): void {
    this.#collector = collector;
    try {
      const rules = this.#rules;
      for (let i = 0; i < rules.length; i++) {
        let next: Uint8Array | undefined;
        try {
          const out = this.#call(i, call, undefined, now);
          if (call === 'tick' && this.#shadows.length > 0) this.#shadows[i]?.tick(out, now);
          next = this.#route(out, i);
        } catch (error) {
          if (!isRuleFailure(error)) throw error;
          this.#counters.ruleTraps++;
          (this.#stats[i] as RuleStats).error(codeOf(error));
          this.#logger.error(
            { err: error, pipeline: this.#pipeline, rule: (rules[i] as RuleInstance).name, call },
            'rule failed',
          );
          continue;
        }
        if (next !== undefined) this.#run(i + 1, next, now, false);
      }
    } finally {
      this.#collector = undefined;
    }
  }

  /**
   * Calls rule `index` (`process` with `frame`, or `tick`/`flush` when `frame` is undefined) and
   * updates its figures; `sample` adds the duration to the latency quantiles (not for retries).
   */
  #call(
    index: number,
    call: Call,
    frame: Uint8Array | undefined,
    now: number,
    sample = false,
  ): Uint8Array {
    const rule = this.#rules[index] as RuleInstance;
    const stats = this.#stats[index] as RuleStats;
    const started = performance.now();
    try {
      if (frame === undefined) return call === 'tick' ? rule.tick(now) : rule.flush();
      stats.eventsIn += frameRecordCount(frame);
      return rule.process(frame, now);
    } finally {
      const ms = performance.now() - started;
      stats.calls++;
      stats.callMs += ms;
      if (sample) stats.sample(ms);
    }
  }

  /**
   * Runs `input` through rules `first`…last. A rule failing on it isolates the bad events by
   * retrying `input` event by event at that position, unless `retry` is true: `input` then
   * derives from a single event already being retried, and its events are dead-lettered.
   */
  #run(first: number, input: Uint8Array, now: number, retry: boolean): void {
    const rules = this.#rules;
    let frame: Uint8Array | undefined = input;
    for (let i = first; i < rules.length && frame !== undefined; i++) {
      const current: Uint8Array = frame;
      try {
        const out = this.#call(i, 'process', current, now, !retry);
        if (this.#shadows.length > 0) this.#shadows[i]?.process(current, out, now);
        frame = this.#route(out, i);
      } catch (error) {
        if (!isRuleFailure(error)) throw error;
        this.#counters.ruleTraps++;
        (this.#stats[i] as RuleStats).error(codeOf(error));
        if (retry) this.#deadLetterFrame(current, i, error);
        else this.#isolate(current, i, now, error);
        return;
      }
    }
  }

  /**
   * Retries `frame` (which rule `index` failed on) once, event by event, at rule `index`: each
   * event that fails again is dead-lettered with the reason; the others flow on down the chain.
   */
  #isolate(failed: Uint8Array, index: number, now: number, error: Error): void {
    const rule = (this.#rules[index] as RuleInstance).name;
    this.#logger.warn(
      { err: error, pipeline: this.#pipeline, rule, events: frameRecordCount(failed) },
      'rule failed on a batch: retrying it event by event to isolate the bad events',
    );
    // A copy: `failed` may be a view over another rule's memory or the selector's buffer.
    const frame = failed.slice();
    const reader = new FrameReader().reset(frame);
    while (reader.next()) this.#run(index, this.#singleFrame(reader), now, true);
  }

  /** A one-event frame holding the reader's current record (valid until the next call). */
  #singleFrame(reader: FrameReader): Uint8Array {
    const size = FRAME_HEADER_BYTES + reader.recordSize;
    if (this.#single.length < size)
      this.#single = new Uint8Array(Math.max(size, this.#single.length * 2));
    const single = this.#single.subarray(0, size);
    single.set(
      reader.frame.subarray(reader.recordStart, reader.recordStart + reader.recordSize),
      FRAME_HEADER_BYTES,
    );
    const view = new DataView(single.buffer, single.byteOffset, FRAME_HEADER_BYTES);
    view.setUint32(0, FRAME_MAGIC, true);
    view.setUint32(4, 1, true);
    view.setUint32(8, size, true);
    view.setUint32(12, 0, true);
    return single;
  }

  /**
   * Routes the output frame of rule `index`. Returns the frame of `default` records for the next
   * rule, or undefined when there is none (or this is the last rule).
   */
  #route(out: Uint8Array, index: number): Uint8Array | undefined {
    const reader = (this.#readers[index] as FrameReader).reset(out);
    (this.#stats[index] as RuleStats).eventsOut += reader.count;
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

  /**
   * Dead-letters the events of `frame`, which rule `index` failed on during a retry: each is
   * written as the original input event (looked up by id in the batch) with the failure's code and
   * message; a record with no such event (a window result, say) is written as the rule received it.
   */
  #deadLetterFrame(frame: Uint8Array, index: number, error: Error): void {
    const rule = (this.#rules[index] as RuleInstance).name;
    const reason = `${codeOf(error)}: ${error.message}`;
    this.#logger.error(
      { err: error, pipeline: this.#pipeline, rule },
      'rule failed on a single event: the event goes to the dead-letter file',
    );
    const reader = new FrameReader().reset(frame);
    const event = this.#lookup;
    while (reader.next()) {
      const found = this.#findEvent(reader.idHigh, reader.idLow);
      this.#deadLetters.add({
        pipeline: this.#pipeline,
        rule,
        reason,
        topic: found ? event.topic() : null,
        key: found ? event.key() : reader.key(),
        id: formatId(reader.idHigh, reader.idLow),
        payload: found ? event.payload() : reader.payload(),
      });
      this.#counters.deadLetters++;
    }
  }
}
