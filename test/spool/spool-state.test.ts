/**
 * Rule-state checkpoints in the spool, against real files: the state entry goes into the same
 * group commit as the records, the reader skips it, the newest one is found on open (the full
 * rule states and the recent event identities), each new segment starts with the latest state
 * so that deleting acknowledged segments keeps it, and a corrupted state entry is skipped.
 */
import { readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { crc32, crc32Table } from '../../gateway/spool/crc32.js';
import { Spool } from '../../gateway/spool/spool.js';
import type { SpoolOptions } from '../../gateway/spool/spool-options.js';
import type { CheckpointCapture } from '../../gateway/spool/spool-state.js';
import { scanEntries } from '../../gateway/spool/entry-scan.js';
import { isStateEntry } from '../../gateway/spool/spool-format.js';
import { drainIds, numberedFrame, range, spoolDir } from './spool-fixtures.js';

const dirs: string[] = [];
const spools: Spool[] = [];

async function openSpool(options: Partial<SpoolOptions> & { dir?: string } = {}): Promise<Spool> {
  const dir = options.dir ?? (await spoolDir());
  if (!dirs.includes(dir)) dirs.push(dir);
  const spool = await Spool.open({ ...options, dir });
  spools.push(spool);
  return spool;
}

afterEach(async () => {
  for (const spool of spools.splice(0)) await spool.shutdown();
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

/** Rule states `text` as bytes. */
function rules(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

/** Identities (packet id, hash low, hash high) for packet ids `ids`. */
function identities(ids: readonly number[]): Uint32Array {
  const out = new Uint32Array(ids.length * 3);
  ids.forEach((id, i) => out.set([id, id * 7, id * 13], i * 3));
  return out;
}

/** A source handing out `captures` in turn (undefined: not consistent now). */
function source(spool: Spool, captures: (CheckpointCapture | undefined)[]): void {
  spool.setCheckpointSource({ capture: () => captures.shift() });
}

async function segmentFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((name) => name.endsWith('.seg')).sort();
}

describe('Spool rule-state checkpoints', () => {
  it('writes the state entry in the group commit of the records and the reader skips it', async () => {
    const dir = await spoolDir();
    const spool = await openSpool({ dir });
    source(spool, [{ rules: rules('windows-1'), identities: identities([1, 2, 3]) }]);
    spool.offer(numberedFrame(1, 10));
    await spool.checkpoint();
    expect(spool.commits).toBe(1);
    expect(spool.checkpoints).toBe(1);
    expect(drainIds(spool)).toEqual(range(1, 11));
    expect(spool.corruptRegions).toBe(0);
    expect(spool.corruptRecords).toBe(0);
    await spool.shutdown();

    const reopened = await openSpool({ dir });
    expect(reopened.restoredCheckpoint?.rules).toEqual(rules('windows-1'));
    expect(reopened.restoredCheckpoint?.identities).toEqual(identities([1, 2, 3]));
    reopened.offer(numberedFrame(11, 2));
    await reopened.flushed();
    expect(drainIds(reopened)).toEqual([11, 12]);
    expect(reopened.corruptRegions).toBe(0);
  });

  it('commits a state entry with no record pending, and waits while the source is not consistent', async () => {
    const spool = await openSpool();
    const captures: (CheckpointCapture | undefined)[] = [undefined];
    source(spool, captures);
    let done = false;
    const first = spool.checkpoint().then(() => (done = true));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(done).toBe(false);
    expect(spool.commits).toBe(0);
    captures.push({ rules: rules('a'), identities: identities([5]) });
    await spool.checkpoint();
    await first;
    expect(spool.checkpoints).toBe(1);
    expect(spool.depth).toBe(0);
  });

  it('restores the newest full rule states when later entries only add identities', async () => {
    const dir = await spoolDir();
    const spool = await openSpool({ dir });
    source(spool, [
      { rules: rules('old'), identities: identities([1]) },
      { rules: rules('new'), identities: identities([2, 3]) },
      { rules: undefined, identities: identities([4]) },
      { rules: undefined, identities: identities([5, 6]) },
    ]);
    for (let i = 0; i < 4; i++) {
      spool.offer(numberedFrame(1 + i * 5, 5));
      await spool.checkpoint();
    }
    await spool.shutdown();
    const reopened = await openSpool({ dir });
    expect(reopened.restoredCheckpoint?.rules).toEqual(rules('new'));
    expect(reopened.restoredCheckpoint?.identities).toEqual(identities([1, 2, 3, 4, 5, 6]));
    expect(drainIds(reopened)).toEqual(range(1, 21));
  });

  it('keeps identities back to the window, counting from the newest entries', async () => {
    const dir = await spoolDir();
    const spool = await openSpool({ dir, identityWindow: 4 });
    source(spool, [
      { rules: rules('s'), identities: identities([1, 2]) },
      { rules: undefined, identities: identities([3, 4]) },
      { rules: undefined, identities: identities([5, 6, 7]) },
    ]);
    for (let i = 0; i < 3; i++) await spool.checkpoint();
    await spool.shutdown();
    const reopened = await openSpool({ dir, identityWindow: 4 });
    // The two newest entries hold five identities, at least the window of four.
    expect(reopened.restoredCheckpoint?.identities).toEqual(identities([3, 4, 5, 6, 7]));
  });

  it('starts each new segment with the latest state, which survives deleting acknowledged segments', async () => {
    const dir = await spoolDir();
    const spool = await openSpool({ dir, maxBytes: 1 << 20, segmentBytes: 8192 });
    let n = 0;
    spool.setCheckpointSource({
      capture: () => ({ rules: rules(`state-${++n}`), identities: identities([n]) }),
    });
    for (let i = 0; i < 40; i++) {
      spool.offer(numberedFrame(1 + i * 10, 10, 40));
      await spool.checkpoint();
    }
    expect((await segmentFiles(dir)).length).toBeGreaterThan(3);
    expect(drainIds(spool)).toEqual(range(1, 401));
    expect(spool.corruptRegions).toBe(0);
    // Every record is acknowledged: only the active segment is left.
    expect(await segmentFiles(dir)).toHaveLength(1);
    await spool.shutdown();

    const reopened = await openSpool({ dir });
    expect(reopened.restoredCheckpoint?.rules).toEqual(rules('state-40'));
    expect(
      Array.from(reopened.restoredCheckpoint?.identities ?? []).filter((_, i) => i % 3 === 0),
    ).toEqual(range(1, 41));
    expect(reopened.depth).toBe(0);
    // The reopened spool carries the state into its own new segment too.
    await reopened.shutdown();
    const again = await openSpool({ dir });
    expect(again.restoredCheckpoint?.rules).toEqual(rules('state-40'));
  });

  it('keeps the state of a segment holding no record across restarts', async () => {
    const dir = await spoolDir();
    const spool = await openSpool({ dir });
    source(spool, [{ rules: rules('only-state'), identities: identities([9]) }]);
    await spool.checkpoint();
    await spool.shutdown();
    for (let i = 0; i < 3; i++) {
      const reopened = await openSpool({ dir });
      expect(reopened.restoredCheckpoint?.rules).toEqual(rules('only-state'));
      expect(reopened.restoredCheckpoint?.identities).toEqual(identities([9]));
      await reopened.shutdown();
    }
    expect(await segmentFiles(dir)).toHaveLength(1);
  });

  it('stays within its segment size when only state entries are written, replacing a segment without records', async () => {
    const dir = await spoolDir();
    const segmentBytes = 8192;
    const spool = await openSpool({ dir, maxBytes: 1 << 20, segmentBytes });
    let n = 0;
    spool.setCheckpointSource({
      capture: () => ({ rules: rules(`${++n}`.padEnd(1000, '.')), identities: identities([n]) }),
    });
    spool.offer(numberedFrame(1, 10));
    await spool.checkpoint();
    expect(drainIds(spool)).toEqual(range(1, 11));
    // Open windows change with every batch, no window closes: state entries only.
    for (let i = 0; i < 60; i++) await spool.checkpoint();
    const files = await segmentFiles(dir);
    expect(files.length).toBeLessThanOrEqual(2);
    let disk = 0;
    for (const file of files) disk += (await stat(join(dir, file))).size;
    expect(disk).toBeLessThan(3 * segmentBytes);
    spool.offer(numberedFrame(11, 5));
    await spool.checkpoint();
    expect(drainIds(spool)).toEqual(range(11, 16));
    expect(spool.corruptRegions).toBe(0);
    expect(spool.corruptRecords).toBe(0);
    await spool.shutdown();

    const reopened = await openSpool({ dir });
    expect(new TextDecoder().decode(reopened.restoredCheckpoint?.rules)).toMatch(/^62\./);
    expect(reopened.depth).toBe(0);
    expect(reopened.corruptRegions).toBe(0);
  });

  it('checksums entries the same with the native and the table CRC-32 (spools move between Node versions)', () => {
    for (const size of [0, 1, 20, 1000, 70_000]) {
      const bytes = new Uint8Array(size).map((_, i) => (i * 7919 + size) & 0xff);
      expect(crc32(bytes, 0, size)).toBe(crc32Table(bytes, 0, size));
      expect(crc32(bytes, Math.min(3, size), size)).toBe(
        crc32Table(bytes, Math.min(3, size), size),
      );
    }
  });

  it('writes a state larger than a segment once per segment, not once per commit', async () => {
    const spool = await openSpool({ maxBytes: 1 << 20, segmentBytes: 8192 });
    let first = true;
    spool.setCheckpointSource({
      capture: () => {
        // Large rule states, unchanged after the first checkpoint: identities only from then on.
        const capture = {
          rules: first ? rules('x'.repeat(20_000)) : undefined,
          identities: identities([1]),
        };
        first = false;
        return capture;
      },
    });
    for (let i = 0; i < 200; i++) {
      spool.offer(numberedFrame(1 + i, 1));
      await spool.checkpoint();
    }
    expect(drainIds(spool)).toEqual(range(1, 201));
    // ~70 bytes of records and ~40 of identities per commit, a segment every ~75 commits.
    expect(spool.bytesWritten).toBeLessThan(200 * 120 + 5 * 20_100);
  });

  it('skips a corrupted state entry, counts it, and falls back to the previous state', async () => {
    const dir = await spoolDir();
    const spool = await openSpool({ dir });
    source(spool, [
      { rules: rules('good-state'), identities: identities([1]) },
      { rules: rules('newer-state'), identities: identities([2]) },
    ]);
    spool.offer(numberedFrame(1, 5));
    await spool.checkpoint();
    spool.offer(numberedFrame(6, 5));
    await spool.checkpoint();
    spool.offer(numberedFrame(11, 5));
    await spool.flushed();
    await spool.shutdown();

    const [file] = await segmentFiles(dir);
    const path = join(dir, file as string);
    const bytes = await readFile(path);
    const at = bytes.indexOf('newer-state');
    expect(at).toBeGreaterThan(0);
    bytes[at] = (bytes[at] as number) ^ 0xff;
    await writeFile(path, bytes);

    const reopened = await openSpool({ dir });
    expect(reopened.restoredCheckpoint?.rules).toEqual(rules('good-state'));
    expect(drainIds(reopened)).toEqual(range(1, 16));
    expect(reopened.corruptRegions).toBe(1);
    expect(reopened.corruptRecords).toBe(0);
  });

  /** 20 KB rule states, then each next one with a few bytes changed. */
  function changingStates(count: number): Uint8Array[] {
    const states: Uint8Array[] = [];
    let state = new Uint8Array(20_000).map((_, i) => (i * 31) % 251);
    for (let n = 0; n < count; n++) {
      state = state.slice();
      for (let e = 0; e < 8; e++) {
        const at = (n * 7919 + e * 2503) % state.length;
        state[at] = (state[at] as number) ^ (n + 1);
      }
      states.push(state);
    }
    return states;
  }

  /** Commits one checkpoint per state, each with a record of ~`padding` bytes. */
  async function checkpointEach(
    spool: Spool,
    states: readonly Uint8Array[],
    padding = 0,
  ): Promise<void> {
    source(
      spool,
      states.map((state, i) => ({ rules: state, identities: identities([i + 1]) })),
    );
    for (let i = 0; i < states.length; i++) {
      spool.offer(numberedFrame(i + 1, 1, padding));
      await spool.checkpoint();
    }
  }

  it('writes rule states that change little as deltas, and restores the newest from them, across segments', async () => {
    const dir = await spoolDir();
    const states = changingStates(30);
    const spool = await openSpool({ dir, segmentBytes: 100_000, maxBytes: 400_000 });
    await checkpointEach(spool, states, 4000);
    expect(spool.checkpoints).toBe(30);
    // Whole, the states would add 30 × 20 KB to the records' ~30 × 4 KB; written whole are only
    // the first and each new segment's base entry.
    const segments = (await segmentFiles(dir)).length;
    expect(segments).toBeGreaterThan(1);
    expect(spool.bytesWritten).toBeLessThan(30 * 4_200 + (segments + 1) * 20_200);
    await spool.shutdown();

    const reopened = await openSpool({ dir, segmentBytes: 100_000, maxBytes: 400_000 });
    expect(reopened.restoredCheckpoint?.rules).toEqual(states[29]);
    expect(drainIds(reopened)).toEqual(range(1, 31));
  });

  it('restores the states before a corrupted delta: later deltas do not apply to an older state', async () => {
    const dir = await spoolDir();
    const states = changingStates(6);
    const spool = await openSpool({ dir });
    await checkpointEach(spool, states);
    await spool.shutdown();

    const [file] = await segmentFiles(dir);
    const path = join(dir, file as string);
    const entries: number[] = [];
    await scanEntries(path, { maxRecord: 1 << 20 }, (bytes, pos, size, offset) => {
      if (isStateEntry(bytes, pos)) entries.push(offset + size - 10);
    });
    // The first state entry is whole; break the one of states[4] (a delta).
    expect(entries).toHaveLength(6);
    const bytes = await readFile(path);
    const at = entries[4] as number;
    bytes[at] = (bytes[at] as number) ^ 0xff;
    await writeFile(path, bytes);

    const reopened = await openSpool({ dir });
    expect(reopened.restoredCheckpoint?.rules).toEqual(states[3]);
  });
});
