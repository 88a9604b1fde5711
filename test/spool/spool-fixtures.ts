/**
 * @module Test helpers for the spool: frames of numbered records, and reading ids back.
 */
import { mkdtemp, readdir, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FrameReader, FrameWriter } from '../../runtime/index.js';
import { DEFAULT_READER } from '../../gateway/outbox/outbox.js';
import type { Outbox, OutboxReader } from '../../gateway/outbox/outbox.js';
import type { Config } from '../../gateway/config/index.js';

/** A frame of `count` records with ids from `firstId` and payload `{"n":<id>}` (plus padding). */
export function numberedFrame(firstId: number, count: number, padding = 0): Uint8Array {
  const writer = new FrameWriter({ maxEvents: count, maxBytes: 1 << 22 });
  const pad = 'x'.repeat(padding);
  for (let i = 0; i < count; i++) {
    const payload = new TextEncoder().encode(`{"n":${firstId + i},"p":"${pad}"}`);
    writer.append('default', 'k', payload, firstId + i, 1700000000000 + firstId + i, 0, 1);
  }
  return writer.bytes().slice();
}

/** The ids of a frame's records. */
export function frameIds(frame: Uint8Array): number[] {
  const reader = new FrameReader().reset(frame);
  const out: number[] = [];
  while (reader.next()) out.push(reader.id);
  return out;
}

/**
 * Takes and acknowledges everything ready for the reader `reader` (`default` when an outbox is
 * given); returns the ids in order.
 */
export function drainIds(from: Outbox | OutboxReader, maxRecords = 1000): number[] {
  const reader = 'take' in from ? from : from.reader(DEFAULT_READER);
  const ids: number[] = [];
  for (;;) {
    const batch = reader.take(maxRecords, 1 << 20);
    if (batch === undefined) return ids;
    ids.push(...frameIds(batch.frame));
    reader.ack(batch);
  }
}

/** `[from, to)`. */
export function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, i) => from + i);
}

/** A fresh temporary directory. */
export function spoolDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'sluice-spool-'));
}

/** Bytes of the segment files of the spool of pipeline "test" under `config.dataDir`. */
export async function spoolBytesOnDisk(config: Config): Promise<number> {
  const dir = join(config.dataDir, 'spool', 'test');
  let total = 0;
  for (const name of await readdir(dir)) {
    // A segment may be deleted (acknowledged) between readdir and stat.
    if (name.endsWith('.seg'))
      total += (await stat(join(dir, name)).catch(() => ({ size: 0 }))).size;
  }
  return total;
}
