/**
 * Fuel metering: a module metered at build time traps once a call used up its budget, so an
 * infinite loop costs its one event (isolated like any trap) instead of the watchdog's timeout
 * and a worker; a budget for an unmetered module is refused; `rules[].fuel` meters at load.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../gateway/config/index.js';
import { PartitionedChain } from '../../gateway/partition/index.js';
import { compileRules, createRuleInstances } from '../../gateway/pipeline/rule-loader.js';
import { meterFuel } from '../../gateway/rules/index.js';
import {
  RuleInitError,
  RuleInstance,
  RuleTrapError,
  RuntimeOptionsError,
  compileRule,
} from '../../runtime/index.js';
import type { RuleModule } from '../../runtime/index.js';
import { frameOf, interleaved, recordsOf } from './helpers/events.js';
import type { TestEvent } from './helpers/events.js';
import { bundlePartitionWorker } from './helpers/worker-bundle.js';
import type { WorkerBundle } from './helpers/worker-bundle.js';

const HOSTILE = fileURLToPath(new URL('../../dist/test-rules/hostile.wasm', import.meta.url));
const NOW = 1_700_000_000_000;

describe('Fuel metering', () => {
  let plain: RuleModule;
  let metered: RuleModule;
  let bundle: WorkerBundle;

  beforeAll(async () => {
    const bytes = await readFile(HOSTILE);
    plain = await compileRule(bytes);
    metered = await compileRule(await meterFuel(bytes));
    bundle = await bundlePartitionWorker();
  });
  afterAll(async () => {
    await bundle.remove();
  });

  it('traps a call that runs out of fuel, and the instance carries on', () => {
    const rule = RuleInstance.create(metered, { name: 'hostile', fuel: 1_000_000 });
    expect(() => rule.process(frameOf([{ key: 'loop', seq: 0, id: 1 }]), NOW)).toThrow(
      RuleTrapError,
    );
    expect(() => rule.process(frameOf([{ key: 'loop', seq: 0, id: 2 }]), NOW)).toThrow(
      'rule "hostile" trapped in process: out of fuel (1000000 per call)',
    );
    // Ordinary batches fit the budget, call after call (it is reset before each).
    for (let i = 0; i < 20; i++) {
      const out = rule.process(frameOf(interleaved(10, 10, 100 + i * 100)), NOW);
      expect(recordsOf(out.slice())).toHaveLength(100);
    }
  });

  it('refuses a budget the module cannot honour', () => {
    expect(() => RuleInstance.create(plain, { name: 'plain', fuel: 1_000_000 })).toThrow(
      RuleInitError,
    );
    expect(() => RuleInstance.create(plain, { name: 'plain', fuel: 1_000_000 })).toThrow(
      /rule "plain" has a fuel budget but its module is not metered \(no "sluice_fuel" export\)/,
    );
    expect(() => RuleInstance.create(metered, { fuel: 0.5 })).toThrow(RuntimeOptionsError);
  });

  it('costs a worker pool one dead letter for an infinite loop, no timeout', async () => {
    const chain = await PartitionedChain.start({
      pipeline: 'fuel',
      rules: [{ name: 'hostile', module: metered, fuel: 1_000_000 }],
      commandTopic: 'cmd/{key}',
      workers: 2,
      ruleTimeoutMs: 5000,
      workerEntry: bundle.url,
    });
    try {
      const events: TestEvent[] = interleaved(8, 3, 1);
      events.splice(4, 0, { key: 'loop', seq: 0, id: 1000 });
      const result = await chain.process(frameOf(events), NOW);
      expect(result.deadLetters.map((d) => [d.key, d.reason])).toEqual([
        ['loop', 'RULE_TRAP: rule "hostile" trapped in process: out of fuel (1000000 per call)'],
      ]);
      expect(recordsOf(result.frame)).toHaveLength(events.length - 1);
      expect(chain.timeouts).toBe(0);
      expect(chain.workerRestarts).toBe(0);
    } finally {
      await chain.close();
    }
  });

  it('meters a rule at load when its configuration sets fuel', async () => {
    const config = resolveConfig({
      pipelines: [{ rules: [{ name: 'hostile', module: HOSTILE, fuel: 500_000 }] }],
    });
    expect(config.pipelines[0]?.rules[0]?.fuel).toBe(500_000);
    const modules = await compileRules(config);
    const [rule] = createRuleInstances(
      0,
      config.pipelines[0]?.rules ?? [],
      modules,
      pino({ level: 'silent' }),
    );
    expect(() => rule?.process(frameOf([{ key: 'loop', seq: 0, id: 1 }]), NOW)).toThrow(
      'out of fuel (500000 per call)',
    );
  });
});
