/**
 * `sluice rules test`: a rule run locally over recorded events, without a gateway, prints
 * exactly the outputs the rule produces (compared with the offline reference).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectedWindows, makeReadings, sortWindows } from '../gateway/helpers/gateway-config.js';
import type { WindowResult } from '../gateway/helpers/gateway-config.js';
import { ROOT, ensureBuilt, runCli } from './run-cli.js';

describe('sluice rules test', () => {
  let dir: string;
  let events: string;
  const readings = makeReadings(5, 40, 1_700_000_000_000, 100);
  beforeAll(async () => {
    ensureBuilt();
    dir = await mkdtemp(join(tmpdir(), 'sluice-rules-test-'));
    events = join(dir, 'events.jsonl');
    const lines = readings.map((r) =>
      JSON.stringify({ topic: `sensors/${r.device}/reading`, payload: r, time: r.ts }),
    );
    await writeFile(events, `${lines.join('\n')}\n`);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('prints the records a filter keeps, one line each', async () => {
    const run = await runCli([
      'rules',
      'test',
      join(ROOT, 'dist', 'rules', 'threshold.wasm'),
      '--events',
      events,
      '--config',
      '{"field":"temp","max":20}',
    ]);
    expect(run.code).toBe(0);
    const kept = readings.filter((r) => r.temp <= 20);
    expect(run.stdout).toBe(kept.map((r) => `default ${r.device} ${JSON.stringify(r)}\n`).join(''));
    expect(run.stderr).toBe(`${readings.length} events in, ${kept.length} records out\n`);
  });

  it('prints window results, flushed at the end, as JSON lines with --json', async () => {
    const run = await runCli([
      'rules',
      'test',
      join(ROOT, 'dist', 'rules', 'window-stats.wasm'),
      '--events',
      events,
      '--config',
      '{"field":"temp","timeField":"ts","windowMs":1000}',
      '--batch',
      '37',
      '--json',
    ]);
    expect(run.stderr).toBe('');
    const records = run.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { output: string; payload: WindowResult });
    expect(records.every((r) => r.output === 'default')).toBe(true);
    expect(sortWindows(records.map((r) => r.payload))).toEqual(expectedWindows(readings, 1000));
  });
});
