/**
 * @module Loading a rule: validate the bytes against the `rule` world and the limits, compile
 * them, and name the result by content hash. A `RuleModule` is plain data plus a compiled
 * `WebAssembly.Module`, so it can be posted to a worker thread and instantiated there.
 */
import { RuleValidationError } from './errors.js';
import { validateRule } from './validate.js';
import type { RuleModuleOptions } from './validate.js';

/** A validated, compiled rule module. */
export interface RuleModule {
  /** The compiled module; instantiate with `RuleInstance.create`. */
  readonly module: WebAssembly.Module;
  /** SHA-256 of the module bytes, lowercase hex: the module's identity in the rule store. */
  readonly hash: string;
  /** Size of the module in bytes. */
  readonly size: number;
  /** Limits of the exported memory, in 64 KiB pages. */
  readonly memory: { readonly initialPages: number; readonly maximumPages: number };
  /** Names of all exports. */
  readonly exports: readonly string[];
  /** All imports as `module.name`. */
  readonly imports: readonly string[];
}

/**
 * Validates `bytes` as a rule (header, size, exports, imports, memory limits), then compiles them.
 * @throws RuleValidationError with a `reason` naming the failed check (`COMPILE_FAILED` when V8 refuses it).
 */
export async function compileRule(
  bytes: Uint8Array,
  options?: RuleModuleOptions,
): Promise<RuleModule> {
  const info = validateRule(bytes, options);
  const [hash, module] = await Promise.all([sha256Hex(bytes), compileModule(bytes)]);
  return {
    module,
    hash,
    size: info.size,
    memory: info.memory,
    exports: info.exports,
    imports: info.imports,
  };
}

async function compileModule(bytes: Uint8Array): Promise<WebAssembly.Module> {
  try {
    return await WebAssembly.compile(bytes as Uint8Array<ArrayBuffer>);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new RuleValidationError('COMPILE_FAILED', `the module does not compile: ${message}`, {
      cause: error,
    });
  }
}

/** SHA-256 of `bytes` as lowercase hex (WebCrypto, so it runs on Node and Deno). */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(
    await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>),
  );
  let hex = '';
  for (const b of digest) hex += b.toString(16).padStart(2, '0');
  return hex;
}
