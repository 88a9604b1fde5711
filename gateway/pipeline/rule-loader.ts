/**
 * @module Loads a pipeline's rules: resolves `module` (a path to a .wasm file, the name of an
 * example rule → `<package root>/dist/rules/<name>.wasm`, or `store:<name>[@<version>]` → the
 * gateway's rule store under `<dataDir>/rules`), compiles it within the configured
 * limits, encodes the rule's parameters as CBOR and creates the instance.
 */
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encode as encodeCbor } from 'cbor-x/encode';
import type { Logger } from 'pino';
import { RuleInstance, SluiceError, compileRule } from '../../runtime/index.js';
import type { RuleModule } from '../../runtime/index.js';
import { BUILTIN_RULES } from '../config/defaults.js';
import type { Config, RuleConfig } from '../config/types.js';
import { RuleStore } from '../rule-store/rule-store.js';
import { meterFuel } from '../rules/fuel.js';
import { RuleLoadError } from './errors.js';

let packageRoot: string | undefined;

/** The directory of Sluice's package.json (works from the sources and from `dist/`). */
export function findPackageRoot(): string {
  if (packageRoot !== undefined) return packageRoot;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        if ((JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown }).name === 'sluice') {
          packageRoot = dir;
          return dir;
        }
      } catch {
        // Not ours (or unreadable): keep looking upwards.
      }
    }
    const parent = dirname(dir);
    if (parent === dir)
      throw new RuleLoadError(
        'cannot find the sluice package root (no package.json named "sluice" above the gateway)',
      );
    dir = parent;
  }
}

/** The .wasm file a rule's `module` names. */
export function resolveRuleModulePath(module: string): string {
  if (module.startsWith('store:')) return module;
  if (module.endsWith('.wasm') || module.includes('/') || module.includes('\\'))
    return resolve(module);
  return join(findPackageRoot(), 'dist', 'rules', `${module}.wasm`);
}

/** A module's key in the compiled set: its path, marked when it is fuel-metered. */
function moduleKey(path: string, rule: RuleConfig): string {
  return rule.fuel === undefined ? path : `${path}#fuel`;
}

/** Reads and compiles the modules of every rule in the configuration, once per distinct file. */
export async function compileRules(config: Config): Promise<Map<string, RuleModule>> {
  const modules = new Map<string, RuleModule>();
  let store: RuleStore | undefined;
  for (let p = 0; p < config.pipelines.length; p++) {
    const pipeline = config.pipelines[p];
    if (pipeline === undefined) continue;
    for (let r = 0; r < pipeline.rules.length; r++) {
      const rule = pipeline.rules[r] as RuleConfig;
      const path = resolveRuleModulePath(rule.module);
      const key = moduleKey(path, rule);
      if (modules.has(key)) continue;
      const field = `pipelines[${p}].rules[${r}].module`;
      let bytes: Uint8Array;
      try {
        if (rule.module.startsWith('store:')) {
          store ??= await RuleStore.open(join(config.dataDir, 'rules'));
          const version = store.resolve(rule.module.slice('store:'.length));
          bytes = await store.readModule(version);
        } else {
          bytes = await readFile(path);
        }
      } catch (error) {
        if (error instanceof SluiceError) {
          throw new RuleLoadError(`${field}: ${error.message}`, { cause: error });
        }
        const builtin = !rule.module.endsWith('.wasm') && !rule.module.includes('/');
        throw new RuleLoadError(
          `${field}: cannot read "${path}" (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}). ` +
            (builtin
              ? 'The example rules are built by `npm run build` (or `sluice rules build --all`).'
              : `Set it to an existing .wasm file or a built-in rule (${BUILTIN_RULES.join(', ')}).`),
          { cause: error },
        );
      }
      try {
        // Metering loads binaryen: only for a rule that asks for fuel.
        if (rule.fuel !== undefined) bytes = await meterFuel(bytes);
        modules.set(
          key,
          await compileRule(bytes, {
            maxMemoryBytes: config.limits.ruleMemoryBytes,
            maxModuleBytes: config.limits.ruleModuleBytes,
          }),
        );
      } catch (error) {
        throw new RuleLoadError(
          `${field}: "${path}" is not a usable rule: ${(error as Error).message}`,
          {
            cause: error,
          },
        );
      }
    }
  }
  return modules;
}

/** The compiled module of each of one pipeline's rules, in order (for its worker pool). */
export function pipelineModules(
  pipelineIndex: number,
  rules: readonly RuleConfig[],
  modules: ReadonlyMap<string, RuleModule>,
): RuleModule[] {
  return rules.map((rule, r) => {
    const module = modules.get(moduleKey(resolveRuleModulePath(rule.module), rule));
    if (module === undefined)
      throw new RuleLoadError(`pipelines[${pipelineIndex}].rules[${r}]: module not compiled`);
    return module;
  });
}

/** Creates the instances of one pipeline's rules (their `init` runs with the CBOR config). */
export function createRuleInstances(
  pipelineIndex: number,
  rules: readonly RuleConfig[],
  modules: ReadonlyMap<string, RuleModule>,
  logger: Logger,
): RuleInstance[] {
  return rules.map((rule, r) => {
    const module = modules.get(moduleKey(resolveRuleModulePath(rule.module), rule));
    if (module === undefined)
      throw new RuleLoadError(`pipelines[${pipelineIndex}].rules[${r}]: module not compiled`);
    const log = logger.child({ rule: rule.name });
    try {
      return RuleInstance.create(module, {
        name: rule.name,
        config: new Uint8Array(encodeCbor(rule.config)),
        fuel: rule.fuel,
        onLog: (level, message) => {
          if (level <= 0) log.trace(message);
          else if (level === 1) log.debug(message);
          else if (level === 2) log.info(message);
          else if (level === 3) log.warn(message);
          else log.error(message);
        },
      });
    } catch (error) {
      throw new RuleLoadError(
        `pipelines[${pipelineIndex}].rules[${r}].config: rule "${rule.name}" did not start: ${(error as Error).message}`,
        { cause: error },
      );
    }
  });
}
