/**
 * @module The dead-letter file: events that could not be processed (malformed payloads, rule
 * traps, records refused by upstream), appended as JSON lines with the reason, so that nothing is
 * dropped silently. Lines are encoded at once into a byte buffer (like records in the in-memory
 * outbox) and written together at most `flushIntervalMs` later; when the file falls behind by
 * more than `maxPendingBytes`, {@link DeadLetterFile.commit} makes the batch wait (backpressure,
 * not growth).
 *
 * Why bytes, not a list of line strings: a line built by concatenation is a tree of ~20 small
 * strings, and with 5% malformed readings at ~240k messages/s those trees lived through the
 * flush interval, long enough for V8 to move them to the old generation: the JS heap grew to
 * 33 MB between full collections (16 MB without malformed readings) and the gateway's peak RSS
 * to 96 MB. Encoded at once, the strings die young.
 * When the file is replaced (`sluice dlq purge` renames a rewritten file over it), the next write
 * reopens it.
 */
import { createWriteStream, fstatSync, mkdirSync, statSync } from 'node:fs';
import type { WriteStream } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import { pino } from 'pino';
import { DeadLetterWriteError } from './errors.js';
import { DeadLetterCounter, type DeadLetterSize } from './dead-letter-size.js';

/** One dead letter, before serialization. */
export interface DeadLetter {
  /** The pipeline the event went through. */
  pipeline: string;
  /** The rule (or `sink:<type>`) that refused the event; null when unknown. */
  rule: string | null;
  /** Why the event could not be processed. */
  reason: string;
  /** The MQTT topic the event arrived on (or the output name for a refused output record). */
  topic: string | null;
  /** The device key (or the output record's key). */
  key: string | null;
  /** The event or record id, 64 bits as 16 hex digits. */
  id: string | null;
  /** The original payload bytes, when known. */
  payload: Uint8Array | null;
}

/** Options of {@link DeadLetterFile.open}. */
export interface DeadLetterFileOptions {
  /**
   * Buffered lines are written at most this long after a batch committed them. Coalescing
   * matters: on the 2-vCPU box under the benchmark load one `write` cost ~0.3 ms of the event
   * loop (the thread pool's write competes for the cores), i.e. ~0.6 µs per message with 5%
   * invalid readings and one write per batch. @default 50
   */
  flushIntervalMs?: number;
  /** Buffered bytes (UTF-8) that trigger a write at once. @default 65536 */
  flushBytes?: number;
  /**
   * Buffered plus unwritten bytes beyond which `commit` makes the batch wait (the file is
   * slower than the dead letters coming in). @default 1048576
   */
  maxPendingBytes?: number;
  /** @default a silent logger */
  logger?: Logger;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const encoder = new TextEncoder();
/** The first buffer's size; it doubles while a line does not fit. */
const INITIAL_BUFFER_BYTES = 16_384;

/** Formats a 64-bit id given as two 32-bit halves as 16 lowercase hex digits. */
export function formatId(high: number, low: number): string {
  return (high >>> 0).toString(16).padStart(8, '0') + (low >>> 0).toString(16).padStart(8, '0');
}

let lastTime = Number.NaN;
let lastIso = '';

/** `time` as ISO 8601; consecutive dead letters usually share a millisecond. */
function isoTime(time: number): string {
  if (time !== lastTime) {
    lastTime = time;
    lastIso = new Date(time).toISOString();
  }
  return lastIso;
}

function jsonString(value: string | null): string {
  return value === null ? 'null' : JSON.stringify(value);
}

/**
 * Serializes one dead letter as a JSON line (with the trailing newline):
 * `{"time","pipeline","rule","reason","topic","key","id","payload","encoding"}`, the payload as
 * text when it is UTF-8 (`"encoding":"utf8"`), else base64 (`"encoding":"base64"`).
 * Built by concatenation: 0.58 µs per letter against 1.19 µs with `JSON.stringify` of an
 * object (2-vCPU box, ~60-byte payloads), which shows at 5% malformed readings.
 */
export function formatDeadLetter(letter: DeadLetter, time: number): string {
  let payload = 'null';
  let encoding = '';
  const bytes = letter.payload;
  if (bytes !== null) {
    try {
      payload = JSON.stringify(utf8.decode(bytes));
      encoding = ',"encoding":"utf8"';
    } catch {
      payload =
        '"' +
        Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64') +
        '"';
      encoding = ',"encoding":"base64"';
    }
  }
  return (
    '{"time":"' +
    isoTime(time) +
    '","pipeline":' +
    JSON.stringify(letter.pipeline) +
    ',"rule":' +
    jsonString(letter.rule) +
    ',"reason":' +
    JSON.stringify(letter.reason) +
    ',"topic":' +
    jsonString(letter.topic) +
    ',"key":' +
    jsonString(letter.key) +
    ',"id":' +
    jsonString(letter.id) +
    ',"payload":' +
    payload +
    encoding +
    '}\n'
  );
}

/** An append-only JSON-lines file of dead letters. */
export class DeadLetterFile {
  readonly #path: string;
  #stream: WriteStream;
  /** The inode of the open file, to notice when `sluice dlq purge` replaced it. */
  #ino: number;
  readonly #logger: Logger;
  readonly #flushIntervalMs: number;
  readonly #flushBytes: number;
  readonly #maxPendingBytes: number;
  /** Encoded lines not yet written: `#buffer[0, #bytes)`, `#pending` of them. */
  #buffer = new Uint8Array(INITIAL_BUFFER_BYTES);
  #bytes = 0;
  #pending = 0;
  /** Settles once the last chunk handed to the stream was written (or failed). */
  #written: Promise<void> = Promise.resolve();
  #count = 0;
  readonly #counter: DeadLetterCounter;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #failed: Error | undefined;
  #closing: Promise<void> | undefined;

