/**
 * Starting and closing a partitioned chain: close lets the batches already sent finish, stops
 * every worker and leaves no handle open; a call after close is refused; bad options are
 * refused with the field, the value and the fix.
 */
import { readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  PartitionClosedError,
  PartitionOptionsError,
  PartitionedChain,
  resolvePartitionedChainOptions,
} from '../../gateway/partition/index.js';
import { frameOf, interleaved, recordsOf, testRule } from './helpers/events.js';
import { bundlePartitionWorker } from './helpers/worker-bundle.js';
import type { WorkerBundle } from './helpers/worker-bundle.js';
import type { RuleModule } from '../../runtime/index.js';

const NOW = 1_700_000_000_000;

/** Resources that would keep the process alive (timers excluded: vitest keeps its own). */
function handles(): string[] {
  return process
    .getActiveResourcesInfo()
    .filter((r) => r !== 'Timeout' && r !== 'Immediate')
    .sort();
}

/** Threads of this process (Linux): a worker that did not exit is still one of them. */
function threads(): number {
  return readdirSync('/proc/self/task').length;
}

describe('PartitionedChain lifecycle', () => {
  let bundle: WorkerBundle;
  let rule: RuleModule;

  beforeAll(async () => {
    bundle = await bundlePartitionWorker();
    rule = await testRule('hostile');
  });
  afterAll(async () => {
    await bundle.remove();
  });

  it('finishes in-flight batches on close, then stops its workers and leaves no handle open', async () => {
    const before = handles();
    const threadsBefore = threads();
    const chain = await PartitionedChain.start({
      pipeline: 'close',
      rules: [{ name: 'pass', module: rule }],
      commandTopic: 'cmd/{key}',
      workers: 2,
      workerEntry: bundle.url,
    });
    expect(threads()).toBeGreaterThan(threadsBefore);
    const events = interleaved(20, 50);
    const inFlight = [
      chain.process(frameOf(events.slice(0, 500)), NOW),
      chain.process(frameOf(events.slice(500)), NOW),
    ];
    const closed = chain.close();
    await expect(chain.process(frameOf(events), NOW)).rejects.toThrow(PartitionClosedError);
    const results = await Promise.all(inFlight);
    await closed;
    await chain.close();
    expect(results.flatMap((r) => recordsOf(r.frame))).toHaveLength(1000);
    expect(handles()).toEqual(before);
    expect(threads()).toBe(threadsBefore);
  });

  it('closes while a worker is stuck: the stuck batch ends as RULE_TIMEOUT dead letters, then every worker exits', async () => {
    const threadsBefore = threads();
    const chain = await PartitionedChain.start({
      pipeline: 'stuck',
      rules: [{ name: 'hostile', module: rule }],
      commandTopic: 'cmd/{key}',
      workers: 2,
      ruleTimeoutMs: 1000,
      workerEntry: bundle.url,
    });
    const stuck = chain.process(frameOf([{ key: 'loop', seq: 0, id: 1 }]), NOW);
    await chain.close();
    const result = await stuck;
    expect(result.deadLetters.map((d) => d.reason.split(':')[0])).toEqual(['RULE_TIMEOUT']);
    expect(threads()).toBe(threadsBefore);
  });

  it('disposes with `await using`', async () => {
    const before = handles();
    {
      await using chain = await PartitionedChain.start({
        pipeline: 'dispose',
        rules: [{ name: 'pass', module: rule }],
        commandTopic: 'cmd/{key}',
        workers: 1,
        workerEntry: bundle.url,
      });
      const result = await chain.process(frameOf(interleaved(3, 2)), NOW);
      expect(recordsOf(result.frame)).toHaveLength(6);
    }
    expect(handles()).toEqual(before);
  });

  it('refuses options that cannot work, naming the field and the fix', () => {
    const base = { pipeline: 'p', rules: [{ name: 'r', module: rule }], commandTopic: 'c' };
    expect(() =>
      resolvePartitionedChainOptions({ ...base, workers: 0, workerEntry: bundle.url }),
    ).toThrow(/workers: 0 is not a whole number from 1 to 256/);
    expect(() =>
      resolvePartitionedChainOptions({ ...base, ruleTimeoutMs: -5, workerEntry: bundle.url }),
    ).toThrow(/ruleTimeoutMs: -5 is not a positive number of milliseconds/);
    // Running from TypeScript sources, the worker's entry must be given.
    expect(() => resolvePartitionedChainOptions(base)).toThrow(PartitionOptionsError);
    expect(() => resolvePartitionedChainOptions(base)).toThrow(
      /workerEntry: required when running from TypeScript sources/,
    );
    const resolved = resolvePartitionedChainOptions({ ...base, workerEntry: bundle.url });
    expect(resolved.workers).toBeGreaterThanOrEqual(1);
    expect(resolved.ruleTimeoutMs).toBe(1000);
  });

  it('refuses to start when a rule refuses its configuration', async () => {
    const windows = await testRule('../rules/window-stats');
    await expect(
      PartitionedChain.start({
        pipeline: 'bad',
        rules: [{ name: 'windows', module: windows, config: new Uint8Array([0xa1, 0x68]) }],
        commandTopic: 'c',
        workers: 2,
        workerEntry: bundle.url,
      }),
    ).rejects.toThrow(/partition \d: rule "windows"/);
  });
});
