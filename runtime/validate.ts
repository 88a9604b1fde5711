/**
 * @module Load-time checks of a rule module against the `rule` world (runtime/wit/rule.wit):
 * header, size, the canonical-ABI signatures of its exports, its imports and its memory limits.
 * Each failure is a `RuleValidationError` whose message names what is wrong and the fix.
 */
import { RuleValidationError, RuntimeOptionsError, WasmBinaryError } from './errors.js';
import {
  WASM_PAGE_BYTES,
  formatFuncType,
  funcTypeEquals,
  hasWasmMagic,
  isWasmComponent,
  readWasmModule,
  wasmVersion,
} from './wasm-binary.js';
import type { WasmFuncType, WasmModuleInfo } from './wasm-binary.js';

/** Limits a rule module must stay within. */
export interface RuleModuleOptions {
  /** Largest module accepted, in bytes (config `limits.ruleModuleBytes`). @default 8388608 (8 MiB) */
  maxModuleBytes?: number;
  /** Largest memory maximum a module may declare, in bytes (config `limits.ruleMemoryBytes`). @default 67108864 (64 MiB) */
  maxMemoryBytes?: number;
}

/** `RuleModuleOptions` with every default filled in. */
export interface ResolvedRuleModuleOptions {
  maxModuleBytes: number;
  maxMemoryBytes: number;
}

/** Default `RuleModuleOptions.maxModuleBytes`. */
export const DEFAULT_MAX_MODULE_BYTES = 8 * 1024 * 1024;
/** Default `RuleModuleOptions.maxMemoryBytes`. */
export const DEFAULT_MAX_MEMORY_BYTES = 64 * 1024 * 1024;

/** Fills defaults and checks `RuleModuleOptions`. */
export function resolveRuleModuleOptions(
  options: RuleModuleOptions = {},
): ResolvedRuleModuleOptions {
  const maxModuleBytes = options.maxModuleBytes ?? DEFAULT_MAX_MODULE_BYTES;
  const maxMemoryBytes = options.maxMemoryBytes ?? DEFAULT_MAX_MEMORY_BYTES;
  if (!Number.isSafeInteger(maxModuleBytes) || maxModuleBytes < 8) {
    throw new RuntimeOptionsError(
      `maxModuleBytes: ${String(maxModuleBytes)} is not a usable size in bytes (expected an integer ≥ 8)`,
    );
  }
  if (!Number.isSafeInteger(maxMemoryBytes) || maxMemoryBytes < WASM_PAGE_BYTES) {
    throw new RuntimeOptionsError(
      `maxMemoryBytes: ${String(maxMemoryBytes)} is not a usable memory budget (expected an integer ≥ ${WASM_PAGE_BYTES}, one 64 KiB page)`,
    );
  }
  return { maxModuleBytes, maxMemoryBytes };
}

/** What validation learned about a rule module. */
export interface RuleModuleInfo {
  /** Size of the module in bytes. */
  readonly size: number;
  /** Limits of the exported memory, in 64 KiB pages. */
  readonly memory: { readonly initialPages: number; readonly maximumPages: number };
  /** Names of all exports. */
  readonly exports: readonly string[];
  /** All imports as `module.name`. */
  readonly imports: readonly string[];
}

interface WorldFunction {
  readonly name: string;
  readonly type: WasmFuncType;
  /** The WIT declaration this lowering comes from, for messages. */
  readonly wit: string;
}

const i32 = 'i32';
const i64 = 'i64';
const f64 = 'f64';

/** Core exports of the canonical-ABI lowering of the `rule` world, with their WIT source. */
const WORLD_EXPORTS: readonly WorldFunction[] = [
  {
    name: 'cabi_realloc',
    type: { params: [i32, i32, i32, i32], results: [i32] },
    wit: 'cabi_realloc(old-ptr, old-size, align, new-size) -> ptr, the canonical-ABI allocator',
  },
  {
    name: 'init',
    type: { params: [i32, i32], results: [i32] },
    wit: 'init(config: list<u8>) -> result<_, string>',
  },
  {
    name: 'process',
    type: { params: [i32, i32, i64], results: [i32] },
    wit: 'process(batch: list<u8>, now: s64) -> list<u8>',
  },
  { name: 'tick', type: { params: [i64], results: [i32] }, wit: 'tick(now: s64) -> list<u8>' },
  { name: 'flush', type: { params: [], results: [i32] }, wit: 'flush() -> list<u8>' },
  { name: 'snapshot', type: { params: [], results: [i32] }, wit: 'snapshot() -> list<u8>' },
  {
    name: 'restore',
    type: { params: [i32, i32], results: [i32] },
    wit: 'restore(state: list<u8>) -> result<_, string>',
  },
];

