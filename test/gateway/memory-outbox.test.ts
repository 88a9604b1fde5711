/**
 * MemoryOutbox: bounded, FIFO, partial acceptance, batches cut by records and bytes, linger,
 * and water marks that fire on crossings only.
 */
import { describe, expect, it } from 'vitest';
import { FrameReader, FrameWriter } from '../../runtime/index.js';
import { MemoryOutbox } from '../../gateway/outbox/memory-outbox.js';

/** A frame of `count` records with ids from `firstId` and payload `{"n":<id>}`. */
function frame(firstId: number, count: number): Uint8Array {
  const writer = new FrameWriter({ maxEvents: count, maxBytes: 1 << 20 });
  for (let i = 0; i < count; i++) {
    writer.append(
      'default',
      'k',
      new TextEncoder().encode(`{"n":${firstId + i}}`),
      firstId + i,
      0,
      0,
      1,
    );
  }
  return writer.bytes().slice();
}

function ids(batchFrame: Uint8Array): number[] {
  const reader = new FrameReader().reset(batchFrame);
  const out: number[] = [];
  while (reader.next()) out.push(reader.id);
  return out;
}

describe('MemoryOutbox', () => {
  it('accepts records only up to its capacity and takes them back in order', () => {
    const outbox = new MemoryOutbox({ capacity: 5 });
    expect(outbox.offer(frame(1, 3))).toBe(3);
    const second = frame(4, 4);
    expect(outbox.offer(second)).toBe(2);
    expect(outbox.depth).toBe(5);
    expect(outbox.offer(second, 2)).toBe(0);
    const batch = outbox.reader('default').take(10, 1 << 20);
    expect(batch && ids(batch.frame)).toEqual([1, 2, 3, 4, 5]);
    expect(outbox.depth).toBe(5);
    outbox.reader('default').ack(batch!);
    expect(outbox.depth).toBe(0);
    expect(outbox.offer(second, 2)).toBe(2);
    expect(ids(outbox.reader('default').take(10, 1 << 20)!.frame)).toEqual([6, 7]);
    expect(outbox.peakDepth).toBe(5);
  });

  it('cuts batches by record count and by bytes, splitting offered frames', () => {
    const outbox = new MemoryOutbox({ capacity: 100 });
    outbox.offer(frame(1, 10));
    outbox.offer(frame(11, 10));
    expect(ids(outbox.reader('default').take(4, 1 << 20)!.frame)).toEqual([1, 2, 3, 4]);
    const recordBytes = 32 + 1 + 7 + 8; // header + key + topic + `{"n":NN}`
    expect(ids(outbox.reader('default').take(100, recordBytes * 3)!.frame)).toEqual([5, 6, 7]);
    expect(ids(outbox.reader('default').take(100, 1 << 20)!.frame)).toEqual([
      8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20,
    ]);
    expect(outbox.reader('default').take(100, 1 << 20)).toBeUndefined();
    expect(outbox.reader('default').ready).toBe(0);
    expect(outbox.depth).toBe(20);
  });

  it('signals high and low water once per crossing and makes writers wait in between', async () => {
    const events: string[] = [];
    const outbox = new MemoryOutbox({
      capacity: 4,
      lowWater: 1,
      onHighWater: (depth) => events.push(`high ${depth}`),
      onLowWater: (depth) => events.push(`low ${depth}`),
    });
    outbox.offer(frame(1, 6));
    let roomy = false;
    const room = outbox.waitForRoom().then(() => {
      roomy = true;
    });
    const first = outbox.reader('default').take(2, 1 << 20)!;
    outbox.reader('default').ack(first);
    expect(outbox.depth).toBe(2);
    expect(outbox.offer(frame(9, 1))).toBe(0); // still above low water after being full
    await Promise.resolve();
    expect(roomy).toBe(false);
    outbox.reader('default').ack(outbox.reader('default').take(1, 1 << 20)!);
    await room;
    expect(roomy).toBe(true);
    expect(events).toEqual(['high 4', 'low 1']);
  });

  it('wakes the reader when enough records are ready or the oldest has lingered', async () => {
    const outbox = new MemoryOutbox({ capacity: 100 });
    const full = outbox.reader('default').waitForRecords(3, 1 << 20, 60_000);
    outbox.offer(frame(1, 3));
    await full;
    outbox.reader('default').take(10, 1 << 20);
    const started = Date.now();
    const lingered = outbox.reader('default').waitForRecords(50, 1 << 20, 50);
    outbox.offer(frame(4, 1));
    await lingered;
    expect(Date.now() - started).toBeGreaterThanOrEqual(40);
  });
});
