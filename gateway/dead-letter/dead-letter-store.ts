/**
 * @module Reading and rewriting the dead-letter file offline (for `sluice dlq`): parse its JSON
 * lines into numbered entries, select them with a filter, and remove entries by rewriting the
 * file atomically (a temporary file renamed over it), optionally appending the removed entries to
 * another file (`<file>.replayed`). No running gateway is needed.
 */
import { randomBytes } from 'node:crypto';
import { appendFile, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { DeadLetterReadError } from './errors.js';

/** One line of the dead-letter file, as read back. */
export interface StoredDeadLetter {
  /** Position in the file, from 1 (the line number among the valid entries and the bad lines). */
  n: number;
  /** ISO 8601 time the dead letter was written. */
  time: string;
  pipeline: string;
  /** The rule, or `sink:<type>` for records upstream refused; null when unknown. */
  rule: string | null;
  reason: string;
  /** The MQTT topic of the event (for a refused output record: the output name). */
  topic: string | null;
  key: string | null;
  /** 16 hex digits; ids restart with each gateway run, so they may repeat across runs. */
  id: string | null;
  /** The payload as written: text when `encoding` is `utf8`, base64 when `base64`. */
  payload: string | null;
  encoding?: 'utf8' | 'base64';
  /** The original line (without the newline), kept so rewrites do not re-serialize. */
  line: string;
}

/** What {@link readDeadLetters} found. */
export interface DeadLetterFileContents {
  entries: StoredDeadLetter[];
  /** Line numbers of lines that are not dead letters (a torn last line, garbage). */
  badLines: number[];
  /** Bytes read (the file's size when read). */
  bytes: number;
}

/** Which entries a `sluice dlq` command works on; every given field must match. */
export interface DeadLetterFilter {
  /** Exact pipeline name. */
  pipeline?: string;
  /** Substring of the reason (case-insensitive). */
  reason?: string;
  /** Exact rule name (`sink:http` for records upstream refused). */
  rule?: string;
}

function isString(value: unknown): value is string {
  return typeof value === 'string';
}

function stringOrNull(value: unknown): value is string | null {
  return value === null || typeof value === 'string';
}

/** Parses one line; undefined when it is not a dead letter. */
function parseLine(line: string, n: number): StoredDeadLetter | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (!isString(v.time) || !isString(v.pipeline) || !isString(v.reason)) return undefined;
  if (!stringOrNull(v.rule) || !stringOrNull(v.topic) || !stringOrNull(v.key)) return undefined;
  if (!stringOrNull(v.id) || !stringOrNull(v.payload)) return undefined;
  const entry: StoredDeadLetter = {
    n,
    time: v.time,
    pipeline: v.pipeline,
    rule: v.rule,
    reason: v.reason,
    topic: v.topic,
    key: v.key,
    id: v.id,
    payload: v.payload,
    line,
  };
  if (v.encoding === 'utf8' || v.encoding === 'base64') entry.encoding = v.encoding;
  return entry;
}

/** Parses the text of a dead-letter file. */
export function parseDeadLetters(text: string): DeadLetterFileContents {
  const entries: StoredDeadLetter[] = [];
  const badLines: number[] = [];
  const lines = text.split('\n');
  // A file ending in a newline yields one empty last element: not a line.
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    if (line.trim() === '') continue;
    const entry = parseLine(line, i + 1);
    if (entry === undefined) badLines.push(i + 1);
    else entries.push(entry);
  }
  return { entries, badLines, bytes: Buffer.byteLength(text) };
}

/**
 * Reads the dead-letter file at `path`; a missing file is an empty one.
 * @throws DeadLetterReadError when the file exists but cannot be read.
 */
export async function readDeadLetters(path: string): Promise<DeadLetterFileContents> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT')
      return { entries: [], badLines: [], bytes: 0 };
    throw new DeadLetterReadError(
      `cannot read the dead-letter file "${path}" (${(error as Error).message}). ` +
        `Pass --file <path> or --config <file> naming the right deadLetter.path.`,
      { cause: error },
    );
  }
  // The byte count of the file, not of the decoded text (a torn multi-byte character differs).
  return { ...parseDeadLetters(bytes.toString('utf8')), bytes: bytes.byteLength };
}

