/**
 * @module How much the dead-letter file holds (records and bytes), for the stats and
 * `/metrics`. Lines are counted incrementally: only what was appended since the last look is
 * read; a file replaced or shortened (`sluice dlq purge`/`replay`) is counted again in full.
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';

/** The dead-letter file's size. */
export interface DeadLetterSize {
  /** Dead letters in the file (one JSON line each). */
  records: number;
  /** Bytes of the file. */
  bytes: number;
}

/** Counts the lines of a JSON-lines file as it grows. */
export class DeadLetterCounter {
  readonly #path: string;
  #ino = -1;
  #bytes = 0;
  #records = 0;
  #chunk: Buffer | undefined;

  constructor(path: string) {
    this.#path = path;
  }

  /** The file's size now (0 and 0 when it is missing). */
  measure(): DeadLetterSize {
    let ino: number;
    let size: number;
    try {
      const info = statSync(this.#path);
      ino = info.ino;
      size = info.size;
    } catch {
      this.#ino = -1;
      this.#bytes = 0;
      this.#records = 0;
      return { records: 0, bytes: 0 };
    }
    if (ino !== this.#ino || size < this.#bytes) {
      this.#ino = ino;
      this.#bytes = 0;
      this.#records = 0;
    }
    if (size > this.#bytes) this.#count(size);
    return { records: this.#records, bytes: this.#bytes };
  }

  #count(size: number): void {
    this.#chunk ??= Buffer.alloc(1 << 16);
    const chunk = this.#chunk;
    let fd: number;
    try {
      fd = openSync(this.#path, 'r');
    } catch {
      return;
    }
    try {
      let pos = this.#bytes;
      while (pos < size) {
        const read = readSync(fd, chunk, 0, Math.min(chunk.length, size - pos), pos);
        if (read <= 0) break;
        for (let i = 0; i < read; i++) if (chunk[i] === 0x0a) this.#records++;
        pos += read;
      }
      this.#bytes = pos;
    } finally {
      closeSync(fd);
    }
  }
}
