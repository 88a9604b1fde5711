/**
 * @module The channel between a partitioned chain and one worker: batches and outputs cross
 * through SharedArrayBuffers, the worker blocks in `Atomics.wait` between calls and the main
 * thread awaits the reply with `Atomics.waitAsync` (its time budget is the wait's timeout).
 * What is rare or structured (dead letters, commands, states, an output too big for its region,
 * a larger input region) goes beside, as a message on a `MessagePort` taken synchronously with
 * `receiveMessageOnPort` right after the wake-up, so it is always in step with the call.
 *
 * Why: measured side by side in each run of `npm run bench:workers` (2 cores, shared), a 77 KiB
 * batch in and a 2 KiB result out took 15.6–17.7 µs per round trip this way against 26.5–37.3 µs
 * with `postMessage` and the buffer transferred (the worker's wake-up from `Atomics.wait` is
 * what saves the time). In the pool a 500-event window-stats batch then spent ~28 µs from send
 * to the worker starting and ~38 µs from its reply to the main thread resuming (instrumented run).
 */
import { receiveMessageOnPort } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import type { DeadLetter } from '../dead-letter/dead-letter-file.js';
import type { DeviceCommand, PartitionRequest } from './protocol.js';

/** Slots of the control words (Int32). */
const STATE = 0;
const KIND = 1;
const IN_LENGTH = 2;
const OUT_LENGTH = 3;
const SIDE = 4;
/** Index of `now` in the Float64 view of the control buffer (bytes 32–39). */
const NOW = 4;
const CONTROL_BYTES = 64;

const IDLE = 0;
const REQUEST = 1;
const REPLY = 2;

const KINDS = ['process', 'tick', 'flush', 'snapshot', 'restore'] as const;
type Kind = (typeof KINDS)[number];

/** Initial size of the input and of the output region, in bytes (each grows as needed). */
const INITIAL_REGION_BYTES = 128 * 1024;

/** What a worker is started with to reach its channel. */
export interface SharedChannelInit {
  control: SharedArrayBuffer;
  data: SharedArrayBuffer;
  inCapacity: number;
  figures: SharedArrayBuffer;
  port: MessagePort;
}

/** A side message from the main thread. */
interface RequestSide {
  data?: SharedArrayBuffer;
  inCapacity?: number;
  states?: (Uint8Array | undefined)[];
}

/** A side message from the worker. */
export interface ReplySide {
  frame?: Uint8Array;
  deadLetters?: DeadLetter[];
  commands?: DeviceCommand[];
  /** Rule calls that failed during the call. */
  ruleTraps?: number;
  /** Per rule, failed calls by code, cumulative (when a call failed). */
  errors?: [string, number][][];
  states?: Uint8Array[];
  error?: { code: string; message: string };
}

/** A reply as the main thread reads it. */
export interface ChannelReply {
  kind: Kind;
  /** Outbox-bound records (a copy the caller owns), undefined when none. */
  frame: Uint8Array | undefined;
  side: ReplySide | undefined;
}

/** The main thread's end. */
export class SharedChannel {
  readonly #control = new SharedArrayBuffer(CONTROL_BYTES);
  readonly #ctrl = new Int32Array(this.#control);
  readonly #now = new Float64Array(this.#control);
  #data: SharedArrayBuffer;
  #bytes: Uint8Array;
  #inCapacity = INITIAL_REGION_BYTES;
  readonly #figures: SharedArrayBuffer;
  /** The worker's figures, written after every call. */
  readonly figures: Float64Array;
  readonly #port: MessagePort;
  /** The worker's end of the port, to hand to the worker. */
  readonly #remote: MessagePort;
  #kind: Kind = 'process';

