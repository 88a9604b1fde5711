/**
 * @module `FileSink`: writes output records as JSON lines (`{"id","key","time","output","value"}`,
 * the records of the HTTP sink's JSON body, one per line) to a local file, rotated by size. A
 * batch is accepted once it is written and (by default) fsynced; a failed write (disk full, the
 * directory gone) is retried with backoff until it succeeds or the send is aborted. Useful as an
 * upstream of its own (a box that ships files), for audits, and in tests.
 */
import type { FileHandle } from 'node:fs/promises';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import { pino } from 'pino';
import type { OutboxBatch } from '../outbox/outbox.js';
import { backoffDelay, sleep } from './backoff.js';
import { SinkOptionsError } from './errors.js';
import { JsonBodyEncoder } from './json-body.js';
import type { Sink, SinkBatching } from './sink.js';

/** Options of a {@link FileSink}. */
export interface FileSinkOptions {
  /** The file written to; rotated files are `<path>.1` (newest) … `<path>.<maxFiles>`. */
  path: string;
  /** The file is rotated before a write would take it past this size. @default 67108864 (64 MiB) */
  maxFileBytes?: number;
  /** Rotated files kept (older ones are deleted). @default 5 */
  maxFiles?: number;
  /** fsync each batch before accepting it. @default true */
  fsync?: boolean;
  /** @default 1000 */
  maxRecords?: number;
  /** @default 1048576 */
  maxBytes?: number;
  /** @default 100 */
  lingerMs?: number;
  /** First retry delay after a failed write. @default 100 */
  initialDelayMs?: number;
  /** Retry delay ceiling. @default 10000 */
  maxDelayMs?: number;
  /** @default a silent logger */
  logger?: Logger;
}

interface ResolvedFileSinkOptions {
  path: string;
  maxFileBytes: number;
  maxFiles: number;
  fsync: boolean;
  initialDelayMs: number;
  maxDelayMs: number;
  batching: SinkBatching;
  logger: Logger;
}

/** Fills the defaults of {@link FileSinkOptions} and validates them. */
export function resolveFileSinkOptions(options: FileSinkOptions): ResolvedFileSinkOptions {
  const check = (field: string, value: number, min: number): number => {
    if (!Number.isInteger(value) || value < min) {
      throw new SinkOptionsError(`sink.${field}: ${String(value)} is not an integer ≥ ${min}`);
    }
    return value;
  };
  if (options.path === '') throw new SinkOptionsError('sink.path: is empty (expected a file path)');
  return {
    path: options.path,
    maxFileBytes: check('maxFileBytes', options.maxFileBytes ?? 64 * 1024 * 1024, 1024),
    maxFiles: check('maxFiles', options.maxFiles ?? 5, 0),
    fsync: options.fsync ?? true,
    initialDelayMs: check('retry.initialDelayMs', options.initialDelayMs ?? 100, 1),
    maxDelayMs: check('retry.maxDelayMs', options.maxDelayMs ?? 10_000, 1),
    batching: {
      maxRecords: check('maxRecords', options.maxRecords ?? 1000, 1),
      maxBytes: check('maxBytes', options.maxBytes ?? 1_048_576, 1024),
      lingerMs: check('lingerMs', options.lingerMs ?? 100, 0),
    },
    logger: options.logger ?? pino({ level: 'silent' }),
  };
}

/** A {@link Sink} appending JSON lines to a rotated file. */
export class FileSink implements Sink {
  readonly #o: ResolvedFileSinkOptions;
  readonly #json = new JsonBodyEncoder();
  readonly #closed = new AbortController();
  #file: FileHandle | undefined;
  #size = 0;
  #failures = 0;

  constructor(options: FileSinkOptions) {
    this.#o = resolveFileSinkOptions(options);
  }

  /** One batch at a time: batches are appended to one file in order. */
  readonly maxConcurrentSends = 1;

  get batching(): SinkBatching {
    return this.#o.batching;
  }

  /** Writes that failed (and were retried). */
  get failures(): number {
    return this.#failures;
  }

  async send(batch: OutboxBatch, signal?: AbortSignal): Promise<void> {
    const lines = this.#json.encodeLines(batch.frame);
    const stop =
      signal === undefined ? this.#closed.signal : AbortSignal.any([signal, this.#closed.signal]);
    for (let attempt = 0; ; attempt++) {
      stop.throwIfAborted();
      try {
        await this.#write(lines);
        return;
      } catch (error) {
        stop.throwIfAborted();
        this.#failures++;
        await this.#file?.close().catch(() => undefined);
        this.#file = undefined;
        const delay = backoffDelay(attempt, this.#o.initialDelayMs, this.#o.maxDelayMs);
        this.#o.logger[attempt === 0 || attempt % 10 === 9 ? 'warn' : 'debug'](
          { err: error, path: this.#o.path, attempt: attempt + 1, delayMs: Math.round(delay) },
          'writing a batch to the file sink failed; retrying',
        );
        await sleep(delay, stop);
      }
    }
  }

  async #write(lines: Uint8Array): Promise<void> {
    if (
      this.#file !== undefined &&
      this.#size > 0 &&
      this.#size + lines.length > this.#o.maxFileBytes
    ) {
      await this.#rotate();
    }
    if (this.#file === undefined) {
      await mkdir(dirname(this.#o.path), { recursive: true });
      this.#file = await open(this.#o.path, 'a');
      this.#size = (await stat(this.#o.path)).size;
      if (this.#size > 0 && this.#size + lines.length > this.#o.maxFileBytes) await this.#rotate();
    }
    const file = this.#file as FileHandle;
    // A short write (or an error after part of it) leaves a partial line; the retry appends
    // the whole batch again after it, and readers skip a line that does not parse.
    await file.write(lines, 0, lines.length);
    if (this.#o.fsync) await file.datasync();
    this.#size += lines.length;
  }

  async #rotate(): Promise<void> {
    await this.#file?.close();
    this.#file = undefined;
    const { path, maxFiles } = this.#o;
    if (maxFiles === 0) {
      await rm(path, { force: true });
    } else {
      await rm(`${path}.${maxFiles}`, { force: true });
      for (let i = maxFiles - 1; i >= 1; i--) {
        await rename(`${path}.${i}`, `${path}.${i + 1}`).catch(() => undefined);
      }
      await rename(path, `${path}.1`);
    }
    this.#file = await open(path, 'a');
    this.#size = 0;
  }

  closing(): void {
    // Nothing to do: a file has no connection to wind down.
  }

  async close(): Promise<void> {
    this.#closed.abort(new DOMException('the sink was closed', 'AbortError'));
    const file = this.#file;
    this.#file = undefined;
    await file?.close().catch(() => undefined);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
