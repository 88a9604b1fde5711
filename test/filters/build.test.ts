import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileRule } from '../../runtime/index.js';
import {
  DEFAULT_RULE_RUNTIME,
  EXAMPLE_RULES,
  RuleBuildError,
  RuleBuildOptionsError,
  buildExampleRules,
  buildRule,
  resolveBuildRuleOptions,
} from '../../gateway/rules/index.js';
import { RULES_DIR, run, startRule } from './rule-harness.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const sdk = join(root, 'filters', 'sdk');

describe('buildRule', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sluice-rule-build-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('builds a rule that lives outside the repository and imports the SDK by a relative path', async () => {
    const sdkImport = relative(dir, sdk).split('\\').join('/');
    const source = `
import { Batch, Output, Rule, register } from "${sdkImport}";
class Echo extends Rule {
  process(batch: Batch, out: Output, now: i64): void {
    while (batch.next()) out.forwardTo("copy", batch.event);
  }
}
register(new Echo());
export * from "${sdkImport}/exports";
`;
    await writeFile(join(dir, 'echo.ts'), source);
    const result = await buildRule(join(dir, 'echo.ts'), join(dir, 'out', 'echo.wasm'), {
      maximumMemoryPages: 32,
    });
    expect(result).toMatchObject({ outFile: join(dir, 'out', 'echo.wasm'), skipped: false });
    const mod = await compileRule(new Uint8Array(await readFile(result.outFile)));
    expect(mod.memory.maximumPages).toBe(32);
    const { rule } = startRule(mod);
    expect(
      run(rule, [{ key: 'k', id: 5, payload: 'x', format: 'text' }]).map((r) => [
        r.output,
        r.id,
        r.text,
      ]),
    ).toEqual([['copy', 5n, 'x']]);
  });

  it("fails with asc's diagnostics naming the file and line", async () => {
    await writeFile(join(dir, 'broken.ts'), 'export function f(): i32 { return undefinedName; }\n');
    const error = await buildRule(join(dir, 'broken.ts'), join(dir, 'out', 'broken.wasm')).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(RuleBuildError);
    const e = error as RuleBuildError;
    expect(e.code).toBe('RULE_BUILD_FAILED');
    expect(e.entryFile).toBe(join(dir, 'broken.ts'));
    expect(e.diagnostics).toMatch(/Cannot find name 'undefinedName'/);
    expect(e.diagnostics).toMatch(/broken\.ts\(1,/);
  });

  it('refuses options that cannot work, naming the option and the fix', () => {
    expect(() => resolveBuildRuleOptions({ maximumMemoryPages: 0 })).toThrow(RuleBuildOptionsError);
    expect(() => resolveBuildRuleOptions({ maximumMemoryPages: 1.5 })).toThrow(
      /maximumMemoryPages: 1\.5 is not a page count/,
    );
    expect(() => resolveBuildRuleOptions({ runtime: 'stub' as 'minimal' })).toThrow(
      /runtime: "stub"/,
    );
  });

  it('keeps example rules that are newer than their sources', async () => {
    const results = await buildExampleRules(RULES_DIR);
    expect(results.map((r) => [r.outFile, r.skipped])).toEqual(
      EXAMPLE_RULES.map((n) => [join(RULES_DIR, `${n}.wasm`), true]),
    );
  });

  it('uses the runtime asconfig.json names', async () => {
    const asconfig = JSON.parse(await readFile(join(root, 'asconfig.json'), 'utf8')) as {
      options: { runtime: string };
    };
    expect(asconfig.options.runtime).toBe(DEFAULT_RULE_RUNTIME);
  });
});
