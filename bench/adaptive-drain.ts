/**
 * @module Adaptive drain throughput: a forwarder sending a backlog of records to a local HTTP
 * receiver that answers each request after `latencyMs` (an upstream across a WAN), with
 * `maxInFlight` 1 (one batch at a time) and 4 (the default), side by side.
 * Run: `node dist/bench/adaptive-drain.js [records] [latencyMs]`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FrameWriter } from '../runtime/index.js';
import { DeadLetterFile } from '../gateway/dead-letter/dead-letter-file.js';
import { MemoryOutbox } from '../gateway/outbox/memory-outbox.js';
import { Counters } from '../gateway/pipeline/counters.js';
import { Forwarder } from '../gateway/sinks/forwarder.js';
import { HttpSink } from '../gateway/sinks/http-sink.js';

const records = Number(process.argv[2] ?? 50_000);
const latencyMs = Number(process.argv[3] ?? 20);

function frame(first: number, count: number): Uint8Array {
  const writer = new FrameWriter({ maxEvents: count, maxBytes: 1 << 22 });
  const encoder = new TextEncoder();
  for (let i = 0; i < count; i++) {
    const payload = encoder.encode(`{"device":"dev-${i % 100}","temp":${(first + i) % 50}}`);
    writer.append('default', `dev-${i % 100}`, payload, first + i, 1700000001000, 0, 1);
  }
  return writer.bytes().slice();
}

async function run(maxInFlight: number): Promise<void> {
  let received = 0;
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      setTimeout(() => {
        received++;
        response.writeHead(200).end('{}');
      }, latencyMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  const dir = await mkdtemp(join(tmpdir(), 'sluice-drain-bench-'));
  const deadLetters = await DeadLetterFile.open(join(dir, 'dead.jsonl'));
  const outbox = new MemoryOutbox({ capacity: records });
  for (let id = 0; id < records; id += 500) outbox.offer(frame(id, Math.min(500, records - id)));
  const sink = new HttpSink({
    url: `http://127.0.0.1:${port}/ingest`,
    maxRecords: 500,
    lingerMs: 0,
  });
  const forwarder = new Forwarder({
    pipeline: 'bench',
    outbox,
    sink,
    deadLetters,
    counters: new Counters(),
    drain: { maxInFlight, latencyTargetMs: 1000 },
  });
  const started = performance.now();
  forwarder.start();
  await forwarder.drain(120_000);
  const ms = performance.now() - started;
  console.log(
    `maxInFlight ${maxInFlight}: ${records} records in ${received} requests, ${ms.toFixed(0)} ms, ` +
      `${Math.round((records / ms) * 1000)} records/s, peak limit ${forwarder.peakConcurrency}`,
  );
  await sink.close();
  await deadLetters.close();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await rm(dir, { recursive: true, force: true });
}

for (const maxInFlight of [1, 4, 1, 4]) await run(maxInFlight);
