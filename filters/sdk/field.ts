/**
 * @module Field paths, field texts and the read status shared by the JSON and CBOR readers
 * (`json.ts`, `cbor.ts`).
 *
 * A reader looks up one field of one payload that lies at `[ptr, ptr + len)` in linear memory,
 * without allocating: paths and comparison texts are compiled to UTF-8 bytes once, when the rule
 * starts, and every read only loads bytes. A read returns its value directly and leaves a status
 * in a global that `fieldStatus()` returns:
 *
 *   FIELD_OK         the value was read
 *   FIELD_MISSING    the path is not present
 *   FIELD_MALFORMED  the payload is not valid JSON / well-formed CBOR (the readers check the
 *                    whole payload, so a field is never read out of a broken payload)
 *   FIELD_WRONG_TYPE the field is present but is not of the requested type, or a path segment
 *                    before the last one is not an object / map
 *
 * Paths: `"temp"`, `"a.b.c"`. Each dot-separated segment names a key of an object (a map with
 * text keys in CBOR); the empty path `""` names the payload's root value. A key that itself
 * contains a dot cannot be addressed. Arrays are skipped over correctly while scanning but cannot
 * be indexed: a segment `"0"` only matches an object key `"0"`, and a path through an array
 * reports FIELD_WRONG_TYPE.
 *
 * Strings (`jsonString`, `cborString`) are returned as a u64 that packs the absolute address of
 * the raw string bytes inside the payload and their byte length: `ptr << 32 | byteLength`
 * (`fieldStringPtr`, `fieldStringLength` unpack it). JSON escapes are not decoded; compare with
 * `jsonStringEquals` (decodes escapes) or `fieldStringEquals` (raw bytes).
 *
 * The API (the agreed one; additions marked +):
 *   field.ts  FIELD_OK / FIELD_MISSING / FIELD_MALFORMED / FIELD_WRONG_TYPE, fieldStatus(),
 *             class FieldPath(path), + FIELD_MAX_DEPTH, + class FieldText(text) (a precompiled
 *             comparison text: the "FieldPath-like literal"), + fieldStringPtr(s),
 *             + fieldStringLength(s), + fieldStringEquals(s, text) (raw bytes),
 *             + bytesEqual(a, b, len), + rangeInMemory(ptr, len)
 *   json.ts   jsonF64, jsonI64, jsonBool, jsonString (ptr: usize, len: usize, path: FieldPath),
 *             jsonValidate(ptr, len), + jsonStringEquals(s, text) (escapes decoded)
 *   cbor.ts   cborF64, cborI64, cborBool, cborString, cborValidate, + cborStringEquals(s, text)
 * Value on failure: f64 NaN, i64 0, bool false, string 0. Integers: jsonI64 reads an integer
 * token exactly over the whole i64 range (more precise than `JSON.parse` above 2^53); see
 * `jsonI64` / `cborI64` for numbers written as floats.
 */

/** The value was read. */
export const FIELD_OK: i32 = 0;
/** The path is not present in the payload. */
export const FIELD_MISSING: i32 = 1;
/** The payload is not valid JSON / well-formed CBOR. */
export const FIELD_MALFORMED: i32 = 2;
/** The field is present but not of the requested type (or the path crosses a non-object). */
export const FIELD_WRONG_TYPE: i32 = 3;

/**
 * Deepest nesting of arrays and objects (maps) the readers accept; deeper payloads are reported
 * as FIELD_MALFORMED (`JSON.parse` itself accepts a few thousand levels). Bounds the recursion.
 */
export const FIELD_MAX_DEPTH: i32 = 128;

let lastStatus: i32 = FIELD_OK;

/** Status of the last read on this instance: one of the FIELD_* constants. */
export function fieldStatus(): i32 {
  return lastStatus;
}

/** Sets the status of the last read (used by the readers). */
export function setFieldStatus(status: i32): void {
  lastStatus = status;
}

/** UTF-8 bytes of a string, without a terminator. */
function utf8Bytes(text: string): StaticArray<u8> {
  const n = String.UTF8.byteLength(text, false);
  const out = new StaticArray<u8>(n);
  String.UTF8.encodeUnsafe(changetype<usize>(text), text.length, changetype<usize>(out), false);
  return out;
}

/**
 * A dot-separated field path compiled once to UTF-8 segment bytes. Create it when the rule starts
 * (a module-level `const`), never per event.
 */
