/**
 * @module Compiles the field-reader test entry (`fixtures/readers-entry.as`, AssemblyScript kept
 * out of tsc's and ESLint's reach by its extension) with the asc API and wraps the instance for
 * the reader tests. Payloads are written flush against the end of linear memory, into pages the
 * AssemblyScript allocator never manages, so an out-of-bounds read would trap.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, readdir, rename, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { dirname, join, relative, resolve, sep } from 'node:path';
import asc from 'assemblyscript/dist/asc.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ENTRY = 'test/filters/fixtures/readers-entry.ts';
const ENTRY_SOURCE = 'test/filters/fixtures/readers-entry.as';

/** Field read statuses, as in `filters/sdk/field.ts`. */
export const FIELD_OK = 0;
export const FIELD_MISSING = 1;
export const FIELD_MALFORMED = 2;
export const FIELD_WRONG_TYPE = 3;

/** Size of the payload area at the end of memory. */
const AREA_PAGES = 256; // 16 MiB

interface ReaderExports {
  memory: WebAssembly.Memory;
  reserve(pages: number): number;
  newPath(ptr: number, len: number): number;
  newText(ptr: number, len: number): number;
  status(): number;
  stringPtr(packed: bigint): number;
  stringLength(packed: bigint): number;
  readJsonF64(ptr: number, len: number, path: number): number;
  readJsonI64(ptr: number, len: number, path: number): bigint;
  readJsonBool(ptr: number, len: number, path: number): number;
  readJsonString(ptr: number, len: number, path: number): bigint;
  jsonEquals(packed: bigint, text: number): number;
  validateJson(ptr: number, len: number): number;
  readCborF64(ptr: number, len: number, path: number): number;
  readCborI64(ptr: number, len: number, path: number): bigint;
  readCborBool(ptr: number, len: number, path: number): number;
  readCborString(ptr: number, len: number, path: number): bigint;
  cborEquals(packed: bigint, text: number): number;
  validateCbor(ptr: number, len: number): number;
  jsonF64Many(
    buf: number,
    offsets: number,
    count: number,
    path: number,
    out: number,
    statuses: number,
  ): void;
  jsonI64Many(
    buf: number,
    offsets: number,
    count: number,
    path: number,
    out: number,
    statuses: number,
  ): void;
  numberTierMany(buf: number, offsets: number, count: number, tier: number, out: number): void;
  benchJsonF64(ptr: number, len: number, path: number, n: number): number;
  benchJsonI64(ptr: number, len: number, path: number, n: number): bigint;
  benchJsonString(ptr: number, len: number, path: number, n: number): bigint;
  benchCborF64(ptr: number, len: number, path: number, n: number): number;
  benchCborI64(ptr: number, len: number, path: number, n: number): bigint;
}

const ASC_ARGS = [
  ENTRY,
  '--outFile',
  'readers.wasm',
  '--runtime',
  'incremental',
  '--optimizeLevel',
  '3',
  '--shrinkLevel',
  '0',
  '--noAssert',
  '--use',
  'abort=test/filters/fixtures/readers-entry/abortStub',
];

/**
 * The compiled test entry. Compiling takes 1–5 s of CPU, so each reader test file would pay it:
 * the binary is cached under build/test-cache/, keyed by a hash of the compiler version, its
 * arguments, the entry and every file of filters/sdk/ (any change recompiles).
 */
export async function compileReaders(): Promise<Uint8Array> {
  const hash = createHash('sha256').update(asc.version).update(JSON.stringify(ASC_ARGS));
  hash.update(await readFile(join(ROOT, ENTRY_SOURCE)));
  const sdk = join(ROOT, 'filters', 'sdk');
  const files = (await readdir(sdk, { withFileTypes: true })).filter((e) => e.isFile());
  for (const name of files.map((e) => e.name).sort()) {
    hash.update(name).update(await readFile(join(sdk, name)));
  }
  const cached = join(
    ROOT,
    'build',
    'test-cache',
    `readers-${hash.digest('hex').slice(0, 20)}.wasm`,
  );
  try {
    return new Uint8Array(await readFile(cached));
  } catch {
    // Not cached yet.
  }
  const binary = await compile();
  await mkdir(dirname(cached), { recursive: true });
  const partial = `${cached}.${process.pid}.${Date.now()}.tmp`;
  await writeFile(partial, binary);
  await rename(partial, cached); // atomic: parallel test files never read a partial binary
  return binary;
}

async function compile(): Promise<Uint8Array> {
  let binary: Uint8Array | undefined;
  const result = await asc.main(ASC_ARGS, {
    readFile: async (name: string, baseDir: string) => {
      const rel = relative(ROOT, resolve(baseDir, name)).split(sep).join('/');
      // The SDK is compiled here with explicit options only, never the repository's asconfig.
      if (rel.endsWith('asconfig.json')) return null;
      const file = rel === ENTRY ? ENTRY_SOURCE : rel;
      try {
        return await readFile(join(ROOT, file), 'utf8');
      } catch {
        return null;
      }
    },
    writeFile: (_name: string, contents: Uint8Array | string) => {
      if (typeof contents !== 'string') binary = contents;
    },
    listFiles: () => [],
  });
  if (result.error || !binary) {
    throw new Error(`asc failed: ${String(result.error)}\n${result.stderr.toString()}`);
  }
  return binary;
}

