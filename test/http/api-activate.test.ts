/**
 * Activation over real HTTP into a running gateway under continuous QoS 1 load: the swap
 * happens between batches with the window state handed over, so the per-device window results
 * upstream are exactly those computed offline (nothing lost, nothing doubled); a rollback is
 * an activation of the older version; a version that refuses the state gets the old windows
 * flushed first.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import {
  expectedWindows,
  makeReadings,
  publishAll,
  readingMessages,
  sortWindows,
} from '../gateway/helpers/gateway-config.js';
import type { Reading, WindowResult } from '../gateway/helpers/gateway-config.js';
import { waitFor } from '../gateway/helpers/wait.js';
import { stubRuleWasm } from '../runtime/wat.js';
import { call, errorOf, startApiGateway } from './api-fixture.js';
import type { ApiGateway } from './api-fixture.js';

const DIST = fileURLToPath(new URL('../../dist/', import.meta.url));
const WINDOW_MS = 1000;
const STATS_CONFIG = { field: 'temp', timeField: 'ts', windowMs: WINDOW_MS };

function windowsUpstream(api: ApiGateway): WindowResult[] {
  return sortWindows(api.receiver.records().map((record) => record.value as WindowResult));
}

/** Readings an hour ahead: windows close only on later readings of the same device, or at close. */
function futureReadings(devices: number, count: number): Reading[] {
  return makeReadings(devices, count, Date.now() + 3_600_000, 100);
}

/** Publishes `readings` in chunks; `during(chunk)` runs (not awaited) before chunk `at`. */
async function publishWhile(
  api: ApiGateway,
  readings: readonly Reading[],
  chunks: number,
  at: number,
  during: () => Promise<unknown>,
): Promise<unknown> {
  const messages = readingMessages(readings);
  const size = Math.ceil(messages.length / chunks);
  let pending: Promise<unknown> | undefined;
  for (let i = 0; i < chunks; i++) {
    if (i === at) pending = during();
    await publishAll(api.gateway.mqttUrl, messages.slice(i * size, (i + 1) * size));
  }
  return pending;
}

