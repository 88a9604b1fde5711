/**
 * @module One live instance of a rule: the calls of the `rule` world over the core-module
 * canonical ABI (copy in through `cabi_realloc`, read results through cached views), traps
 * turned into typed errors, and transparent re-creation after a trap from the last state.
 */
import { RuleInitError, RuleRestoreError, RuleTrapError } from './errors.js';
import type { RuleCall } from './errors.js';
import { createEmptyFrame } from './frame.js';
import { RuleMemory } from './rule-memory.js';
import type { RuleModule } from './rule-module.js';
import { FUEL_GLOBAL, resolveRuleInstanceOptions } from './rule-instance-options.js';
import type { ResolvedRuleInstanceOptions, RuleInstanceOptions } from './rule-instance-options.js';

type ReallocFn = (oldPtr: number, oldSize: number, align: number, newSize: number) => number;
type BytesFn = (ptr: number, len: number) => number;
type ProcessFn = (ptr: number, len: number, now: bigint) => number;
type TickFn = (now: bigint) => number;
type NullaryFn = () => number;
type PostFn = (ret: number) => void;

/**
 * A rule instance. `process`, `tick` and `flush` return a view over the rule's memory that stays
 * valid only until the next call on this instance: read or copy it before calling again.
 * Not safe for concurrent use (one caller at a time, as one worker owns it).
 */
export class RuleInstance {
  readonly #mod: RuleModule;
  readonly #options: ResolvedRuleInstanceOptions;
  readonly #empty = createEmptyFrame();
  #live = false;
  #restarts = 0;
  #lastState: Uint8Array | undefined;
  #lastNow = Number.NaN;
  #lastNowBig = 0n;

  readonly #memory: RuleMemory;
  #realloc: ReallocFn = dead;
  #init: BytesFn = dead;
  #process: ProcessFn = dead;
  #tick: TickFn = dead;
  #flush: NullaryFn = dead;
  #snapshot: NullaryFn = dead;
  #restore: BytesFn = dead;
  #posts: Partial<Record<RuleCall, PostFn>> = {};
  #pendingPost: PostFn | undefined;
  #pendingRet = 0;
  /** The metered module's fuel counter, when a budget is set. */
  #fuel: WebAssembly.Global | undefined;

  private constructor(mod: RuleModule, options: ResolvedRuleInstanceOptions) {
    this.#mod = mod;
    this.#options = options;
    this.#memory = new RuleMemory(options.name);
  }

  /**
   * Instantiates `mod` (synchronously), runs `_initialize` if exported, then `init(config)`.
   * @throws RuleInitError when instantiation fails or `init` returns an error.
   * @throws RuleTrapError when the rule traps while starting.
   */
  static create(mod: RuleModule, options: RuleInstanceOptions = {}): RuleInstance {
    const rule = new RuleInstance(mod, resolveRuleInstanceOptions(options));
    rule.#start();
    return rule;
  }

  /** The rule's name. */
  get name(): string {
    return this.#options.name;
  }
  /** The module this instance runs. */
  get module(): RuleModule {
    return this.#mod;
  }
  /** How many times the instance was re-created after a trap or ABI violation. */
  get restarts(): number {
    return this.#restarts;
  }
  /** Current size of the rule's memory in bytes (0 while discarded after a trap). */
  get memoryBytes(): number {
    return this.#memory.byteLength;
  }

