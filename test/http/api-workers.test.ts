/**
 * The HTTP API beside a pipeline whose rules run on worker threads: it lists the pipeline's
 * rules, serves the pool's metrics, and refuses activation and shadow runs with a 409 that
 * names the fix, while the pipeline keeps forwarding.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import {
  THRESHOLD_RULE,
  makeReadings,
  publishAll,
  readingMessages,
} from '../gateway/helpers/gateway-config.js';
import { waitFor } from '../gateway/helpers/wait.js';
import { useWorkerEntry } from '../gateway/helpers/worker-entry.js';
import { call, errorOf, startApiGateway } from './api-fixture.js';
import type { ApiGateway } from './api-fixture.js';

const DIST = fileURLToPath(new URL('../../dist/', import.meta.url));

describe('HTTP API with a pipeline on workers', () => {
  const workerEntry = useWorkerEntry();
  let api: ApiGateway | undefined;
  afterEach(async () => {
    await api?.close();
    api = undefined;
  });

  it('lists its rules and metrics, and refuses activation and shadows naming workers.count', async () => {
    const a = await startApiGateway(
      (config) => {
        const pipeline = config.pipelines[0];
        if (pipeline !== undefined) {
          pipeline.rules = [{ name: 'threshold', ...THRESHOLD_RULE }];
          pipeline.workers = { count: 2, ruleTimeoutMs: 5000 };
        }
      },
      { workerEntry: workerEntry() },
    );
    api = a;
    const listed = await call(a, 'GET', '/v1/pipelines', { token: a.token });
    expect(listed.status).toBe(200);
    expect(listed.json).toMatchObject({
      pipelines: [{ name: 'test', rules: [{ index: 0, name: 'threshold' }] }],
    });

    const upload = await call(a, 'POST', '/v1/rules/limits', {
      token: a.token,
      body: await readFile(join(DIST, 'rules', 'threshold.wasm')),
      headers: { 'sluice-rule-config': JSON.stringify(THRESHOLD_RULE.config) },
    });
    expect([200, 201]).toContain(upload.status);
    const body = new TextEncoder().encode(JSON.stringify({ name: 'limits' }));
    for (const path of ['activate', 'shadow']) {
      const refused = await call(a, 'POST', `/v1/pipelines/test/rules/0/${path}`, {
        token: a.token,
        body,
      });
      expect(refused.status).toBe(409);
      const error = errorOf(refused.json);
      expect(error.code).toBe('PIPELINE_ON_WORKERS');
      expect(error.message).toMatch(/workers\.count: 2.*set pipelines\[\]\.workers\.count to 0/);
    }

    // The pipeline still runs its rules on the workers.
    const readings = makeReadings(6, 20, Date.now(), 10);
    await publishAll(a.gateway.mqttUrl, readingMessages(readings), { qos: 1 });
    await waitFor(() => a.receiver.recordCount() === readings.length, {
      what: 'every reading upstream',
    });
    const text = await (
      await fetch(`${a.url}/metrics`, { headers: { authorization: `Bearer ${a.token}` } })
    ).text();
    expect(text).toMatch(/sluice_rule_partition_memory_pages\{[^}]*partition="1"/);
    expect(text).toMatch(/sluice_rule_events_in_total\{pipeline="test",rule="threshold"\} 120/);
  });
});
