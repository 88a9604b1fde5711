/**
 * Memory of every window kind over long runs: windows open and close all the time (records go
 * back to the pool, sketches and sliding buffers are freed or reused), so once every key is
 * known the rule's memory stops growing.
 */
import { describe, expect, it } from 'vitest';
import { FrameReader } from '../../runtime/index.js';
import { prng, readings } from './reference.js';
import { frameOf, loadRule, startRule } from './rule-harness.js';

const T0 = 1_700_000_000_000;

/** Runs `batches` batches of 500 readings from 200 devices, 10 ms apart; memory every 500 batches. */
async function memoryOver(
  config: Record<string, unknown>,
  batches: number,
): Promise<{ sizes: number[]; outputs: number }> {
  const { rule } = startRule(await loadRule('window-stats'), { timeField: '', ...config });
  const rng = prng(8);
  const frames = Array.from({ length: 10 }, (_, f) =>
    frameOf(readings(rng, 500, 1 + f * 500, () => T0, { devices: 200, broken: 0, outOfRange: 0 })),
  );
  const offsets = frames.map((frame) => {
    const reader = new FrameReader().reset(frame);
    const at: number[] = [];
    while (reader.next()) at.push(reader.recordStart + 24);
    return at;
  });
  const sizes: number[] = [];
  let outputs = 0;
  for (let batch = 0; batch < batches; batch++) {
    const frame = frames[batch % frames.length]!;
    const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
    const at = offsets[batch % frames.length]!;
    for (let i = 0; i < at.length; i++) {
      // Arrival times spread over the batch's 10 ms, a little out of order.
      const time = T0 + batch * 10 + ((i * 7) % 10);
      view.setUint32(at[i]!, time % 2 ** 32, true);
      view.setUint32(at[i]! + 4, Math.floor(time / 2 ** 32), true);
    }
    outputs += rule.process(frame, T0 + batch * 10).length;
    outputs += rule.tick(T0 + batch * 10).length;
    if (batch % 500 === 499) sizes.push(rule.memoryBytes);
  }
  return { sizes, outputs };
}

describe('window memory', () => {
  const cases: Record<string, Record<string, unknown>> = {
    'hopping windows with quantile sketches': {
      window: 'hopping',
      windowMs: 400,
      slideMs: 100,
      aggregates: 'count,p50,p99',
    },
    'sliding windows': {
      window: 'sliding',
      windowMs: 100,
      aggregates: 'count,mean,stddev,p90',
      outOfOrderMs: 10,
    },
    'session windows with quantile sketches': {
      window: 'session',
      gapMs: 3,
      aggregates: 'count,duration,p50',
      outOfOrderMs: 10,
    },
    'count windows': { window: 'count', windowCount: 13, aggregates: 'count,first,last' },
  };
  for (const [name, config] of Object.entries(cases)) {
    it(`stops growing: ${name} over 2500 batches of 500 events`, async () => {
      const { sizes, outputs } = await memoryOver(config, 2500);
      expect(outputs).toBeGreaterThan(2500 * 16 * 20);
      expect(
        new Set(sizes.slice(1)).size,
        `memory after each 500 batches: ${sizes.join(', ')}`,
      ).toBe(1);
    });
  }
});
