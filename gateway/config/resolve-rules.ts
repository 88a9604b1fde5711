/**
 * @module Resolution of a pipeline's `rules` list: each rule's module (a built-in rule, a `.wasm`
 * path, or `store:<name>[@<version>]`), its name (unique in the pipeline), parameters and fuel.
 */
import { basename } from 'node:path';
import { renderValue, type ConfigChecker, type ConfigPath } from './check.js';
import { BUILTIN_RULES, defaultRules } from './defaults.js';
import { suggest } from './suggest.js';
import type { RuleConfig } from './types.js';

const RULE_KEYS = ['name', 'module', 'config', 'fuel'] as const;

/** The rule chain of the pipeline at `path` (`raw`: its `rules` value). */
export function resolveRules(check: ConfigChecker, path: ConfigPath, raw: unknown): RuleConfig[] {
  const items = check.list(path, raw, 'rules', defaultRules()) ?? [];
  if (items.length === 0) {
    check.report(
      path,
      `[] is empty (a pipeline needs at least one rule; remove the key to use the default ` +
        `threshold → window-stats chain)`,
    );
  }
  const rules: RuleConfig[] = [];
  const names = new Map<string, number>();
  for (let i = 0; i < items.length; i++) {
    const at = (key: string): ConfigPath => [...path, i, key];
    // A bare string is a module: `rules: [threshold, ./my-rule.wasm]`.
    const item = typeof items[i] === 'string' ? { module: items[i] } : items[i];
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      check.report(
        [...path, i],
        `${renderValue(item)} is not a rule (expected a built-in rule name, a .wasm path, or a mapping with module:)`,
      );
      continue;
    }
    const r = check.section([...path, i], item, RULE_KEYS);
    const module = resolveModule(check, at('module'), r.module);
    const name = check.string(at('name'), r.name, ruleNameOf(module) || `rule-${i}`);
    const first = names.get(name);
    if (first === undefined) names.set(name, i);
    else {
      check.report(
        at('name'),
        `${renderValue(name)} is already the name of rules[${first}] in this pipeline ` +
          `(rule names must be unique within a pipeline; set name: on one of them)`,
        r.name,
      );
    }
    const config = check.record(at('config'), r.config, 'rule parameters');
    const params: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(config))
      params[key] = check.plain([...at('config'), key], value);
    const fuel =
      r.fuel === undefined || r.fuel === null
        ? undefined
        : check.int(at('fuel'), r.fuel, 0, {
            min: 1000,
            max: 2_147_483_647,
            unit: 'units of fuel (function entries and loop iterations per call)',
          });
    rules.push(
      fuel === undefined
        ? { name, module, config: params }
        : { name, module, config: params, fuel },
    );
  }
  return rules;
}

/** Prefix of a `module` that names a rule in the gateway's store. */
const STORE_PREFIX = 'store:';

/** The default rule name for a module: the file's base name, or the stored rule's name. */
function ruleNameOf(module: string): string {
  if (module.startsWith(STORE_PREFIX))
    return module.slice(STORE_PREFIX.length).replace(/@\d+$/, '');
  return basename(module).replace(/\.wasm$/, '');
}

function resolveModule(check: ConfigChecker, path: ConfigPath, raw: unknown): string {
  const expected = `a path to a .wasm file or a built-in rule: ${BUILTIN_RULES.join(', ')}`;
  if (raw === undefined || raw === null) {
    check.report(path, `is missing (expected ${expected})`);
    return '';
  }
  const text = check.string(path, raw, '');
  if (text === '') return '';
  // A rule in the gateway's store (uploaded over the API): `store:<name>` (its active version) or `store:<name>@<version>`.
  if (text.startsWith(STORE_PREFIX)) {
    if (!/^store:[A-Za-z0-9][A-Za-z0-9._-]{0,63}(@[1-9]\d*)?$/.test(text)) {
      check.report(
        path,
        `${renderValue(text)} is not a stored rule reference (expected store:<name> for its active version or store:<name>@<version>, e.g. store:limits@2)`,
        raw,
      );
    }
    return text;
  }
  if (text.endsWith('.wasm') || text.includes('/') || text.includes('\\')) {
    return check.filePath(path, raw, text);
  }
  if ((BUILTIN_RULES as readonly string[]).includes(text)) return text;
  const hint = suggest(text, BUILTIN_RULES);
  check.report(
    path,
    `${renderValue(text)} is neither a .wasm file nor a built-in rule (` +
      (hint === undefined ? '' : `did you mean "${hint}"? `) +
      `expected ${expected})`,
    raw,
  );
  return text;
}
