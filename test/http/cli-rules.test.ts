/**
 * `sluice rules push|list|show|activate|rm` against a real gateway's API, through the built
 * command line in a child process: human output by default, the API's JSON with --json, API
 * errors as a message and exit status 1.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, ensureBuilt, runCli } from '../cli/run-cli.js';
import { makeReadings, publishAll, readingMessages } from '../gateway/helpers/gateway-config.js';
import { waitFor } from '../gateway/helpers/wait.js';
import { stubRuleWasm } from '../runtime/wat.js';
import { startApiGateway } from './api-fixture.js';
import type { ApiGateway } from './api-fixture.js';

describe('sluice rules against a gateway', () => {
  let api: ApiGateway;
  let flags: string[];
  beforeAll(async () => {
    ensureBuilt();
    api = await startApiGateway();
    flags = ['--url', api.url, '--token', api.token];
  });
  afterAll(async () => {
    await api?.close();
  });

  it('pushes, lists, shows, activates and deletes rule versions', async () => {
    const threshold = join(ROOT, 'dist', 'rules', 'threshold.wasm');
    const push = await runCli([
      'rules',
      'push',
      threshold,
      '--config',
      '{"field":"temp"}',
      ...flags,
    ]);
    expect(push.stderr).toBe('');
    expect(push.code).toBe(0);
    expect(push.stdout).toMatch(/^stored threshold@1 \(\d+ bytes, sha256 [0-9a-f]{12}…\)\n$/);

    const deadband = join(ROOT, 'dist', 'rules', 'deadband.wasm');
    const second = await runCli([
      'rules',
      'push',
      deadband,
      '--name',
      'threshold',
      '--json',
      ...flags,
    ]);
    expect(second.code).toBe(0);
    expect(JSON.parse(second.stdout)).toMatchObject({
      created: true,
      version: { ref: 'threshold@2' },
    });

    const list = await runCli(['rules', 'list', ...flags]);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(
      /^NAME +ACTIVE +VERSIONS +SHA256 +UPDATED\nthreshold +@2 +1,2 +[0-9a-f]{12} +\S+\n$/,
    );
    const listJson = await runCli(['rules', 'list', '--json', ...flags]);
    expect(JSON.parse(listJson.stdout)).toMatchObject({
      rules: [{ name: 'threshold', versions: [1, 2] }],
    });

    const show = await runCli(['rules', 'show', 'threshold@1', ...flags]);
    expect(show.code).toBe(0);
    expect(show.stdout).toContain('threshold@1');
    expect(show.stdout).toContain('config {"field":"temp"}');

    // The running pipeline's first rule is threshold: roll it to threshold@1 (the same module).
    const activate = await runCli([
      'rules',
      'activate',
      'threshold@1',
      '--pipeline',
      'test',
      ...flags,
    ]);
    expect(activate.stderr).toBe('');
    expect(activate.stdout).toMatch(
      /^activated threshold@1 in test\[0\] \(state of \d+ bytes handed over; swap [\d.]+ ms\)\n$/,
    );

    const refused = await runCli(['rules', 'rm', 'threshold@1', ...flags]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('409 RULE_VERSION_IN_USE');
    const rm = await runCli(['rules', 'rm', 'threshold@2', ...flags]);
    expect(rm.code).toBe(0);
    expect(rm.stdout).toBe('deleted threshold@2\n');
  });

  it('shadows a version, shows the differences, discards it, and rolls back', async () => {
    const threshold = join(ROOT, 'dist', 'rules', 'threshold.wasm');
    const deadband = join(ROOT, 'dist', 'rules', 'deadband.wasm');
    expect((await runCli(['rules', 'push', threshold, '--name', 'limits', ...flags])).code).toBe(0);
    const shadow = await runCli([
      'rules',
      'shadow',
      'limits@1',
      '--pipeline',
      'test',
      '--config',
      '{"field":"temp","max":20}',
      ...flags,
    ]);
    expect(shadow.stderr).toBe('');
    expect(shadow.stdout).toBe(
      'shadowing test[0] with limits@1 (started from the active state); see sluice rules diff\n',
    );
    const readings = makeReadings(3, 20, Date.now(), 10);
    const before = api.gateway.stats().processed;
    await publishAll(api.gateway.mqttUrl, readingMessages(readings));
    await waitFor(() => api.gateway.stats().processed === before + readings.length, {
      what: 'every reading processed',
    });
    const dropped = readings.filter((r) => r.temp > 20).length;
    const diff = await runCli(['rules', 'diff', '--pipeline', 'test', ...flags]);
    expect(diff.code).toBe(0);
    expect(diff.stdout).toContain(
      `differences: ${dropped} missing in the shadow, 0 extra, 0 changed`,
    );
    const diffJson = await runCli(['rules', 'diff', '--pipeline', 'test', '--json', ...flags]);
    expect(JSON.parse(diffJson.stdout)).toMatchObject({
      activeRecords: readings.length,
      missing: dropped,
    });
    const discard = await runCli(['rules', 'shadow', '--pipeline', 'test', '--discard', ...flags]);
    expect(discard.stdout).toBe('discarded the shadow limits@1\n');

    expect((await runCli(['rules', 'push', deadband, '--name', 'limits', ...flags])).code).toBe(0);
    const activate = await runCli([
      'rules',
      'activate',
      'limits@2',
      '--pipeline',
      'test',
      ...flags,
    ]);
    expect(activate.code).toBe(0);
    const rollback = await runCli(['rules', 'rollback', 'limits', '--pipeline', 'test', ...flags]);
    expect(rollback.stderr).toBe('');
    expect(rollback.stdout).toBe('rolled back test[0] from limits@2 to limits@1\n');
  });

  it('prints the API error and exits with 1 for a refused upload or a wrong token', async () => {
    const file = join(api.dir, 'no-max.wasm');
    await writeFile(file, stubRuleWasm({ memory: '(memory (export "memory") 1)' }));
    const push = await runCli(['rules', 'push', file, ...flags]);
    expect(push.code).toBe(1);
    expect(push.stderr).toMatch(
      /^sluice: POST \/v1\/rules\/no-max: 422 RULE_INVALID\/MEMORY_UNBOUNDED: memory declares no maximum/,
    );

    const wrong = await runCli(['rules', 'list', '--url', api.url, '--token', 'not-the-token']);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('401 API_UNAUTHORIZED');
  });
});
