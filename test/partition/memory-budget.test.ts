/**
 * Each rule's memory is reported per worker partition, beside its declared maximum, and growth
 * past that maximum is refused: the rule traps, its events are dead letters, and the pool goes
 * on. The figures reach the metrics endpoint's registry.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGatewayMetrics } from '../../gateway/metrics/index.js';
import type { GatewayStats } from '../../gateway/gateway-stats.js';
import { PartitionedChain, partitionOfKey } from '../../gateway/partition/index.js';
import { frameOf, interleaved, recordsOf, testRule } from './helpers/events.js';
import type { TestEvent } from './helpers/events.js';
import { bundlePartitionWorker } from './helpers/worker-bundle.js';
import type { WorkerBundle } from './helpers/worker-bundle.js';

const NOW = 1_700_000_000_000;
const GROW_PARTITION = partitionOfKey(new TextEncoder().encode('grow'), 0, 4, 2);

describe('PartitionedChain memory budget', () => {
  let bundle: WorkerBundle;
  let chain: PartitionedChain;

  beforeAll(async () => {
    bundle = await bundlePartitionWorker();
    chain = await PartitionedChain.start({
      pipeline: 'mem',
      rules: [{ name: 'hostile', module: await testRule('hostile') }],
      commandTopic: 'cmd/{key}',
      workers: 2,
      workerEntry: bundle.url,
    });
  });
  afterAll(async () => {
    await chain.close();
    await bundle.remove();
  });

  it('reports each rule’s pages per partition and its maximum', async () => {
    await chain.process(frameOf(interleaved(4, 2)), NOW);
    const memory = chain.memory();
    expect(memory.map((m) => [m.rule, m.partition, m.maximumPages])).toEqual([
      ['hostile', 0, 256],
      ['hostile', 1, 256],
    ]);
    for (const m of memory) {
      expect(m.pages).toBeGreaterThan(0);
      expect(m.pages).toBeLessThan(16);
    }
  });

  it('refuses growth past the maximum: the rule traps, the pool survives', async () => {
    let id = 1000;
    // 3 batches of 40 events that each keep 1 MiB: far past the 16 MiB maximum.
    for (let batch = 0; batch < 3; batch++) {
      const grow: TestEvent[] = [];
      for (let i = 0; i < 40; i++) grow.push({ key: 'grow', seq: i, id: id++ });
      const result = await chain.process(frameOf(grow), NOW);
      expect(result.deadLetters.length).toBeGreaterThanOrEqual(2);
      expect(new Set(result.deadLetters.map((d) => d.reason.split(':')[0]))).toEqual(
        new Set(['RULE_TRAP']),
      );
      expect(result.deadLetters.length + recordsOf(result.frame).length).toBe(40);
      for (const m of chain.memory()) expect(m.pages).toBeLessThanOrEqual(m.maximumPages);
    }
    const grown = chain.memory().find((m) => m.partition === GROW_PARTITION);
    // It holds what the last instance kept since its last trap: more than it started with.
    expect(grown?.pages).toBeGreaterThan(16);
    // The pool still forwards healthy traffic.
    const healthy = interleaved(4, 3, 5000);
    const after = await chain.process(frameOf(healthy), NOW);
    expect(after.deadLetters).toEqual([]);
    expect(recordsOf(after.frame)).toHaveLength(healthy.length);
  });

  it('exports the pages, the maximum and the watchdog figures as metrics', async () => {
    const registry = createGatewayMetrics({
      stats: () => ({}) as GatewayStats,
      pipelines: [],
      partitions: () => [chain],
    });
    const pages = await registry.getSingleMetricAsString('sluice_rule_partition_memory_pages');
    const line = new RegExp(
      `sluice_rule_partition_memory_pages\\{pipeline="mem",rule="hostile",partition="${GROW_PARTITION}"\\} (\\d+)`,
    ).exec(pages);
    expect(Number(line?.[1])).toBeGreaterThan(16);
    expect(Number(line?.[1])).toBeLessThanOrEqual(256);
    const max = await registry.getSingleMetricAsString('sluice_rule_partition_memory_max_pages');
    expect(max).toContain(
      'sluice_rule_partition_memory_max_pages{pipeline="mem",rule="hostile",partition="0"} 256',
    );
    const timeouts = await registry.getSingleMetricAsString('sluice_rule_timeouts_total');
    expect(timeouts).toContain('sluice_rule_timeouts_total{pipeline="mem"} 0');
  });
});
