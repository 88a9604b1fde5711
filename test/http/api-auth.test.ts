/**
 * The API's bearer-token authentication against a real gateway: every route but /healthz
 * refuses a missing or wrong token with 401 and a JSON error, and each refusal is logged.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, errorOf, startApiGateway } from './api-fixture.js';
import type { ApiGateway } from './api-fixture.js';

const ROUTES: readonly [string, string][] = [
  ['GET', '/v1/rules'],
  ['GET', '/v1/rules/threshold'],
  ['POST', '/v1/rules/threshold'],
  ['GET', '/v1/rules/threshold/versions/1'],
  ['DELETE', '/v1/rules/threshold/versions/1'],
  ['GET', '/v1/no-such-route'],
];

describe('API authentication', () => {
  let api: ApiGateway;
  beforeAll(async () => {
    api = await startApiGateway();
  });
  afterAll(async () => {
    await api?.close();
  });

  it('answers /healthz without a token', async () => {
    const { status, json } = await call(api, 'GET', '/healthz');
    expect(status).toBe(200);
    expect(json).toEqual({ status: 'ok' });
  });

  it('generates a token on the first start and keeps it in <dataDir>/api-token', async () => {
    expect(api.token).toMatch(/^slc_[A-Za-z0-9_-]{43}$/);
    expect((await readFile(join(api.dir, 'api-token'), 'utf8')).trim()).toBe(api.token);
    const { status } = await call(api, 'GET', '/v1/rules', { token: api.token });
    expect(status).toBe(200);
  });

  it('refuses every route without a token with 401 and a JSON error', async () => {
    for (const [method, path] of ROUTES) {
      const { status, json } = await call(
        api,
        method,
        path,
        method === 'POST' ? { body: new Uint8Array(8) } : {},
      );
      expect({ method, path, status }).toEqual({ method, path, status: 401 });
      expect(errorOf(json).code).toBe('API_UNAUTHORIZED');
    }
  });

  it('refuses every route with a wrong token with 401 and logs each attempt', async () => {
    const before = api.logs.filter((line) => line['token'] === 'wrong').length;
    const wrong = `${api.token.slice(0, -1)}${api.token.endsWith('A') ? 'B' : 'A'}`;
    for (const token of [wrong, 'short', `${api.token}x`]) {
      for (const [method, path] of ROUTES) {
        const { status, json } = await call(api, method, path, { token });
        expect({ method, path, status }).toEqual({ method, path, status: 401 });
        expect(errorOf(json).code).toBe('API_UNAUTHORIZED');
      }
    }
    const logged = api.logs.filter((line) => line['token'] === 'wrong');
    expect(logged.length - before).toBe(3 * ROUTES.length);
    expect(logged.at(-1)).toMatchObject({
      level: 40,
      address: '127.0.0.1',
      msg: 'API request refused: missing or wrong bearer token',
    });
    expect(JSON.stringify(api.logs)).not.toContain(wrong);
  });

  it('keeps the same token across a restart', async () => {
    const token = api.token;
    await api.restart();
    expect((await call(api, 'GET', '/v1/rules', { token })).status).toBe(200);
  });
});
