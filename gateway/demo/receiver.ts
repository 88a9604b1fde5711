/**
 * @module The demo upstream: an HTTP server that accepts the batches Sluice's HTTP sink posts
 * (JSON or CBOR by Content-Type), answers 200 and prints one summary line per batch. Run alone
 * by `sluice receive`, and by `sluice demo`.
 */

import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { decode as decodeCbor } from 'cbor-x/decode';
import { formatBatchSummary } from './batch-summary.js';
import { ReceiverPortInUseError } from './errors.js';

/** One batch as received. */
export interface ReceivedBatch {
  format: 'json' | 'cbor';
  /** Size of the body. */
  bytes: number;
  /** The records: the body when it is an array, else `[body]`. */
  records: unknown[];
  /** The decoded body. */
  body: unknown;
  /** The request path (`/ingest`). */
  path: string;
  headers: IncomingHttpHeaders;
  /** Arrival time, ms since the Unix epoch. */
  receivedAt: number;
}

/** Options of `startReceiver`. */
export interface ReceiverOptions {
  /** TCP port; 0 picks a free one. @default 8787 */
  port?: number;
  /** @default '127.0.0.1' */
  host?: string;
  /**
   * Called per decoded batch before the response. May return the HTTP status to answer (a test
   * can refuse batches) or a promise (a slow upstream: the response waits for it).
   * @default undefined
   */
  onBatch?: (batch: ReceivedBatch) => void | number | Promise<void | number>;
  /** Where summary lines go; null prints nothing. @default process.stdout */
  output?: { write(text: string): unknown } | null;
  /** Largest body accepted (413 above). @default 16777216 */
  maxBodyBytes?: number;
}

/** A running receiver. */
export interface Receiver extends AsyncDisposable {
  /** `http://<host>:<port>/ingest`: what to put in `sink.url`. */
  readonly url: string;
  readonly port: number;
  /** Batches accepted so far. */
  readonly batches: number;
  /** Records in the accepted batches. */
  readonly records: number;
  /** Stops listening and closes open connections; idempotent. */
  close(): Promise<void>;
}

/** Starts the receiver. @throws ReceiverPortInUseError when the port is taken. */
export async function startReceiver(options: ReceiverOptions = {}): Promise<Receiver> {
  const host = options.host ?? '127.0.0.1';
  const output = options.output === undefined ? process.stdout : options.output;
  const maxBodyBytes = options.maxBodyBytes ?? 16 * 1024 * 1024;
  let batches = 0;
  let records = 0;

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    if (request.method !== 'POST') {
      reply(response, request.method === 'GET' ? 200 : 405, {
        receiver: 'sluice demo',
        batches,
        records,
        ...(request.method === 'GET' ? {} : { error: 'POST a JSON or CBOR batch' }),
      });
      return;
    }
    const type = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
    const format =
      type === 'application/cbor'
        ? 'cbor'
        : type === 'application/json' || type.endsWith('+json')
          ? 'json'
          : undefined;
    if (format === undefined) {
      reply(response, 415, {
        error: `Content-Type "${type}" is not application/json or application/cbor`,
      });
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of request as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > maxBodyBytes) {
        reply(response, 413, { error: `body larger than ${maxBodyBytes} bytes` });
        request.destroy();
        return;
      }
      chunks.push(chunk);
    }
    const raw = Buffer.concat(chunks);
    let body: unknown;
    try {
      body =
        format === 'json'
          ? (JSON.parse(raw.toString('utf8')) as unknown)
          : (decodeCbor(raw) as unknown);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      output?.write(`upstream ✗ undecodable ${format} body (${raw.length} bytes): ${reason}\n`);
      reply(response, 400, { error: `body is not valid ${format}: ${reason}` });
      return;
    }
    const batch: ReceivedBatch = {
      format,
      bytes: raw.length,
      records: Array.isArray(body) ? body : [body],
      body,
      path: request.url ?? '/',
      headers: request.headers,
      receivedAt: Date.now(),
    };
    const status = (await options.onBatch?.(batch)) ?? 200;
    if (status >= 200 && status < 300) {
      batches++;
      records += batch.records.length;
      output?.write(`${formatBatchSummary(batch.records, format, raw.length)}\n`);
    }
    reply(response, status, { ok: status >= 200 && status < 300, records: batch.records.length });
  };

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (!response.headersSent)
        reply(response, 500, { error: error instanceof Error ? error.message : String(error) });
      else response.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      reject(
        error.code === 'EADDRINUSE'
          ? new ReceiverPortInUseError(host, options.port ?? 8787, { cause: error })
          : error,
      );
    };
    server.once('error', onError);
    server.listen(options.port ?? 8787, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
    return closing;
  };
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}/ingest`,
    port,
    get batches() {
      return batches;
    },
    get records() {
      return records;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

function reply(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  response.end(text);
}
