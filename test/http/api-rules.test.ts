/**
 * The rule store over real HTTP against a real gateway: uploads are validated (exports,
 * imports, memory, a dry run of init in a worker under a time limit) and stored by content
 * hash with versions; hostile uploads are each refused with a precise error while the running
 * rules keep processing; a version in use cannot be deleted; the store survives a restart.
 */
import { randomBytes } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../runtime/index.js';
import { makeReadings, publishAll, readingMessages } from '../gateway/helpers/gateway-config.js';
import { waitFor } from '../gateway/helpers/wait.js';
import { stubRuleWasm } from '../runtime/wat.js';
import { call, errorOf, startApiGateway } from './api-fixture.js';
import type { ApiGateway } from './api-fixture.js';

const RULES_DIR = fileURLToPath(new URL('../../dist/rules/', import.meta.url));
const THRESHOLD_CONFIG = { field: 'temp', min: -40, max: 125 };

/** Hostile modules, the HTTP status and the error (code and reason) each must get. */
const HOSTILE: readonly {
  what: string;
  body: () => Uint8Array;
  status: number;
  code: string;
  reason: string;
  message: RegExp;
}[] = [
  {
    what: 'random bytes',
    body: () => new Uint8Array(randomBytes(4096)),
    status: 422,
    code: 'RULE_INVALID',
    reason: 'NOT_WASM',
    message: /not a WebAssembly module/,
  },
  {
    what: 'a module without the tick export',
    body: () => stubRuleWasm({ tick: null }),
    status: 422,
    code: 'RULE_INVALID',
    reason: 'MISSING_EXPORT',
    message: /missing export "tick"/,
  },
  {
    what: 'a module whose process has the wrong type',
    body: () =>
      stubRuleWasm({
        process: '(func (export "process") (param i32 i32) (result i32) (i32.const 16))',
      }),
    status: 422,
    code: 'RULE_INVALID',
    reason: 'EXPORT_SIGNATURE',
    message: /export "process" has type/,
  },
  {
    what: 'a module importing a function the host does not offer',
    body: () =>
      stubRuleWasm({ imports: '(import "env" "fetch" (func (param i32 i32) (result i32)))' }),
    status: 422,
    code: 'RULE_INVALID',
    reason: 'UNEXPECTED_IMPORT',
    message: /import "env"\."fetch"/,
  },
  {
    what: 'a module whose memory has no maximum',
    body: () => stubRuleWasm({ memory: '(memory (export "memory") 1)' }),
    status: 422,
    code: 'RULE_INVALID',
    reason: 'MEMORY_UNBOUNDED',
    message: /memory declares no maximum/,
  },
  {
    what: 'a module whose memory maximum is above the budget',
    body: () => stubRuleWasm({ memory: '(memory (export "memory") 1 65536)' }),
    status: 422,
    code: 'RULE_INVALID',
    reason: 'MEMORY_TOO_LARGE',
    message: /memory maximum is 65536 pages/,
  },
  {
    what: 'a module whose init loops forever',
    body: () =>
      stubRuleWasm({
        init: '(func (export "init") (param i32 i32) (result i32) (loop $spin (br $spin)) (i32.const 32))',
      }),
    status: 422,
    code: 'RULE_DRY_RUN_FAILED',
    reason: 'INIT_TIMEOUT',
    message: /init did not return within 500 ms/,
  },
  {
    what: 'a module whose init traps',
    body: () =>
      stubRuleWasm({ init: '(func (export "init") (param i32 i32) (result i32) unreachable)' }),
    status: 422,
    code: 'RULE_DRY_RUN_FAILED',
    reason: 'INIT_TRAP',
    message: /init trapped with the given configuration: .*unreachable/,
  },
];