  private constructor(
    path: string,
    stream: WriteStream,
    options: DeadLetterFileOptions,
    logger: Logger,
    counter: DeadLetterCounter,
  ) {
    this.#path = path;
    this.#counter = counter;
    this.#stream = stream;
    this.#ino = inode(stream);
    this.#logger = logger;
    this.#flushIntervalMs = options.flushIntervalMs ?? 50;
    this.#flushBytes = options.flushBytes ?? 65_536;
    this.#maxPendingBytes = options.maxPendingBytes ?? 1_048_576;
    this.#watch(stream);
  }

  #watch(stream: WriteStream): void {
    stream.on('error', (error) => {
      this.#failed = error;
      this.#logger.error({ err: error, path: this.#path }, 'dead-letter file: write failed');
    });
  }

  /**
   * `sluice dlq purge`/`replay` rewrite the file and rename the new one over it: appending to
   * the old descriptor would lose the lines, so a replaced (or removed) file is reopened. One
   * `stat` per write (at most one per `flushIntervalMs` under load).
   */
  #reopenIfReplaced(): void {
    let ino: number;
    try {
      ino = statSync(this.#path).ino;
    } catch {
      ino = -1;
    }
    if (ino === this.#ino) return;
    const old = this.#stream;
    old.end();
    const stream = createWriteStream(this.#path, { flags: 'a' });
    this.#watch(stream);
    this.#stream = stream;
    // The new stream opens the file now at the path (or creates it): its inode, once known.
    this.#ino = ino;
    stream.once('open', () => {
      if (this.#stream === stream) this.#ino = inode(stream);
    });
    this.#logger.info({ path: this.#path }, 'dead-letter file was replaced; reopened it');
  }

  /** Opens (creating its directory) the file for appending. */
  static async open(path: string, options: DeadLetterFileOptions = {}): Promise<DeadLetterFile> {
    const logger = options.logger ?? pino({ level: 'silent' });
    try {
      mkdirSync(dirname(path), { recursive: true });
    } catch (error) {
      throw new DeadLetterWriteError(
        `deadLetter.path: cannot create the directory of "${path}" (${(error as Error).message}). ` +
          `Set deadLetter.path to a writable location.`,
        { cause: error },
      );
    }
    const stream = createWriteStream(path, { flags: 'a' });
    await new Promise<void>((resolve, reject) => {
      stream.once('open', () => {
        stream.off('error', reject);
        resolve();
      });
      stream.once('error', (error) =>
        reject(
          new DeadLetterWriteError(
            `deadLetter.path: cannot open "${path}" for appending (${error.message}). ` +
              `Set deadLetter.path to a writable file.`,
            { cause: error },
          ),
        ),
      );
    });
    const counter = new DeadLetterCounter(path);
    await counter.prime();
    return new DeadLetterFile(path, stream, options, logger, counter);
  }

  /** The file's path. */
  get path(): string {
    return this.#path;
  }

  /**
   * What the file holds now (records and bytes, written ones plus those buffered), for the stats.
   */
  size(): DeadLetterSize {
    const written = this.#counter.measure();
    return { records: written.records + this.#pending, bytes: written.bytes + this.#bytes };
  }

  /** Dead letters added since the file was opened. */
  get count(): number {
    return this.#count;
  }

  /** Buffers one dead letter; {@link commit} hands the buffered ones to the writer. */
  add(letter: DeadLetter, time: number = Date.now()): void {
    const line = formatDeadLetter(letter, time);
    // At most 3 bytes of UTF-8 per UTF-16 unit.
    const room = this.#bytes + line.length * 3;
    if (room > this.#buffer.length) {
      const grown = new Uint8Array(Math.max(room, this.#buffer.length * 2));
      grown.set(this.#buffer.subarray(0, this.#bytes));
      this.#buffer = grown;
    }
    this.#bytes += encoder.encodeInto(line, this.#buffer.subarray(this.#bytes)).written;
    this.#pending++;
    this.#count++;
    this.#logger.debug(
      { pipeline: letter.pipeline, rule: letter.rule, reason: letter.reason },
      'dead letter',
    );
  }

  /**
   * Ends a batch's dead letters: they are written within `flushIntervalMs` (at once past
   * `flushBytes`). Returns undefined when the batch may commit now, or a promise that resolves
   * once the file caught up when it is more than `maxPendingBytes` behind.
   */
  commit(): Promise<void> | undefined {
    if (this.#bytes === 0) return undefined;
    if (this.#bytes >= this.#flushBytes || this.#closing !== undefined) {
      this.#flush();
    } else if (this.#timer === undefined) {
      this.#timer = setTimeout(this.#onTimer, this.#flushIntervalMs);
      this.#timer.unref?.();
    }
    if (this.#bytes + this.#stream.writableLength <= this.#maxPendingBytes) return undefined;
    this.#flush();
    return this.#written;
  }

  /** Writes what is buffered and closes the file. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#flush();
      if (this.#stream.closed) return;
      // 'close' (the descriptor released), not just 'finish' (the data written).
      const closed = new Promise<void>((resolve) => this.#stream.once('close', () => resolve()));
      this.#stream.end();
      await closed;
    })();
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  readonly #onTimer = (): void => {
    this.#timer = undefined;
    this.#flush();
  };

  #flush(): void {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    if (this.#bytes === 0) return;
    // The stream keeps the chunk until written: the next lines go to a fresh buffer.
    const chunk = this.#buffer.subarray(0, this.#bytes);
    this.#buffer = new Uint8Array(INITIAL_BUFFER_BYTES);
    this.#bytes = 0;
    this.#pending = 0;
    if (this.#failed !== undefined || this.#stream.writableEnded || this.#stream.destroyed) {
      this.#logger.error(
        { lines: utf8.decode(chunk) },
        'dead-letter file unavailable: dead letters logged instead',
      );
      return;
    }
    this.#reopenIfReplaced();
    // Not 'drain': that comes only after a write the stream refused (past its highWaterMark).
    this.#written = new Promise<void>((resolve) => this.#stream.write(chunk, () => resolve()));
  }
}

/** The inode of an open write stream's file (-1 when unknown). */
function inode(stream: WriteStream): number {
  const fd = (stream as unknown as { fd: number | null }).fd;
  if (typeof fd !== 'number') return -1;
  try {
    return fstatSync(fd).ino;
  } catch {
    return -1;
  }
}