export class FieldPath {
  /** The path as written. */
  readonly text: string;
  /** UTF-8 bytes of all segments, back to back (no dots). */
  readonly bytes: StaticArray<u8>;
  /** Segment `i` spans `bytes[ends[i - 1] .. ends[i])` (with `ends[-1] = 0`). */
  readonly ends: StaticArray<u32>;
  /** Number of segments; 0 for the empty path (the root value). */
  readonly count: i32;

  constructor(path: string) {
    this.text = path;
    const all = utf8Bytes(path);
    const n = all.length;
    let count = 0;
    if (n > 0) {
      count = 1;
      for (let i = 0; i < n; i++) if (unchecked(all[i]) == 0x2e) count++;
    }
    const bytes = new StaticArray<u8>(n - (count > 0 ? count - 1 : 0));
    const ends = new StaticArray<u32>(count);
    let w = 0;
    let s = 0;
    for (let i = 0; i < n; i++) {
      const c = unchecked(all[i]);
      if (c == 0x2e) {
        unchecked((ends[s++] = <u32>w));
      } else {
        unchecked((bytes[w++] = c));
      }
    }
    if (count > 0) unchecked((ends[s] = <u32>w));
    this.bytes = bytes;
    this.ends = ends;
    this.count = count;
  }

  /** Address of the first byte of segment `i`. */
  // @ts-ignore: decorator
  @inline
  segmentPtr(i: i32): usize {
    return changetype<usize>(this.bytes) + (i == 0 ? 0 : <usize>unchecked(this.ends[i - 1]));
  }

  /** Byte length of segment `i`. */
  // @ts-ignore: decorator
  @inline
  segmentLength(i: i32): usize {
    const start = i == 0 ? 0 : <usize>unchecked(this.ends[i - 1]);
    return <usize>unchecked(this.ends[i]) - start;
  }
}

/** A text compiled once to UTF-8 bytes, to compare string fields with (`jsonStringEquals`). */
export class FieldText {
  /** The text as written. */
  readonly text: string;
  /** Its UTF-8 bytes. */
  readonly bytes: StaticArray<u8>;

  constructor(text: string) {
    this.text = text;
    this.bytes = utf8Bytes(text);
  }

  /** Address of the first UTF-8 byte. */
  // @ts-ignore: decorator
  @inline
  get ptr(): usize {
    return changetype<usize>(this.bytes);
  }

  /** Byte length. */
  // @ts-ignore: decorator
  @inline
  get length(): usize {
    return <usize>this.bytes.length;
  }
}

/** Packs a string location the way `jsonString` / `cborString` return it. */
export function packFieldString(ptr: usize, byteLength: usize): u64 {
  return ((<u64>ptr) << 32) | (<u64>(<u32>byteLength));
}

/** Absolute address of the raw string bytes returned by `jsonString` / `cborString`. */
export function fieldStringPtr(packed: u64): usize {
  return <usize>(packed >>> 32);
}

/** Byte length of the raw string bytes returned by `jsonString` / `cborString`. */
export function fieldStringLength(packed: u64): usize {
  return <usize>(<u32>packed);
}

/** Compares `len` bytes at `a` and `b`. */
export function bytesEqual(a: usize, b: usize, len: usize): bool {
  let i: usize = 0;
  while (i + 8 <= len) {
    if (load<u64>(a + i) != load<u64>(b + i)) return false;
    i += 8;
  }
  while (i < len) {
    if (load<u8>(a + i) != load<u8>(b + i)) return false;
    i++;
  }
  return true;
}

/**
 * Whether the raw bytes of a string returned by `jsonString` / `cborString` equal `text`
 * byte for byte (no escape decoding: use `jsonStringEquals` for JSON strings with escapes).
 * False for a location outside memory.
 */
export function fieldStringEquals(packed: u64, text: FieldText): bool {
  const ptr = fieldStringPtr(packed);
  const len = fieldStringLength(packed);
  return len == text.length && rangeInMemory(ptr, len) && bytesEqual(ptr, text.ptr, len);
}

/**
 * Checks that `[ptr, ptr + len)` neither wraps around the address space nor runs past the end of
 * linear memory. Every reader calls it first; afterwards every load stays below `ptr + len`.
 */
export function rangeInMemory(ptr: usize, len: usize): bool {
  const end = ptr + len;
  return end >= ptr && <u64>end <= (<u64>memory.size()) << 16;
}
