/**
 * @module The module's exports: the canonical-ABI lowering of world `sluice:rule/rule`
 * (runtime/wit/rule.wit, runtime/FRAME.md). A rule file ends with
 * `export * from "../sdk/exports";` and never writes pointer code:
 *
 *   memory                                   (asc exports it)
 *   cabi_realloc(old, oldSize, align, size) -> ptr
 *   init(ptr, len) -> ptr        result<_, string>: u8 discriminant @0, string ptr @4, len @8
 *   process(ptr, len, now: i64) -> ptr       list<u8> (the output frame): ptr @0, len @4
 *   tick(now: i64) -> ptr                    list<u8>
 *   flush() -> ptr                           list<u8>
 *   snapshot() -> ptr                        list<u8>
 *   restore(ptr, len) -> ptr                 result<_, string>
 *
 * Every returned list lives in SDK-owned memory and stays valid until the next call.
 *
 * Garbage: rules are built with the `minimal` runtime (gateway/rules/build.ts), whose collector
 * runs only when told, so every call ends with `__collect()`; with `incremental` it runs by
 * itself and nothing is added. Measured on window-stats through the host (test/filters/perf.test.ts:
 * 500-event batches of ~100-byte JSON readings, 1000 devices, copy-in included, 2 vCPU):
 * minimal + collect 204–218 ns/event, incremental 282–378 ns/event (its shadow stack costs on
 * every call that holds a reference). Both keep memory flat (test/filters/memory.test.ts).
 */

import './abort';
import { Batch } from './batch';
import { ByteBuffer } from './byte-buffer';
import { Config } from './config';
import { Output } from './output';
import { registeredRule } from './rule';
import { STATE_MAGIC, StateReader, StateWriter } from './state';

const batch = new Batch();
const out = new Output();
const stateOut = new StateWriter();
const messages = new ByteBuffer(256);

// Result areas: result<_, string> is 12 bytes, list<u8> 8.
const resultArea = memory.data(12, 4);
const listArea = memory.data(8, 4);

// The one region the host copies arguments into (init's config, process's batch, restore's
// state): each is read during its call only, so the region is reused, grown when too small.
let inputPtr: usize = 0;
let inputCap: usize = 0;

/** Lets the minimal runtime collect garbage after a call (a no-op with other runtimes). */
function collect(): void {
  if (ASC_RUNTIME == 1) __collect();
}

function ok(): usize {
  store<u8>(resultArea, 0);
  store<u32>(resultArea, 0, 4);
  store<u32>(resultArea, 0, 8);
  return resultArea;
}

function err(message: string): usize {
  messages.clear();
  const n = messages.utf8(message);
  store<u8>(resultArea, 1);
  store<u32>(resultArea, <u32>messages.ptr, 4);
  store<u32>(resultArea, n, 8);
  return resultArea;
}

function list(buf: ByteBuffer): usize {
  store<u32>(listArea, <u32>buf.ptr);
  store<u32>(listArea, buf.len, 4);
  return listArea;
}

/** Canonical-ABI allocator the host calls to copy a call's argument in. */
export function cabi_realloc(oldPtr: usize, oldSize: usize, align: usize, newSize: usize): usize {
  if (oldPtr != 0 && oldPtr != inputPtr) return heap.realloc(oldPtr, newSize);
  if (newSize > inputCap || inputPtr == 0) {
    let cap: usize = inputCap < 4096 ? 4096 : inputCap;
    while (cap < newSize) cap <<= 1;
    // The old contents are not needed (the previous argument is dead): free and allocate
    // rather than realloc, which would copy them. A realloc of the region keeps them.
    if (oldPtr == 0) {
      if (inputPtr != 0) heap.free(inputPtr);
      inputPtr = heap.alloc(cap);
    } else {
      inputPtr = heap.realloc(inputPtr, cap);
    }
    inputCap = cap;
  }
  return inputPtr;
}

/** init(config: list<u8>) -> result<_, string> */
export function init(ptr: usize, len: usize): usize {
  const cfg = new Config(ptr, len);
  if (cfg.error === null) registeredRule().init(cfg);
  const e = cfg.error;
  const result = e === null ? ok() : err(e);
  collect();
  return result;
}

function processBatch(ptr: usize, len: usize, now: i64): usize {
  batch.reset(ptr, len);
  out.begin();
  registeredRule().process(batch, out, now);
  out.finish();
  collect();
  return list(out.buf);
}

// `process` would shadow AssemblyScript's global `process` namespace inside this file.
export { processBatch as process };

/** tick(now: s64) -> list<u8> */
export function tick(now: i64): usize {
  out.begin();
  registeredRule().tick(out, now);
  out.finish();
  collect();
  return list(out.buf);
}

/** flush() -> list<u8> */
export function flush(): usize {
  out.begin();
  registeredRule().flush(out);
  out.finish();
  collect();
  return list(out.buf);
}

/** snapshot() -> list<u8>: the SDK header (`STATE_MAGIC`), then what the rule writes. */
export function snapshot(): usize {
  stateOut.begin();
  registeredRule().snapshot(stateOut);
  collect();
  return list(stateOut.buf);
}

/**
 * restore(state: list<u8>) -> result<_, string>. A refused state leaves the rule as it was: the
 * SDK snapshots the current state first and puts it back when the rule refuses the new one.
 */
export function restore(ptr: usize, len: usize): usize {
  const message = restoreFrom(ptr, len, true);
  const result = message === null ? ok() : err(message);
  collect();
  return result;
}

function restoreFrom(ptr: usize, len: usize, keepOnFailure: bool): string | null {
  if (len < 4 || load<u32>(ptr) != STATE_MAGIC) {
    return 'state is not a Sluice rule snapshot (version 1): it does not start with SLS1';
  }
  const rule = registeredRule();
  if (keepOnFailure) {
    stateOut.begin();
    rule.snapshot(stateOut);
  }
  const r = new StateReader(ptr, len);
  r.take(4);
  rule.restore(r);
  if (r.ok && r.remaining != 0)
    r.fail('state has ' + r.remaining.toString() + ' bytes the rule did not read');
  const e = r.error;
  if (e !== null && keepOnFailure) restoreFrom(stateOut.buf.ptr, stateOut.buf.len, false);
  return e;
}
