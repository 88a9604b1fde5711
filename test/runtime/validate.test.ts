import { describe, expect, it } from 'vitest';
import { RuleValidationError, compileRule } from '../../runtime/index.js';
import type { RuleModuleOptions, RuleValidationReason } from '../../runtime/index.js';
import { stubRuleWasm } from './wat.js';

async function refusal(
  bytes: Uint8Array,
  options?: RuleModuleOptions,
): Promise<RuleValidationError> {
  try {
    await compileRule(bytes, options);
  } catch (error) {
    expect(error).toBeInstanceOf(RuleValidationError);
    return error as RuleValidationError;
  }
  throw new Error('the module was accepted');
}

async function expectRefused(
  bytes: Uint8Array,
  reason: RuleValidationReason,
  message: string,
  options?: RuleModuleOptions,
): Promise<void> {
  const error = await refusal(bytes, options);
  expect(error.code).toBe('RULE_INVALID');
  expect(error.reason).toBe(reason);
  expect(error.message).toContain(message);
}

describe('compileRule validation', () => {
  it('accepts a module that lowers the rule world and describes it', async () => {
    const rule = await compileRule(stubRuleWasm());
    expect(rule.module).toBeInstanceOf(WebAssembly.Module);
    expect(rule.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(rule.memory).toEqual({ initialPages: 1, maximumPages: 16 });
    expect(rule.exports).toEqual(
      expect.arrayContaining([
        'memory',
        'cabi_realloc',
        'init',
        'process',
        'tick',
        'flush',
        'snapshot',
        'restore',
      ]),
    );
    expect(rule.imports).toEqual([]);
  });

  it('names the same bytes by the same hash and different bytes by different hashes', async () => {
    const a = await compileRule(stubRuleWasm());
    const b = await compileRule(stubRuleWasm());
    const c = await compileRule(stubRuleWasm({ memory: '(memory (export "memory") 1 17)' }));
    expect(a.hash).toBe(b.hash);
    expect(a.hash).not.toBe(c.hash);
  });

  it('refuses random bytes as NOT_WASM', async () => {
    const bytes = crypto.getRandomValues(new Uint8Array(256));
    bytes[0] = 0xff;
    await expectRefused(bytes, 'NOT_WASM', `not a WebAssembly module: it starts with the bytes ff`);
    await expectRefused(new Uint8Array(0), 'NOT_WASM', 'nothing (0 bytes)');
  });

  it('refuses a module above maxModuleBytes as TOO_LARGE before reading it', async () => {
    await expectRefused(
      new Uint8Array(8 * 1024 * 1024 + 1),
      'TOO_LARGE',
      'rule module is 8388609 bytes, more than the 8388608-byte limit (maxModuleBytes',
    );
    const stub = stubRuleWasm();
    await expectRefused(
      stub,
      'TOO_LARGE',
      `rule module is ${stub.length} bytes, more than the 100-byte limit`,
      {
        maxModuleBytes: 100,
      },
    );
  });

  it('refuses a WebAssembly component and an unknown version', async () => {
    await expectRefused(
      new Uint8Array([0, 0x61, 0x73, 0x6d, 0x0d, 0, 1, 0]),
      'COMPONENT_NOT_SUPPORTED',
      'this is a WebAssembly component',
    );
    await expectRefused(
      new Uint8Array([0, 0x61, 0x73, 0x6d, 2, 0, 0, 0]),
      'UNSUPPORTED_VERSION',
      '0x00000002',
    );
  });

  it('refuses a truncated module as MALFORMED', async () => {
    const stub = stubRuleWasm();
    await expectRefused(
      stub.subarray(0, stub.length - 5),
      'MALFORMED',
      'malformed WebAssembly binary at byte',
    );
  });

  it('refuses a module V8 cannot compile as COMPILE_FAILED', async () => {
    const stub = stubRuleWasm();
    // An unknown section id: skipped by the structural reader, refused by the compiler.
    const bytes = new Uint8Array([...stub, 0x20, 0x00]);
    await expectRefused(bytes, 'COMPILE_FAILED', 'the module does not compile: ');
  });

  it('refuses a module without a world function as MISSING_EXPORT, naming its signature', async () => {
    await expectRefused(
      stubRuleWasm({ tick: null }),
      'MISSING_EXPORT',
      'missing export "tick" (i64) -> i32 (tick(now: s64) -> list<u8>)',
    );
    await expectRefused(
      stubRuleWasm({ flush: null, snapshot: null }),
      'MISSING_EXPORT',
      'missing exports "flush" () -> i32 (flush() -> list<u8>), "snapshot" () -> i32 (snapshot() -> list<u8>)',
    );
    await expectRefused(
      stubRuleWasm({ memory: '(memory 1 16)' }),
      'MISSING_EXPORT',
      'missing export "memory" (the linear memory',
    );
  });

  it('refuses a mistyped export as EXPORT_SIGNATURE with the type it has and the type it needs', async () => {
    await expectRefused(
      stubRuleWasm({
        process: '(func (export "process") (param i32 i32) (result i32) (i32.const 16))',
      }),
      'EXPORT_SIGNATURE',
      'export "process" has type (i32, i32) -> i32 but the rule world needs (i32, i32, i64) -> i32 (process(batch: list<u8>, now: s64) -> list<u8>)',
    );
    await expectRefused(
      stubRuleWasm({ cabi_realloc: '(func (export "cabi_realloc") (param i32 i32 i32 i32))' }),
      'EXPORT_SIGNATURE',
      'export "cabi_realloc" has type (i32, i32, i32, i32) -> () but the rule world needs (i32, i32, i32, i32) -> i32',
    );
    await expectRefused(
      stubRuleWasm({ flush: '(global (export "flush") i32 (i32.const 0))' }),
      'EXPORT_SIGNATURE',
      'export "flush" is a global, not a function',
    );
    await expectRefused(
      stubRuleWasm({ extra: '(func (export "_initialize") (param i32))' }),
      'EXPORT_SIGNATURE',
      'export "_initialize" has type (i32) -> () but must be () -> ()',
    );
  });

  it('accepts extra exports such as _initialize and cabi_post_*', async () => {
    const rule = await compileRule(
      stubRuleWasm({
        extra:
          '(func (export "_initialize")) (func (export "cabi_post_process") (param i32)) (func (export "__new") (param i32 i32) (result i32) (i32.const 0))',
      }),
    );
    expect(rule.exports).toEqual(
      expect.arrayContaining(['_initialize', 'cabi_post_process', '__new']),
    );
  });

  it('accepts the log and metric imports and refuses any other as UNEXPECTED_IMPORT', async () => {
    const allowed = await compileRule(
      stubRuleWasm({
        imports:
          '(import "$root" "log" (func (param i32 i32 i32))) (import "$root" "metric" (func (param i32 i32 f64)))',
      }),
    );
    expect(allowed.imports).toEqual(['$root.log', '$root.metric']);
    await expectRefused(
      stubRuleWasm({ imports: '(import "env" "abort" (func (param i32 i32 i32 i32)))' }),
      'UNEXPECTED_IMPORT',
      'import "env"."abort" (a function (i32, i32, i32, i32) -> ()) is not allowed: a rule may import only "$root"."log" (i32, i32, i32) -> () and "$root"."metric" (i32, i32, f64) -> (); AssemblyScript imports env.abort unless built with --use abort=',
    );
    await expectRefused(
      stubRuleWasm({
        imports:
          '(import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))',
      }),
      'UNEXPECTED_IMPORT',
      'import "wasi_snapshot_preview1"."fd_write"',
    );
    await expectRefused(
      stubRuleWasm({ imports: '(import "$root" "clock" (func (result i64)))' }),
      'UNEXPECTED_IMPORT',
      'import "$root"."clock"',
    );
    await expectRefused(
      stubRuleWasm({
        imports: '(import "env" "memory" (memory 1 16))',
        memory: '(export "memory" (memory 0))',
      }),
      'UNEXPECTED_IMPORT',
      'import "env"."memory" (a memory) is not allowed',
    );
  });

  it('refuses a world import with the wrong type as IMPORT_SIGNATURE', async () => {
    await expectRefused(
      stubRuleWasm({ imports: '(import "$root" "log" (func (param i32 i32)))' }),
      'IMPORT_SIGNATURE',
      'import "$root"."log" has type (i32, i32) -> () but the rule world provides (i32, i32, i32) -> () (log: func(level: u8, message: string))',
    );
  });

  it('refuses a memory without a maximum as MEMORY_UNBOUNDED', async () => {
    await expectRefused(
      stubRuleWasm({ memory: '(memory (export "memory") 2)' }),
      'MEMORY_UNBOUNDED',
      "memory declares no maximum (initial 2 pages = 128 KiB); the host caps every rule's memory: rebuild with asc --maximumMemory <pages> (at most 1024",
    );
  });

  it('refuses a memory maximum above the budget as MEMORY_TOO_LARGE', async () => {
    await expectRefused(
      stubRuleWasm({ memory: '(memory (export "memory") 1 2048)' }),
      'MEMORY_TOO_LARGE',
      'memory maximum is 2048 pages (128 MiB), above the 64 MiB budget (maxMemoryBytes, config limits.ruleMemoryBytes = 1024 pages); rebuild with asc --maximumMemory 1024 or less',
    );
    await expectRefused(
      stubRuleWasm(),
      'MEMORY_TOO_LARGE',
      'memory maximum is 16 pages (1 MiB), above the 512 KiB budget',
      {
        maxMemoryBytes: 512 * 1024,
      },
    );
    await expect(
      compileRule(stubRuleWasm(), { maxMemoryBytes: 1024 * 1024 }),
    ).resolves.toBeDefined();
  });
});