/** Optional exports the host calls when present. */
const OPTIONAL_EXPORTS: readonly WorldFunction[] = [
  {
    name: '_initialize',
    type: { params: [], results: [] },
    wit: 'the reactor initializer, called once before init',
  },
  ...['init', 'process', 'tick', 'flush', 'snapshot', 'restore'].map((name) => ({
    name: `cabi_post_${name}`,
    type: { params: [i32], results: [] },
    wit: `the post-return of ${name}, called with its return pointer before the next call`,
  })),
];

/** Imports of the `rule` world (module `$root`). */
const WORLD_IMPORTS: readonly WorldFunction[] = [
  {
    name: 'log',
    type: { params: [i32, i32, i32], results: [] },
    wit: 'log: func(level: u8, message: string)',
  },
  {
    name: 'metric',
    type: { params: [i32, i32, f64], results: [] },
    wit: 'metric: func(name: string, value: f64)',
  },
];

const ROOT = '$root';

/** Hints for imports that common toolchains add by default. */
const IMPORT_HINTS: Readonly<Record<string, string>> = {
  'env.abort':
    'AssemblyScript imports env.abort unless built with --use abort=<function> (the Sluice SDK provides one)',
  'env.trace': 'trace() imports env.trace; log through the SDK instead',
  'env.seed': 'Math.random imports env.seed; rules get no randomness source',
  'env.memory':
    'build without --importMemory (and with --maximumMemory <pages>); the rule exports its memory',
};

function describe(fn: WorldFunction): string {
  return `"${fn.name}" ${formatFuncType(fn.type)} (${fn.wit})`;
}

function mib(bytes: number): string {
  if (bytes < 1024 * 1024) return `${Math.round((bytes / 1024) * 100) / 100} KiB`;
  return `${Math.round((bytes / (1024 * 1024)) * 100) / 100} MiB`;
}

/**
 * Checks that `bytes` are a core module implementing the `rule` world within the limits.
 * Does not compile; `compileRule` does both.
 * @throws RuleValidationError naming the first failed check.
 */
export function validateRule(bytes: Uint8Array, options?: RuleModuleOptions): RuleModuleInfo {
  const limits = resolveRuleModuleOptions(options);
  if (bytes.length > limits.maxModuleBytes) {
    throw new RuleValidationError(
      'TOO_LARGE',
      `rule module is ${bytes.length} bytes, more than the ${limits.maxModuleBytes}-byte limit (maxModuleBytes, config limits.ruleModuleBytes); shrink it (asc -O3 --noAssert, no debug info) or raise the limit`,
    );
  }
  if (!hasWasmMagic(bytes)) {
    const first = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(
      ' ',
    );
    throw new RuleValidationError(
      'NOT_WASM',
      `not a WebAssembly module: it starts with ${first === '' ? 'nothing (0 bytes)' : `the bytes ${first}`}, not the magic 00 61 73 6d ("\\0asm"); upload the .wasm file the compiler produced`,
    );
  }
  if (isWasmComponent(bytes)) {
    throw new RuleValidationError(
      'COMPONENT_NOT_SUPPORTED',
      'this is a WebAssembly component; this host loads core modules only: upload the core module that lowers world sluice:rule/rule (what the AssemblyScript SDK emits)',
    );
  }
  const version = wasmVersion(bytes);
  if (version !== 1) {
    throw new RuleValidationError(
      'UNSUPPORTED_VERSION',
      `WebAssembly version is ${version === undefined ? 'missing (the file ends after the magic)' : `0x${version.toString(16).padStart(8, '0')}`}; only version 1 (a core module) is supported`,
    );
  }
  let info: WasmModuleInfo;
  try {
    info = readWasmModule(bytes);
  } catch (error) {
    if (!(error instanceof WasmBinaryError)) throw error;
    throw new RuleValidationError(
      'MALFORMED',
      `malformed WebAssembly binary at byte ${error.offset}: ${error.message}`,
      {
        cause: error,
      },
    );
  }
  checkExports(info);
  checkImports(info);
  const memory = checkMemory(info, limits);
  return {
    size: bytes.length,
    memory,
    exports: info.exports.map((e) => e.name),
    imports: info.imports.map((i) => `${i.module}.${i.name}`),
  };
}

function exportedFunction(info: WasmModuleInfo, fn: WorldFunction): WasmFuncType | undefined {
  const exp = info.exports.find((e) => e.name === fn.name);
  if (exp === undefined) return undefined;
  if (exp.kind !== 'func') {
    throw new RuleValidationError(
      'EXPORT_SIGNATURE',
      `export "${fn.name}" is a ${exp.kind}, not a function; the rule world needs ${describe(fn)}`,
    );
  }
  const type = info.functions[exp.index];
  if (type === undefined) {
    throw new RuleValidationError(
      'MALFORMED',
      `export "${fn.name}" refers to function ${exp.index}, which does not exist`,
    );
  }
  return type;
}