  /**
   * Runs `process` on one input frame. `now` is milliseconds since the Unix epoch (an integer).
   * Returns the output frame as a view valid until the next call on this instance.
   * @throws RuleTrapError / RuleOutputInvalidError; the instance is re-created on the next call.
   */
  process(frame: Uint8Array, now: number): Uint8Array {
    const nowBig = this.#bigNow(now);
    if (!this.#live) this.#revive();
    try {
      if (this.#pendingPost !== undefined) this.#runPost();
      const ptr = this.#copyIn(frame);
      if (this.#fuel !== undefined) this.#fuel.value = this.#options.fuel;
      const ret = this.#process(ptr, frame.length, nowBig) >>> 0;
      return this.#readFrame(ret, 'process');
    } catch (error) {
      throw this.#fail(error, 'process');
    }
  }

  /** Runs `tick(now)` (closes due windows). Returns a view valid until the next call. */
  tick(now: number): Uint8Array {
    const nowBig = this.#bigNow(now);
    if (!this.#live) this.#revive();
    try {
      if (this.#pendingPost !== undefined) this.#runPost();
      if (this.#fuel !== undefined) this.#fuel.value = this.#options.fuel;
      return this.#readFrame(this.#tick(nowBig) >>> 0, 'tick');
    } catch (error) {
      throw this.#fail(error, 'tick');
    }
  }

  /** Runs `flush()` (emits everything open). Returns a view valid until the next call. */
  flush(): Uint8Array {
    if (!this.#live) this.#revive();
    try {
      if (this.#pendingPost !== undefined) this.#runPost();
      if (this.#fuel !== undefined) this.#fuel.value = this.#options.fuel;
      return this.#readFrame(this.#flush() >>> 0, 'flush');
    } catch (error) {
      throw this.#fail(error, 'flush');
    }
  }

  /** Runs `snapshot()` and returns a copy of the state; it is also kept for re-creation after a trap. */
  snapshot(): Uint8Array {
    if (!this.#live) this.#revive();
    let state: Uint8Array;
    try {
      if (this.#pendingPost !== undefined) this.#runPost();
      if (this.#fuel !== undefined) this.#fuel.value = this.#options.fuel;
      state = this.#readList(this.#snapshot() >>> 0, 'snapshot').slice();
    } catch (error) {
      throw this.#fail(error, 'snapshot');
    }
    this.#lastState = state.slice();
    return state;
  }

  /**
   * Replaces the rule's state with `state` (from `snapshot`, possibly of an older version);
   * it is kept for re-creation after a trap.
   * @throws RuleRestoreError when the rule refuses the state (the instance stays usable).
   */
  restore(state: Uint8Array): void {
    if (!this.#live) this.#revive(false);
    const message = this.#restoreInto(state);
    if (message !== undefined) {
      throw new RuleRestoreError(
        this.name,
        `rule "${this.name}" refused a state of ${state.length} bytes: ${message}`,
        message,
      );
    }
    this.#lastState = state.slice();
  }

  #start(): void {
    const { name, config } = this.#options;
    let instance: WebAssembly.Instance;
    try {
      instance = new WebAssembly.Instance(this.#mod.module, this.#imports());
    } catch (error) {
      if (error instanceof WebAssembly.RuntimeError) {
        throw new RuleTrapError(
          name,
          'instantiate',
          `rule "${name}" trapped while instantiating: ${error.message}`,
          {
            cause: error,
          },
        );
      }
      const message = error instanceof Error ? error.message : String(error);
      throw new RuleInitError(
        name,
        `rule "${name}" could not be instantiated: ${message}`,
        undefined,
        { cause: error },
      );
    }
    const e = instance.exports;
    this.#realloc = e['cabi_realloc'] as ReallocFn;
    this.#init = e['init'] as BytesFn;
    this.#process = e['process'] as ProcessFn;
    this.#tick = e['tick'] as TickFn;
    this.#flush = e['flush'] as NullaryFn;
    this.#snapshot = e['snapshot'] as NullaryFn;
    this.#restore = e['restore'] as BytesFn;
    const posts: Partial<Record<RuleCall, PostFn>> = {};
    for (const call of ['init', 'process', 'tick', 'flush', 'snapshot', 'restore'] as const) {
      const post = e[`cabi_post_${call}`];
      if (typeof post === 'function') posts[call] = post as PostFn;
    }
    this.#posts = posts;
    this.#pendingPost = undefined;
    this.#fuel = undefined;
    if (this.#options.fuel !== undefined) {
      const fuel = e[FUEL_GLOBAL];
      if (!(fuel instanceof WebAssembly.Global)) {
        throw new RuleInitError(
          name,
          `rule "${name}" has a fuel budget but its module is not metered (no "${FUEL_GLOBAL}" export): build it with fuel metering, or drop the fuel setting`,
        );
      }
      this.#fuel = fuel;
    }
    this.#memory.attach(e['memory'] as WebAssembly.Memory);
    this.#live = true;
    let message: string | undefined;
    try {
      const initialize = e['_initialize'];
      if (typeof initialize === 'function') (initialize as () => void)();
      const ptr = this.#copyIn(config);
      message = this.#readResult(this.#init(ptr, config.length) >>> 0, 'init');
    } catch (error) {
      throw this.#fail(error, 'init');
    }
    if (message !== undefined) {
      this.#discard();
      throw new RuleInitError(
        name,
        `rule "${name}" refused its configuration: ${message}`,
        message,
      );
    }
  }

  /** Re-creates the instance after a trap and, unless told otherwise, restores the last known state. */
  #revive(restoreLast = true): void {
    this.#start();
    this.#restarts++;
    const state = this.#lastState;
    if (!restoreLast || state === undefined) return;
    const message = this.#restoreInto(state);
    if (message !== undefined) {
      this.#discard();
      throw new RuleRestoreError(
        this.name,
        `rule "${this.name}" was re-created after a trap but refused its last state of ${state.length} bytes: ${message}`,
        message,
      );
    }
  }

  #restoreInto(state: Uint8Array): string | undefined {
    try {
      if (this.#pendingPost !== undefined) this.#runPost();
      const ptr = this.#copyIn(state);
      if (this.#fuel !== undefined) this.#fuel.value = this.#options.fuel;
      return this.#readResult(this.#restore(ptr, state.length) >>> 0, 'restore');
    } catch (error) {
      throw this.#fail(error, 'restore');
    }
  }

  #imports(): WebAssembly.Imports {
    const { onLog, onMetric } = this.#options;
    // Without a listener the imports do nothing: no decoding, no allocation.
    const log =
      onLog === undefined
        ? () => {}
        : (level: number, ptr: number, len: number) =>
            onLog(level & 0xff, this.#memory.text(ptr >>> 0, len >>> 0, 'log'));
    const metric =
      onMetric === undefined
        ? () => {}
        : (ptr: number, len: number, value: number) =>
            onMetric(this.#memory.text(ptr >>> 0, len >>> 0, 'metric'), value);
    return { $root: { log, metric } };
  }

  #bigNow(now: number): bigint {
    // i64 parameters must be BigInts; consecutive batches often share a millisecond.
    if (now !== this.#lastNow) {
      if (!Number.isSafeInteger(now)) {
        throw new TypeError(
          `now: ${now} is not an integer number of milliseconds since the Unix epoch`,
        );
      }
      this.#lastNowBig = BigInt(now);
      this.#lastNow = now;
    }
    return this.#lastNowBig;
  }

  #copyIn(bytes: Uint8Array): number {
    const len = bytes.length;
    let ptr: number;
    try {
      ptr = this.#realloc(0, 0, 8, len) >>> 0;
    } catch (error) {
      throw this.#fail(error, 'cabi_realloc', ` while allocating ${len} bytes for the input`);
    }
    this.#memory.copyIn(bytes, ptr);
    return ptr;
  }

  #readList(ret: number, call: RuleCall): Uint8Array {
    const list = this.#memory.readList(ret, call);
    this.#deferPost(ret, call);
    return list;
  }

  #readFrame(ret: number, call: RuleCall): Uint8Array {
    const out = this.#readList(ret, call);
    return out.length === 0 ? this.#empty : out;
  }

  #readResult(ret: number, call: RuleCall): string | undefined {
    const message = this.#memory.readResult(ret, call);
    this.#deferPost(ret, call);
    return message;
  }

  /** A `cabi_post_<call>` runs before the next call: the returned list stays valid until then. */
  #deferPost(ret: number, call: RuleCall): void {
    const post = this.#posts[call];
    if (post !== undefined) {
      this.#pendingPost = post;
      this.#pendingRet = ret;
    }
  }

  #runPost(): void {
    const post = this.#pendingPost as PostFn;
    this.#pendingPost = undefined;
    post(this.#pendingRet);
  }

  #discard(): void {
    this.#live = false;
    this.#pendingPost = undefined;
    this.#memory.detach();
  }

  /** Discards the instance and turns a trap into a `RuleTrapError`; other errors pass through. */
  #fail(error: unknown, call: RuleCall, detail = ''): unknown {
    if (!this.#live) return error;
    this.#discard();
    if (error instanceof WebAssembly.RuntimeError || error instanceof RangeError) {
      // RangeError: V8 reports a Wasm stack overflow as "Maximum call stack size exceeded".
      const fuel = this.#fuel;
      const message =
        fuel !== undefined && (fuel.value as number) < 0
          ? `out of fuel (${this.#options.fuel} per call)`
          : error.message;
      return new RuleTrapError(
        this.name,
        call,
        `rule "${this.name}" trapped in ${call}${detail}: ${message}`,
        {
          cause: error,
        },
      );
    }
    return error;
  }
}

function dead(): never {
  throw new Error('rule instance used before it was created');
}
