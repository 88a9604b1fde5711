/**
 * One contract suite for every `Outbox` (the in-memory outbox and the disk spool): several
 * readers, each with its own cursor, every reader gets every record in order, records leave only
 * once every reader acknowledged them, a late reader starts at the oldest record held, a slow
 * reader holds the others back only once the bound is reached, and acknowledgements release
 * records in order.
 */
import { rm } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryOutbox } from '../../gateway/outbox/memory-outbox.js';
import type { Outbox, OutboxBatch } from '../../gateway/outbox/outbox.js';
import { Spool } from '../../gateway/spool/spool.js';
import { drainIds, frameIds, numberedFrame, range, spoolDir } from '../spool/spool-fixtures.js';

interface OutboxKind {
  name: string;
  /** An outbox with readers `readers` and room for at least `records` small records. */
  open(readers: string[], records: number): Promise<Outbox>;
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const KINDS: OutboxKind[] = [
  {
    name: 'MemoryOutbox',
    async open(readers, records) {
      const outbox = new MemoryOutbox({ capacity: records });
      for (const name of readers) outbox.reader(name);
      return outbox;
    },
  },
  {
    name: 'Spool',
    async open(readers, records) {
      const dir = await spoolDir();
      // A record of numberedFrame(…, 0) is about 75 bytes plus a 20-byte entry header.
      const maxBytes = Math.max(65536, records * 100);
      const spool = await Spool.open({ dir, readers, maxBytes, segmentBytes: maxBytes / 8 });
      cleanups.push(async () => {
        await spool.shutdown();
        await rm(dir, { recursive: true, force: true });
      });
      return spool;
    },
  },
];

/** Offers `count` records from `firstId` in frames of 10; returns how many were accepted. */
async function offer(outbox: Outbox, firstId: number, count: number): Promise<number> {
  let accepted = 0;
  for (let id = firstId; id < firstId + count; id += 10) {
    const n = outbox.offer(numberedFrame(id, Math.min(10, firstId + count - id)));
    accepted += n;
    await outbox.flushed?.();
    if (n === 0) break;
  }
  return accepted;
}

describe.each(KINDS)('Outbox contract: $name', (kind) => {
  it('gives every reader every record, in order, from its own cursor', async () => {
    const outbox = await kind.open(['a', 'b'], 1000);
    expect(await offer(outbox, 1, 100)).toBe(100);
    const a = outbox.reader('a');
    const b = outbox.reader('b');
    expect(drainIds(a, 7)).toEqual(range(1, 101));
    expect(a.depth).toBe(0);
    expect(b.ready).toBe(100);
    expect(outbox.depth).toBe(100);
    expect(drainIds(b, 33)).toEqual(range(1, 101));
    expect(outbox.depth).toBe(0);
  });

  it('keeps records until every reader acknowledged them', async () => {
    const outbox = await kind.open(['a', 'b'], 1000);
    await offer(outbox, 1, 50);
    const a = outbox.reader('a');
    const b = outbox.reader('b');
    drainIds(a);
    const batch = b.take(20, 1 << 20) as OutboxBatch;
    expect(outbox.depth).toBe(50);
    b.ack(batch);
    expect(outbox.depth).toBe(30);
    expect(b.depth).toBe(30);
    expect(a.depth).toBe(0);
  });

  it('starts a reader added later at the oldest record still held', async () => {
    const outbox = await kind.open(['a'], 1000);
    await offer(outbox, 1, 40);
    const a = outbox.reader('a');
    const first = a.take(15, 1 << 20) as OutboxBatch;
    a.ack(first);
    const late = outbox.reader('late');
    expect(outbox.readers.map((reader) => reader.name)).toEqual(['a', 'late']);
    expect(drainIds(late)[0]).toBe(16);
    expect(drainIds(a)).toEqual(range(16, 41));
  });

  it('lets a reader run ahead of a stalled one until the bound is reached, then refuses offers', async () => {
    const outbox = await kind.open(['fast', 'stalled'], 200);
    const fast = outbox.reader('fast');
    const stalled = outbox.reader('stalled');
    let id = 1;
    let accepted = 0;
    // The fast reader keeps up; the stalled one never takes anything.
    for (;;) {
      const n = await offer(outbox, id, 10);
      id += 10;
      accepted += n;
      expect(drainIds(fast).length).toBe(n);
      if (n < 10) break;
    }
    expect(accepted).toBeGreaterThanOrEqual(200);
    expect(outbox.offer(numberedFrame(id, 1))).toBe(0);
    expect(fast.depth).toBe(0);
    expect(stalled.depth).toBe(accepted);
    let room = false;
    void outbox.waitForRoom().then(() => (room = true));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(room).toBe(false);
    // Once the stalled reader catches up, room frees and it got everything, in order.
    expect(drainIds(stalled)).toEqual(range(1, accepted + 1));
    await outbox.waitForRoom();
    expect(outbox.offer(numberedFrame(id, 1))).toBe(1);
  });

  it('releases records in order when a later batch is acknowledged first', async () => {
    const outbox = await kind.open(['a'], 1000);
    await offer(outbox, 1, 30);
    const a = outbox.reader('a');
    const first = a.take(10, 1 << 20) as OutboxBatch;
    const second = a.take(10, 1 << 20) as OutboxBatch;
    expect(frameIds(second.frame)).toEqual(range(11, 21));
    a.ack(second);
    expect(outbox.depth).toBe(30);
    a.ack(first);
    expect(outbox.depth).toBe(10);
  });

  it('wakes each reader waiting for records, and every reader on close', async () => {
    const outbox = await kind.open(['a', 'b'], 1000);
    const a = outbox.reader('a');
    const b = outbox.reader('b');
    const waitA = a.waitForRecords(5, 1 << 20, 60_000);
    const waitB = b.waitForRecords(1000, 1 << 20, 60_000);
    await offer(outbox, 1, 10);
    await waitA;
    let woke = false;
    void waitB.then(() => (woke = true));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(woke).toBe(false);
    outbox.close();
    await waitB;
    expect(b.closed).toBe(true);
    expect(drainIds(b)).toEqual(range(1, 11));
  });

  it('gives every reader every record in order under random offers, takes and out-of-order acknowledgements', async () => {
    const outbox = await kind.open(['a', 'b'], 100_000);
    let seed = 7;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const accepted: number[] = [];
    const got = new Map<string, number[]>([
      ['a', []],
      ['b', []],
    ]);
    const pending = new Map<string, OutboxBatch[]>([
      ['a', []],
      ['b', []],
    ]);
    let id = 1;
    for (let step = 0; step < 400; step++) {
      const name = random(2) === 0 ? 'a' : 'b';
      const reader = outbox.reader(name);
      const op = random(3);
      if (op === 0) {
        const count = 1 + random(30);
        const skip = random(4) === 0 ? random(count) : 0;
        const n = outbox.offer(numberedFrame(id, count), skip);
        accepted.push(...range(id + skip, id + skip + n));
        id += count;
        await outbox.flushed?.();
      } else if (op === 1) {
        // Small byte limits split offered frames; a record is about 75 bytes.
        const batch = reader.take(1 + random(40), random(2) === 0 ? 1 << 20 : 80 * (1 + random(5)));
        if (batch !== undefined) {
          expect(frameIds(batch.frame)).toHaveLength(batch.count);
          got.get(name)?.push(...frameIds(batch.frame));
          pending.get(name)?.push(batch);
        }
      } else {
        const list = pending.get(name) as OutboxBatch[];
        if (list.length > 0) reader.ack(list.splice(random(list.length), 1)[0] as OutboxBatch);
      }
    }
    for (const name of ['a', 'b']) {
      const reader = outbox.reader(name);
      for (const batch of pending.get(name) as OutboxBatch[]) reader.ack(batch);
      got.get(name)?.push(...drainIds(reader, 17));
      expect(got.get(name)).toEqual(accepted);
      expect(reader.depth).toBe(0);
    }
    expect(outbox.depth).toBe(0);
  });
});
