/**
 * @module The spool's acknowledged positions, one per reader (sink), persisted in `cursor.json`
 * as `{"readers": {"<name>": {"seq", "segment", "offset"}}}` (written to a temporary
 * file, then renamed over the old one, so a reader sees the old or the new cursor, never half of
 * one). It is not fsynced: a cursor lost in a power cut only makes a restart re-send records
 * upstream already accepted (at least once; they carry deterministic ids).
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Everything before this position was accepted upstream. */
export interface SpoolCursor {
  /** Sequence number of the first record not acknowledged. */
  seq: number;
  /** First sequence number (name) of the segment the position is in. */
  segment: number;
  /** Byte offset in that segment. */
  offset: number;
}

/** The persisted positions: one per reader, and the single cursor of an older spool. */
export interface SpoolCursors {
  readers: Map<string, SpoolCursor>;
  /** A cursor written before spools had several readers: it applies to every reader. */
  legacy: SpoolCursor | undefined;
}

const FILE = 'cursor.json';

function parseCursor(value: unknown): SpoolCursor | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { seq, segment, offset } = value as Partial<SpoolCursor>;
  if (
    Number.isSafeInteger(seq) &&
    Number.isSafeInteger(segment) &&
    Number.isSafeInteger(offset) &&
    (seq as number) >= 0 &&
    (offset as number) >= 0
  ) {
    return { seq: seq as number, segment: segment as number, offset: offset as number };
  }
  return undefined;
}

/** Reads the cursors of the spool in `dir`; none when the file is missing or unreadable. */
export async function readCursors(dir: string): Promise<SpoolCursors> {
  const cursors: SpoolCursors = { readers: new Map(), legacy: undefined };
  try {
    const value = JSON.parse(await readFile(join(dir, FILE), 'utf8')) as {
      readers?: Record<string, unknown>;
    };
    if (typeof value.readers === 'object' && value.readers !== null) {
      for (const [name, raw] of Object.entries(value.readers)) {
        const cursor = parseCursor(raw);
        if (cursor !== undefined) cursors.readers.set(name, cursor);
      }
    } else {
      cursors.legacy = parseCursor(value);
    }
  } catch {
    // Missing or torn: start from the oldest segment (re-sending is safe, losing is not).
  }
  return cursors;
}

/** Persists cursors one write at a time; a save while a write is running is coalesced. */
export class CursorWriter {
  readonly #dir: string;
  #latest: Record<string, SpoolCursor> | undefined;
  #running: Promise<void> | undefined;

  constructor(dir: string) {
    this.#dir = dir;
  }

  /** Schedules the readers' cursors to be written (a reader not listed is forgotten). */
  save(readers: Record<string, SpoolCursor>): void {
    this.#latest = readers;
    this.#running ??= this.#run();
  }

  /** Resolves once every saved cursor is written. */
  async flush(): Promise<void> {
    while (this.#running !== undefined) await this.#running;
  }

  async #run(): Promise<void> {
    try {
      while (this.#latest !== undefined) {
        const readers = this.#latest;
        this.#latest = undefined;
        const tmp = join(this.#dir, `${FILE}.tmp`);
        await writeFile(tmp, JSON.stringify({ readers }));
        await rename(tmp, join(this.#dir, FILE));
      }
    } catch {
      // A failed cursor write only means more re-sending after a restart.
    } finally {
      this.#running = undefined;
    }
  }
}
