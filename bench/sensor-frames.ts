/**
 * @module Bench input: ~100-byte JSON readings `{"id","device","ts","temp","hum","bat","status"}`
 * from 1000 devices (10 per device per second, time moving forward) in 500-event frames, as in
 * bench/rule-engine.ts.
 */
import { FrameWriter } from '../runtime/index.js';

/** Event time of the first reading. */
export const T0 = 1_700_000_000_000;
/** Events per frame. */
export const BATCH = 500;
const DEVICES = 1000;
const encoder = new TextEncoder();

/** The readings as 500-event frames, time moving forward (as in bench/rule-engine.ts). */
export function frames(events: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  let id = 1;
  for (let b = 0; b < events / BATCH; b++) {
    const writer = new FrameWriter({ maxBytes: 1 << 20, maxEvents: BATCH });
    for (let i = 0; i < BATCH; i++) {
      const device = `dev-${(id * 7919) % DEVICES}`;
      const ts = T0 + Math.floor(id / 10);
      const temp = (15 + ((id * 37) % 200) / 10).toFixed(1);
      const text = `{"id":${id},"device":"${device}","ts":${ts},"temp":${temp},"hum":40.1,"bat":3.71,"status":"ok"}`;
      writer.append(`sensors/${device}/reading`, device, encoder.encode(text), id, ts, 1, 1);
      id++;
    }
    out.push(writer.bytes().slice());
  }
  return out;
}
