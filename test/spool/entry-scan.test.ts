/**
 * The windowed scan of segment files at recovery: with windows far smaller than the entries,
 * across corrupted bytes, torn tails and garbage that looks like an entry header, it visits the
 * same entries and finds the same valid end as a scan of the whole file in memory.
 */
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scanEntries } from '../../gateway/spool/entry-scan.js';
import {
  checkEntry,
  ENTRY_HEADER_BYTES,
  findNextEntry,
  writeEntry,
  writeStateEntry,
} from '../../gateway/spool/spool-format.js';
import { numberedFrame, spoolDir } from './spool-fixtures.js';

const MAX_RECORD = 1 << 20;

/** The whole-file scan: every valid entry as [offset, size], and the end of the last one. */
function wholeFileScan(bytes: Uint8Array): { entries: number[][]; validEnd: number } {
  const entries: number[][] = [];
  let pos = 0;
  let validEnd = 0;
  while (pos < bytes.length) {
    const size = checkEntry(bytes, pos, bytes.length, MAX_RECORD);
    if (size > 0) {
      entries.push([pos, size]);
      pos += size;
      validEnd = pos;
      continue;
    }
    const next = findNextEntry(bytes, pos + 1, bytes.length, MAX_RECORD);
    if (next < 0) break;
    pos = next;
  }
  return { entries, validEnd };
}

/** A segment of `count` record entries (one record each, of varied sizes) with a state entry every `stateEvery`. */
function segmentBytes(count: number, stateEvery: number): Uint8Array {
  const out = new Uint8Array(1 << 20);
  let pos = 0;
  for (let i = 0; i < count; i++) {
    if (i % stateEvery === 0) {
      const payload = new Uint8Array(8 + (i % 5) * 40).fill(7);
      new DataView(payload.buffer).setUint32(0, payload.length - 8, true);
      pos = writeStateEntry(out, pos, payload, i);
    }
    const frame = numberedFrame(i, 1, (i * 37) % 300);
    const record = frame.subarray(16);
    pos = writeEntry(out, pos, record, 0, record.length, i);
  }
  return out.slice(0, pos);
}

describe('scanEntries', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await spoolDir();
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function scan(bytes: Uint8Array, windowBytes: number) {
    const path = join(dir, `segment-${windowBytes}.seg`);
    await writeFile(path, bytes);
    const entries: number[][] = [];
    const validEnd = await scanEntries(
      path,
      { maxRecord: MAX_RECORD, windowBytes },
      (view, pos, size, offset) => {
        // The visited bytes are the entry's bytes in the file.
        expect(
          Buffer.compare(view.subarray(pos, pos + size), bytes.subarray(offset, offset + size)),
        ).toBe(0);
        entries.push([offset, size]);
      },
    );
    return { entries, validEnd };
  }

  const cases: Array<[string, (good: Uint8Array) => Uint8Array]> = [
    ['an intact segment', (good) => good],
    ['a torn tail', (good) => good.slice(0, good.length - 37)],
    ['a tail cut inside the last entry header', (good) => good.slice(0, lastEntryStart(good) + 9)],
    [
      'corrupted bytes in the middle',
      (good) => {
        const bad = good.slice();
        bad.fill(0xee, 1500, 1900);
        return bad;
      },
    ],
    [
      'a flipped bit in one record',
      (good) => {
        const bad = good.slice();
        const at = firstEntryEnd(good) + ENTRY_HEADER_BYTES + 3;
        bad[at] = (bad[at] as number) ^ 0x10;
        return bad;
      },
    ],
    [
      'garbage that starts like an entry and claims a long record',
      (good) => {
        const bad = good.slice();
        const at = firstEntryEnd(good);
        // A magic and a plausible length that runs past the file, over a real entry.
        new DataView(bad.buffer).setUint32(at, 0x31525053, true);
        new DataView(bad.buffer).setUint32(at + 8, 900_000, true);
        return bad;
      },
    ],
    ['only garbage', () => new Uint8Array(5000).fill(0x53)],
    ['an empty file', () => new Uint8Array(0)],
  ];

  for (const [name, damage] of cases) {
    it(`visits what a whole-file scan finds, for ${name}, at any window size`, async () => {
      const bytes = damage(segmentBytes(60, 7));
      const expected = wholeFileScan(bytes);
      if (bytes.length > 0 && name !== 'only garbage')
        expect(expected.entries.length).toBeGreaterThan(40);
      for (const windowBytes of [1, 19, 64, 333, 4096, 1 << 20]) {
        expect(await scan(bytes, windowBytes)).toEqual(expected);
      }
    });
  }
});

function lastEntryStart(bytes: Uint8Array): number {
  return (wholeFileScan(bytes).entries.at(-1) as number[])[0] as number;
}

function firstEntryEnd(bytes: Uint8Array): number {
  return checkEntry(bytes, 0, bytes.length, MAX_RECORD);
}
