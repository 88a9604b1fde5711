/**
 * @module Micro benchmark of the rule call path: `FrameWriter.append`, `FrameReader` walk, the raw
 * Wasm call, and `RuleInstance.process` (copy-in + call + output view) with an echo rule.
 * Run: `npx tsc -p tsconfig.build.json && node dist/bench/runtime-call.js`.
 */
import binaryen from 'binaryen';
import { Format, FrameReader, FrameWriter, RuleInstance, compileRule } from '../runtime/index.js';

// A rule that returns its input batch; cabi_realloc always hands out address 1024.
const ECHO_WAT = `(module
  (memory (export "memory") 64 1024)
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) (i32.const 1024))
  (func $list (param i32 i32) (result i32)
    (i32.store (i32.const 16) (local.get 0)) (i32.store (i32.const 20) (local.get 1)) (i32.const 16))
  (func (export "init") (param i32 i32) (result i32) (i32.store8 (i32.const 32) (i32.const 0)) (i32.const 32))
  (func (export "process") (param i32 i32 i64) (result i32) (call $list (local.get 0) (local.get 1)))
  (func (export "tick") (param i64) (result i32) (call $list (i32.const 0) (i32.const 0)))
  (func (export "flush") (result i32) (call $list (i32.const 0) (i32.const 0)))
  (func (export "snapshot") (result i32) (call $list (i32.const 0) (i32.const 0)))
  (func (export "restore") (param i32 i32) (result i32) (i32.store8 (i32.const 32) (i32.const 0)) (i32.const 32))
)`;

function wasm(wat: string): Uint8Array {
  const module = binaryen.parseText(wat);
  const bytes = module.emitBinary();
  module.dispose();
  return bytes;
}

/** Runs `fn` `iterations` times per round, returns the best round's ns per iteration. */
function measure(iterations: number, fn: (i: number) => void, rounds = 7): number {
  let best = Number.POSITIVE_INFINITY;
  for (let r = 0; r < rounds; r++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) fn(i);
    const ns = Number(process.hrtime.bigint() - start) / iterations;
    if (ns < best) best = ns;
  }
  return best;
}

function fill(writer: FrameWriter, events: number, payload: Uint8Array): Uint8Array {
  writer.reset();
  for (let i = 0; i < events; i++) {
    writer.append(
      `sensors/dev-${i % 1000}/reading`,
      `dev-${i % 1000}`,
      payload,
      i,
      1_700_000_000_000 + i,
      1,
      Format.Json,
    );
  }
  return writer.bytes();
}

const rows: [string, string][] = [];
const enc = new TextEncoder();
const payload = enc.encode(
  '{"id":123456,"device":"dev-17","ts":1700000000123,"temp":21.5,"hum":40.1,"pad":"xxxxxxxx"}',
);
const topics = Array.from({ length: 1000 }, (_, i) => `sensors/dev-${i}/reading`);
const keys = Array.from({ length: 1000 }, (_, i) => `dev-${i}`);

const writer = new FrameWriter({ maxBytes: 1 << 20, maxEvents: 500 });
const appendNs = measure(2000, () => {
  writer.reset();
  for (let i = 0; i < 500; i++)
    writer.append(topics[i] ?? '', keys[i] ?? '', payload, i, 1_700_000_000_000 + i, 1, 1);
  writer.bytes();
});
rows.push([
  'FrameWriter.append (~100-byte payload, 500/frame)',
  `${(appendNs / 500).toFixed(1)} ns/event`,
]);

const frame500 = fill(writer, 500, payload).slice();
const reader = new FrameReader();
let sink = 0;
const readNs = measure(5000, () => {
  reader.reset(frame500);
  while (reader.next()) sink += reader.payloadLength + reader.time;
});
rows.push(['FrameReader reset + walk (500 records)', `${(readNs / 500).toFixed(1)} ns/record`]);

const mod = await compileRule(wasm(ECHO_WAT));
const rule = RuleInstance.create(mod, { name: 'echo' });
const raw = new WebAssembly.Instance(mod.module, {}).exports['process'] as (
  p: number,
  l: number,
  n: bigint,
) => number;
const nowBig = 1_700_000_000_000n;
rows.push([
  'raw Wasm call process(i32, i32, i64) (constant BigInt)',
  `${measure(2_000_000, () => raw(1024, 16, nowBig)).toFixed(0)} ns/call`,
]);
rows.push([
  'raw Wasm call with BigInt(now) per call',
  `${measure(2_000_000, (i) => raw(1024, 16, BigInt(1_700_000_000_000 + i))).toFixed(0)} ns/call`,
]);

const empty = fill(writer, 0, payload).slice();
rows.push([
  'RuleInstance.process, empty frame, same now',
  `${measure(1_000_000, () => rule.process(empty, 1)).toFixed(0)} ns/call`,
]);
rows.push([
  'RuleInstance.process, empty frame, new now each call',
  `${measure(1_000_000, (i) => rule.process(empty, 1_700_000_000_000 + i)).toFixed(0)} ns/call`,
]);
const one = fill(writer, 1, payload).slice();
rows.push([
  'RuleInstance.process, 1 event',
  `${measure(1_000_000, (i) => rule.process(one, i)).toFixed(0)} ns/call`,
]);
const callNs = measure(20_000, (i) => rule.process(frame500, i));
rows.push([
  `RuleInstance.process, 500 events (${frame500.length} bytes)`,
  `${(callNs / 1000).toFixed(2)} µs/call = ${(callNs / 500).toFixed(1)} ns/event`,
]);

const width = Math.max(...rows.map(([name]) => name.length));
console.log(`Node ${process.version} (checksum ${sink % 1000})`);
for (const [name, value] of rows) console.log(`${name.padEnd(width)}  ${value}`);