function checkExports(info: WasmModuleInfo): void {
  const missing: string[] = [];
  if (!info.exports.some((e) => e.name === 'memory')) {
    missing.push('"memory" (the linear memory, exported by asc by default)');
  }
  for (const fn of WORLD_EXPORTS) {
    const type = exportedFunction(info, fn);
    if (type === undefined) {
      missing.push(describe(fn));
      continue;
    }
    if (!funcTypeEquals(type, fn.type)) {
      throw new RuleValidationError(
        'EXPORT_SIGNATURE',
        `export "${fn.name}" has type ${formatFuncType(type)} but the rule world needs ${formatFuncType(fn.type)} (${fn.wit})`,
      );
    }
  }
  if (missing.length > 0) {
    throw new RuleValidationError(
      'MISSING_EXPORT',
      `missing export${missing.length > 1 ? 's' : ''} ${missing.join(', ')}: a rule must export every function of world sluice:rule/rule (the SDK's exports do this)`,
    );
  }
  for (const fn of OPTIONAL_EXPORTS) {
    const type = exportedFunction(info, fn);
    if (type !== undefined && !funcTypeEquals(type, fn.type)) {
      throw new RuleValidationError(
        'EXPORT_SIGNATURE',
        `export "${fn.name}" has type ${formatFuncType(type)} but must be ${formatFuncType(fn.type)} (${fn.wit})`,
      );
    }
  }
}

function checkImports(info: WasmModuleInfo): void {
  const allowed = WORLD_IMPORTS.map(
    (fn) => `"${ROOT}"."${fn.name}" ${formatFuncType(fn.type)}`,
  ).join(' and ');
  for (const imp of info.imports) {
    const fn = imp.module === ROOT ? WORLD_IMPORTS.find((f) => f.name === imp.name) : undefined;
    if (fn === undefined || imp.kind !== 'func' || imp.type === undefined) {
      const what =
        imp.kind === 'func' && imp.type ? `function ${formatFuncType(imp.type)}` : imp.kind;
      const hint = IMPORT_HINTS[`${imp.module}.${imp.name}`];
      throw new RuleValidationError(
        'UNEXPECTED_IMPORT',
        `import "${imp.module}"."${imp.name}" (a ${what}) is not allowed: a rule may import only ${allowed}${hint === undefined ? '' : `; ${hint}`}`,
      );
    }
    if (!funcTypeEquals(imp.type, fn.type)) {
      throw new RuleValidationError(
        'IMPORT_SIGNATURE',
        `import "${ROOT}"."${fn.name}" has type ${formatFuncType(imp.type)} but the rule world provides ${formatFuncType(fn.type)} (${fn.wit})`,
      );
    }
  }
}

function checkMemory(
  info: WasmModuleInfo,
  options: ResolvedRuleModuleOptions,
): RuleModuleInfo['memory'] {
  const exp = info.exports.find((e) => e.name === 'memory');
  if (exp === undefined || exp.kind !== 'memory') {
    throw new RuleValidationError(
      'EXPORT_SIGNATURE',
      `export "memory" is a ${exp?.kind ?? 'missing export'}, not a memory; a rule exports its linear memory as "memory"`,
    );
  }
  const limits = info.memories[exp.index];
  if (limits === undefined) {
    throw new RuleValidationError(
      'MALFORMED',
      `export "memory" refers to memory ${exp.index}, which does not exist`,
    );
  }
  if (limits.memory64 || limits.shared) {
    throw new RuleValidationError(
      'MEMORY_UNSUPPORTED',
      `memory is ${limits.memory64 ? '64-bit (memory64)' : 'shared'}; the rule ABI needs an unshared 32-bit memory`,
    );
  }
  const budgetPages = Math.floor(options.maxMemoryBytes / WASM_PAGE_BYTES);
  const budget = `${mib(options.maxMemoryBytes)} budget (maxMemoryBytes, config limits.ruleMemoryBytes = ${budgetPages} pages)`;
  if (limits.maximumPages === undefined) {
    throw new RuleValidationError(
      'MEMORY_UNBOUNDED',
      `memory declares no maximum (initial ${limits.initialPages} pages = ${mib(limits.initialPages * WASM_PAGE_BYTES)}); the host caps every rule's memory: rebuild with asc --maximumMemory <pages> (at most ${budgetPages} for the ${budget})`,
    );
  }
  if (limits.maximumPages * WASM_PAGE_BYTES > options.maxMemoryBytes) {
    throw new RuleValidationError(
      'MEMORY_TOO_LARGE',
      `memory maximum is ${limits.maximumPages} pages (${mib(limits.maximumPages * WASM_PAGE_BYTES)}), above the ${budget}; rebuild with asc --maximumMemory ${budgetPages} or less, or raise the budget`,
    );
  }
  return { initialPages: limits.initialPages, maximumPages: limits.maximumPages };
}