  constructor(figureCount: number, port: MessagePort, remote: MessagePort) {
    this.#data = new SharedArrayBuffer(2 * INITIAL_REGION_BYTES);
    this.#bytes = new Uint8Array(this.#data);
    this.#figures = new SharedArrayBuffer(figureCount * 8);
    this.figures = new Float64Array(this.#figures);
    this.#port = port;
    this.#remote = remote;
  }

  /** What the worker needs (pass `port` in the transfer list). */
  init(): SharedChannelInit {
    return {
      control: this.#control,
      data: this.#data,
      inCapacity: this.#inCapacity,
      figures: this.#figures,
      port: this.#remote,
    };
  }

  /** Writes a request and wakes the worker. */
  send(request: PartitionRequest): void {
    const ctrl = this.#ctrl;
    let side: RequestSide | undefined;
    let length = 0;
    if (request.type === 'process') {
      const frame = request.frame;
      length = frame.length;
      if (length > this.#inCapacity) side = this.#grow(length);
      this.#bytes.set(frame, 0);
      this.#now[NOW] = request.now;
    } else if (request.type === 'tick' || request.type === 'flush') {
      this.#now[NOW] = request.now;
    } else if (request.type === 'restore') {
      side = { ...side, states: request.states };
    }
    this.#kind = request.type;
    ctrl[KIND] = KINDS.indexOf(request.type);
    ctrl[IN_LENGTH] = length;
    ctrl[SIDE] = side === undefined ? 0 : 1;
    if (side !== undefined) this.#port.postMessage(side);
    Atomics.store(ctrl, STATE, REQUEST);
    Atomics.notify(ctrl, STATE);
  }

  /**
   * Waits for the reply, at most `timeoutMs`: true once it is there, false when the time ran out
   * (or {@link wake} was called) with the worker still on the call.
   */
  async wait(timeoutMs: number): Promise<boolean> {
    const result = waitAsync(this.#ctrl, STATE, REQUEST, timeoutMs);
    if (result.async) await result.value;
    return Atomics.load(this.#ctrl, STATE) === REPLY;
  }

  /** Wakes a pending {@link wait} early (the worker died). */
  wake(): void {
    Atomics.notify(this.#ctrl, STATE);
  }

  /** Reads the reply (after `wait` returned true) and frees the channel for the next call. */
  read(): ChannelReply {
    const ctrl = this.#ctrl;
    const length = ctrl[OUT_LENGTH] as number;
    const at = this.#inCapacity;
    let side: ReplySide | undefined;
    if (ctrl[SIDE] === 1) side = receiveMessageOnPort(this.#port)?.message as ReplySide;
    const frame = side?.frame ?? (length > 0 ? this.#bytes.slice(at, at + length) : undefined);
    Atomics.store(ctrl, STATE, IDLE);
    return { kind: this.#kind, frame, side };
  }

  /** Closes the port (the worker is gone). */
  close(): void {
    this.#port.close();
  }

  #grow(needed: number): RequestSide {
    let size = this.#inCapacity * 2;
    while (size < needed) size *= 2;
    const outCapacity = this.#bytes.length - this.#inCapacity;
    this.#data = new SharedArrayBuffer(size + outCapacity);
    this.#bytes = new Uint8Array(this.#data);
    this.#inCapacity = size;
    return { data: this.#data, inCapacity: size };
  }
}

/** A request as the worker reads it. */
export type ChannelRequest =
  | { type: 'process'; frame: Uint8Array; now: number }
  | { type: 'tick' | 'flush'; now: number }
  | { type: 'snapshot' }
  | { type: 'restore'; states: (Uint8Array | undefined)[] };

/** The worker's end. */
export class WorkerChannel {
  readonly #ctrl: Int32Array;
  readonly #now: Float64Array;
  #bytes: Uint8Array;
  #inCapacity: number;
  /** The figures the main thread reads after each call. */
  readonly figures: Float64Array;
  readonly #port: MessagePort;

  constructor(init: SharedChannelInit) {
    this.#ctrl = new Int32Array(init.control);
    this.#now = new Float64Array(init.control);
    this.#bytes = new Uint8Array(init.data);
    this.#inCapacity = init.inCapacity;
    this.figures = new Float64Array(init.figures);
    this.#port = init.port;
  }

  /** Blocks until the next request. */
  next(): ChannelRequest {
    const ctrl = this.#ctrl;
    for (;;) {
      const state = Atomics.load(ctrl, STATE);
      if (state === REQUEST) break;
      Atomics.wait(ctrl, STATE, state);
    }
    let side: RequestSide | undefined;
    if (ctrl[SIDE] === 1) side = receiveMessageOnPort(this.#port)?.message as RequestSide;
    if (side?.data !== undefined) {
      this.#bytes = new Uint8Array(side.data);
      this.#inCapacity = side.inCapacity as number;
    }
    const kind = KINDS[ctrl[KIND] as number] as Kind;
    const now = this.#now[NOW] as number;
    switch (kind) {
      case 'process':
        return { type: kind, frame: this.#bytes.subarray(0, ctrl[IN_LENGTH]), now };
      case 'tick':
      case 'flush':
        return { type: kind, now };
      case 'snapshot':
        return { type: kind };
      case 'restore':
        return { type: kind, states: side?.states ?? [] };
    }
  }

  /** Writes the reply (the output frame into its region when it fits) and wakes the main thread. */
  reply(frame: Uint8Array | undefined, side: ReplySide | undefined): void {
    const ctrl = this.#ctrl;
    const at = this.#inCapacity;
    let length = 0;
    if (frame !== undefined) {
      if (frame.length <= this.#bytes.length - at) {
        this.#bytes.set(frame, at);
        length = frame.length;
      } else {
        side = { ...side, frame };
      }
    }
    ctrl[OUT_LENGTH] = length;
    ctrl[SIDE] = side === undefined ? 0 : 1;
    if (side !== undefined) {
      this.#port.postMessage(
        side,
        side.frame === undefined ? [] : [side.frame.buffer as ArrayBuffer],
      );
    }
    Atomics.store(ctrl, STATE, REPLY);
    Atomics.notify(ctrl, STATE);
  }
}

/** `Atomics.waitAsync` (V8 ships it in Node 20; the ES2023 lib of tsconfig lacks its type). */
const waitAsync = (
  Atomics as unknown as {
    waitAsync(
      array: Int32Array,
      index: number,
      value: number,
      timeout: number,
    ): { async: false; value: string } | { async: true; value: Promise<string> };
  }
).waitAsync;
