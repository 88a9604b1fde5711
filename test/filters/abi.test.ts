import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { RuleTrapError, readWasmModule } from '../../runtime/index.js';
import { EXAMPLE_RULES } from '../../gateway/rules/index.js';
import { RULES_DIR, TEST_RULES_DIR, loadRule, run, startRule } from './rule-harness.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

describe('example rules built with the SDK', () => {
  it.each(EXAMPLE_RULES)(
    '%s exports exactly the world and imports only $root.log and $root.metric',
    async (name) => {
      const mod = await loadRule(name);
      expect([...mod.imports].sort()).toEqual(['$root.log', '$root.metric']);
      expect([...mod.exports].sort()).toEqual(
        [
          'cabi_realloc',
          'flush',
          'init',
          'memory',
          'process',
          'restore',
          'snapshot',
          'tick',
        ].sort(),
      );
      // 256 pages = 16 MiB, the SDK's default maximum.
      expect(mod.memory.maximumPages).toBe(256);
    },
  );

  it('are valid lowerings of the WIT world (jco componentNew)', async () => {
    const { componentEmbed, componentNew } = await import('@bytecodealliance/jco');
    const witSource = await readFile(join(root, 'runtime', 'wit', 'rule.wit'), 'utf8');
    for (const name of EXAMPLE_RULES) {
      const binary = new Uint8Array(await readFile(join(RULES_DIR, `${name}.wasm`)));
      const embedded = await componentEmbed({ binary, witSource, world: 'rule' });
      const component = await componentNew(embedded);
      expect(component.length, name).toBeGreaterThan(binary.length);
    }
  });

  it('declare a memory maximum and the canonical-ABI import signatures', async () => {
    const info = readWasmModule(new Uint8Array(await readFile(join(RULES_DIR, 'threshold.wasm'))));
    expect(info.memories).toEqual([
      { initialPages: 1, maximumPages: 256, shared: false, memory64: false },
    ]);
    expect(info.imports.map((i) => [i.module, i.name, i.type])).toEqual([
      ['$root', 'metric', { params: ['i32', 'i32', 'f64'], results: [] }],
      ['$root', 'log', { params: ['i32', 'i32', 'i32'], results: [] }],
    ]);
  });
});

describe('the SDK exports', () => {
  it('trap on an input that is not a Sluice frame, and the host re-creates the instance', async () => {
    const { rule, host } = startRule(await loadRule('threshold'));
    expect(() =>
      rule.process(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]), 0),
    ).toThrow(RuleTrapError);
    expect(host.logs[0]?.message).toContain('the input is not a version-1 Sluice frame');
    expect(run(rule, [{ key: 'a', id: 1, payload: { temp: 1 } }]).map((r) => r.id)).toEqual([1n]);
  });

  it('treat an empty list as a batch of no records', async () => {
    const { rule } = startRule(await loadRule('threshold'));
    expect(Array.from(rule.process(new Uint8Array(0), 0).subarray(0, 8))).toEqual([
      0x53, 0x4c, 0x42, 0x31, 0, 0, 0, 0,
    ]);
  });

  it('give a stateless rule a snapshot it accepts back', async () => {
    const { rule } = startRule(await loadRule('threshold'));
    const state = rule.snapshot();
    expect(new TextDecoder().decode(state)).toBe('SLS1');
    expect(() => rule.restore(state)).not.toThrow();
    expect(() => rule.restore(new Uint8Array([1, 2, 3]))).toThrow(/not a Sluice rule snapshot/);
  });

  it('import no more than the rule uses: a rule without metrics imports only $root.log', async () => {
    const mod = await loadRule('probe', TEST_RULES_DIR);
    expect(mod.imports).toEqual(['$root.log']);
  });
});
