/**
 * @module Test helper: input frames of JSON readings `{"seq":n}` per device key, and reading
 * the outputs and dead letters of a partitioned chain back.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Format, FrameReader, FrameWriter, compileRule } from '../../../runtime/index.js';
import type { RuleModule } from '../../../runtime/index.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Compiles a rule built by the global setup into `dist/test-rules/`. */
export async function testRule(name: string): Promise<RuleModule> {
  const path = fileURLToPath(new URL(`../../../dist/test-rules/${name}.wasm`, import.meta.url));
  return compileRule(await readFile(path));
}

/** One event to put in a frame. */
export interface TestEvent {
  key: string;
  seq: number;
  id: number;
}

/** A frame of `{"seq":n}` readings, topic `sensors/<key>`. */
export function frameOf(events: readonly TestEvent[]): Uint8Array {
  const writer = new FrameWriter({ maxEvents: 100_000, maxBytes: 64 * 1024 * 1024 });
  for (const e of events) {
    const payload = encoder.encode(JSON.stringify({ seq: e.seq }));
    writer.append(`sensors/${e.key}`, e.key, payload, e.id, 1_700_000_000_000, 1, Format.Json);
  }
  return writer.bytes().slice();
}

/** A record read back from an output frame. */
export interface OutputRecord {
  output: string;
  key: string;
  id: number;
  seq: number | undefined;
}

/** The records of an output frame, in order. */
export function recordsOf(frame: Uint8Array | undefined): OutputRecord[] {
  if (frame === undefined) return [];
  const reader = new FrameReader().reset(frame);
  const out: OutputRecord[] = [];
  while (reader.next()) {
    let seq: number | undefined;
    const output = reader.topic();
    if (output === 'default')
      seq = (JSON.parse(decoder.decode(reader.payload())) as { seq: number }).seq;
    out.push({ output, key: reader.key(), id: reader.id, seq });
  }
  return out;
}

/** Events of `devices` keys `dev-<n>`, `perDevice` each, interleaved, ids from `firstId`. */
export function interleaved(devices: number, perDevice: number, firstId = 1): TestEvent[] {
  const events: TestEvent[] = [];
  let id = firstId;
  for (let s = 0; s < perDevice; s++) {
    for (let d = 0; d < devices; d++) events.push({ key: `dev-${d}`, seq: s, id: id++ });
  }
  return events;
}
