/**
 * @module Test harness for AssemblyScript rules through the real host (`runtime/`): loads a rule
 * built by the global setup, builds input frames with `FrameWriter` and decodes output frames
 * with `FrameReader` into plain records.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encode } from 'cbor-x';
import {
  Format,
  FrameReader,
  FrameWriter,
  RuleInstance,
  compileRule,
} from '../../runtime/index.js';
import type { RuleInstanceOptions, RuleModule } from '../../runtime/index.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
/** Example rules, built by test/global-setup.ts. */
export const RULES_DIR = join(root, 'dist', 'rules');
/** Test-only rules (filters/test-rules/), built by test/global-setup.ts. */
export const TEST_RULES_DIR = join(root, 'dist', 'test-rules');

const modules = new Map<string, Promise<RuleModule>>();

/** Compiles `<dir>/<name>.wasm` once per test file. */
export function loadRule(name: string, dir = RULES_DIR): Promise<RuleModule> {
  const path = join(dir, `${name}.wasm`);
  let mod = modules.get(path);
  if (mod === undefined) {
    mod = readFile(path).then((bytes) => compileRule(new Uint8Array(bytes)));
    modules.set(path, mod);
  }
  return mod;
}

/** What a rule logged and reported while a test ran. */
export interface HostLog {
  logs: { level: number; message: string }[];
  metrics: { name: string; value: number }[];
}

/** Instantiates `mod` with `config` (encoded as CBOR), collecting its logs and metrics. */
export function startRule(
  mod: RuleModule,
  config: Record<string, unknown> = {},
  options: RuleInstanceOptions = {},
): { rule: RuleInstance; host: HostLog } {
  const host: HostLog = { logs: [], metrics: [] };
  const rule = RuleInstance.create(mod, {
    config: new Uint8Array(encode(config)),
    onLog: (level, message) => host.logs.push({ level, message }),
    onMetric: (name, value) => host.metrics.push({ name, value }),
    ...options,
  });
  return { rule, host };
}

/** One input event. */
export interface InEvent {
  key: string;
  /** A string or bytes as is; any other value is encoded as JSON (or CBOR with format 'cbor'). */
  payload: unknown;
  id: number;
  /** Arrival time. @default 0 */
  time?: number;
  /** @default 'json' */
  format?: 'json' | 'cbor' | 'unknown' | 'text';
  /** @default `sensors/<key>/reading` */
  topic?: string;
  /** @default 1 */
  qos?: number;
}

const FORMATS = {
  json: Format.Json,
  cbor: Format.Cbor,
  unknown: Format.Unknown,
  text: Format.Text,
} as const;
const encoder = new TextEncoder();

/** The bytes of an event's payload. */
export function payloadBytes(event: InEvent): Uint8Array {
  const p = event.payload;
  if (p instanceof Uint8Array) return p;
  if (typeof p === 'string') return encoder.encode(p);
  if (event.format === 'cbor') return new Uint8Array(encode(p));
  return encoder.encode(JSON.stringify(p));
}

/** Builds one input frame (a copy) holding `events`. */
export function frameOf(events: readonly InEvent[]): Uint8Array {
  const writer = new FrameWriter({
    maxBytes: 64 * 1024 * 1024,
    maxEvents: Math.max(1, events.length),
  });
  for (const e of events) {
    const ok = writer.append(
      e.topic ?? `sensors/${e.key}/reading`,
      e.key,
      payloadBytes(e),
      e.id,
      e.time ?? 0,
      e.qos ?? 1,
      FORMATS[e.format ?? 'json'],
    );
    if (!ok) throw new Error(`event ${e.id} does not fit in the test frame`);
  }
  return writer.bytes().slice();
}

/** One decoded output record. */
export interface OutRecord {
  output: string;
  key: string;
  id: bigint;
  time: number;
  format: number;
  qos: number;
  /** The payload as UTF-8 text. */
  text: string;
  payload: Uint8Array;
}

/** Decodes an output frame (copies everything out of the rule's memory). */
export function readOutputs(frame: Uint8Array): OutRecord[] {
  const reader = new FrameReader().reset(frame);
  const out: OutRecord[] = [];
  const decoder = new TextDecoder();
  while (reader.next()) {
    const payload = reader.payload().slice();
    out.push({
      output: reader.topic(),
      key: reader.key(),
      id: reader.idBigInt(),
      time: reader.time,
      format: reader.format,
      qos: reader.qos,
      text: decoder.decode(payload),
      payload,
    });
  }
  return out;
}

/** Runs one batch through `rule` and decodes its outputs. */
export function run(rule: RuleInstance, events: readonly InEvent[], now = 0): OutRecord[] {
  return readOutputs(rule.process(frameOf(events), now));
}

/** FNV-1a 64 of the key's UTF-8 bytes then the window start as i64 little-endian (filters/sdk/hash.ts). */
export function windowId(key: string, start: number): bigint {
  const prime = 0x100000001b3n;
  const mask = 0xffffffffffffffffn;
  let h = 0xcbf29ce484222325n;
  for (const b of encoder.encode(key)) h = ((h ^ BigInt(b)) * prime) & mask;
  const s = BigInt.asUintN(64, BigInt(start));
  for (let i = 0n; i < 8n; i++) h = ((h ^ ((s >> (i * 8n)) & 0xffn)) * prime) & mask;
  return h;
}