/** Posts `size` bytes with node:http and resolves with the status (the server may answer before reading it all). */
function postLarge(
  url: string,
  token: string,
  size: number,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${url}/v1/rules/huge`,
      {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-length': String(size) },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    const chunk = Buffer.alloc(1024 * 1024, 0x61);
    let sent = 0;
    const write = (): void => {
      while (sent < size) {
        sent += chunk.length;
        if (!req.write(chunk)) {
          req.once('drain', write);
          return;
        }
      }
      req.end();
    };
    // The server may answer 413 and close before the body is sent: stop writing then.
    req.on('response', () => {
      sent = size;
    });
    write();
  });
}

describe('rule store over the HTTP API', () => {
  let api: ApiGateway;
  let threshold: Uint8Array;
  let deadband: Uint8Array;
  beforeAll(async () => {
    threshold = await readFile(join(RULES_DIR, 'threshold.wasm'));
    deadband = await readFile(join(RULES_DIR, 'deadband.wasm'));
    api = await startApiGateway((config) => {
      config.limits.ruleInitTimeoutMs = 500;
      const rules = config.pipelines[0]?.rules;
      // Forward every reading as it is, so that the test can see the running rule at work.
      if (rules !== undefined)
        rules.splice(0, rules.length, {
          name: 'threshold',
          module: 'threshold',
          config: THRESHOLD_CONFIG,
        });
    });
  });
  afterAll(async () => {
    await api?.close();
  });
  const auth = (): { token: string } => ({ token: api.token });

  it('stores an upload by content hash with its metadata', async () => {
    const before = Date.now();
    const { status, json } = await call(
      api,
      'POST',
      `/v1/rules/limits?config=${encodeURIComponent(JSON.stringify(THRESHOLD_CONFIG))}`,
      {
        ...auth(),
        body: threshold,
      },
    );
    expect(status).toBe(201);
    const version = json['version'] as Record<string, unknown>;
    expect(json['created']).toBe(true);
    expect(version).toMatchObject({
      name: 'limits',
      version: 1,
      ref: 'limits@1',
      hash: await sha256Hex(threshold),
      size: threshold.length,
      uploader: 'api',
      config: THRESHOLD_CONFIG,
    });
    expect([...(version['imports'] as string[])].sort()).toEqual(['$root.log', '$root.metric']);
    expect(version['exports']).toEqual(
      expect.arrayContaining(['memory', 'init', 'process', 'tick', 'flush', 'snapshot', 'restore']),
    );
    expect((version['memory'] as { maximumPages: number }).maximumPages).toBeGreaterThan(0);
    expect(Date.parse(version['uploadedAt'] as string)).toBeGreaterThanOrEqual(before - 1000);
    const files = await readdir(join(api.dir, 'rules', 'modules'));
    expect(files).toContain(`${await sha256Hex(threshold)}.wasm`);
  });

  it('numbers versions per name, and returns the newest version for identical bytes', async () => {
    const again = await call(api, 'POST', '/v1/rules/limits', {
      ...auth(),
      body: threshold,
      headers: { 'sluice-rule-config': JSON.stringify(THRESHOLD_CONFIG) },
    });
    expect(again.status).toBe(200);
    expect(again.json).toMatchObject({ created: false, version: { version: 1 } });
    const second = await call(api, 'POST', '/v1/rules/limits', {
      ...auth(),
      body: deadband,
      headers: { 'sluice-rule-config': JSON.stringify({ field: 'temp', delta: 0.5 }) },
    });
    expect(second.status).toBe(201);
    expect(second.json).toMatchObject({
      created: true,
      version: { version: 2, hash: await sha256Hex(deadband) },
    });

    const list = await call(api, 'GET', '/v1/rules', auth());
    expect(list.json).toEqual({
      rules: [
        expect.objectContaining({
          name: 'limits',
          active: 2,
          versions: [1, 2],
          hash: await sha256Hex(deadband),
        }),
      ],
    });
    const rule = await call(api, 'GET', '/v1/rules/limits', auth());
    expect((rule.json['versions'] as { ref: string }[]).map((v) => v.ref)).toEqual([
      'limits@1',
      'limits@2',
    ]);
    const one = await call(api, 'GET', '/v1/rules/limits/versions/1', auth());
    expect(one.json).toMatchObject({ ref: 'limits@1', hash: await sha256Hex(threshold) });
  });

  it('answers unknown rules and versions with 404 and malformed ones with 400', async () => {
    expect(errorOf((await call(api, 'GET', '/v1/rules/nope', auth())).json).code).toBe(
      'RULE_NOT_FOUND',
    );
    const missing = await call(api, 'GET', '/v1/rules/limits/versions/9', auth());
    expect(missing.status).toBe(404);
    expect(errorOf(missing.json)).toMatchObject({
      code: 'RULE_VERSION_NOT_FOUND',
      message: expect.stringContaining('stored: 1, 2'),
    });
    expect((await call(api, 'GET', '/v1/rules/limits/versions/x', auth())).status).toBe(400);
    const badName = await call(api, 'POST', '/v1/rules/bad%20name', { ...auth(), body: threshold });
    expect(badName.status).toBe(400);
    expect(errorOf(badName.json).code).toBe('RULE_NAME_INVALID');
    const badConfig = await call(api, 'POST', '/v1/rules/limits?config=%7Bnot-json', {
      ...auth(),
      body: threshold,
    });
    expect(badConfig.status).toBe(400);
    expect(errorOf(badConfig.json).code).toBe('RULE_CONFIG_INVALID');
  });

  it('refuses an upload whose init rejects the given configuration, naming the rule message', async () => {
    const config = encodeURIComponent(JSON.stringify({ field: 'temp', min: 10, max: 0 }));
    const { status, json } = await call(api, 'POST', `/v1/rules/limits?config=${config}`, {
      ...auth(),
      body: threshold,
    });
    expect(status).toBe(422);
    expect(errorOf(json)).toMatchObject({ code: 'RULE_DRY_RUN_FAILED', reason: 'INIT_REFUSED' });
    expect(errorOf(json).message).toBe(
      'init refused the given configuration: config.min (10.0) is greater than config.max (0.0)',
    );
    expect((await call(api, 'GET', '/v1/rules/limits', auth())).json['versions']).toHaveLength(2);
  });

  it('refuses each hostile upload with a precise error, stores nothing and keeps the running rule working', async () => {
    const storeBefore = await call(api, 'GET', '/v1/rules', auth());
    for (const hostile of HOSTILE) {
      const { status, json } = await call(api, 'POST', '/v1/rules/hostile', {
        ...auth(),
        body: hostile.body(),
      });
      expect({
        what: hostile.what,
        status,
        code: errorOf(json).code,
        reason: errorOf(json).reason,
      }).toEqual({
        what: hostile.what,
        status: hostile.status,
        code: hostile.code,
        reason: hostile.reason,
      });
      expect(errorOf(json).message).toMatch(hostile.message);
    }
    const huge = await postLarge(api.url, api.token, 50 * 1024 * 1024);
    expect(huge.status).toBe(413);
    expect(errorOf(JSON.parse(huge.body) as Record<string, unknown>).code).toBe(
      'API_BODY_TOO_LARGE',
    );

    expect((await call(api, 'GET', '/v1/rules', auth())).json).toEqual(storeBefore.json);
    expect((await call(api, 'GET', '/v1/rules/hostile', auth())).status).toBe(404);
    expect(await readdir(join(api.dir, 'rules', 'modules'))).toHaveLength(2);

    // The running pipeline still forwards every reading.
    const readings = makeReadings(3, 20, Date.now(), 10);
    await publishAll(api.gateway.mqttUrl, readingMessages(readings));
    await waitFor(() => api.receiver.recordCount() === readings.length, {
      what: 'every reading forwarded upstream',
    });
    expect(api.gateway.stats().ruleTraps).toBe(0);
    expect(api.gateway.stats().deadLetters).toBe(0);
  });

  it('refuses to delete a version a running pipeline uses, and deletes one no pipeline uses', async () => {
    // limits@1 is the module of the running threshold rule (same bytes, same hash).
    const inUse = await call(api, 'DELETE', '/v1/rules/limits/versions/1', auth());
    expect(inUse.status).toBe(409);
    expect(errorOf(inUse.json)).toMatchObject({
      code: 'RULE_VERSION_IN_USE',
      message: expect.stringContaining('limits@1'),
    });
    const removed = await call(api, 'DELETE', '/v1/rules/limits/versions/2', auth());
    expect(removed.status).toBe(200);
    expect(removed.json).toMatchObject({ deleted: { ref: 'limits@2' } });
    expect((await call(api, 'GET', '/v1/rules/limits/versions/2', auth())).status).toBe(404);
    expect(await readdir(join(api.dir, 'rules', 'modules'))).toEqual([
      `${await sha256Hex(threshold)}.wasm`,
    ]);
    // Version numbers are never reused.
    const next = await call(api, 'POST', '/v1/rules/limits', {
      ...auth(),
      body: deadband,
      headers: { 'sluice-rule-config': JSON.stringify({ field: 'temp', delta: 0.5 }) },
    });
    expect(next.json).toMatchObject({ version: { version: 3 } });
  });

  it('keeps the store across a restart', async () => {
    const before = await call(api, 'GET', '/v1/rules/limits', auth());
    await api.restart();
    const after = await call(api, 'GET', '/v1/rules/limits', auth());
    expect(after.status).toBe(200);
    expect(after.json).toEqual(before.json);
  });

  it('keeps an audit log of every change with who, what, when and the hash', async () => {
    const { status, json } = await call(api, 'GET', '/v1/audit', auth());
    expect(status).toBe(200);
    const entries = json['entries'] as Record<string, unknown>[];
    expect(entries.map((e) => [e['action'], e['rule'], e['who']])).toEqual([
      ['upload', 'limits@1', 'api'],
      ['upload', 'limits@2', 'api'],
      ['delete', 'limits@2', 'api'],
      ['upload', 'limits@3', 'api'],
    ]);
    expect(entries[0]).toMatchObject({ hash: await sha256Hex(threshold) });
    expect(entries[1]).toMatchObject({ hash: await sha256Hex(deadband) });
    for (const entry of entries)
      expect(Number.isNaN(Date.parse(entry['time'] as string))).toBe(false);
  });
});
