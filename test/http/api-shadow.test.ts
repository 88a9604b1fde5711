/**
 * Shadow runs over real HTTP against a running gateway: a version runs beside the active rule
 * on the same live batches, its outputs are compared (not forwarded), and the report states a
 * planted difference exactly; promote makes it the active rule, discard stops it.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeReadings, publishAll, readingMessages } from '../gateway/helpers/gateway-config.js';
import type { Reading } from '../gateway/helpers/gateway-config.js';
import { waitFor } from '../gateway/helpers/wait.js';
import { call, errorOf, startApiGateway } from './api-fixture.js';
import type { ApiGateway } from './api-fixture.js';

const RULES_DIR = fileURLToPath(new URL('../../dist/rules/', import.meta.url));
const ACTIVE = { field: 'temp', min: -40, max: 125 };
/** The planted difference: the shadow drops readings above 20 °C. */
const SHADOW = { field: 'temp', min: -40, max: 20 };

describe('shadow runs', () => {
  let api: ApiGateway;
  const json = (body: object): Uint8Array => new TextEncoder().encode(JSON.stringify(body));
  beforeAll(async () => {
    api = await startApiGateway((config) => {
      const pipeline = config.pipelines[0];
      if (pipeline !== undefined) {
        pipeline.rules = [{ name: 'limits', module: 'threshold', config: ACTIVE }];
      }
    });
    const upload = await call(api, 'POST', '/v1/rules/limits', {
      token: api.token,
      body: await readFile(join(RULES_DIR, 'threshold.wasm')),
      headers: { 'sluice-rule-config': JSON.stringify(ACTIVE) },
    });
    expect(upload.status).toBe(201);
  });
  afterAll(async () => {
    await api?.close();
  });

  async function deliver(readings: readonly Reading[]): Promise<void> {
    const before = api.gateway.stats().processed;
    await publishAll(api.gateway.mqttUrl, readingMessages(readings));
    await waitFor(() => api.gateway.stats().processed === before + readings.length, {
      what: 'every reading processed',
    });
  }

  it('reports a planted difference exactly and forwards only the active outputs', async () => {
    const started = await call(api, 'POST', '/v1/pipelines/test/rules/0/shadow', {
      token: api.token,
      body: json({ name: 'limits', config: SHADOW }),
    });
    expect(started.status, JSON.stringify(started.json)).toBe(201);
    expect(started.json).toMatchObject({ shadow: 'limits@1', handover: 'state' });

    const readings = makeReadings(6, 50, Date.now(), 10);
    const dropped = readings.filter((r) => r.temp > 20);
    const kept = readings.length - dropped.length;
    expect(dropped.length).toBeGreaterThan(20);
    await deliver(readings);
    await waitFor(() => api.receiver.recordCount() === readings.length, {
      what: 'every reading forwarded upstream',
    });

    const { status, json: report } = await call(api, 'GET', '/v1/pipelines/test/rules/0/shadow', {
      token: api.token,
    });
    expect(status).toBe(200);
    expect(report).toMatchObject({
      rule: 'limits@1',
      activeRecords: readings.length,
      shadowRecords: kept,
      matching: kept,
      missing: dropped.length,
      extra: 0,
      changed: 0,
      errors: 0,
    });
    const differences = report['differences'] as { kind: string; active: { payload: string } }[];
    expect(differences).toHaveLength(20);
    expect(differences.every((d) => d.kind === 'missing')).toBe(true);
    expect(differences.map((d) => JSON.parse(d.active.payload) as Reading)).toEqual(
      dropped.slice(0, 20),
    );
  });

  it('promotes the shadow to the active rule, which then forwards only what it keeps', async () => {
    const promoted = await call(api, 'POST', '/v1/pipelines/test/rules/0/shadow/promote', {
      token: api.token,
    });
    expect(promoted.status, JSON.stringify(promoted.json)).toBe(200);
    expect(promoted.json).toMatchObject({ activated: 'limits@1', handover: 'state' });
    const gone = await call(api, 'GET', '/v1/pipelines/test/rules/0/shadow', { token: api.token });
    expect(gone.status).toBe(404);
    expect(errorOf(gone.json).code).toBe('SHADOW_NOT_FOUND');

    const before = api.receiver.recordCount();
    const readings = makeReadings(4, 30, Date.now(), 10);
    await deliver(readings);
    const kept = readings.filter((r) => r.temp <= 20).length;
    await waitFor(() => api.receiver.recordCount() === before + kept, {
      what: 'the kept readings upstream',
    });
  });

  it('discards a shadow', async () => {
    const started = await call(api, 'POST', '/v1/pipelines/test/rules/0/shadow', {
      token: api.token,
      body: json({ name: 'limits', version: 1 }),
    });
    expect(started.status).toBe(201);
    const discarded = await call(api, 'DELETE', '/v1/pipelines/test/rules/0/shadow', {
      token: api.token,
    });
    expect(discarded.status).toBe(200);
    expect(discarded.json).toMatchObject({ discarded: { rule: 'limits@1' } });
    expect(
      (await call(api, 'GET', '/v1/pipelines/test/rules/0/shadow', { token: api.token })).status,
    ).toBe(404);
  });
});
