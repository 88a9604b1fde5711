/**
 * @module The options of a rule instance (`RuleInstance.create`): its name in errors, its
 * configuration bytes, log and metric callbacks, and its fuel per call, with their checks.
 */
import { RuntimeOptionsError } from './errors.js';

/** Name of the exported i32 global a fuel-metered rule counts down (gateway/rules/fuel.ts). */
export const FUEL_GLOBAL = 'sluice_fuel';

/** Options of `RuleInstance.create`. */
export interface RuleInstanceOptions {
  /** Name of the rule in errors. @default 'rule' */
  name?: string;
  /** The rule's configuration as CBOR bytes, passed to `init`. @default empty (0 bytes) */
  config?: Uint8Array;
  /** Receives the rule's log lines (level 0 trace … 4 error). @default ignore them */
  onLog?: (level: number, message: string) => void;
  /** Receives the rule's metrics. @default ignore them */
  onMetric?: (name: string, value: number) => void;
  /**
   * Fuel per call, for a module metered at build time (it exports `sluice_fuel`): the count
   * of function entries and loop iterations a call may run before the rule traps.
   * @default undefined (no budget; a metered module then runs with ~2^31)
   */
  fuel?: number;
}

/** `RuleInstanceOptions` with every default filled in. */
export interface ResolvedRuleInstanceOptions {
  name: string;
  config: Uint8Array;
  onLog: ((level: number, message: string) => void) | undefined;
  onMetric: ((name: string, value: number) => void) | undefined;
  fuel: number | undefined;
}

/** Fills defaults and checks `RuleInstanceOptions`; copies `config`. */
export function resolveRuleInstanceOptions(
  options: RuleInstanceOptions = {},
): ResolvedRuleInstanceOptions {
  const config = options.config ?? new Uint8Array(0);
  if (!(config instanceof Uint8Array)) {
    throw new RuntimeOptionsError(
      `config: expected the rule's configuration as CBOR bytes (a Uint8Array), got ${typeof config}`,
    );
  }
  const fuel = options.fuel;
  if (fuel !== undefined && (!Number.isInteger(fuel) || fuel < 1 || fuel > 0x7fffffff)) {
    throw new RuntimeOptionsError(
      `fuel: ${String(fuel)} is not a whole number from 1 to 2147483647 (units of function entries and loop iterations per call, e.g. 10000000)`,
    );
  }
  return {
    name: options.name ?? 'rule',
    config: config.slice(),
    onLog: options.onLog,
    onMetric: options.onMetric,
    fuel,
  };
}
