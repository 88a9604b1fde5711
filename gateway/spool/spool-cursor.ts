/**
 * @module The spool's acknowledged position, persisted in `cursor.json` (written to a temporary
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

const FILE = 'cursor.json';

/** Reads the cursor of the spool in `dir`; undefined when there is none or it is unreadable. */
export async function readCursor(dir: string): Promise<SpoolCursor | undefined> {
  try {
    const value = JSON.parse(await readFile(join(dir, FILE), 'utf8')) as Partial<SpoolCursor>;
    const { seq, segment, offset } = value;
    if (
      Number.isSafeInteger(seq) &&
      Number.isSafeInteger(segment) &&
      Number.isSafeInteger(offset) &&
      (seq as number) >= 0 &&
      (offset as number) >= 0
    ) {
      return { seq: seq as number, segment: segment as number, offset: offset as number };
    }
  } catch {
    // Missing or torn: start from the oldest segment (re-sending is safe, losing is not).
  }
  return undefined;
}

/** Persists cursors one write at a time; a save while a write is running is coalesced. */
export class CursorWriter {
  readonly #dir: string;
  #latest: SpoolCursor | undefined;
  #running: Promise<void> | undefined;

  constructor(dir: string) {
    this.#dir = dir;
  }

  /** Schedules `cursor` to be written. */
  save(cursor: SpoolCursor): void {
    this.#latest = cursor;
    this.#running ??= this.#run();
  }

  /** Resolves once every saved cursor is written. */
  async flush(): Promise<void> {
    while (this.#running !== undefined) await this.#running;
  }

  async #run(): Promise<void> {
    try {
      while (this.#latest !== undefined) {
        const cursor = this.#latest;
        this.#latest = undefined;
        const tmp = join(this.#dir, `${FILE}.tmp`);
        await writeFile(tmp, JSON.stringify(cursor));
        await rename(tmp, join(this.#dir, FILE));
      }
    } catch {
      // A failed cursor write only means more re-sending after a restart.
    } finally {
      this.#running = undefined;
    }
  }
}
