/**
 * The two ways the HTTP sink posts a batch — `node:http` (on Node.js) and `fetch` (elsewhere) —
 * give the same answers against a real HTTP server: status, Retry-After, body, a body cut at
 * MAX_BODY_BYTES, a refused connection, and an abort that rejects with the signal's reason.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchPoster, MAX_BODY_BYTES, nodePoster } from '../../gateway/sinks/http-post.js';
import type { HttpPoster } from '../../gateway/sinks/http-post.js';

const received: { path: string; headers: Record<string, unknown>; body: string }[] = [];
const server = createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    const body = Buffer.concat(chunks).toString('utf8');
    received.push({ path: request.url ?? '', headers: request.headers, body });
    if (request.url === '/busy') response.writeHead(503, { 'retry-after': '7' }).end('busy');
    else if (request.url === '/huge') response.writeHead(400).end('x'.repeat(MAX_BODY_BYTES * 2));
    else if (request.url === '/hang') return;
    else response.writeHead(200).end(`{"got":${body.length}}`);
  });
});
let base = '';

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const body = new TextEncoder().encode('[{"id":"a"}]');
const forever = new AbortController().signal;

describe.each([
  ['node:http', nodePoster],
  ['fetch', async () => fetchPoster()],
] as const)('posting a batch through %s', (_name, create) => {
  let poster: HttpPoster;
  beforeAll(async () => {
    poster = await create();
  });
  afterAll(() => poster.close());

  it('sends the headers and body and reads the answer', async () => {
    received.length = 0;
    const answer = await poster.post(
      `${base}/ingest`,
      { 'content-type': 'application/json', 'idempotency-key': 'k1' },
      body,
      forever,
    );
    expect(answer).toEqual({ status: 200, retryAfter: null, body: '{"got":12}' });
    expect(received).toHaveLength(1);
    expect(received[0]?.body).toBe('[{"id":"a"}]');
    expect(received[0]?.headers['idempotency-key']).toBe('k1');
    expect(received[0]?.headers['content-type']).toBe('application/json');
  });

  it('gives the status, Retry-After and body of a refusal, the body cut at MAX_BODY_BYTES', async () => {
    expect(await poster.post(`${base}/busy`, {}, body, forever)).toEqual({
      status: 503,
      retryAfter: '7',
      body: 'busy',
    });
    const huge = await poster.post(`${base}/huge`, {}, body, forever);
    expect(huge.status).toBe(400);
    expect(huge.body.length).toBe(MAX_BODY_BYTES);
  });

  it('rejects with the signal reason on a timeout, and with a network error on a refused connection', async () => {
    const timedOut = poster.post(`${base}/hang`, {}, body, AbortSignal.timeout(100));
    await expect(timedOut).rejects.toMatchObject({ name: 'TimeoutError' });
    const closed = new AbortController();
    const aborted = poster.post(`${base}/hang`, {}, body, closed.signal);
    closed.abort(new DOMException('the sink was closed', 'AbortError'));
    await expect(aborted).rejects.toMatchObject({ name: 'AbortError' });
    // A port nothing listens on: bind one, then close it.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    await expect(poster.post(`http://127.0.0.1:${port}/`, {}, body, forever)).rejects.toThrow();
  });
});
