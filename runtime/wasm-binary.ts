/**
 * @module A small reader of the WebAssembly binary format: the header and the type, import,
 * function, memory and export sections (others are skipped) — enough to check a rule's
 * signatures and memory limits before compiling it. No dependency.
 */
import { WasmBinaryError } from './errors.js';

/** The 4 magic bytes `\0asm` of every WebAssembly binary. */
export const WASM_MAGIC = 0x6d736100;
/** The version word of a core module. */
export const WASM_CORE_VERSION = 1;
/** Bytes of one WebAssembly page. */
export const WASM_PAGE_BYTES = 65536;

/** A value type as written in WAT (`i32`, `i64`, `f32`, `f64`, `v128`, `funcref`, …). */
export type WasmValueType = string;

/** A function type. */
export interface WasmFuncType {
  readonly params: readonly WasmValueType[];
  readonly results: readonly WasmValueType[];
}

/** Limits of a memory, in 64 KiB pages. */
export interface WasmMemoryLimits {
  readonly initialPages: number;
  /** Undefined when the memory declares no maximum. */
  readonly maximumPages: number | undefined;
  readonly shared: boolean;
  readonly memory64: boolean;
}

/** What an import or export refers to. */
export type WasmExternKind = 'func' | 'table' | 'memory' | 'global' | 'tag';

/** One import. `type` is set for functions, `memory` for memories. */
export interface WasmImport {
  readonly module: string;
  readonly name: string;
  readonly kind: WasmExternKind;
  readonly type?: WasmFuncType;
  readonly memory?: WasmMemoryLimits;
}

/** One export; `index` is in the index space of its kind (imports first). */
export interface WasmExport {
  readonly name: string;
  readonly kind: WasmExternKind;
  readonly index: number;
}

/** What `readWasmModule` found. */
export interface WasmModuleInfo {
  readonly types: readonly WasmFuncType[];
  readonly imports: readonly WasmImport[];
  /** Type of every function, imported ones first (the function index space). */
  readonly functions: readonly WasmFuncType[];
  /** Every memory, imported ones first (the memory index space). */
  readonly memories: readonly WasmMemoryLimits[];
  readonly exports: readonly WasmExport[];
}

const KINDS: readonly WasmExternKind[] = ['func', 'table', 'memory', 'global', 'tag'];

const VALUE_TYPES: Readonly<Record<number, string>> = {
  0x7f: 'i32',
  0x7e: 'i64',
  0x7d: 'f32',
  0x7c: 'f64',
  0x7b: 'v128',
  0x70: 'funcref',
  0x6f: 'externref',
};

/** Whether `bytes` start with the WebAssembly magic (core module or component). */
export function hasWasmMagic(bytes: Uint8Array): boolean {
  return (
    bytes.length >= 4 &&
    bytes[0] === 0x00 &&
    bytes[1] === 0x61 &&
    bytes[2] === 0x73 &&
    bytes[3] === 0x6d
  );
}

/** The version word after the magic (1 for a core module; components use layer 1 with 0x0d). */
export function wasmVersion(bytes: Uint8Array): number | undefined {
  if (bytes.length < 8) return undefined;
  return new DataView(bytes.buffer, bytes.byteOffset + 4, 4).getUint32(0, true);
}

/** Whether `bytes` are a WebAssembly component (magic, then version 0x0d with layer 1). */
export function isWasmComponent(bytes: Uint8Array): boolean {
  return (
    hasWasmMagic(bytes) &&
    bytes.length >= 8 &&
    bytes[4] === 0x0d &&
    bytes[5] === 0x00 &&
    bytes[6] === 0x01
  );
}

/** Formats a function type as `(i32, i32) -> i32`. */
export function formatFuncType(type: WasmFuncType): string {
  const results =
    type.results.length === 0
      ? '()'
      : type.results.length === 1
        ? type.results[0]
        : `(${type.results.join(', ')})`;
  return `(${type.params.join(', ')}) -> ${results}`;
}

/** Whether two function types are equal. */
export function funcTypeEquals(a: WasmFuncType, b: WasmFuncType): boolean {
  return (
    a.params.length === b.params.length &&
    a.results.length === b.results.length &&
    a.params.every((t, i) => t === b.params[i]) &&
    a.results.every((t, i) => t === b.results[i])
  );
}

/**
 * Reads the header and the type, import, function, memory and export sections of a core module.
 * @throws WasmBinaryError when the bytes are not a well-formed core module (as far as read).
 */
