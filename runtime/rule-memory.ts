/**
 * @module Bounds-checked access to one rule instance's linear memory under the canonical ABI:
 * cached views rebuilt when the memory grows, copying an argument in, and lifting the
 * `list<u8>` and `result<_, string>` return areas. A pointer or length outside memory is a
 * `RuleOutputInvalidError`, never an out-of-range read.
 */
import { RuleOutputInvalidError } from './errors.js';
import type { RuleCall } from './errors.js';

const decoder = new TextDecoder();
/** Longest string taken from a rule's log line or metric name. */
const TEXT_LIMIT = 64 * 1024;

/** The memory of one live instance (or none, after `detach`). */
export class RuleMemory {
  readonly #rule: string;
  #memory: WebAssembly.Memory | undefined;
  #buffer: ArrayBuffer = new ArrayBuffer(0);
  #u8 = new Uint8Array(0);
  #view = new DataView(this.#buffer);

  constructor(rule: string) {
    this.#rule = rule;
  }

  /** Starts serving `memory` (a new instance's). */
  attach(memory: WebAssembly.Memory): void {
    this.#memory = memory;
    this.refresh();
  }

  /** Drops the memory of a discarded instance. */
  detach(): void {
    this.#memory = undefined;
    this.#buffer = new ArrayBuffer(0);
    this.#u8 = new Uint8Array(0);
    this.#view = new DataView(this.#buffer);
  }

  /** Current size in bytes (0 when detached). */
  get byteLength(): number {
    return this.#memory === undefined ? 0 : this.#memory.buffer.byteLength;
  }

  /** Rebuilds the cached views when the memory grew (its buffer changed); returns the byte view. */
  refresh(): Uint8Array {
    const memory = this.#memory;
    if (memory !== undefined && memory.buffer !== this.#buffer) {
      this.#buffer = memory.buffer;
      this.#u8 = new Uint8Array(this.#buffer);
      this.#view = new DataView(this.#buffer);
    }
    return this.#u8;
  }

  /** Copies `bytes` to `ptr`, which `cabi_realloc` returned for them. */
  copyIn(bytes: Uint8Array, ptr: number): void {
    const u8 = this.refresh();
    const len = bytes.length;
    if (ptr > u8.length || len > u8.length - ptr) {
      throw this.#invalid(
        'cabi_realloc',
        `cabi_realloc returned ${ptr} for ${len} bytes, outside its ${u8.length}-byte memory`,
      );
    }
    u8.set(bytes, ptr);
  }

  /** Lifts a `list<u8>` return area (ptr @0, len @4) as a view over memory. */
  readList(ret: number, call: RuleCall): Uint8Array {
    const u8 = this.refresh();
    const size = u8.length;
    if (ret > size - 8) throw this.#areaOutside(ret, size, call);
    const ptr = this.#view.getUint32(ret, true);
    const len = this.#view.getUint32(ret + 4, true);
    if (ptr > size || len > size - ptr) {
      throw this.#invalid(
        call,
        `${call} returned a list at ${ptr} of ${len} bytes, outside its ${size}-byte memory`,
      );
    }
    return u8.subarray(ptr, ptr + len);
  }

  /**
   * Lifts a `result<_, string>` return area (u8 discriminant @0, string ptr @4, len @8):
   * undefined for ok, the message for err.
   */
  readResult(ret: number, call: RuleCall): string | undefined {
    const size = this.refresh().length;
    if (ret > size - 12) throw this.#areaOutside(ret, size, call);
    const discriminant = this.#view.getUint8(ret);
    if (discriminant === 0) return undefined;
    if (discriminant !== 1) {
      throw this.#invalid(
        call,
        `${call} returned result discriminant ${discriminant} (expected 0 for ok or 1 for error)`,
      );
    }
    const ptr = this.#view.getUint32(ret + 4, true);
    const len = this.#view.getUint32(ret + 8, true);
    if (ptr > size || len > size - ptr) {
      throw this.#invalid(
        call,
        `${call} returned an error message at ${ptr} of ${len} bytes, outside its ${size}-byte memory`,
      );
    }
    return this.text(ptr, len, call);
  }

  /** Decodes a string the rule passed (UTF-8, at most 64 KiB); an out-of-range one is named, not read. */
  text(ptr: number, len: number, what: string): string {
    const u8 = this.refresh();
    if (ptr > u8.length || len > u8.length - ptr) {
      return `<rule "${this.#rule}" passed ${what} a string at ${ptr} of ${len} bytes, outside its ${u8.length}-byte memory>`;
    }
    return decoder.decode(u8.subarray(ptr, ptr + Math.min(len, TEXT_LIMIT)));
  }

  #areaOutside(ret: number, size: number, call: RuleCall): RuleOutputInvalidError {
    return this.#invalid(
      call,
      `${call} returned its result area at ${ret}, outside its ${size}-byte memory`,
    );
  }

  #invalid(call: RuleCall, what: string): RuleOutputInvalidError {
    return new RuleOutputInvalidError(this.#rule, call, `rule "${this.#rule}": ${what}`);
  }
}
