/**
 * The dead-letter file on a real disk: every added letter ends up as one JSON line with its
 * payload (UTF-8 text, or base64 for other bytes), across buffer growth and several flushes; the
 * size counts what is buffered; a batch waits when the file falls behind; a replaced file is
 * reopened.
 */
import { mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DeadLetterFile } from '../../gateway/dead-letter/dead-letter-file.js';
import type { DeadLetter } from '../../gateway/dead-letter/dead-letter-file.js';

let dir = '';
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sluice-dead-letter-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function letter(n: number, payload: Uint8Array | null): DeadLetter {
  return {
    pipeline: 'p',
    rule: 'r',
    reason: `FIELD_MISSING: reading ${n} has no "temp" — ✗`,
    topic: `sensors/dev-${n}/reading`,
    key: `dev-${n}`,
    id: n.toString(16).padStart(16, '0'),
    payload,
  };
}

async function lines(path: string): Promise<Record<string, unknown>[]> {
  const text = await readFile(path, 'utf8');
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('DeadLetterFile', () => {
  it('writes every letter as one line, text and binary payloads, across flushes and buffer growth', async () => {
    const path = join(dir, 'dead.jsonl');
    const file = await DeadLetterFile.open(path, { flushBytes: 4096, flushIntervalMs: 5 });
    const encoder = new TextEncoder();
    const big = 'é'.repeat(20_000); // 40 000 bytes of UTF-8: more than the first buffer
    for (let n = 0; n < 300; n++) {
      const payload =
        n === 7
          ? encoder.encode(`{"note":"${big}"}`)
          : n % 50 === 3
            ? new Uint8Array([0xff, 0xfe, n])
            : n % 100 === 99
              ? null
              : encoder.encode(`{"seq":${n},"temp":"ünknown"}`);
      file.add(letter(n, payload), 1_700_000_000_000 + n);
      if (n % 10 === 9) await file.commit();
    }
    expect(file.size().records).toBeGreaterThan(0);
    await file.close();
    const written = await lines(path);
    expect(written).toHaveLength(300);
    expect(file.count).toBe(300);
    for (let n = 0; n < 300; n++) {
      const line = written[n] as Record<string, unknown>;
      expect(line['id']).toBe(n.toString(16).padStart(16, '0'));
      expect(line['reason']).toBe(`FIELD_MISSING: reading ${n} has no "temp" — ✗`);
      expect(line['time']).toBe(new Date(1_700_000_000_000 + n).toISOString());
      if (n === 7) {
        expect(line['payload']).toBe(`{"note":"${big}"}`);
      } else if (n % 50 === 3) {
        expect(line['encoding']).toBe('base64');
        expect(Buffer.from(line['payload'] as string, 'base64')).toEqual(
          Buffer.from([0xff, 0xfe, n]),
        );
      } else if (n % 100 === 99) {
        expect(line['payload']).toBeNull();
      } else {
        expect(line['encoding']).toBe('utf8');
        expect(line['payload']).toBe(`{"seq":${n},"temp":"ünknown"}`);
      }
    }
  });

  it('counts buffered letters and their bytes in its size before they are written', async () => {
    const path = join(dir, 'dead.jsonl');
    const file = await DeadLetterFile.open(path, { flushIntervalMs: 60_000 });
    file.add(letter(1, new TextEncoder().encode('ü')), 0);
    file.add(letter(2, null), 0);
    const size = file.size();
    expect(size.records).toBe(2);
    await file.close();
    expect(size.bytes).toBe((await readFile(path)).length);
  });

  it('counts the letters a file already holds when opened, then what is appended and what replaces it', async () => {
    const path = join(dir, 'dead.jsonl');
    // Longer than the counter's read chunk, so that the count spans several reads.
    const earlier = await DeadLetterFile.open(path, { flushIntervalMs: 1 });
    for (let n = 0; n < 500; n++) earlier.add(letter(n, new Uint8Array(200).fill(0x62)), 0);
    await earlier.close();
    const held = (await readFile(path)).length;
    expect(held).toBeGreaterThan(1 << 16);

    const file = await DeadLetterFile.open(path, { flushIntervalMs: 1 });
    expect(file.size()).toEqual({ records: 500, bytes: held });
    file.add(letter(500, null), 0);
    await file.commit();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(file.size().records).toBe(501);
    // `sluice dlq purge` replaces the file: it is counted again from its start.
    await writeFile(join(dir, 'purged.jsonl'), '');
    await rename(join(dir, 'purged.jsonl'), path);
    expect(file.size()).toEqual({ records: 0, bytes: 0 });
    await file.close();
  });

  it('makes a batch wait while the file is more than maxPendingBytes behind', async () => {
    const path = join(dir, 'dead.jsonl');
    const file = await DeadLetterFile.open(path, { maxPendingBytes: 1000 });
    for (let n = 0; n < 20; n++) file.add(letter(n, new Uint8Array(100).fill(0x61)), 0);
    const wait = file.commit();
    expect(wait).toBeInstanceOf(Promise);
    await wait;
    await file.close();
    expect(await lines(path)).toHaveLength(20);
  });

  it('reopens the file when it was replaced, and keeps writing to the new one', async () => {
    const path = join(dir, 'dead.jsonl');
    const file = await DeadLetterFile.open(path, { flushIntervalMs: 1 });
    file.add(letter(1, null), 0);
    await file.commit();
    await new Promise((resolve) => setTimeout(resolve, 50));
    await writeFile(join(dir, 'rewritten.jsonl'), '');
    await rename(join(dir, 'rewritten.jsonl'), path);
    file.add(letter(2, null), 0);
    await file.commit();
    await file.close();
    expect((await lines(path)).map((line) => line['key'])).toEqual(['dev-2']);
  });
});
