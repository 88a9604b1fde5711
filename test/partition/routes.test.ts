/**
 * What a worker's rules send elsewhere than the outbox comes back with the reply: `dead`
 * outputs as dead letters holding the original event, `device` outputs as commands on the
 * pipeline's command topic; tick and flush outputs flow like a batch's.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PartitionedChain } from '../../gateway/partition/index.js';
import { frameOf, testRule } from './helpers/events.js';
import { bundlePartitionWorker } from './helpers/worker-bundle.js';
import type { WorkerBundle } from './helpers/worker-bundle.js';

const NOW = 1_700_000_000_000;
const decoder = new TextDecoder();

describe('PartitionedChain outputs', () => {
  let bundle: WorkerBundle;
  let chain: PartitionedChain;

  beforeAll(async () => {
    bundle = await bundlePartitionWorker();
    chain = await PartitionedChain.start({
      pipeline: 'routes',
      rules: [{ name: 'probe', module: await testRule('probe') }],
      commandTopic: 'devices/{key}/commands',
      workers: 2,
      workerEntry: bundle.url,
    });
  });
  afterAll(async () => {
    await chain.close();
    await bundle.remove();
  });

  it('returns dead outputs as dead letters with the original event', async () => {
    // probe dead-letters an event whose field "a" is missing; {"seq":n} has none.
    const result = await chain.process(
      frameOf([
        { key: 'dev-1', seq: 1, id: 11 },
        { key: 'dev-2', seq: 2, id: 12 },
      ]),
      NOW,
    );
    const letters = result.deadLetters.map((d) => ({
      rule: d.rule,
      key: d.key,
      topic: d.topic,
      id: d.id,
      payload: decoder.decode(d.payload ?? new Uint8Array()),
    }));
    expect(letters.sort((a, b) => (a.id ?? '').localeCompare(b.id ?? ''))).toEqual([
      {
        rule: 'probe',
        key: 'dev-1',
        topic: 'sensors/dev-1',
        id: '000000000000000b',
        payload: '{"seq":1}',
      },
      {
        rule: 'probe',
        key: 'dev-2',
        topic: 'sensors/dev-2',
        id: '000000000000000c',
        payload: '{"seq":2}',
      },
    ]);
    for (const d of result.deadLetters) expect(d.reason).not.toBe('');
  });

  it('returns device outputs of a flush as commands, and tick outputs as records', async () => {
    const tick = await chain.tick(NOW);
    // One `config` record per worker.
    expect(tick.frame).toBeDefined();
    expect(decoder.decode(tick.frame)).toContain('"name":"probe"');
    const flush = await chain.flush(NOW);
    expect(flush.commands.map((c) => [c.topic, decoder.decode(c.payload)])).toEqual([
      ['devices/dev-1/commands', '{"cmd":"reboot","delayMs":250,"reason":null}'],
      ['devices/dev-1/commands', '{"cmd":"reboot","delayMs":250,"reason":null}'],
    ]);
  });
});