describe('rule activation', () => {
  let api: ApiGateway | undefined;
  afterEach(async () => {
    await api?.close();
    api = undefined;
  });

  async function start(): Promise<ApiGateway> {
    api = await startApiGateway((config) => {
      const pipeline = config.pipelines[0];
      if (pipeline !== undefined) {
        pipeline.rules = [{ name: 'stats', module: 'window-stats', config: STATS_CONFIG }];
        pipeline.batch.maxEvents = 50;
      }
    });
    return api;
  }

  async function upload(
    a: ApiGateway,
    name: string,
    bytes: Uint8Array,
    config: object,
  ): Promise<void> {
    const { status, json } = await call(a, 'POST', `/v1/rules/${name}`, {
      token: a.token,
      body: bytes,
      headers: { 'sluice-rule-config': JSON.stringify(config) },
    });
    expect([200, 201], JSON.stringify(json)).toContain(status);
  }

  function activate(
    a: ApiGateway,
    body: object,
  ): Promise<{ status: number; json: Record<string, unknown> }> {
    return call(a, 'POST', '/v1/pipelines/test/rules/0/activate', {
      token: a.token,
      body: new TextEncoder().encode(JSON.stringify(body)),
    });
  }

  it('swaps a new version in under load, then rolls back, with window results exactly as computed offline', async () => {
    const a = await start();
    await upload(
      a,
      'stats',
      await readFile(join(DIST, 'rules', 'window-stats.wasm')),
      STATS_CONFIG,
    );
    await upload(
      a,
      'stats',
      await readFile(join(DIST, 'test-rules', 'window-stats-incremental.wasm')),
      STATS_CONFIG,
    );

    const readings = futureReadings(10, 120);
    const first = readings.slice(0, 600);
    const second = readings.slice(600);
    const swap = (await publishWhile(a, first, 6, 3, () =>
      activate(a, { name: 'stats', version: 2 }),
    )) as {
      status: number;
      json: Record<string, unknown>;
    };
    expect(swap.status, JSON.stringify(swap.json)).toBe(200);
    expect(swap.json).toMatchObject({
      activated: 'stats@2',
      handover: 'state',
      pipeline: 'test',
      index: 0,
    });
    expect(swap.json['stateBytes']).toBeGreaterThan(0);

    const rollback = (await publishWhile(a, second, 6, 3, () =>
      activate(a, { name: 'stats', version: 1 }),
    )) as {
      status: number;
      json: Record<string, unknown>;
    };
    expect(rollback.status, JSON.stringify(rollback.json)).toBe(200);
    expect(rollback.json).toMatchObject({ activated: 'stats@1', handover: 'state' });

    const pipelines = await call(a, 'GET', '/v1/pipelines', { token: a.token });
    expect(pipelines.json).toMatchObject({
      pipelines: [{ name: 'test', rules: [{ index: 0, name: 'stats', refs: ['stats@1'] }] }],
    });
    expect((await call(a, 'GET', '/v1/rules/stats', { token: a.token })).json).toMatchObject({
      active: 1,
    });

    await waitFor(() => a.gateway.stats().received === readings.length, {
      what: 'every reading received',
    });
    await a.gateway.close();
    const stats = a.gateway.stats();
    expect(stats.processed).toBe(readings.length);
    expect(stats.deadLetters).toBe(0);
    expect(windowsUpstream(a)).toEqual(expectedWindows(readings, WINDOW_MS));
  });

  it('flushes the old windows first when the new version refuses the state, and keeps the old one with onStateRefused fail', async () => {
    const a = await start();
    const refusing = stubRuleWasm({
      data: '(data (i32.const 48) "\\01\\00\\00\\00\\40\\00\\00\\00\\04\\00\\00\\00") (data (i32.const 64) "nope")',
      restore: '(func (export "restore") (param i32 i32) (result i32) (i32.const 48))',
    });
    await upload(a, 'refuser', refusing, {});
    const readings = futureReadings(5, 40);
    await publishAll(a.gateway.mqttUrl, readingMessages(readings));
    await waitFor(() => a.gateway.stats().processed === readings.length, {
      what: 'every reading processed',
    });
    const closedBefore = expectedWindows(readings.slice(0, 5 * 30), WINDOW_MS).length;
    await waitFor(() => windowsUpstream(a).length >= closedBefore - 5, {
      what: 'closed windows upstream',
    });

    const kept = await activate(a, { name: 'refuser', onStateRefused: 'fail' });
    expect(kept.status).toBe(409);
    expect(errorOf(kept.json)).toMatchObject({
      code: 'RULE_RESTORE_FAILED',
      message: expect.stringContaining('nope'),
    });
    // The old rule still holds its open windows: it was not flushed.
    expect(windowsUpstream(a).length).toBeLessThan(expectedWindows(readings, WINDOW_MS).length);

    const swapped = await activate(a, { name: 'refuser' });
    expect(swapped.json).toMatchObject({ activated: 'refuser@1', handover: 'flushed' });
    // Every window of the old rule was emitted by the flush, none twice.
    await waitFor(() => windowsUpstream(a).length === expectedWindows(readings, WINDOW_MS).length, {
      what: 'the flushed windows upstream',
    });
    expect(windowsUpstream(a)).toEqual(expectedWindows(readings, WINDOW_MS));
  });

  it('runs the activated version of a pipeline rule given as store:<name> after a restart', async () => {
    const a = await start();
    await upload(
      a,
      'stats',
      await readFile(join(DIST, 'rules', 'window-stats.wasm')),
      STATS_CONFIG,
    );
    await upload(
      a,
      'stats',
      await readFile(join(DIST, 'test-rules', 'window-stats-incremental.wasm')),
      STATS_CONFIG,
    );
    const activated = await activate(a, { name: 'stats', version: 2 });
    expect(activated.json).toMatchObject({ activated: 'stats@2' });
    const pipeline = a.config.pipelines[0];
    if (pipeline === undefined) throw new Error('no pipeline');
    pipeline.rules = [{ name: 'stats', module: 'store:stats', config: STATS_CONFIG }];
    await a.restart();
    const after = await call(a, 'GET', '/v1/pipelines', { token: a.token });
    expect(after.json).toMatchObject({
      pipelines: [{ name: 'test', rules: [{ name: 'stats', refs: ['stats@2'] }] }],
    });
    const readings = futureReadings(4, 30);
    await publishAll(a.gateway.mqttUrl, readingMessages(readings));
    await waitFor(() => a.gateway.stats().received === readings.length, {
      what: 'every reading received',
    });
    await a.gateway.close();
    expect(windowsUpstream(a)).toEqual(expectedWindows(readings, WINDOW_MS));
  });

  it('refuses to activate an unknown rule, pipeline or slot', async () => {
    const a = await start();
    expect(errorOf((await activate(a, { name: 'nope' })).json).code).toBe('RULE_NOT_FOUND');
    const slot = await call(a, 'POST', '/v1/pipelines/test/rules/5/activate', {
      token: a.token,
      body: new TextEncoder().encode('{"name":"x"}'),
    });
    expect(slot.status).toBe(404);
    expect(errorOf(slot.json).code).toBe('PIPELINE_NOT_FOUND');
    const bad = await call(a, 'POST', '/v1/pipelines/test/rules/0/activate', {
      token: a.token,
      body: new TextEncoder().encode('{"version":1}'),
    });
    expect(bad.status).toBe(400);
    expect(errorOf(bad.json).message).toMatch(/^name:/);
  });
});
