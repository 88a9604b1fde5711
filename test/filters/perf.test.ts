/**
 * Measures the example rules through the host (copy-in included) on the "sensor-window" shape:
 * 500-event batches of ~100-byte JSON readings from 1000 devices. Prints ns/event; asserts only
 * outcomes (no timed assertions: the machine is shared and noisy).
 */
import { describe, expect, it } from 'vitest';
import { Format, FrameWriter } from '../../runtime/index.js';
import type { RuleModule } from '../../runtime/index.js';
import { TEST_RULES_DIR, loadRule, readOutputs, startRule } from './rule-harness.js';

const T0 = 1_700_000_000_000;
const BATCHES = 200;
const EVENTS = 500;
const encoder = new TextEncoder();

/** 200 frames of 500 readings; 10 readings per device per 1 s window. */
function sensorFrames(): { frames: Uint8Array[]; payloadBytes: number } {
  const frames: Uint8Array[] = [];
  let id = 1;
  let bytes = 0;
  for (let b = 0; b < BATCHES; b++) {
    const writer = new FrameWriter({ maxBytes: 1 << 20, maxEvents: EVENTS });
    for (let i = 0; i < EVENTS; i++) {
      const device = `dev-${(id * 7919) % 1000}`;
      const ts = T0 + Math.floor(id / 10);
      const temp = (15 + ((id * 37) % 200) / 10).toFixed(1);
      const hum = (30 + ((id * 53) % 400) / 10).toFixed(1);
      const payload = encoder.encode(
        `{"id":${id},"device":"${device}","ts":${ts},"temp":${temp},"hum":${hum},"bat":3.71,"status":"ok"}`,
      );
      bytes += payload.length;
      writer.append(`sensors/${device}/reading`, device, payload, id, ts, 1, Format.Json);
      id++;
    }
    frames.push(writer.bytes().slice());
  }
  return { frames, payloadBytes: bytes / (BATCHES * EVENTS) };
}

/** ns/event of `process` over all frames, best of 3 rounds of 3 passes (after a warm-up pass). */
function measure(
  mod: RuleModule,
  config: Record<string, unknown>,
  frames: readonly Uint8Array[],
): { ns: number; outputs: number } {
  let best = Infinity;
  let outputs = 0;
  for (let round = 0; round < 3; round++) {
    const { rule } = startRule(mod, config);
    for (const frame of frames) rule.process(frame, T0);
    const start = process.hrtime.bigint();
    for (let pass = 0; pass < 3; pass++) for (const frame of frames) rule.process(frame, T0);
    const ns = Number(process.hrtime.bigint() - start) / (3 * frames.length * EVENTS);
    best = Math.min(best, ns);
    const { rule: fresh } = startRule(mod, config);
    outputs = 0;
    for (const frame of frames) outputs += readOutputs(fresh.process(frame, T0)).length;
  }
  return { ns: best, outputs };
}

describe('rule throughput through the host', () => {
  it('window-stats, threshold and deadband on 500-event batches of ~100-byte JSON readings', async () => {
    const { frames, payloadBytes } = sensorFrames();
    const results = {
      'window-stats': measure(await loadRule('window-stats'), { min: -40, max: 125 }, frames),
      'window-stats (incremental runtime)': measure(
        await loadRule('window-stats-incremental', TEST_RULES_DIR),
        { min: -40, max: 125 },
        frames,
      ),
      threshold: measure(await loadRule('threshold'), {}, frames),
      deadband: measure(await loadRule('deadband'), { delta: 1 }, frames),
    };
    const lines = Object.entries(results).map(
      ([name, r]) => `  ${name.padEnd(36)} ${r.ns.toFixed(0).padStart(5)} ns/event`,
    );
    console.log(
      `${BATCHES}×${EVENTS} readings of ${payloadBytes.toFixed(0)} B, copy-in included:\n${lines.join('\n')}`,
    );
    // 100 000 readings, 10 per device and window: about 10 000 windows, the last 1000 still open.
    expect(results['window-stats'].outputs).toBeGreaterThan(8900);
    expect(results['window-stats (incremental runtime)'].outputs).toBe(
      results['window-stats'].outputs,
    );
    expect(results.threshold.outputs).toBe(BATCHES * EVENTS);
  });
});