/** True when `entry` passes `filter`. */
export function matchesFilter(entry: StoredDeadLetter, filter: DeadLetterFilter): boolean {
  if (filter.pipeline !== undefined && entry.pipeline !== filter.pipeline) return false;
  if (filter.rule !== undefined && entry.rule !== filter.rule) return false;
  if (
    filter.reason !== undefined &&
    !entry.reason.toLowerCase().includes(filter.reason.toLowerCase())
  )
    return false;
  return true;
}

/** The entries that pass `filter`, in file order. */
export function selectDeadLetters(
  entries: readonly StoredDeadLetter[],
  filter: DeadLetterFilter,
): StoredDeadLetter[] {
  return entries.filter((entry) => matchesFilter(entry, filter));
}

/** The payload bytes of `entry`, or null when it has none. */
export function payloadBytes(entry: StoredDeadLetter): Uint8Array | null {
  if (entry.payload === null) return null;
  if (entry.encoding === 'base64') return new Uint8Array(Buffer.from(entry.payload, 'base64'));
  return new TextEncoder().encode(entry.payload);
}

/** True for a record upstream refused (written by a forwarder), false for a refused input event. */
export function isSinkDeadLetter(entry: StoredDeadLetter): boolean {
  return entry.rule !== null && (entry.rule === 'sink' || entry.rule.startsWith('sink:'));
}

/** Options of {@link removeDeadLetters}. */
export interface RemoveDeadLettersOptions {
  /** Append the removed entries (with a `movedAt` field) to this file first. */
  moveTo?: string;
}

/**
 * Removes the entries numbered `numbers` from the file at `path`: the remaining lines are written
 * to a temporary file in the same directory, fsynced and renamed over the file (atomic: a reader
 * sees the old or the new file, never half of one). Lines appended after `contents` was read
 * (a gateway still writing) are kept. Bad lines are kept as they are. Returns how many were removed.
 *
 * A running gateway's `DeadLetterFile` reopens the file at its next write once it was
 * replaced; a write it issues between the last size check here and the rename is lost, so stop
 * the gateway for a guarantee (docs/delivery.md).
 */
export async function removeDeadLetters(
  path: string,
  contents: DeadLetterFileContents,
  numbers: ReadonlySet<number>,
  options: RemoveDeadLettersOptions = {},
): Promise<number> {
  if (numbers.size === 0) return 0;
  const removed = contents.entries.filter((entry) => numbers.has(entry.n));
  if (removed.length === 0) return 0;
  const full = await readFile(path);
  if (full.byteLength < contents.bytes) {
    throw new DeadLetterReadError(
      `the dead-letter file "${path}" shrank while this command ran (another purge or replay?); ` +
        `nothing was removed: run it again.`,
    );
  }
  if (options.moveTo !== undefined) {
    const movedAt = new Date().toISOString();
    const text = removed
      .map((entry) => `${JSON.stringify({ ...JSON.parse(entry.line), movedAt })}\n`)
      .join('');
    await appendFile(options.moveTo, text);
  }
  // Byte-exact: kept lines (bad ones too) are copied as they are, not decoded and re-encoded.
  const kept: Uint8Array[] = [];
  const end = Math.min(contents.bytes, full.byteLength);
  for (let start = 0, n = 1; start < end; n++) {
    let stop = full.indexOf(0x0a, start);
    stop = stop === -1 || stop >= end ? end : stop + 1;
    if (!numbers.has(n)) kept.push(full.subarray(start, stop));
    start = stop;
  }
  // Whatever was appended after the read (a gateway still running) is kept as it is.
  kept.push(full.subarray(end));
  const temp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  const handle = await open(temp, 'w');
  try {
    for (const chunk of kept) await handle.writeFile(chunk);
    await handle.sync();
  } catch (error) {
    await handle.close();
    await rm(temp, { force: true });
    throw error;
  }
  await handle.close();
  const now = await stat(path);
  if (now.size !== full.byteLength) {
    // Appended while we wrote: copy the newest tail too before replacing.
    const latest = await readFile(path);
    await appendFile(temp, latest.subarray(full.byteLength));
  }
  await rename(temp, path);
  return removed.length;
}
