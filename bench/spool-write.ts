/**
 * @module Spool write and read throughput: group commits of `batch` records (~120-byte window
 * results in the frame layout) under each fsync policy, then reading everything back (take +
 * ack). Prints one line per policy. Run: `node dist/bench/spool-write.js [records] [batch]`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FrameWriter } from '../runtime/index.js';
import { Spool } from '../gateway/spool/spool.js';
import type { SpoolFsync } from '../gateway/spool/spool-options.js';

const records = Number(process.argv[2] ?? 200_000);
const batch = Number(process.argv[3] ?? 500);

function frame(first: number): Uint8Array {
  const writer = new FrameWriter({ maxEvents: batch, maxBytes: 1 << 22 });
  const encoder = new TextEncoder();
  for (let i = 0; i < batch; i++) {
    const payload = encoder.encode(
      `{"key":"dev-${i % 100}","start":1700000000000,"end":1700000001000,"count":10,"avg":${first + i}}`,
    );
    writer.append('default', `dev-${i % 100}`, payload, first + i, 1700000001000, 0, 1);
  }
  return writer.bytes().slice();
}

async function run(fsync: SpoolFsync): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-spool-bench-'));
  const spool = await Spool.open({ dir, fsync, maxBytes: 1 << 30, segmentBytes: 8 << 20 });
  const frames = [frame(0), frame(batch)];
  const started = process.hrtime.bigint();
  let commits = 0;
  for (let n = 0; n < records; n += batch) {
    spool.offer(frames[commits % 2] as Uint8Array);
    await spool.flushed();
    commits++;
  }
  const wrote = Number(process.hrtime.bigint() - started) / 1e6;
  const bytes = spool.bytes;
  const readStarted = process.hrtime.bigint();
  let read = 0;
  for (;;) {
    const taken = spool.reader('default').take(500, 1 << 20);
    if (taken === undefined) break;
    read += taken.count;
    spool.reader('default').ack(taken);
  }
  const readMs = Number(process.hrtime.bigint() - readStarted) / 1e6;
  await spool.shutdown();
  await rm(dir, { recursive: true, force: true });
  console.log(
    `fsync=${fsync.padEnd(8)} write ${Math.round(records / (wrote / 1000))} records/s, ` +
      `${(bytes / 1e6 / (wrote / 1000)).toFixed(1)} MB/s, ${(wrote / commits).toFixed(3)} ms/commit ` +
      `(${batch} records, ${Math.round(bytes / commits)} B); read+ack ${Math.round(read / (readMs / 1000))} records/s`,
  );
}

for (const fsync of ['never', 'interval', 'always'] as const) await run(fsync);
