/**
 * The API over HTTPS when `api.tls` names a certificate and key (a self-signed test
 * certificate for 127.0.0.1 in fixtures/, valid for 100 years), with a configured token.
 */
import { request } from 'node:https';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiGateway } from './api-fixture.js';
import type { ApiGateway } from './api-fixture.js';

const CERT = fileURLToPath(new URL('./fixtures/api-test.crt', import.meta.url));
const KEY = fileURLToPath(new URL('./fixtures/api-test.key', import.meta.url));
const TOKEN = 'configured-token-0123456789';

function get(url: string, ca: Buffer, token?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { ca, headers: token === undefined ? {} : { authorization: `Bearer ${token}` } },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('API over TLS', () => {
  let api: ApiGateway;
  beforeAll(async () => {
    api = await startApiGateway((config) => {
      config.api.tls = { cert: CERT, key: KEY };
      config.api.token = TOKEN;
    });
  });
  afterAll(async () => {
    await api?.close();
  });

  it('serves HTTPS with the configured certificate and accepts the configured token', async () => {
    expect(api.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const ca = await readFile(CERT);
    expect(await get(`${api.url}/healthz`, ca)).toEqual({ status: 200, body: '{"status":"ok"}' });
    expect((await get(`${api.url}/v1/rules`, ca, TOKEN)).status).toBe(200);
    expect((await get(`${api.url}/v1/rules`, ca, 'wrong-token-0123456789')).status).toBe(401);
  });

  it('does not write a token file when the token is configured', async () => {
    await expect(readFile(`${api.dir}/api-token`)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
