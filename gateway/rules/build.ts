/**
 * @module Building AssemblyScript rules to `.wasm` in-process with the asc API: the shared
 * compiler options come from the repository's `asconfig.json`, the SDK's `abort` is wired in
 * (`--use abort=…`, so a rule imports nothing but `$root.log`/`$root.metric`), and the module
 * declares a memory maximum. `assemblyscript` is a dev dependency, loaded lazily here and only
 * here: compiling takes seconds (FINDINGS) and never happens on the gateway's runtime path.
 */

import { mkdir, readFile, stat, readdir } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { RuleBuildError, RuleBuildOptionsError, RuleCompilerMissingError } from './errors.js';

/** The example rules in `filters/rules/<name>.ts`, built by `buildExampleRules`. */
export const EXAMPLE_RULES = [
  'threshold',
  'window-stats',
  'deadband',
  'session-usage',
  'quantiles',
  'door-alarm',
] as const;
/** Name of an example rule. */
export type ExampleRuleName = (typeof EXAMPLE_RULES)[number];

/** Garbage-collector runtime of a rule module. */
export type RuleRuntime = 'incremental' | 'minimal';

/**
 * Default runtime: `minimal`, with the SDK calling `__collect()` after every call. Measured on
 * window-stats through the host (500-event batches of ~130-byte JSON readings, 1000 devices,
 * copy-in included): minimal 215–220 ns/event, incremental 295–380 ns/event (its shadow-stack
 * bookkeeping on every call that holds references); both keep memory flat
 * (test/filters/memory.test.ts). Numbers in `filters/sdk/exports.ts`.
 */
export const DEFAULT_RULE_RUNTIME: RuleRuntime = 'minimal';
/** Default memory maximum in 64 KiB pages: 16 MiB. */
export const DEFAULT_RULE_MEMORY_PAGES = 256;

/** Options of `buildRule`. */
export interface BuildRuleOptions {
  /** Garbage-collector runtime. @default 'minimal' */
  runtime?: RuleRuntime;
  /** Declared memory maximum, in 64 KiB pages (1 … 65536). @default 256 (16 MiB) */
  maximumMemoryPages?: number;
  /** Optimize (asconfig target `release`); false builds target `debug`. @default true */
  optimize?: boolean;
  /** The SDK directory the rule imports (by a relative path). @default this package's `filters/sdk` */
  sdkDir?: string;
  /** Also write the text format to this file. @default undefined (none) */
  textFile?: string;
  /**
   * Keep an existing `outFile` newer than the entry file, every SDK file, `asconfig.json` and
   * this builder (the result then has `skipped: true`). @default false
   */
  onlyIfStale?: boolean;
}

/** `BuildRuleOptions` with every default filled in. */
export interface ResolvedBuildRuleOptions {
  runtime: RuleRuntime;
  maximumMemoryPages: number;
  optimize: boolean;
  sdkDir: string;
  textFile: string | undefined;
  onlyIfStale: boolean;
}

/** Options of `buildExampleRules`. */
export interface BuildExampleRulesOptions extends Omit<BuildRuleOptions, 'onlyIfStale'> {
  /** Rebuild even when the `.wasm` is newer than every source. @default false */
  force?: boolean;
}

/** What `buildRule` produced. */
export interface BuildResult {
  /** The entry file, absolute. */
  entryFile: string;
  /** The written `.wasm`, absolute. */
  outFile: string;
  /** Size of the `.wasm` in bytes. */
  bytes: number;
  /** Compile time in ms (0 when skipped). */
  durationMs: number;
  /** asc's warnings, if any (empty string when none). */
  warnings: string;
  /** True when the `.wasm` was up to date and not rebuilt (`buildExampleRules` only). */
  skipped: boolean;
}

/** The package root: the nearest directory above this file holding `asconfig.json` and the SDK. */
function findPackageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (
      existsSync(join(dir, 'asconfig.json')) &&
      existsSync(join(dir, 'filters', 'sdk', 'exports.ts'))
    )
      return dir;
    const parent = dirname(dir);
    if (parent === dir) {
      throw new RuleCompilerMissingError(
        `cannot find the Sluice package root (asconfig.json and filters/sdk/) above ${fileURLToPath(import.meta.url)}`,
      );
    }
    dir = parent;
  }
}

