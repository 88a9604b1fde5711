import { describe, expect, it } from 'vitest';
import { FrameReader } from '../../runtime/index.js';
import type { RuleModule } from '../../runtime/index.js';
import { prng, readings } from './reference.js';
import { TEST_RULES_DIR, frameOf, loadRule, startRule } from './rule-harness.js';
import type { InEvent } from './rule-harness.js';

const T0 = 1_700_000_000_000;

/** Offsets of every record's time field in `frame`, to move a frame forward in time in place. */
function timeOffsets(frame: Uint8Array): number[] {
  const reader = new FrameReader().reset(frame);
  const offsets: number[] = [];
  while (reader.next()) offsets.push(reader.recordStart + 24);
  return offsets;
}

/** Runs window-stats over `batches` batches of 500 readings; returns the memory size every 1000 batches. */
function windowStatsMemory(mod: RuleModule, batches: number): { sizes: number[]; outputs: number } {
  const { rule } = startRule(mod, { timeField: '' });
  const rng = prng(5);
  const frames = Array.from({ length: 20 }, (_, f) =>
    frameOf(
      readings(rng, 500, 1 + f * 500, () => T0, { devices: 1000, broken: 0.05, outOfRange: 0.05 }),
    ),
  );
  const offsets = frames.map(timeOffsets);
  const sizes: number[] = [];
  let outputs = 0;
  for (let batch = 0; batch < batches; batch++) {
    const frame = frames[batch % frames.length]!;
    const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
    // 10 ms per batch: every device's window closes about every 100 batches.
    const base = T0 + batch * 10;
    for (const at of offsets[batch % frames.length]!) {
      view.setUint32(at, base % 2 ** 32, true);
      view.setUint32(at + 4, Math.floor(base / 2 ** 32), true);
    }
    outputs += rule.process(frame, base).length;
    if (batch % 1000 === 999) sizes.push(rule.memoryBytes);
  }
  return { sizes, outputs };
}

describe('rule memory', () => {
  it('stops growing: window-stats over 10 000 batches of 500 events', async () => {
    const { sizes, outputs } = windowStatsMemory(await loadRule('window-stats'), 10_000);
    expect(outputs).toBeGreaterThan(10_000 * 16);
    // Flat from the first sample on: after the first batches (1000 keys interned, buffers grown)
    // nothing grows.
    expect(new Set(sizes).size, `memory after each 1000 batches: ${sizes.join(', ')}`).toBe(1);
  });

  it('stops growing with the incremental runtime too', async () => {
    const { sizes } = windowStatsMemory(
      await loadRule('window-stats-incremental', TEST_RULES_DIR),
      4000,
    );
    expect(
      new Set(sizes.slice(1)).size,
      `memory after each 1000 batches: ${sizes.join(', ')}`,
    ).toBe(1);
  });

  it('stops growing when a rule allocates garbage in every batch (the collector runs after each call)', async () => {
    const { rule } = startRule(await loadRule('probe', TEST_RULES_DIR));
    const events: InEvent[] = [{ key: 'alloc', id: 1, payload: { a: 1, d: 'some text' } }];
    for (let i = 2; i <= 50; i++)
      events.push({ key: `dev-${i}`, id: i, payload: { a: i, b: i, d: 'hello', x: { y: 1 } } });
    const frame = frameOf(events);
    const sizes: number[] = [];
    for (let batch = 0; batch < 3000; batch++) {
      rule.process(frame, batch);
      if (batch % 500 === 499) sizes.push(rule.memoryBytes);
    }
    expect(new Set(sizes).size, `memory after each 500 batches: ${sizes.join(', ')}`).toBe(1);
  });
});
