/**
 * @module Rule state for `snapshot`/`restore`: a writer into a reusable raw buffer and a reader
 * that checks every length against the bytes it was given (a truncated or hostile snapshot
 * gives an error, never a trap). The SDK frames the rule's bytes with a versioned header
 * (`STATE_MAGIC`); what a rule writes after it is the rule's own format, which should start with
 * its own tag and version (as `TumblingWindows` and `KeyTable` do).
 */

import { ByteBuffer } from './byte-buffer';

/** Header of every snapshot the SDK produces: the bytes `S` `L` `S` `1` (version 1). */
export const STATE_MAGIC: u32 = 0x31534c53;

/** Appends the rule's state to the snapshot. */
export class StateWriter {
  /** The snapshot bytes (raw memory). */
  readonly buf: ByteBuffer = new ByteBuffer(4096);

  /** Starts a snapshot (the SDK calls it). */
  begin(): void {
    this.buf.clear();
    this.buf.u32(STATE_MAGIC);
  }

  /** Appends a u8. */
  u8(value: u32): void {
    this.buf.u8(value);
  }

  /** Appends a u32. */
  u32(value: u32): void {
    this.buf.u32(value);
  }

  /** Appends an i64. */
  i64(value: i64): void {
    this.buf.u64(<u64>value);
  }

  /** Appends a u64. */
  u64(value: u64): void {
    this.buf.u64(value);
  }

  /** Appends an f64. */
  f64(value: f64): void {
    this.buf.f64(value);
  }

  /** Appends `len` raw bytes (the reader must know the length: write it first). */
  bytes(ptr: usize, len: usize): void {
    this.buf.bytes(ptr, <u32>len);
  }

  /** Appends a string: u32 byte length, then UTF-8. */
  str(value: string): void {
    const at = this.buf.len;
    this.buf.u32(0);
    const n = this.buf.utf8(value);
    this.buf.patchU32(at, n);
  }
}

/** Reads the rule's state back. After a failure every read returns 0 and `error` says why. */
export class StateReader {
  private _ptr: usize;
  private _len: usize;
  private _pos: usize = 0;
  /** The first problem met, or null. */
  error: string | null = null;

  constructor(ptr: usize, len: usize) {
    this._ptr = ptr;
    this._len = len;
  }

  /** Whether no read has failed. */
  get ok(): bool {
    return this.error === null;
  }

  /** Bytes not read yet. */
  get remaining(): usize {
    return this._len - this._pos;
  }

  /** Records a problem (the first one wins); `restore` returns it as its error. */
  fail(message: string): void {
    if (this.error === null) this.error = message;
  }

  /** Reserves `n` bytes and returns their address, or 0 (and fails) when fewer are left. */
  take(n: usize): usize {
    if (this.error !== null) return 0;
    if (n > this._len - this._pos) {
      this.fail('state is truncated at byte ' + this._pos.toString());
      return 0;
    }
    const p = this._ptr + this._pos;
    this._pos += n;
    return p;
  }

  /** Reads a u8. */
  u8(): u32 {
    const p = this.take(1);
    return p == 0 ? 0 : <u32>load<u8>(p);
  }

  /** Reads a u32. */
  u32(): u32 {
    const p = this.take(4);
    return p == 0 ? 0 : load<u32>(p);
  }

  /** Reads an i64. */
  i64(): i64 {
    const p = this.take(8);
    return p == 0 ? 0 : load<i64>(p);
  }

  /** Reads a u64. */
  u64(): u64 {
    const p = this.take(8);
    return p == 0 ? 0 : load<u64>(p);
  }

  /** Reads an f64. */
  f64(): f64 {
    const p = this.take(8);
    return p == 0 ? 0 : load<f64>(p);
  }

  /** Reads a string written by `StateWriter.str`. */
  str(): string {
    const n = <usize>this.u32();
    const p = this.take(n);
    return p == 0 ? '' : String.UTF8.decodeUnsafe(p, n);
  }

  /** Fails unless the next u32 is `tag` (a section's tag and version). */
  expect(tag: u32, what: string): bool {
    const got = this.u32();
    if (this.error !== null) return false;
    if (got != tag) {
      this.fail(
        'state does not hold ' +
          what +
          ' (tag 0x' +
          got.toString(16) +
          ', expected 0x' +
          tag.toString(16) +
          ')',
      );
      return false;
    }
    return true;
  }
}
