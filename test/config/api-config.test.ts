import { describe, expect, it } from 'vitest';
import { ConfigError, resolveConfig } from '../../gateway/config/index.js';

function problems(raw: unknown, env: Record<string, string> = {}): string[] {
  try {
    resolveConfig(raw, env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems.map((problem) => problem.message);
  }
  throw new Error('expected a ConfigError');
}

describe('resolveConfig api section', () => {
  it('keeps the API off by default and resolves a full section', () => {
    expect(resolveConfig({}).api.enabled).toBe(false);
    const config = resolveConfig({
      api: {
        enabled: true,
        host: '0.0.0.0',
        port: 0,
        token: 'a-long-enough-token-123',
        maxBodyBytes: 2048,
        tls: { cert: '/etc/sluice/api.crt', key: '/etc/sluice/api.key' },
      },
      limits: { ruleInitTimeoutMs: 250 },
    });
    expect(config.api).toEqual({
      enabled: true,
      host: '0.0.0.0',
      port: 0,
      token: 'a-long-enough-token-123',
      maxBodyBytes: 2048,
      tls: { cert: '/etc/sluice/api.crt', key: '/etc/sluice/api.key' },
    });
    expect(config.limits.ruleInitTimeoutMs).toBe(250);
  });

  it('names the field, the value and the fix for each wrong api value', () => {
    expect(
      problems({
        api: {
          port: 70000,
          token: 'short',
          maxBodyBytes: 10,
          tls: { cert: '/x.crt' },
          enabld: true,
        },
        limits: { ruleInitTimeoutMs: 0 },
      }),
    ).toEqual([
      'limits.ruleInitTimeoutMs: 0 is out of range (expected a whole number of milliseconds from 1 to 600000)',
      'api.enabld: unknown key (did you mean "enabled"?)',
      'api.port: 70000 is out of range (expected a whole number from 0 to 65535; 0 picks a free port)',
      'api.maxBodyBytes: 10 is out of range (expected a whole number of bytes from 1024 to 1073741824)',
      'api.token: is 5 characters long, too short to guess-proof the API (use at least 16, or remove it and let Sluice generate one in <dataDir>/api-token)',
      'api.tls.key: is missing (api.tls.cert is set; HTTPS needs both a PEM certificate and its key, or remove api.tls)',
    ]);
  });

  it('takes api keys from the environment', () => {
    const config = resolveConfig({}, { SLUICE__api__enabled: 'true', SLUICE__api__port: '9000' });
    expect(config.api).toMatchObject({ enabled: true, port: 9000 });
  });

  it('accepts rules from the store as store:<name> or store:<name>@<version>', () => {
    const config = resolveConfig({
      pipelines: [{ rules: ['store:limits', { module: 'store:stats@2', config: { field: 't' } }] }],
    });
    expect(config.pipelines[0]?.rules.map((r) => [r.name, r.module])).toEqual([
      ['limits', 'store:limits'],
      ['stats', 'store:stats@2'],
    ]);
    expect(problems({ pipelines: [{ rules: ['store:bad name', 'store:x@0'] }] })).toEqual([
      'pipelines[0].rules[0].module: "store:bad name" is not a stored rule reference (expected store:<name> for its active version or store:<name>@<version>, e.g. store:limits@2)',
      'pipelines[0].rules[1].module: "store:x@0" is not a stored rule reference (expected store:<name> for its active version or store:<name>@<version>, e.g. store:limits@2)',
    ]);
  });

  it('checks api.signingKey is a 32-byte base64 Ed25519 public key', () => {
    const key = Buffer.alloc(32, 7).toString('base64');
    expect(resolveConfig({ api: { signingKey: key } }).api.signingKey).toBe(key);
    expect(problems({ api: { signingKey: 'abc' } })).toEqual([
      'api.signingKey: "abc" is not an Ed25519 public key (expected the 32-byte key in base64, as sluice rules keygen prints it)',
    ]);
  });
});
