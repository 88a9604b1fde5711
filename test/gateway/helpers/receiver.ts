/**
 * @module Test helper: a real upstream HTTP receiver (node:http) that records every request
 * body and can be told to answer 503, hang, answer slowly, or refuse (4xx) for a while; it
 * counts the requests it is answering at once.
 */
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';

/** How the receiver answers. */
export type ReceiverMode =
  | { kind: 'accept' }
  | { kind: 'unavailable'; retryAfterSeconds?: number }
  | { kind: 'hang' }
  | { kind: 'status'; status: number; body?: string }
  /** Accepts after a delay; `delayMs` may depend on the request's number (1 = the first). */
  | { kind: 'slow'; delayMs: number | ((request: number) => number) };

/** One request the receiver answered with 2xx. */
export interface ReceivedBatch {
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** A running receiver. */
export interface Receiver {
  readonly url: string;
  /** Requests answered with 200, in order. */
  readonly accepted: ReceivedBatch[];
  /** Every request that arrived, whatever the answer. */
  readonly requests: () => number;
  /** The most requests being answered at once so far (since the last `resetPeakConcurrent`). */
  readonly peakConcurrent: () => number;
  /** Starts counting `peakConcurrent` again from the requests in progress now. */
  resetPeakConcurrent(): void;
  /** Records of the accepted JSON bodies, flattened. */
  records(): ReceivedRecord[];
  /** How many records `records()` would return, without copying them (cheap enough to poll). */
  recordCount(): number;
  setMode(mode: ReceiverMode): void;
  close(): Promise<void>;
}

/** One record of a JSON body. */
export interface ReceivedRecord {
  id: string;
  key: string;
  time: number;
  output: string;
  value: unknown;
}

/**
 * Each accepted body parsed once: tests poll `records()` every few milliseconds while tens of
 * thousands of records arrive, and parsing every body again on each poll took most of the
 * event loop that the gateway under test shares with them.
 */
const parsed = new WeakMap<ReceivedBatch, ReceivedRecord[]>();

function recordsOf(batch: ReceivedBatch): ReceivedRecord[] {
  let records = parsed.get(batch);
  if (records === undefined) {
    records = JSON.parse(batch.body.toString('utf8')) as ReceivedRecord[];
    parsed.set(batch, records);
  }
  return records;
}

/** Starts a receiver on a free loopback port. */
export async function startReceiver(): Promise<Receiver> {
  let mode: ReceiverMode = { kind: 'accept' };
  const accepted: ReceivedBatch[] = [];
  let requests = 0;
  let concurrent = 0;
  let peakConcurrent = 0;
  const hanging = new Set<ServerResponse>();
  const server = createServer((request, response) => {
    concurrent++;
    if (concurrent > peakConcurrent) peakConcurrent = concurrent;
    response.once('close', () => concurrent--);
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      requests++;
      const current = mode;
      switch (current.kind) {
        case 'accept':
          accepted.push({ headers: request.headers, body: Buffer.concat(chunks) });
          response.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
          return;
        case 'unavailable': {
          const headers: Record<string, string> = {};
          if (current.retryAfterSeconds !== undefined)
            headers['retry-after'] = String(current.retryAfterSeconds);
          response.writeHead(503, headers).end('busy');
          return;
        }
        case 'status':
          response.writeHead(current.status).end(current.body ?? '');
          return;
        case 'slow': {
          const delay =
            typeof current.delayMs === 'number' ? current.delayMs : current.delayMs(requests);
          const body = Buffer.concat(chunks);
          setTimeout(() => {
            if (response.destroyed) return;
            accepted.push({ headers: request.headers, body });
            response.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
          }, delay);
          return;
        }
        case 'hang':
          hanging.add(response);
          response.once('close', () => hanging.delete(response));
          return;
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/ingest`,
    accepted,
    requests: () => requests,
    peakConcurrent: () => peakConcurrent,
    resetPeakConcurrent() {
      peakConcurrent = concurrent;
    },
    records() {
      const out: ReceivedRecord[] = [];
      for (const batch of accepted) for (const record of recordsOf(batch)) out.push(record);
      return out;
    },
    recordCount() {
      let count = 0;
      for (const batch of accepted) count += recordsOf(batch).length;
      return count;
    },
    setMode(next) {
      mode = next;
      if (next.kind !== 'hang') {
        for (const response of hanging) response.destroy();
        hanging.clear();
      }
    },
    async close() {
      for (const response of hanging) response.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
