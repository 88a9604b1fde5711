/**
 * Hostile rules next to healthy traffic on a pool of two workers: an infinite loop is stopped
 * by the watchdog (its partition's events of that batch are dead letters with RULE_TIMEOUT, the
 * worker is replaced, the other partition's events flow on); unbounded memory growth, a trap
 * on every 100th event, a stack overflow and an enormous output are traps isolated event by
 * event. After each, the pool keeps processing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PartitionedChain, partitionOfKey } from '../../gateway/partition/index.js';
import type { ChainResult } from '../../gateway/partition/index.js';
import { frameOf, interleaved, recordsOf, testRule } from './helpers/events.js';
import type { TestEvent } from './helpers/events.js';
import { bundlePartitionWorker } from './helpers/worker-bundle.js';
import type { WorkerBundle } from './helpers/worker-bundle.js';

const NOW = 1_700_000_000_000;
const WORKERS = 2;
const encoder = new TextEncoder();

function partitionOf(key: string): number {
  const bytes = encoder.encode(key);
  return partitionOfKey(bytes, 0, bytes.length, WORKERS);
}

/** Healthy events whose keys fall in each partition (so both partitions get traffic). */
function healthy(perDevice: number, firstId: number): TestEvent[] {
  return interleaved(8, perDevice, firstId);
}

function ids(result: ChainResult): number[] {
  return result.deadLetters.map((d) => Number.parseInt(d.id as string, 16)).sort((a, b) => a - b);
}

function forwarded(result: ChainResult): number[] {
  return recordsOf(result.frame)
    .filter((r) => r.output === 'default')
    .map((r) => r.id)
    .sort((a, b) => a - b);
}

describe('PartitionedChain with hostile rules', () => {
  let bundle: WorkerBundle;
  let chain: PartitionedChain;
  let nextId = 1;

  /** Runs healthy traffic and expects every event forwarded, nothing dead. */
  async function expectHealthy(): Promise<void> {
    const events = healthy(5, nextId);
    nextId += events.length;
    const result = await chain.process(frameOf(events), NOW);
    expect(result.deadLetters).toEqual([]);
    expect(forwarded(result)).toEqual(events.map((e) => e.id));
  }

  beforeAll(async () => {
    bundle = await bundlePartitionWorker();
    chain = await PartitionedChain.start({
      pipeline: 'hostile',
      rules: [{ name: 'hostile', module: await testRule('hostile') }],
      commandTopic: 'cmd/{key}',
      workers: WORKERS,
      ruleTimeoutMs: 1000,
      workerEntry: bundle.url,
    });
    // The healthy keys cover both partitions.
    const parts = new Set(healthy(1, 0).map((e) => partitionOf(e.key)));
    expect(parts.size).toBe(WORKERS);
  });
  afterAll(async () => {
    await chain.close();
    await bundle.remove();
  });

  it('stops an infinite loop: its partition’s events are dead letters, the other partition carries on', async () => {
    const loopPartition = partitionOf('loop');
    const events = healthy(3, nextId);
    events.splice(5, 0, { key: 'loop', seq: 0, id: nextId + events.length });
    nextId += events.length;
    const result = await chain.process(frameOf(events), NOW);
    const offending = events.filter((e) => partitionOf(e.key) === loopPartition).map((e) => e.id);
    const others = events.filter((e) => partitionOf(e.key) !== loopPartition).map((e) => e.id);
    expect(ids(result)).toEqual(offending.sort((a, b) => a - b));
    for (const letter of result.deadLetters) {
      expect(letter.reason).toMatch(
        /^RULE_TIMEOUT: partition \d of pipeline "hostile" did not finish a process call within ruleTimeoutMs \(1000 ms\)/,
      );
      expect(letter.pipeline).toBe('hostile');
      expect(letter.rule).toBe('hostile');
    }
    const loop = result.deadLetters.find((d) => d.key === 'loop');
    expect(loop?.topic).toBe('sensors/loop');
    expect(new TextDecoder().decode(loop?.payload ?? new Uint8Array())).toBe('{"seq":0}');
    expect(forwarded(result)).toEqual(others.sort((a, b) => a - b));
    expect(chain.timeouts).toBe(1);
    expect(chain.workerRestarts).toBe(1);
    await expectHealthy();
  });

  it('refuses memory growth past the declared maximum: the growing events are dead letters', async () => {
    const grow: TestEvent[] = [];
    for (let i = 0; i < 24; i++) grow.push({ key: 'grow', seq: i, id: nextId++ });
    const result = await chain.process(frameOf(grow), NOW);
    // Each event keeps 1 MiB: the 16 MiB maximum is reached within the batch, the event that
    // crosses it traps, and the instance starts over empty for the next ones.
    expect(result.deadLetters.length).toBeGreaterThan(0);
    for (const letter of result.deadLetters) {
      expect(letter.key).toBe('grow');
      expect(letter.reason).toMatch(/^RULE_TRAP: /);
    }
    expect(result.deadLetters.length + forwarded(result).length).toBe(grow.length);
    const memory = chain.memory().filter((m) => m.partition === partitionOf('grow'));
    expect(memory[0]?.maximumPages).toBe(256);
    expect(memory[0]?.pages).toBeGreaterThan(16);
    expect(memory[0]?.pages).toBeLessThanOrEqual(256);
    await expectHealthy();
  });

  it('dead-letters exactly every 100th event of a rule that traps on it', async () => {
    const flaky: TestEvent[] = [];
    for (let seq = 0; seq < 300; seq++) flaky.push({ key: 'flaky', seq, id: nextId++ });
    const result = await chain.process(frameOf(flaky), NOW);
    expect(result.deadLetters.map((d) => d.key)).toEqual(['flaky', 'flaky', 'flaky']);
    expect(ids(result)).toEqual([99, 199, 299].map((s) => (flaky[s] as TestEvent).id));
    for (const letter of result.deadLetters) {
      expect(letter.reason).toMatch(/^RULE_TRAP: rule "hostile" trapped in process: unreachable/);
    }
    expect(forwarded(result)).toHaveLength(297);
    await expectHealthy();
  });

  it('dead-letters the event that overflows the stack', async () => {
    const events = healthy(2, nextId);
    events.push({ key: 'deep', seq: 0, id: nextId + events.length });
    nextId += events.length;
    const result = await chain.process(frameOf(events), NOW);
    expect(result.deadLetters.map((d) => d.key)).toEqual(['deep']);
    expect(result.deadLetters[0]?.reason).toMatch(
      /^RULE_TRAP: rule "hostile" trapped in process: Maximum call stack size exceeded/,
    );
    expect(forwarded(result)).toHaveLength(events.length - 1);
    await expectHealthy();
  });

  it('dead-letters the event whose output outgrows the rule’s memory', async () => {
    const events = healthy(2, nextId);
    events.push({ key: 'flood', seq: 0, id: nextId + events.length });
    nextId += events.length;
    const result = await chain.process(frameOf(events), NOW);
    expect(result.deadLetters.map((d) => d.key)).toEqual(['flood']);
    expect(result.deadLetters[0]?.reason).toMatch(/^RULE_TRAP: /);
    expect(forwarded(result)).toHaveLength(events.length - 1);
    await expectHealthy();
  });

  it('counts the failures per rule', () => {
    const errors = chain.stats[0]?.errors;
    expect(errors?.get('RULE_TRAP')).toBeGreaterThanOrEqual(6);
    expect(chain.timeouts).toBe(1);
  });
});
