/**
 * @module The cost of moving one batch to a worker thread and a result back, two ways, for
 * bench/worker-pool.ts: `postMessage` with the batch's `ArrayBuffer` transferred (and handed
 * back), against a SharedArrayBuffer ring the batch is copied into, with `Atomics.notify` to
 * wake the worker and `Atomics.waitAsync` on the main thread (which must not block). The worker
 * reads every byte of the batch and answers with a result of `resultBytes`, as a rule would.
 */
import { Worker } from 'node:worker_threads';

/** Round-trip figures of one transport. */
export interface TransportFigures {
  /** Wall time per round trip, in microseconds. */
  usPerBatch: number;
  /** CPU time of the whole process (both threads) per round trip, in microseconds. */
  cpuUsPerBatch: number;
}

const TRANSFER_WORKER = `
const { parentPort } = require('node:worker_threads');
parentPort.on('message', ({ batch, resultBytes }) => {
  let sum = 0;
  for (let i = 0; i < batch.length; i += 64) sum += batch[i];
  const result = new Uint8Array(resultBytes);
  result[0] = sum & 0xff;
  parentPort.postMessage({ batch, result }, [batch.buffer, result.buffer]);
});
`;

// ctrl[0]: 0 idle, 1 request ready, 2 reply ready; ctrl[1]: batch length; ctrl[2]: result length.
const RING_WORKER = `
const { workerData } = require('node:worker_threads');
const ctrl = new Int32Array(workerData.sab, 0, 4);
const data = new Uint8Array(workerData.sab, 16);
for (;;) {
  let state = Atomics.load(ctrl, 0);
  while (state !== 1) { Atomics.wait(ctrl, 0, state); state = Atomics.load(ctrl, 0); }
  const n = ctrl[1];
  let sum = 0;
  for (let i = 0; i < n; i += 64) sum += data[i];
  const resultBytes = workerData.resultBytes;
  data.fill(0, n, n + resultBytes);
  data[n] = sum & 0xff;
  ctrl[2] = resultBytes;
  Atomics.store(ctrl, 0, 2);
  Atomics.notify(ctrl, 0);
}
`;

/** `Atomics.waitAsync` (V8 ships it in Node 20; the ES2023 lib of tsconfig lacks its type). */
const waitAsync = (
  Atomics as unknown as {
    waitAsync(
      array: Int32Array,
      index: number,
      value: number,
    ): { async: false; value: string } | { async: true; value: Promise<string> };
  }
).waitAsync;

function cpuUs(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

/** Round trips with the batch transferred by `postMessage` (and handed back). */
export async function measureTransfer(
  batch: Uint8Array,
  resultBytes: number,
  trips: number,
): Promise<TransportFigures> {
  const worker = new Worker(TRANSFER_WORKER, { eval: true });
  let buffer: Uint8Array = batch.slice();
  const trip = (): Promise<void> =>
    new Promise((resolve) => {
      worker.once('message', (reply: { batch: Uint8Array; result: Uint8Array }) => {
        buffer = reply.batch;
        resolve();
      });
      worker.postMessage({ batch: buffer, resultBytes }, [buffer.buffer as ArrayBuffer]);
    });
  for (let i = 0; i < 200; i++) await trip();
  const cpu = cpuUs();
  const start = performance.now();
  for (let i = 0; i < trips; i++) await trip();
  const ms = performance.now() - start;
  const cpuUsed = cpuUs() - cpu;
  await worker.terminate();
  return { usPerBatch: (ms * 1000) / trips, cpuUsPerBatch: cpuUsed / trips };
}

/** Round trips through a SharedArrayBuffer ring, the batch copied in, the result copied out. */
export async function measureRing(
  batch: Uint8Array,
  resultBytes: number,
  trips: number,
): Promise<TransportFigures> {
  const sab = new SharedArrayBuffer(16 + batch.length + resultBytes);
  const ctrl = new Int32Array(sab, 0, 4);
  const data = new Uint8Array(sab, 16);
  const out = new Uint8Array(resultBytes);
  const worker = new Worker(RING_WORKER, { eval: true, workerData: { sab, resultBytes } });
  const trip = async (): Promise<void> => {
    data.set(batch, 0);
    ctrl[1] = batch.length;
    Atomics.store(ctrl, 0, 1);
    Atomics.notify(ctrl, 0);
    const wait = waitAsync(ctrl, 0, 1);
    if (wait.async) await wait.value;
    const n = ctrl[2] as number;
    out.set(data.subarray(batch.length, batch.length + n));
    Atomics.store(ctrl, 0, 0);
  };
  for (let i = 0; i < 200; i++) await trip();
  const cpu = cpuUs();
  const start = performance.now();
  for (let i = 0; i < trips; i++) await trip();
  const ms = performance.now() - start;
  const cpuUsed = cpuUs() - cpu;
  // The worker blocks in Atomics.wait: terminate() interrupts it.
  await worker.terminate();
  return { usPerBatch: (ms * 1000) / trips, cpuUsPerBatch: cpuUsed / trips };
}
