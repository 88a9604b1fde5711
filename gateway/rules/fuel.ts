/**
 * @module Fuel metering of a rule module, done once when a rule is built or uploaded (never on
 * the runtime path): binaryen (a dev dependency, ~0.4 s to load, so imported lazily) adds a
 * mutable i32 global exported as `sluice_fuel`, and at every function entry and loop header
 * decrements it and traps (`unreachable`) once it is below zero. The host sets the budget
 * before each call (`RuleInstanceOptions.fuel`), so a rule stuck in a loop traps within its
 * budget instead of blocking its thread until the watchdog's timeout; the trap is isolated event
 * by event like any other.
 *
 * Cost measured with `node dist/bench/rule-fuel.js` (window-stats, 500-event batches): see
 * the numbers in that file's header.
 */
import { FUEL_GLOBAL } from '../../runtime/index.js';
import { RuleCompilerMissingError } from './errors.js';

type Binaryen = typeof import('binaryen').default;
type Module = InstanceType<Binaryen['Module']>;
/** Expression setters binaryen.js has and its typings lack. */
interface Setters {
  Loop: { getBody(loop: number): number; setBody(loop: number, body: number): void };
  Function: { setBody(fn: number, body: number): void };
}

/** Expression kinds searched for loops (binaryen's `getExpressionInfo` does not know every kind). */
let WALKED: ReadonlySet<number> = new Set();

/** Children of the expression kinds a rule's code holds (by binaryen expression id). */
function childrenOf(b: Binaryen, expr: number): number[] {
  const id = b.getExpressionId(expr);
  const out: number[] = [];
  if (!WALKED.has(id)) return out;
  const info = b.getExpressionInfo(expr) as unknown as Record<string, unknown>;
  const add = (...refs: unknown[]): void => {
    for (const ref of refs) if (typeof ref === 'number' && ref !== 0) out.push(ref);
  };
  switch (id) {
    case b.BlockId:
      add(...(info['children'] as number[]));
      break;
    case b.IfId:
      add(info['condition'], info['ifTrue'], info['ifFalse']);
      break;
    case b.LoopId:
      add(info['body']);
      break;
    case b.BreakId:
    case b.SwitchId:
      add(info['condition'], info['value']);
      break;
    case b.CallId:
      add(...(info['operands'] as number[]));
      break;
    case b.CallIndirectId:
      add(info['target'], ...(info['operands'] as number[]));
      break;
    case b.LocalSetId:
    case b.GlobalSetId:
    case b.UnaryId:
    case b.DropId:
    case b.ReturnId:
      add(info['value']);
      break;
    case b.LoadId:
      add(info['ptr']);
      break;
    case b.StoreId:
      add(info['ptr'], info['value']);
      break;
    case b.BinaryId:
      add(info['left'], info['right']);
      break;
    case b.SelectId:
      add(info['ifTrue'], info['ifFalse'], info['condition']);
      break;
    case b.MemoryGrowId:
      add(info['delta']);
      break;
    case b.MemoryCopyId:
      add(info['dest'], info['source'], info['size']);
      break;
    case b.MemoryFillId:
      add(info['dest'], info['value'], info['size']);
      break;
    default:
      // Constants, local/global gets, nop, unreachable, memory.size: no children (SIMD and
      // atomics, which AssemblyScript rules do not use here, are not searched for loops).
      break;
  }
  return out;
}

/** `fuel -= 1; if (fuel < 0) unreachable` */
function charge(b: Binaryen, mod: Module): number {
  return mod.block(null, [
    mod.global.set(FUEL_GLOBAL, mod.i32.sub(mod.global.get(FUEL_GLOBAL, b.i32), mod.i32.const(1))),
    mod.if(mod.i32.lt_s(mod.global.get(FUEL_GLOBAL, b.i32), mod.i32.const(0)), mod.unreachable()),
  ]);
}

async function loadBinaryen(): Promise<Binaryen> {
  try {
    return (await import('binaryen')).default;
  } catch (error) {
    throw new RuleCompilerMissingError(
      'fuel metering needs binaryen (a dev dependency of sluice): install it with npm install --save-dev binaryen, or build the rule without fuel',
      { cause: error },
    );
  }
}

/**
 * Returns `bytes` with fuel metering added: the global `sluice_fuel` (exported) and a charge of
 * one unit at every function entry and loop header.
 */
export async function meterFuel(bytes: Uint8Array): Promise<Uint8Array> {
  const b = await loadBinaryen();
  WALKED = new Set([
    b.BlockId,
    b.IfId,
    b.LoopId,
    b.BreakId,
    b.SwitchId,
    b.CallId,
    b.CallIndirectId,
    b.LocalSetId,
    b.GlobalSetId,
    b.UnaryId,
    b.DropId,
    b.ReturnId,
    b.LoadId,
    b.StoreId,
    b.BinaryId,
    b.SelectId,
    b.MemoryGrowId,
    b.MemoryCopyId,
    b.MemoryFillId,
  ]);
  // Every feature binaryen knows: the validator then accepts what asc emitted (bulk memory,
  // sign extension, …); the output uses only what the input did, plus a mutable global.
  const mod = b.readBinaryWithFeatures(bytes, b.Features.All);
  try {
    mod.addGlobal(FUEL_GLOBAL, b.i32, true, mod.i32.const(0x7fffffff));
    mod.addGlobalExport(FUEL_GLOBAL, FUEL_GLOBAL);
    for (let i = 0; i < mod.getNumFunctions(); i++) {
      const fn = mod.getFunctionByIndex(i);
      const info = b.getFunctionInfo(fn);
      if ((info.base !== null && info.base !== '') || info.body === 0) continue; // imported
      const loops: number[] = [];
      const stack = [info.body];
      while (stack.length > 0) {
        const expr = stack.pop() as number;
        if (b.getExpressionId(expr) === b.LoopId) loops.push(expr);
        stack.push(...childrenOf(b, expr));
      }
      const set = b as unknown as Setters;
      for (const loop of loops) {
        const body = set.Loop.getBody(loop);
        set.Loop.setBody(loop, mod.block(null, [charge(b, mod), body], b.getExpressionType(body)));
      }
      set.Function.setBody(fn, mod.block(null, [charge(b, mod), info.body], info.results));
    }
    if (!mod.validate()) throw new Error('binaryen refused the metered module');
    return mod.emitBinary();
  } finally {
    mod.dispose();
  }
}
