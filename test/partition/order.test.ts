/**
 * A partitioned chain keeps each device's events in arrival order: every event of one key goes
 * to one worker, and a worker runs its batches in the order they were sent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PartitionedChain, fnv1a, partitionOfKey } from '../../gateway/partition/index.js';
import { bundlePartitionWorker } from './helpers/worker-bundle.js';
import type { WorkerBundle } from './helpers/worker-bundle.js';
import { frameOf, interleaved, recordsOf, testRule } from './helpers/events.js';

describe('PartitionedChain', () => {
  let bundle: WorkerBundle;

  beforeAll(async () => {
    bundle = await bundlePartitionWorker();
  });
  afterAll(async () => {
    await bundle.remove();
  });

  it('keeps every device’s events in order across two workers', async () => {
    const chain = await PartitionedChain.start({
      pipeline: 'order',
      rules: [{ name: 'pass', module: await testRule('hostile') }],
      commandTopic: 'cmd/{key}',
      workers: 2,
      workerEntry: bundle.url,
    });
    try {
      const events = interleaved(50, 40);
      const seen = new Map<string, number[]>();
      // Ten batches of 200 events, all in flight at once.
      const pending = [];
      for (let at = 0; at < events.length; at += 200) {
        pending.push(chain.process(frameOf(events.slice(at, at + 200)), 1_700_000_000_000));
      }
      for (const result of await Promise.all(pending)) {
        expect(result.deadLetters).toEqual([]);
        for (const r of recordsOf(result.frame)) {
          const list = seen.get(r.key) ?? [];
          list.push(r.seq as number);
          seen.set(r.key, list);
        }
      }
      expect(seen.size).toBe(50);
      for (const list of seen.values())
        expect(list).toEqual(Array.from({ length: 40 }, (_, i) => i));
      // Both workers got a share of the keys.
      const memory = chain.memory();
      expect(memory.map((m) => m.partition)).toEqual([0, 1]);
      expect(chain.stats[0]?.eventsIn).toBe(2000);
      expect(chain.stats[0]?.calls).toBeGreaterThanOrEqual(10);
    } finally {
      await chain.close();
    }
  });

  it('moves batches and outputs larger than the shared regions (128 KiB) whole', async () => {
    const chain = await PartitionedChain.start({
      pipeline: 'large',
      rules: [{ name: 'pass', module: await testRule('hostile') }],
      commandTopic: 'cmd/{key}',
      workers: 1,
      workerEntry: bundle.url,
    });
    try {
      // 6000 readings of ~60 bytes: ~400 KiB in, as much out.
      for (let round = 0; round < 2; round++) {
        const events = interleaved(30, 200, 1 + round * 6000);
        const result = await chain.process(frameOf(events), 1_700_000_000_000);
        expect(result.frame?.length).toBeGreaterThan(256 * 1024);
        expect(recordsOf(result.frame).map((r) => r.id)).toEqual(events.map((e) => e.id));
      }
      // And small again.
      const small = await chain.process(frameOf(interleaved(2, 2, 20_000)), 1_700_000_000_000);
      expect(recordsOf(small.frame)).toHaveLength(4);
    } finally {
      await chain.close();
    }
  });
});

describe('partitionOfKey', () => {
  it('hashes the key bytes with 32-bit FNV-1a', () => {
    const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
    // Reference values of FNV-1a 32.
    expect(fnv1a(bytes(''), 0, 0)).toBe(0x811c9dc5);
    expect(fnv1a(bytes('a'), 0, 1)).toBe(0xe40c292c);
    expect(fnv1a(bytes('foobar'), 0, 6)).toBe(0xbf9cf968);
    expect(partitionOfKey(bytes('xfoobar'), 1, 6, 7)).toBe(0xbf9cf968 % 7);
  });
});