/** A located string: address and byte length inside memory, and the UTF-8 text. */
export interface LocatedString {
  ptr: number;
  length: number;
  text: string;
}

/** The compiled readers, with payloads written at the end of memory. */
export class Readers {
  readonly exports: ReaderExports;
  readonly #paths = new Map<string, number>();
  readonly #texts = new Map<string, number>();
  readonly #encoder = new TextEncoder();
  #area: number;

  private constructor(exports: ReaderExports) {
    this.exports = exports;
    this.#area = exports.reserve(AREA_PAGES);
  }

  static async create(binary: Uint8Array): Promise<Readers> {
    const module = await WebAssembly.compile(new Uint8Array(binary));
    const instance = await WebAssembly.instantiate(module, {});
    return new Readers(instance.exports as unknown as ReaderExports);
  }

  /**
   * Start of the payload area: AREA_PAGES pages that end at the end of linear memory. When the
   * AssemblyScript allocator has grown memory since (registering paths allocates), a fresh area
   * is reserved at the new end.
   */
  get area(): number {
    if (this.#area + AREA_PAGES * 65536 !== this.exports.memory.buffer.byteLength) {
      this.#area = this.exports.reserve(AREA_PAGES);
    }
    return this.#area;
  }

  /** End of the payload area. */
  get areaEnd(): number {
    return this.area + AREA_PAGES * 65536;
  }

  /** Size of the payload area in bytes. */
  get areaSize(): number {
    return AREA_PAGES * 65536;
  }

  get bytes(): Uint8Array {
    return new Uint8Array(this.exports.memory.buffer);
  }

  /** Registers (once) and returns the index of a FieldPath. Allocates in Wasm: call before reads. */
  path(text: string): number {
    let id = this.#paths.get(text);
    if (id === undefined) {
      const at = this.#utf16(text);
      id = this.exports.newPath(at, text.length * 2);
      this.#paths.set(text, id);
    }
    return id;
  }

  /** Registers (once) and returns the index of a FieldText. */
  text(text: string): number {
    let id = this.#texts.get(text);
    if (id === undefined) {
      const at = this.#utf16(text);
      id = this.exports.newText(at, text.length * 2);
      this.#texts.set(text, id);
    }
    return id;
  }

  /** Writes a payload so that its last byte is the last byte of the area; returns its address. */
  place(payload: Uint8Array | string): [number, number] {
    const bytes = typeof payload === 'string' ? this.#encoder.encode(payload) : payload;
    const ptr = this.areaEnd - bytes.length;
    this.bytes.set(bytes, ptr);
    return [ptr, bytes.length];
  }

  jsonF64(payload: Uint8Array | string, field: string): [number, number] {
    const id = this.path(field);
    const [ptr, len] = this.place(payload);
    const v = this.exports.readJsonF64(ptr, len, id);
    return [v, this.exports.status()];
  }

  jsonI64(payload: Uint8Array | string, field: string): [bigint, number] {
    const id = this.path(field);
    const [ptr, len] = this.place(payload);
    const v = this.exports.readJsonI64(ptr, len, id);
    return [v, this.exports.status()];
  }

  jsonBool(payload: Uint8Array | string, field: string): [boolean, number] {
    const id = this.path(field);
    const [ptr, len] = this.place(payload);
    const v = this.exports.readJsonBool(ptr, len, id) !== 0;
    return [v, this.exports.status()];
  }

