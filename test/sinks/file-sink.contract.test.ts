/**
 * The sink contract against FileSink and real files (broken: a regular file stands where the
 * sink's directory should be), plus its rotation by size.
 */
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileSink } from '../../gateway/sinks/file-sink.js';
import { spoolDir } from '../spool/spool-fixtures.js';
import { contractBatch, sinkContract } from './contract.js';
import type { UpstreamRecord } from './contract.js';

/** The records of the JSON-lines files at `path` (rotated ones first, oldest first). */
async function readLines(path: string): Promise<UpstreamRecord[]> {
  const dir = join(path, '..');
  const base = path.slice(dir.length + 1);
  const names = (await readdir(dir).catch(() => [] as string[]))
    .filter((name) => name === base || name.startsWith(`${base}.`))
    .sort((a, b) => suffix(b, base) - suffix(a, base));
  const out: UpstreamRecord[] = [];
  for (const name of names) {
    for (const line of (await readFile(join(dir, name), 'utf8')).split('\n')) {
      if (line !== '') out.push(JSON.parse(line) as UpstreamRecord);
    }
  }
  return out;
}

function suffix(name: string, base: string): number {
  return name === base ? 0 : Number(name.slice(base.length + 1));
}

sinkContract('FileSink', async () => {
  const root = await spoolDir();
  const dir = join(root, 'out');
  const path = join(dir, 'records.jsonl');
  const sink = new FileSink({ path, initialDelayMs: 10, maxDelayMs: 50 });
  return {
    sink,
    received: () => readLines(path),
    failures: () => sink.failures,
    breakUpstream: () => writeFile(dir, 'not a directory'),
    restoreUpstream: async () => {
      await rm(dir, { force: true });
      // The sink's own retry may recreate the directory between these two steps.
      await mkdir(dir, { recursive: true });
    },
    close: () => rm(root, { recursive: true, force: true }),
  };
});

describe('FileSink', () => {
  const roots: string[] = [];
  afterEach(async () => {
    for (const root of roots.splice(0)) await rm(root, { recursive: true, force: true });
  });

  it('rotates by size, keeps maxFiles rotated files and loses no record of those kept', async () => {
    const root = await spoolDir();
    roots.push(root);
    const path = join(root, 'records.jsonl');
    const sink = new FileSink({ path, maxFileBytes: 2048, maxFiles: 3 });
    for (let first = 1; first <= 200; first += 10) await sink.send(contractBatch(first, 10));
    await sink.close();
    const names = (await readdir(root)).sort();
    expect(names).toEqual([
      'records.jsonl',
      'records.jsonl.1',
      'records.jsonl.2',
      'records.jsonl.3',
    ]);
    const ids = (await readLines(path)).map((record) => parseInt(record.id, 16));
    // The newest records are all there, in order, ending with the last one sent.
    expect(ids.at(-1)).toBe(200);
    expect(ids).toEqual(Array.from({ length: ids.length }, (_, i) => 201 - ids.length + i));
    for (const name of names) {
      expect((await readFile(join(root, name))).length).toBeLessThanOrEqual(2048);
    }
  });
});
