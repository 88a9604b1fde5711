/**
 * Proves that rule modules are valid canonical-ABI lowerings of world `rule`
 * (runtime/wit/rule.wit) by letting jco's own tooling build a component from each:
 * `componentEmbed` attaches the world, `componentNew` checks every export and import against it.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { componentEmbed, componentNew } from '@bytecodealliance/jco';
import { describe, expect, it } from 'vitest';
import { compileRule, isWasmComponent } from '../../runtime/index.js';
import { echoRuleWasm } from './echo-rule.js';
import { stubRuleWasm } from './wat.js';

const root = new URL('../../', import.meta.url);
const witSource = readFileSync(new URL('runtime/wit/rule.wit', root), 'utf8');

/** The example rules the filters work ships; each must be built to dist/rules/<name>.wasm by the global setup. */
const EXPECTED_RULES = ['threshold', 'window-stats', 'deadband'];

function exampleRuleNames(): string[] {
  let sources: string[] = [];
  try {
    sources = readdirSync(new URL('filters/rules/', root)).filter(
      (f) => f.endsWith('.ts') && !f.endsWith('.d.ts'),
    );
  } catch {
    // No filters/rules directory: the expected list below still makes the tests fail.
  }
  return [...new Set([...EXPECTED_RULES, ...sources.map((f) => f.slice(0, -3))])].sort();
}

async function toComponent(binary: Uint8Array): Promise<Uint8Array> {
  const embedded = await componentEmbed({ binary, witSource, world: 'rule' });
  return componentNew(embedded);
}

describe('rule world conformance (jco componentNew)', () => {
  it('accepts the WAT echo rule as a lowering of world rule', async () => {
    const component = await toComponent(echoRuleWasm());
    expect(isWasmComponent(component)).toBe(true);
  });

  for (const name of exampleRuleNames()) {
    it(`accepts the example rule ${name} (dist/rules/${name}.wasm) in the host and in jco`, async () => {
      const path = new URL(`dist/rules/${name}.wasm`, root);
      let bytes: Uint8Array;
      try {
        bytes = new Uint8Array(readFileSync(path));
      } catch (error) {
        throw new Error(
          `example rule "${name}" is not built: ${path.pathname} is missing (test/global-setup.ts builds filters/rules/${name}.ts)`,
          { cause: error },
        );
      }
      const rule = await compileRule(bytes);
      expect(rule.size).toBe(bytes.length);
      const component = await toComponent(bytes);
      expect(isWasmComponent(component)).toBe(true);
    });
  }

  // Last on purpose: it makes jco fail, and a failing jco must not affect the cases above.
  it('refuses a module whose process export has the wrong signature, naming it', async () => {
    const wrong = stubRuleWasm({
      process: '(func (export "process") (param i32 i32) (result i32) (i32.const 16))',
    });
    await expect(toComponent(wrong)).rejects.toThrow(
      'type mismatch for function `process`: expected `[I32, I32, I64] -> [I32]` but found `[I32, I32] -> [I32]`',
    );
  });
});