  jsonString(payload: Uint8Array | string, field: string): [LocatedString | null, number] {
    const id = this.path(field);
    const [ptr, len] = this.place(payload);
    const packed = this.exports.readJsonString(ptr, len, id);
    return [this.#located(packed), this.exports.status()];
  }

  /** Reads the string at `field` and compares it with `text` through jsonStringEquals. */
  jsonStringEquals(payload: Uint8Array | string, field: string, text: string): boolean {
    const id = this.path(field);
    const t = this.text(text);
    const [ptr, len] = this.place(payload);
    const packed = this.exports.readJsonString(ptr, len, id);
    return this.exports.jsonEquals(packed, t) !== 0;
  }

  jsonValidate(payload: Uint8Array | string): boolean {
    const [ptr, len] = this.place(payload);
    return this.exports.validateJson(ptr, len) !== 0;
  }

  cborF64(payload: Uint8Array, field: string): [number, number] {
    const id = this.path(field);
    const [ptr, len] = this.place(payload);
    const v = this.exports.readCborF64(ptr, len, id);
    return [v, this.exports.status()];
  }

  cborI64(payload: Uint8Array, field: string): [bigint, number] {
    const id = this.path(field);
    const [ptr, len] = this.place(payload);
    const v = this.exports.readCborI64(ptr, len, id);
    return [v, this.exports.status()];
  }

  cborBool(payload: Uint8Array, field: string): [boolean, number] {
    const id = this.path(field);
    const [ptr, len] = this.place(payload);
    const v = this.exports.readCborBool(ptr, len, id) !== 0;
    return [v, this.exports.status()];
  }

  cborString(payload: Uint8Array, field: string): [LocatedString | null, number] {
    const id = this.path(field);
    const [ptr, len] = this.place(payload);
    const packed = this.exports.readCborString(ptr, len, id);
    return [this.#located(packed), this.exports.status()];
  }

  /** Reads the string at `field` and compares it with `text` through cborStringEquals. */
  cborStringEquals(payload: Uint8Array, field: string, text: string): boolean {
    const id = this.path(field);
    const t = this.text(text);
    const [ptr, len] = this.place(payload);
    const packed = this.exports.readCborString(ptr, len, id);
    return this.exports.cborEquals(packed, t) !== 0;
  }

  cborValidate(payload: Uint8Array): boolean {
    const [ptr, len] = this.place(payload);
    return this.exports.validateCbor(ptr, len) !== 0;
  }

  /**
   * Reads the root value of many JSON payloads (each string one payload) with jsonF64 in batched
   * calls; returns the values and statuses.
   */
  jsonF64Many(payloads: readonly string[]): { values: Float64Array; statuses: Uint8Array } {
    const values = new Float64Array(payloads.length);
    const statuses = new Uint8Array(payloads.length);
    this.#many(payloads, (buf, offsets, count, path, out, st, from) => {
      this.exports.jsonF64Many(buf, offsets, count, path, out, st);
      values.set(new Float64Array(this.exports.memory.buffer, out, count), from);
      statuses.set(new Uint8Array(this.exports.memory.buffer, st, count), from);
    });
    return { values, statuses };
  }

  /** As `jsonF64Many` with jsonI64. */
  jsonI64Many(payloads: readonly string[]): { values: BigInt64Array; statuses: Uint8Array } {
    const values = new BigInt64Array(payloads.length);
    const statuses = new Uint8Array(payloads.length);
    this.#many(payloads, (buf, offsets, count, path, out, st, from) => {
      this.exports.jsonI64Many(buf, offsets, count, path, out, st);
      values.set(new BigInt64Array(this.exports.memory.buffer, out, count), from);
      statuses.set(new Uint8Array(this.exports.memory.buffer, st, count), from);
    });
    return { values, statuses };
  }

  /**
   * Converts valid number texts (no whitespace) with one tier of the number conversion alone:
   * 'exact' (the multiprecision decimal path) or 'eisel-lemire' (NaN when it cannot decide).
   */
  numberTier(texts: readonly string[], tier: 'exact' | 'eisel-lemire'): Float64Array {
    const values = new Float64Array(texts.length);
    this.#many(texts, (buf, offsets, count, _path, out, _st, from) => {
      this.exports.numberTierMany(buf, offsets, count, tier === 'exact' ? 1 : 2, out);
      values.set(new Float64Array(this.exports.memory.buffer, out, count), from);
    });
    return values;
  }

  #many(
    payloads: readonly string[],
    run: (
      buf: number,
      offsets: number,
      count: number,
      path: number,
      out: number,
      statuses: number,
      from: number,
    ) => void,
  ): void {
    const root = this.path('');
    const budget = this.areaSize / 2;
    let from = 0;
    while (from < payloads.length) {
      // Layout inside the area: [offsets | out | statuses | payload bytes].
      const area = this.area;
      let count = 0;
      let bytes = 0;
      while (from + count < payloads.length && count < 65536) {
        const n = (payloads[from + count] as string).length * 3;
        if (count > 0 && bytes + n > budget) break;
        bytes += n;
        count++;
      }
      const offsets = area;
      const out = offsets + (count + 1) * 4 + 8 - (((count + 1) * 4) % 8);
      const st = out + count * 8;
      const buf = st + count;
      const mem = this.bytes;
      const offs = new Uint32Array(this.exports.memory.buffer, offsets, count + 1);
      let at = 0;
      for (let i = 0; i < count; i++) {
        offs[i] = at;
        at += this.#encoder.encodeInto(
          payloads[from + i] as string,
          mem.subarray(buf + at),
        ).written;
      }
      offs[count] = at;
      run(buf, offsets, count, root, out, st, from);
      from += count;
    }
  }

  /** Writes the UTF-16 code units of `text` at the start of the area; returns their address. */
  #utf16(text: string): number {
    const at = this.area;
    const units = new Uint16Array(this.exports.memory.buffer, at, text.length);
    for (let i = 0; i < text.length; i++) units[i] = text.charCodeAt(i);
    return at;
  }

  #located(packed: bigint): LocatedString | null {
    if (this.exports.status() !== FIELD_OK) return null;
    const ptr = this.exports.stringPtr(packed);
    const length = this.exports.stringLength(packed);
    const text = new TextDecoder().decode(this.bytes.subarray(ptr, ptr + length));
    return { ptr, length, text };
  }
}
