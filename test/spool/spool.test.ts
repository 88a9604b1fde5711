/**
 * Spool against real files: group commit, records read back in order, the acknowledged
 * position kept across a restart, a torn tail truncated, corruption skipped and counted,
 * the byte budget (block and drop-oldest) and the age limit.
 */
import { appendFile, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Spool } from '../../gateway/spool/spool.js';
import type { SpoolOptions } from '../../gateway/spool/spool-options.js';
import { drainIds, frameIds, numberedFrame, range, spoolDir } from './spool-fixtures.js';

const dirs: string[] = [];
const spools: Spool[] = [];

async function openSpool(options: Partial<SpoolOptions> & { dir?: string } = {}): Promise<Spool> {
  const dir = options.dir ?? (await spoolDir());
  if (!dirs.includes(dir)) dirs.push(dir);
  const spool = await Spool.open({ ...options, dir });
  spools.push(spool);
  return spool;
}

async function segmentFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((name) => name.endsWith('.seg')).sort();
}

afterEach(async () => {
  for (const spool of spools.splice(0)) await spool.shutdown();
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

describe('Spool', () => {
  it('writes the frames offered in one turn in one group commit and reads them back in order', async () => {
    const spool = await openSpool();
    expect(spool.offer(numberedFrame(1, 10))).toBe(10);
    expect(spool.offer(numberedFrame(11, 5))).toBe(5);
    const first = spool.flushed();
    expect(first).toBeDefined();
    expect(spool.reader('default').ready).toBe(0);
    await first;
    expect(spool.flushed()).toBeUndefined();
    expect(spool.reader('default').ready).toBe(15);
    expect(spool.depth).toBe(15);
    const batch = spool.reader('default').take(4, 1 << 20);
    expect(batch && frameIds(batch.frame)).toEqual([1, 2, 3, 4]);
    expect(spool.depth).toBe(15);
    spool.reader('default').ack(batch!);
    expect(spool.depth).toBe(11);
    expect(drainIds(spool)).toEqual(range(5, 16));
    expect(spool.depth).toBe(0);
    expect(spool.bytes).toBe(0);
  });

  it('groups the frames offered while a write runs into the next single write', async () => {
    const spool = await openSpool();
    spool.offer(numberedFrame(1, 10));
    for (let i = 0; i < 50; i++) spool.offer(numberedFrame(11 + i * 10, 10));
    await spool.flushed();
    // The first offer starts a write at once; the 50 offered meanwhile share the second.
    expect(spool.commits).toBe(2);
    expect(drainIds(spool)).toEqual(range(1, 511));
  });

  it('resumes after the acknowledged position when reopened, re-offering taken but unacknowledged records', async () => {
    const dir = await spoolDir();
    const spool = await openSpool({ dir });
    spool.offer(numberedFrame(1, 100));
    await spool.flushed();
    spool.reader('default').ack(spool.reader('default').take(40, 1 << 20)!);
    spool.reader('default').take(30, 1 << 20); // in flight when the process stops
    await spool.shutdown();
    const reopened = await openSpool({ dir });
    expect(reopened.depth).toBe(60);
    expect(drainIds(reopened)).toEqual(range(41, 101));
    reopened.offer(numberedFrame(101, 3));
    await reopened.flushed();
    expect(drainIds(reopened)).toEqual([101, 102, 103]);
  });

  it('rolls segments and deletes the ones fully acknowledged', async () => {
    const dir = await spoolDir();
    const spool = await openSpool({ dir, segmentBytes: 4096, maxBytes: 1 << 20 });
    for (let i = 0; i < 20; i++) {
      spool.offer(numberedFrame(1 + i * 10, 10, 100));
      await spool.flushed();
    }
    expect((await segmentFiles(dir)).length).toBeGreaterThan(5);
    expect(drainIds(spool, 7)).toEqual(range(1, 201));
    expect((await segmentFiles(dir)).length).toBeLessThanOrEqual(2);
  });

  it('truncates a torn tail on open and keeps every whole record before it', async () => {
    const dir = await spoolDir();
    const spool = await openSpool({ dir });
    spool.offer(numberedFrame(1, 50));
    await spool.flushed();
    await spool.shutdown();
    const [file] = await segmentFiles(dir);
    const path = join(dir, file!);
    const whole = (await stat(path)).size;
    // A write cut short by a crash: the first 30 bytes of a copy of the first entry.
    const head = (await readFile(path)).subarray(0, 30);
    await appendFile(path, head);
    const reopened = await openSpool({ dir });
    expect(reopened.truncatedBytes).toBe(30);
    expect((await stat(path)).size).toBe(whole);
    expect(drainIds(reopened)).toEqual(range(1, 51));
    expect(reopened.corruptRecords).toBe(0);
  });

  it('skips a corrupted segment, counts its records, and still delivers the records after it', async () => {
    const dir = await spoolDir();
    const spool = await openSpool({ dir, segmentBytes: 4096, maxBytes: 1 << 20 });
    for (let i = 0; i < 10; i++) {
      spool.offer(numberedFrame(1 + i * 20, 20, 100));
      await spool.flushed();
    }
    await spool.shutdown();
    const files = await segmentFiles(dir);
    expect(files.length).toBeGreaterThanOrEqual(4);
    // Overwrite the second segment entirely with garbage.
    const victim = join(dir, files[1]!);
    const size = (await stat(victim)).size;
    await writeFile(victim, Buffer.alloc(size, 0xa5));
    const reopened = await openSpool({ dir });
    const ids = drainIds(reopened);
    const lost = range(1, 201).filter((id) => !ids.includes(id));
    expect(lost.length).toBeGreaterThan(0);
    expect(reopened.corruptRecords).toBe(lost.length);
    expect(reopened.corruptRegions).toBe(1);
    // What was lost is one contiguous run; everything after it arrived, in order.
    expect(lost).toEqual(range(lost[0]!, lost[0]! + lost.length));
    expect(ids).toEqual(range(1, 201).filter((id) => !lost.includes(id)));
    expect(ids.at(-1)).toBe(200);
  });

  it('skips one corrupted record inside a segment and delivers its neighbours', async () => {
    const dir = await spoolDir();
    const spool = await openSpool({ dir });
    spool.offer(numberedFrame(1, 10));
    await spool.flushed();
    await spool.shutdown();
    const [file] = await segmentFiles(dir);
    const path = join(dir, file!);
    const bytes = await readFile(path);
    const entry = Math.floor(bytes.length / 10); // ids 1-9 have equal sizes
    bytes[entry * 4 + 40] = (bytes[entry * 4 + 40] as number) ^ 0xff; // a payload byte of record 5
    await writeFile(path, bytes);
    const reopened = await openSpool({ dir });
    expect(drainIds(reopened)).toEqual([1, 2, 3, 4, 6, 7, 8, 9, 10]);
    expect(reopened.corruptRecords).toBe(1);
  });

  it('with the block policy refuses offers at the byte budget and accepts again after acknowledgements', async () => {
    const spool = await openSpool({ maxBytes: 65536, segmentBytes: 8192 });
    let offered = 0;
    let id = 1;
    for (;;) {
      const accepted = spool.offer(numberedFrame(id, 10, 200));
      offered += accepted;
      id += accepted;
      await spool.flushed();
      if (accepted < 10) break;
    }
    expect(spool.bytes).toBeLessThanOrEqual(65536);
    expect(spool.offer(numberedFrame(id, 1))).toBe(0);
    let room = false;
    void spool.waitForRoom().then(() => (room = true));
    await Promise.resolve();
    expect(room).toBe(false);
    const ids = drainIds(spool, 50);
    expect(ids).toEqual(range(1, offered + 1));
    await spool.waitForRoom();
    expect(spool.offer(numberedFrame(id, 1))).toBe(1);
  });

  it('with the drop-oldest policy stays within budget and counts exactly the records it dropped', async () => {
    const dir = await spoolDir();
    const spool = await openSpool({
      dir,
      maxBytes: 65536,
      segmentBytes: 8192,
      onFull: 'drop-oldest',
    });
    const total = 2000;
    for (let id = 1; id <= total; id += 10) {
      expect(spool.offer(numberedFrame(id, 10, 200))).toBe(10);
      await spool.flushed();
      expect(spool.bytes).toBeLessThanOrEqual(65536);
    }
    expect(spool.dropped).toBeGreaterThan(0);
    const ids = drainIds(spool);
    expect(ids.length + spool.dropped).toBe(total);
    // The oldest went: what remains is the newest, in order.
    expect(ids).toEqual(range(total - ids.length + 1, total + 1));
    let disk = 0;
    for (const name of await segmentFiles(dir)) disk += (await stat(join(dir, name))).size;
    expect(disk).toBeLessThanOrEqual(65536 + 8192);
  });

  it('drops segments older than maxAgeMs, counted as expired', async () => {
    const spool = await openSpool({ maxBytes: 1 << 20, segmentBytes: 4096, maxAgeMs: 300 });
    for (let i = 0; i < 5; i++) {
      spool.offer(numberedFrame(1 + i * 20, 20, 100));
      await spool.flushed();
    }
    const deadline = Date.now() + 20_000;
    while (spool.expired === 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(spool.expired).toBeGreaterThan(0);
    const ids = drainIds(spool);
    expect(ids.length + spool.expired).toBe(100);
  });
});