let root: string | undefined;
function packageRoot(): string {
  root ??= findPackageRoot();
  return root;
}

/** Path of the example rule `name`'s source file. */
export function exampleRuleFile(name: ExampleRuleName): string {
  return join(packageRoot(), 'filters', 'rules', `${name}.ts`);
}

/** Fills defaults and checks `BuildRuleOptions`. */
export function resolveBuildRuleOptions(options: BuildRuleOptions = {}): ResolvedBuildRuleOptions {
  const runtime = options.runtime ?? DEFAULT_RULE_RUNTIME;
  if (runtime !== 'incremental' && runtime !== 'minimal') {
    throw new RuleBuildOptionsError(
      `runtime: ${JSON.stringify(runtime)} is not a supported rule runtime (expected "incremental" or "minimal"; "stub" leaks)`,
    );
  }
  const pages = options.maximumMemoryPages ?? DEFAULT_RULE_MEMORY_PAGES;
  if (!Number.isInteger(pages) || pages < 1 || pages > 65536) {
    throw new RuleBuildOptionsError(
      `maximumMemoryPages: ${String(pages)} is not a page count (expected an integer from 1 to 65536; 256 pages = 16 MiB)`,
    );
  }
  return {
    runtime,
    maximumMemoryPages: pages,
    optimize: options.optimize ?? true,
    sdkDir: resolve(options.sdkDir ?? join(packageRoot(), 'filters', 'sdk')),
    textFile: options.textFile === undefined ? undefined : resolve(options.textFile),
    onlyIfStale: options.onlyIfStale ?? false,
  };
}

type AscModule = typeof import('assemblyscript/dist/asc.js');
let ascPromise: Promise<AscModule['default']> | undefined;

/** Loads the compiler on first use. */
function loadAsc(): Promise<AscModule['default']> {
  ascPromise ??= import('assemblyscript/dist/asc.js').then(
    (m) => m.default,
    (error: unknown) => {
      ascPromise = undefined;
      throw new RuleCompilerMissingError(
        'the AssemblyScript compiler is not installed: run `npm install --save-dev assemblyscript@0.28` to build rules',
        { cause: error },
      );
    },
  );
  return ascPromise;
}

type AscValue = string | number | boolean | string[];
let sharedOptions: Promise<Record<string, AscValue>[]> | undefined;

/** `asconfig.json`: [options, release target, debug target]. */
function loadSharedOptions(): Promise<Record<string, AscValue>[]> {
  sharedOptions ??= readFile(join(packageRoot(), 'asconfig.json'), 'utf8').then((text) => {
    const config = JSON.parse(text) as {
      options?: Record<string, AscValue>;
      targets?: Record<string, Record<string, AscValue>>;
    };
    return [
      config.options ?? {},
      config.targets?.['release'] ?? {},
      config.targets?.['debug'] ?? {},
    ];
  });
  return sharedOptions;
}

/** Turns asconfig options into command-line arguments (`use` is computed per rule instead). */
function toArgs(options: Record<string, AscValue>): string[] {
  const args: string[] = [];
  for (const [key, value] of Object.entries(options)) {
    if (key === 'use' || key === 'outFile' || key === 'textFile') continue;
    if (value === true) args.push(`--${key}`);
    else if (value === false) continue;
    else if (Array.isArray(value)) for (const v of value) args.push(`--${key}`, v);
    else args.push(`--${key}`, String(value));
  }
  return args;
}

/** AssemblyScript names a file by its path relative to the entry's directory, with `/`. */
function internalPath(fromDir: string, file: string): string {
  return relative(fromDir, file).split(sep).join('/');
}

/**
 * Compiles the rule at `entryFile` to `outFile` (directories are created).
 * @throws RuleBuildError with asc's diagnostics when compilation fails.
 * @throws RuleCompilerMissingError when `assemblyscript` is not installed.
 */