export function readWasmModule(bytes: Uint8Array): WasmModuleInfo {
  const r = new ByteReader(bytes);
  if (!hasWasmMagic(bytes))
    throw new WasmBinaryError('not a WebAssembly binary (the magic `\\0asm` is missing)', 0);
  const version = wasmVersion(bytes);
  if (version !== WASM_CORE_VERSION) {
    throw new WasmBinaryError(
      `WebAssembly version word is 0x${(version ?? 0).toString(16).padStart(8, '0')}, not 1 (a core module)`,
      4,
    );
  }
  r.pos = 8;
  const types: WasmFuncType[] = [];
  const imports: WasmImport[] = [];
  const functions: WasmFuncType[] = [];
  const memories: WasmMemoryLimits[] = [];
  const exports: WasmExport[] = [];
  while (r.pos < bytes.length) {
    const id = r.u8();
    const size = r.u32();
    const end = r.pos + size;
    if (end > bytes.length)
      throw new WasmBinaryError(`section ${id} of ${size} bytes runs past the end`, r.pos);
    switch (id) {
      case 1:
        for (let n = r.u32(), i = 0; i < n; i++) types.push(readFuncType(r));
        break;
      case 2:
        for (let n = r.u32(), i = 0; i < n; i++) {
          const imp = readImport(r, types);
          imports.push(imp);
          if (imp.type) functions.push(imp.type);
          if (imp.memory) memories.push(imp.memory);
        }
        break;
      case 3:
        for (let n = r.u32(), i = 0; i < n; i++) functions.push(typeAt(types, r.u32(), r.pos));
        break;
      case 5:
        for (let n = r.u32(), i = 0; i < n; i++) memories.push(readLimits(r));
        break;
      case 7:
        for (let n = r.u32(), i = 0; i < n; i++) {
          const name = r.name();
          const kindAt = r.pos;
          const kind = KINDS[r.u8()];
          if (kind === undefined)
            throw new WasmBinaryError(`export "${name}" has an unknown kind`, kindAt);
          exports.push({ name, kind, index: r.u32() });
        }
        break;
      default:
        r.pos = end;
    }
    if (r.pos !== end)
      throw new WasmBinaryError(
        `section ${id} has ${end - r.pos} bytes more or less than it says`,
        r.pos,
      );
  }
  return { types, imports, functions, memories, exports };
}

function typeAt(types: readonly WasmFuncType[], index: number, offset: number): WasmFuncType {
  const type = types[index];
  if (type === undefined)
    throw new WasmBinaryError(
      `type index ${index} is out of range (${types.length} types)`,
      offset,
    );
  return type;
}

function readFuncType(r: ByteReader): WasmFuncType {
  const at = r.pos;
  const form = r.u8();
  if (form !== 0x60) {
    throw new WasmBinaryError(
      `type form 0x${form.toString(16)} is not a function type (GC types are not supported)`,
      at,
    );
  }
  const params: WasmValueType[] = [];
  for (let n = r.u32(), i = 0; i < n; i++) params.push(readValueType(r));
  const results: WasmValueType[] = [];
  for (let n = r.u32(), i = 0; i < n; i++) results.push(readValueType(r));
  return { params, results };
}

function readValueType(r: ByteReader): WasmValueType {
  const at = r.pos;
  const code = r.u8();
  const name = VALUE_TYPES[code];
  if (name !== undefined) return name;
  if (code === 0x63 || code === 0x64) {
    // (ref null? heaptype): the heap type is an s33; read it as a LEB and name it generically.
    r.leb(33);
    return code === 0x63 ? 'ref null' : 'ref';
  }
  throw new WasmBinaryError(`unknown value type 0x${code.toString(16)}`, at);
}

function readLimits(r: ByteReader): WasmMemoryLimits {
  const at = r.pos;
  const flags = r.u8();
  if (flags > 7) throw new WasmBinaryError(`unknown limits flags 0x${flags.toString(16)}`, at);
  const memory64 = (flags & 4) !== 0;
  const bits = memory64 ? 64 : 32;
  const initialPages = r.leb(bits);
  const maximumPages = (flags & 1) !== 0 ? r.leb(bits) : undefined;
  return { initialPages, maximumPages, shared: (flags & 2) !== 0, memory64 };
}

function readImport(r: ByteReader, types: readonly WasmFuncType[]): WasmImport {
  const module = r.name();
  const name = r.name();
  const at = r.pos;
  const kind = KINDS[r.u8()];
  switch (kind) {
    case 'func':
      return { module, name, kind, type: typeAt(types, r.u32(), r.pos) };
    case 'table':
      readValueType(r);
      readLimits(r);
      return { module, name, kind };
    case 'memory':
      return { module, name, kind, memory: readLimits(r) };
    case 'global':
      readValueType(r);
      r.u8();
      return { module, name, kind };
    case 'tag':
      r.u8();
      r.u32();
      return { module, name, kind };
    default:
      throw new WasmBinaryError(`import "${module}"."${name}" has an unknown kind`, at);
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

class ByteReader {
  readonly #bytes: Uint8Array;
  pos = 0;

  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
  }

  u8(): number {
    const b = this.#bytes[this.pos];
    if (b === undefined) throw new WasmBinaryError('unexpected end of the binary', this.pos);
    this.pos++;
    return b;
  }

  u32(): number {
    return this.leb(32);
  }

  /** An unsigned LEB128 of at most `bits` bits, as a number (exact up to 2^53). */
  leb(bits: number): number {
    const at = this.pos;
    let result = 0;
    let scale = 1;
    const maxShift = Math.ceil(bits / 7) * 7;
    for (let shift = 0; ; shift += 7) {
      if (shift >= maxShift)
        throw new WasmBinaryError(`LEB128 integer longer than ${bits} bits`, at);
      const b = this.u8();
      result += (b & 0x7f) * scale;
      scale *= 128;
      if ((b & 0x80) === 0) break;
    }
    if (bits <= 32 && result > 0xffffffff)
      throw new WasmBinaryError('LEB128 integer exceeds 32 bits', at);
    return result;
  }

  name(): string {
    const length = this.u32();
    const start = this.pos;
    if (start + length > this.#bytes.length)
      throw new WasmBinaryError('name runs past the end of the binary', start);
    this.pos += length;
    try {
      return utf8.decode(this.#bytes.subarray(start, start + length));
    } catch (cause) {
      throw new WasmBinaryError('name is not valid UTF-8', start, { cause });
    }
  }
}
