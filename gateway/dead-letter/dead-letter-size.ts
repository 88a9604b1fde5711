/**
 * @module How much the dead-letter file holds (records and bytes), for the stats and
 * `/metrics`. Lines are counted incrementally: only what was appended since the last look is
 * read; a file replaced or shortened (`sluice dlq purge`/`replay`) is counted again in full.
 * What the file already holds when the gateway opens it is counted then, without blocking
 * (`prime`), so that the first look at the stats does not read a large file synchronously.
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';

const CHUNK_BYTES = 1 << 16;

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

  /** Counts what the file holds now, with asynchronous reads (nothing when it is missing). */
  async prime(): Promise<void> {
    let handle;
    try {
      handle = await open(this.#path, 'r');
    } catch {
      return;
    }
    try {
      const info = await handle.stat();
      const chunk = this.#buffer();
      let pos = 0;
      let records = 0;
      while (pos < info.size) {
        const { bytesRead } = await handle.read(
          chunk,
          0,
          Math.min(chunk.length, info.size - pos),
          pos,
        );
        if (bytesRead <= 0) break;
        records += countLines(chunk, bytesRead);
        pos += bytesRead;
      }
      this.#ino = info.ino;
      this.#bytes = pos;
      this.#records = records;
    } finally {
      await handle.close();
    }
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
    const chunk = this.#buffer();
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
        this.#records += countLines(chunk, read);
        pos += read;
      }
      this.#bytes = pos;
    } finally {
      closeSync(fd);
    }
  }

  #buffer(): Buffer {
    this.#chunk ??= Buffer.alloc(CHUNK_BYTES);
    return this.#chunk;
  }
}

/** Newlines in `chunk[0, length)`. */
function countLines(chunk: Buffer, length: number): number {
  let lines = 0;
  for (let at = chunk.indexOf(0x0a); at >= 0 && at < length; at = chunk.indexOf(0x0a, at + 1)) {
    lines++;
  }
  return lines;
}
