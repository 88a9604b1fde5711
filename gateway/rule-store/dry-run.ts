/**
 * @module The dry run of an uploaded rule's `init` with its configuration, in a worker thread
 * with a time limit: an `init` that loops forever is stopped by terminating the worker (V8
 * cannot interrupt Wasm on the main thread without blocking it), and a trap or a refusal is
 * reported with the rule's message. Nothing of the dry run touches the running pipelines.
 *
 * The worker is an inline script (`eval: true`), so the same code runs from the TypeScript
 * sources under vitest and from `dist/`. Measured here: spawning a worker takes 36–97 ms, and
 * `terminate()` of a worker stuck in Wasm 2.5–4 ms (FINDINGS.md); the time limit starts only
 * once the worker has instantiated the module and is about to call `init`.
 */
import { Worker } from 'node:worker_threads';
import type { RuleModule } from '../../runtime/index.js';
import { RuleDryRunError } from './errors.js';

/** The worker: instantiate, `_initialize`, copy the config in, `init`, read the result. */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
(function run() {
  const { module, config } = workerData;
  const send = (message) => parentPort.postMessage(message);
  const isTrap = (e) => e instanceof WebAssembly.RuntimeError || e instanceof RangeError;
  const text = (e) => (e && e.message) || String(e);
  let exports;
  try {
    const noop = () => {};
    exports = new WebAssembly.Instance(module, { $root: { log: noop, metric: noop } }).exports;
  } catch (e) {
    send({ kind: isTrap(e) ? 'trap' : 'instantiate', message: text(e) });
    return;
  }
  send({ kind: 'started' });
  try {
    if (typeof exports._initialize === 'function') exports._initialize();
    const len = config.length;
    const ptr = exports.cabi_realloc(0, 0, 8, len) >>> 0;
    let u8 = new Uint8Array(exports.memory.buffer);
    if (ptr > u8.length || len > u8.length - ptr) {
      send({ kind: 'abi', message: 'cabi_realloc returned ' + ptr + ' for ' + len + ' bytes, outside its ' + u8.length + '-byte memory' });
      return;
    }
    u8.set(config, ptr);
    const ret = exports.init(ptr, len) >>> 0;
    u8 = new Uint8Array(exports.memory.buffer);
    if (ret > u8.length - 12) {
      send({ kind: 'abi', message: 'init returned its result area at ' + ret + ', outside its ' + u8.length + '-byte memory' });
      return;
    }
    const view = new DataView(u8.buffer);
    const tag = view.getUint8(ret);
    if (tag === 0) { send({ kind: 'ok' }); return; }
    if (tag !== 1) {
      send({ kind: 'abi', message: 'init returned result discriminant ' + tag + ' (expected 0 for ok or 1 for error)' });
      return;
    }
    const mptr = view.getUint32(ret + 4, true);
    const mlen = view.getUint32(ret + 8, true);
    if (mptr > u8.length || mlen > u8.length - mptr) {
      send({ kind: 'abi', message: 'init returned an error message outside its memory' });
      return;
    }
    send({ kind: 'refused', message: new TextDecoder().decode(u8.subarray(mptr, mptr + Math.min(mlen, 65536))) });
  } catch (e) {
    send({ kind: isTrap(e) ? 'trap' : 'abi', message: text(e) });
  }
})();
`;

type WorkerReport =
  | { kind: 'started' | 'ok' }
  | { kind: 'trap' | 'instantiate' | 'abi' | 'refused'; message: string };

/**
 * Runs `init(config)` of `mod` in a fresh worker; resolves when `init` returned ok.
 * @throws RuleDryRunError: `INIT_TIMEOUT` after `timeoutMs` (the worker is terminated),
 *   `INIT_TRAP`, `INIT_REFUSED` (with the rule's message), `INSTANTIATE_FAILED`, `INIT_ABI`.
 */
export function dryRunInit(mod: RuleModule, config: Uint8Array, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { module: mod.module, config },
      // The rule's linear memory is outside V8's heap; this caps only the worker's own JS.
      resourceLimits: { maxOldGenerationSizeMb: 32, maxYoungGenerationSizeMb: 4 },
    });
    let timer: ReturnType<typeof setTimeout> | undefined;
    let settled = false;
    const finish = (error?: RuleDryRunError): void => {
      if (settled) return;
      settled = true;
      if (timer !== undefined) clearTimeout(timer);
      void worker.terminate();
      if (error === undefined) resolve();
      else reject(error);
    };
    worker.on('message', (report: WorkerReport) => {
      switch (report.kind) {
        case 'started':
          timer = setTimeout(() => {
            finish(
              new RuleDryRunError(
                'INIT_TIMEOUT',
                `init did not return within ${timeoutMs} ms with the given configuration (it was stopped; does it loop forever?); limits.ruleInitTimeoutMs sets the limit`,
              ),
            );
          }, timeoutMs);
          return;
        case 'ok':
          finish();
          return;
        case 'trap':
          finish(
            new RuleDryRunError(
              'INIT_TRAP',
              `init trapped with the given configuration: ${report.message}`,
            ),
          );
          return;
        case 'refused':
          finish(
            new RuleDryRunError(
              'INIT_REFUSED',
              `init refused the given configuration: ${report.message}`,
            ),
          );
          return;
        case 'instantiate':
          finish(
            new RuleDryRunError(
              'INSTANTIATE_FAILED',
              `the module could not be instantiated: ${report.message}`,
            ),
          );
          return;
        case 'abi':
          finish(new RuleDryRunError('INIT_ABI', `init broke the rule ABI: ${report.message}`));
          return;
      }
    });
    worker.on('error', (error) => {
      finish(
        new RuleDryRunError('INIT_TRAP', `the dry run of init failed: ${error.message}`, {
          cause: error,
        }),
      );
    });
    worker.on('exit', (code) => {
      finish(
        new RuleDryRunError(
          'INIT_TRAP',
          `the dry run of init ended without a result (worker exit ${code})`,
        ),
      );
    });
  });
}
