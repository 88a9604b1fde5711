/**
 * @module Resolves the `api` section (the HTTP API of the rule lifecycle): defaults filled,
 * values checked, problems named by field.
 */

import { ConfigChecker, renderValue, type ConfigPath } from './check.js';
import { DEFAULT_API } from './defaults.js';
import type { ApiConfig } from './types.js';

const API_KEYS = ['enabled', 'host', 'port', 'token', 'maxBodyBytes', 'tls', 'signingKey'] as const;

/** Fills the defaults of `api` and checks it; problems go to `check`. */
export function resolveApi(check: ConfigChecker, raw: unknown): ApiConfig {
  const at = (key: string): ConfigPath => ['api', key];
  const a = check.section(['api'], raw, API_KEYS);
  const api: ApiConfig = {
    enabled: check.bool(at('enabled'), a.enabled, DEFAULT_API.enabled),
    host: check.string(at('host'), a.host, DEFAULT_API.host),
    port: check.int(at('port'), a.port, DEFAULT_API.port, {
      min: 0,
      max: 65535,
      note: '0 picks a free port',
    }),
    maxBodyBytes: check.int(at('maxBodyBytes'), a.maxBodyBytes, DEFAULT_API.maxBodyBytes, {
      min: 1024,
      max: 1024 * 1024 * 1024,
      unit: 'bytes',
    }),
  };
  const token = check.optionalString(at('token'), a.token);
  if (token !== undefined) {
    if (token.length < 16) {
      check.report(
        at('token'),
        `is ${token.length} characters long, too short to guess-proof the API (use at least 16, ` +
          `or remove it and let Sluice generate one in <dataDir>/api-token)`,
        a.token,
      );
    }
    api.token = token;
  }
  const signingKey = check.optionalString(at('signingKey'), a.signingKey);
  if (signingKey !== undefined) {
    const text = signingKey.trim().replace(/-/g, '+').replace(/_/g, '/');
    const ok = /^[A-Za-z0-9+/]*={0,2}$/.test(text) && Buffer.from(text, 'base64').length === 32;
    if (!ok) {
      check.report(
        at('signingKey'),
        `${renderValue(signingKey)} is not an Ed25519 public key (expected the 32-byte key in base64, as sluice rules keygen prints it)`,
        a.signingKey,
      );
    }
    api.signingKey = signingKey.trim();
  }
  if (a.tls !== undefined || check.hasOverrides(at('tls'))) {
    const t = check.section(['api', 'tls'], a.tls, ['cert', 'key']);
    const cert =
      t.cert === undefined || t.cert === null
        ? undefined
        : check.filePath(['api', 'tls', 'cert'], t.cert, '');
    const key =
      t.key === undefined || t.key === null
        ? undefined
        : check.filePath(['api', 'tls', 'key'], t.key, '');
    if (cert === undefined && key === undefined) {
      check.report(
        ['api', 'tls'],
        `is empty (set api.tls.cert and api.tls.key to a PEM certificate and its key for HTTPS, or remove api.tls)`,
      );
    } else if (cert === undefined || key === undefined) {
      const [set, missing] = cert === undefined ? ['key', 'cert'] : ['cert', 'key'];
      check.report(
        ['api', 'tls', missing],
        `is missing (api.tls.${set} is set; HTTPS needs both a PEM certificate and its key, or remove api.tls)`,
      );
    } else {
      api.tls = { cert, key };
    }
  }
  return api;
}
