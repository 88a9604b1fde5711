/**
 * Snapshots of a partitioned chain reflect exactly the batches sent before them, restore into
 * another chain of the same size, and are what a worker replaced after a timeout starts from.
 */
import { encode } from 'cbor-x';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  PartitionOptionsError,
  PartitionedChain,
  partitionOfKey,
} from '../../gateway/partition/index.js';
import type { ChainResult, PartitionedRule } from '../../gateway/partition/index.js';
import { frameOf, interleaved, testRule } from './helpers/events.js';
import type { TestEvent } from './helpers/events.js';
import { bundlePartitionWorker } from './helpers/worker-bundle.js';
import type { WorkerBundle } from './helpers/worker-bundle.js';

const NOW = 1_700_000_000_000;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Window counts per device from the `default` records of a flush. */
function counts(result: ChainResult): Map<string, number> {
  const out = new Map<string, number>();
  if (result.frame === undefined) return out;
  const text = decoder.decode(result.frame);
  for (const match of text.matchAll(/\{"key":"([^"]+)",[^}]*"count":(\d+)/g)) {
    out.set(match[1] as string, Number(match[2]));
  }
  return out;
}

describe('PartitionedChain snapshots', () => {
  let bundle: WorkerBundle;
  let rules: PartitionedRule[];

  beforeAll(async () => {
    bundle = await bundlePartitionWorker();
    // hostile forwards the readings (and spins on key "loop"); window-stats counts them per
    // device in one long window of arrival time.
    rules = [
      { name: 'hostile', module: await testRule('hostile') },
      {
        name: 'windows',
        module: await testRule('../rules/window-stats'),
        config: encode({ field: 'seq', timeField: '', windowMs: 3_600_000 }),
      },
    ];
  });
  afterAll(async () => {
    await bundle.remove();
  });

  function start(ruleTimeoutMs = 1000): Promise<PartitionedChain> {
    return PartitionedChain.start({
      pipeline: 'snap',
      rules,
      commandTopic: 'cmd/{key}',
      workers: 2,
      ruleTimeoutMs,
      workerEntry: bundle.url,
    });
  }

  it('takes a snapshot of exactly the batches sent before it', async () => {
    const first = await start();
    const second = await start();
    try {
      const b1 = frameOf(interleaved(6, 4, 1));
      const b2 = frameOf(interleaved(6, 3, 100));
      // Sent together: the snapshot is queued between the two batches in every partition.
      const [, snapshot, ,] = await Promise.all([
        first.process(b1, NOW),
        first.snapshot(),
        first.process(b2, NOW),
      ]);
      expect(snapshot).toHaveLength(2);
      expect(snapshot[1]).toHaveLength(2);
      await second.restore(snapshot);
      const restored = counts(await second.flush(NOW));
      expect([...restored.values()]).toEqual([4, 4, 4, 4, 4, 4]);
      const live = counts(await first.flush(NOW));
      expect([...live.values()]).toEqual([7, 7, 7, 7, 7, 7]);
    } finally {
      await Promise.all([first.close(), second.close()]);
    }
  });

  it('refuses states taken with another number of workers, naming the fix', async () => {
    const chain = await start();
    try {
      await expect(chain.restore([[new Uint8Array(0)], undefined])).rejects.toThrow(
        PartitionOptionsError,
      );
      await expect(chain.restore([[new Uint8Array(0)]])).rejects.toThrow(
        /states\[0\]: 1 partition states for 2 workers: restore with the worker count the snapshot was taken with/,
      );
    } finally {
      await chain.close();
    }
  });

  it('restarts a timed-out worker from its checkpoint while the other partition keeps its state', async () => {
    const chain = await start(1000);
    try {
      const loopPartition = partitionOfKey(encoder.encode('loop'), 0, 4, 2);
      const inLoop = (e: TestEvent): boolean =>
        partitionOfKey(encoder.encode(e.key), 0, e.key.length, 2) === loopPartition;
      await chain.process(frameOf(interleaved(6, 5, 1)), NOW);
      await chain.snapshot();
      await chain.process(frameOf(interleaved(6, 3, 100)), NOW);
      const stuck = await chain.process(frameOf([{ key: 'loop', seq: 0, id: 1000 }]), NOW);
      expect(stuck.deadLetters.map((d) => d.reason.split(':')[0])).toEqual(['RULE_TIMEOUT']);
      // With two rules the one that overran is not known.
      expect(stuck.deadLetters[0]?.rule).toBeNull();
      expect(chain.workerRestarts).toBe(1);
      const result = counts(await chain.flush(NOW));
      const devices = interleaved(6, 1, 1);
      expect(devices.some(inLoop)).toBe(true);
      expect(devices.some((e) => !inLoop(e))).toBe(true);
      for (const e of devices) {
        // The replaced worker lost the 3 readings it got after the checkpoint; the other did not.
        expect([e.key, result.get(e.key)]).toEqual([e.key, inLoop(e) ? 5 : 8]);
      }
    } finally {
      await chain.close();
    }
  });
});
