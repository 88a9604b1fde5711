/**
 * Signed modules: with `api.signingKey` set, an upload must carry a valid Ed25519 signature
 * over the module's SHA-256; keys and signatures come from `sluice rules keygen|sign` (or
 * `push --sign-key`), through the built command line.
 */
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSigningKey, signModule } from '../../gateway/rule-store/signature.js';
import { ROOT, ensureBuilt, runCli } from '../cli/run-cli.js';
import { tempDir } from '../gateway/helpers/gateway-config.js';
import { call, errorOf, startApiGateway } from './api-fixture.js';
import type { ApiGateway } from './api-fixture.js';

const THRESHOLD = join(ROOT, 'dist', 'rules', 'threshold.wasm');

describe('signed modules', () => {
  let api: ApiGateway;
  let keyDir: string;
  let keyFile: string;
  let publicKey: string;
  beforeAll(async () => {
    ensureBuilt();
    keyDir = await tempDir();
    keyFile = join(keyDir, 'signing.pem');
    const keygen = await runCli(['rules', 'keygen', '--out', keyFile]);
    expect(keygen.stderr).toBe('');
    publicKey = keygen.stdout.trim();
    expect(publicKey).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    api = await startApiGateway((config) => {
      config.api.signingKey = publicKey;
    });
  });
  afterAll(async () => {
    await api?.close();
    await rm(keyDir, { recursive: true, force: true });
  });

  it('refuses an unsigned upload and one signed with another key, and accepts a valid signature', async () => {
    const bytes = await readFile(THRESHOLD);
    const unsigned = await call(api, 'POST', '/v1/rules/signed', { token: api.token, body: bytes });
    expect(unsigned.status).toBe(422);
    expect(errorOf(unsigned.json)).toMatchObject({
      code: 'RULE_SIGNATURE_INVALID',
      message: expect.stringContaining('signed modules only'),
    });
    const other = await generateSigningKey();
    const forged = await call(api, 'POST', '/v1/rules/signed', {
      token: api.token,
      body: bytes,
      headers: { 'sluice-signature': await signModule(bytes, other.privateKeyPem) },
    });
    expect(forged.status).toBe(422);
    expect(errorOf(forged.json).message).toContain('does not verify');

    const sign = await runCli(['rules', 'sign', THRESHOLD, '--key', keyFile]);
    expect(sign.code).toBe(0);
    const tampered = new Uint8Array(bytes);
    tampered[tampered.length - 1] = (tampered[tampered.length - 1] ?? 0) ^ 1;
    const changed = await call(api, 'POST', '/v1/rules/signed', {
      token: api.token,
      body: tampered,
      headers: { 'sluice-signature': sign.stdout.trim() },
    });
    expect(errorOf(changed.json).code).toBe('RULE_SIGNATURE_INVALID');
    expect((await call(api, 'GET', '/v1/rules/signed', { token: api.token })).status).toBe(404);

    const ok = await call(api, 'POST', '/v1/rules/signed', {
      token: api.token,
      body: bytes,
      headers: { 'sluice-signature': sign.stdout.trim() },
    });
    expect(ok.status).toBe(201);
    expect(ok.json).toMatchObject({ version: { ref: 'signed@1', signed: true } });
  });

  it('signs while pushing with sluice rules push --sign-key', async () => {
    const push = await runCli([
      'rules',
      'push',
      join(ROOT, 'dist', 'rules', 'deadband.wasm'),
      '--name',
      'signed',
      '--sign-key',
      keyFile,
      '--url',
      api.url,
      '--token',
      api.token,
    ]);
    expect(push.stderr).toBe('');
    expect(push.stdout).toMatch(/^stored signed@2 /);
  });
});
