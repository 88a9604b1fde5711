/**
 * The spool with several readers (one per sink) against real files: one persisted cursor per
 * reader, readers added and removed between runs, a cursor file from a spool that had one
 * reader, and the drop-oldest policy counting drops for the reader that lagged.
 */
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { OutboxBatch } from '../../gateway/outbox/outbox.js';
import { Spool } from '../../gateway/spool/spool.js';
import type { SpoolOptions } from '../../gateway/spool/spool-options.js';
import { drainIds, numberedFrame, range, spoolDir } from './spool-fixtures.js';

const dirs: string[] = [];
const spools: Spool[] = [];

async function openSpool(options: Partial<SpoolOptions> & { dir: string }): Promise<Spool> {
  if (!dirs.includes(options.dir)) dirs.push(options.dir);
  const spool = await Spool.open(options);
  spools.push(spool);
  return spool;
}

async function offerAll(spool: Spool, firstId: number, count: number, padding = 0): Promise<void> {
  for (let id = firstId; id < firstId + count; id += 10) {
    expect(spool.offer(numberedFrame(id, 10, padding))).toBe(10);
    await spool.flushed();
  }
}

async function segmentCount(dir: string): Promise<number> {
  return (await readdir(dir)).filter((name) => name.endsWith('.seg')).length;
}

afterEach(async () => {
  for (const spool of spools.splice(0)) await spool.shutdown();
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

describe('Spool with several readers', () => {
  it('persists one cursor per reader and resumes each where it was acknowledged', async () => {
    const dir = await spoolDir();
    const spool = await openSpool({ dir, readers: ['up', 'archive'] });
    await offerAll(spool, 1, 100);
    const up = spool.reader('up');
    up.ack(up.take(60, 1 << 20) as OutboxBatch);
    const archive = spool.reader('archive');
    archive.ack(archive.take(25, 1 << 20) as OutboxBatch);
    await spool.shutdown();
    const cursors = JSON.parse(await readFile(join(dir, 'cursor.json'), 'utf8')) as {
      readers: Record<string, { seq: number }>;
    };
    expect(cursors.readers['up']?.seq).toBe(60);
    expect(cursors.readers['archive']?.seq).toBe(25);

    const reopened = await openSpool({ dir, readers: ['up', 'archive'] });
    expect(drainIds(reopened.reader('up'))).toEqual(range(61, 101));
    expect(drainIds(reopened.reader('archive'))).toEqual(range(26, 101));
  });

  it('starts a reader added between runs at the oldest record held and drops the cursor of a removed one', async () => {
    const dir = await spoolDir();
    const spool = await openSpool({ dir, readers: ['up', 'old'], segmentBytes: 4096 });
    await offerAll(spool, 1, 200, 50);
    const up = spool.reader('up');
    up.ack(up.take(150, 1 << 20) as OutboxBatch);
    const old = spool.reader('old');
    old.ack(old.take(40, 1 << 20) as OutboxBatch);
    await spool.shutdown();
    const before = await segmentCount(dir);

    // `old` is gone and `new` appears: segments only `old` still needed are deleted.
    const reopened = await openSpool({ dir, readers: ['up', 'new'], segmentBytes: 4096 });
    expect(await segmentCount(dir)).toBeLessThan(before);
    expect(drainIds(reopened.reader('up'))).toEqual(range(151, 201));
    const fresh = drainIds(reopened.reader('new'));
    expect(fresh.at(-1)).toBe(200);
    expect(fresh[0]).toBeGreaterThan(1);
    expect(fresh[0]).toBeLessThanOrEqual(151);
    expect(fresh).toEqual(range(fresh[0] as number, 201));
    await reopened.shutdown();
    const cursors = JSON.parse(await readFile(join(dir, 'cursor.json'), 'utf8')) as {
      readers: Record<string, unknown>;
    };
    expect(Object.keys(cursors.readers).sort()).toEqual(['new', 'up']);
  });

  it('applies the single cursor of an older spool to every reader', async () => {
    const dir = await spoolDir();
    const spool = await openSpool({ dir });
    await offerAll(spool, 1, 50);
    drainIds(spool.reader('default'), 30);
    await spool.shutdown();
    await writeFile(
      join(dir, 'cursor.json'),
      JSON.stringify({ seq: 30, segment: 0, offset: 30 * 0 }),
    );
    const reopened = await openSpool({ dir, readers: ['a', 'b'] });
    expect(drainIds(reopened.reader('a'))[0]).toBe(31);
    expect(drainIds(reopened.reader('b'))[0]).toBe(31);
  });

  it('with drop-oldest drops for the reader that lags, counted for it alone, while the other gets everything', async () => {
    const dir = await spoolDir();
    const spool = await openSpool({
      dir,
      readers: ['fast', 'slow'],
      maxBytes: 65536,
      segmentBytes: 8192,
      onFull: 'drop-oldest',
    });
    const fast = spool.reader('fast');
    const slow = spool.reader('slow');
    const fastIds: number[] = [];
    const total = 2000;
    for (let id = 1; id <= total; id += 10) {
      expect(spool.offer(numberedFrame(id, 10, 200))).toBe(10);
      await spool.flushed();
      fastIds.push(...drainIds(fast));
      expect(spool.bytes).toBeLessThanOrEqual(65536);
    }
    expect(fastIds).toEqual(range(1, total + 1));
    expect(fast.dropped).toBe(0);
    expect(slow.dropped).toBeGreaterThan(0);
    const slowIds = drainIds(slow);
    expect(slowIds.length + slow.dropped).toBe(total);
    expect(slowIds).toEqual(range(total - slowIds.length + 1, total + 1));
    expect(spool.dropped).toBe(slow.dropped);
  });
});
