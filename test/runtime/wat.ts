/**
 * @module Test helpers: WebAssembly text → binary with binaryen (shipped with assemblyscript), and
 * a stub module implementing the `rule` world whose parts a test replaces or removes.
 */
import binaryen from 'binaryen';

/** Parses WebAssembly text and returns the binary. */
export function watToWasm(wat: string): Uint8Array {
  const module = binaryen.parseText(wat);
  try {
    if (!module.validate()) throw new Error('binaryen: the WAT does not validate');
    return module.emitBinary();
  } finally {
    module.dispose();
  }
}

/** The parts of the stub rule, by export name (`imports` holds import declarations). */
export const STUB_RULE_PARTS: Readonly<Record<string, string>> = {
  imports: '',
  memory: '(memory (export "memory") 1 16)',
  cabi_realloc:
    '(func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) (i32.const 1024))',
  init: '(func (export "init") (param i32 i32) (result i32) (i32.const 32))',
  process: '(func (export "process") (param i32 i32 i64) (result i32) (i32.const 16))',
  tick: '(func (export "tick") (param i64) (result i32) (i32.const 16))',
  flush: '(func (export "flush") (result i32) (i32.const 16))',
  snapshot: '(func (export "snapshot") (result i32) (i32.const 16))',
  restore: '(func (export "restore") (param i32 i32) (result i32) (i32.const 32))',
};

/**
 * WAT of a do-nothing rule (every call returns an empty list or ok). `parts` replace stub parts
 * by name; `null` removes one; unknown names add a part.
 */
export function stubRuleWat(parts: Readonly<Record<string, string | null>> = {}): string {
  const merged: Record<string, string | null> = { ...STUB_RULE_PARTS, ...parts };
  const imports = merged['imports'] ?? '';
  const body = Object.entries(merged)
    .filter(([name, text]) => name !== 'imports' && text !== null)
    .map(([, text]) => text)
    .join('\n  ');
  return `(module\n  ${imports}\n  ${body}\n)`;
}

/** Binary of `stubRuleWat(parts)`. */
export function stubRuleWasm(parts: Readonly<Record<string, string | null>> = {}): Uint8Array {
  return watToWasm(stubRuleWat(parts));
}