export async function buildRule(
  entryFile: string,
  outFile: string,
  options?: BuildRuleOptions,
): Promise<BuildResult> {
  const resolved = resolveBuildRuleOptions(options);
  const entry = resolve(entryFile);
  const out = resolve(outFile);
  const entryDir = dirname(entry);
  if (resolved.onlyIfStale) {
    const built = await stat(out).catch(() => undefined);
    if (built !== undefined && built.mtimeMs > (await newestInput(entry, resolved.sdkDir))) {
      return {
        entryFile: entry,
        outFile: out,
        bytes: built.size,
        durationMs: 0,
        warnings: '',
        skipped: true,
      };
    }
  }
  const [asc, shared] = await Promise.all([loadAsc(), loadSharedOptions()]);
  const [common = {}, release = {}, debug = {}] = shared;
  await mkdir(dirname(out), { recursive: true });
  if (resolved.textFile !== undefined) await mkdir(dirname(resolved.textFile), { recursive: true });
  const abortName = `${internalPath(entryDir, join(resolved.sdkDir, 'abort'))}/ruleAbort`;
  const argv = [
    basename(entry),
    '--baseDir',
    entryDir,
    ...toArgs(common),
    ...toArgs(resolved.optimize ? release : debug),
    '--runtime',
    resolved.runtime,
    '--maximumMemory',
    String(resolved.maximumMemoryPages),
    '--use',
    `abort=${abortName}`,
    '--outFile',
    out,
    '--noColors',
  ];
  if (resolved.textFile !== undefined) argv.push('--textFile', resolved.textFile);
  let stderrText = '';
  let stdoutText = '';
  const started = performance.now();
  const { error } = await asc.main(argv, {
    stdout: asc.createMemoryStream((chunk) => {
      stdoutText += typeof chunk === 'string' ? chunk : new TextDecoder().decode(chunk);
    }),
    stderr: asc.createMemoryStream((chunk) => {
      stderrText += typeof chunk === 'string' ? chunk : new TextDecoder().decode(chunk);
    }),
  });
  const durationMs = performance.now() - started;
  const diagnostics = (stderrText + stdoutText).trim();
  if (error !== null) {
    const hint = diagnostics.includes(abortName)
      ? ` (the rule must import the SDK at ${resolved.sdkDir} by a relative path, and end with \`export * from "<sdk>/exports"\`)`
      : '';
    throw new RuleBuildError(
      entry,
      `${entry}: AssemblyScript compilation failed${hint}: ${error.message}\n${diagnostics}`,
      diagnostics,
      { cause: error },
    );
  }
  const { size } = await stat(out);
  return {
    entryFile: entry,
    outFile: out,
    bytes: size,
    durationMs,
    warnings: diagnostics,
    skipped: false,
  };
}

/** Newest modification time of the files a rule build depends on (the SDK, asconfig, this builder). */
async function newestInput(entry: string, sdkDir: string): Promise<number> {
  const files = [entry, join(packageRoot(), 'asconfig.json'), fileURLToPath(import.meta.url)];
  for (const name of await readdir(sdkDir))
    if (name.endsWith('.ts')) files.push(join(sdkDir, name));
  let newest = 0;
  for (const file of files) newest = Math.max(newest, (await stat(file)).mtimeMs);
  return newest;
}

/**
 * Builds every example rule to `<outDir>/<name>.wasm`, one after the other; a `.wasm` newer than
 * its rule, the SDK, `asconfig.json` and this builder is kept unless `force` is set.
 * @throws RuleBuildError on the first rule that fails.
 */
export async function buildExampleRules(
  outDir: string,
  options: BuildExampleRulesOptions = {},
): Promise<BuildResult[]> {
  const { force, ...rest } = options;
  const results: BuildResult[] = [];
  for (const name of EXAMPLE_RULES) {
    results.push(
      await buildRule(exampleRuleFile(name), resolve(outDir, `${name}.wasm`), {
        ...rest,
        onlyIfStale: force !== true,
      }),
    );
  }
  return results;
}
