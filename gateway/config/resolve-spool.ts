/**
 * @module Resolution of a pipeline's `spool` section (the durable disk outbox).
 */
import type { ConfigChecker, ConfigPath } from './check.js';
import { DEFAULT_SPOOL_CONFIG } from './defaults.js';
import type { SpoolConfig } from './types.js';

const MS = 'milliseconds';

const SPOOL_KEYS = [
  'enabled',
  'maxBytes',
  'segmentBytes',
  'maxAgeMs',
  'fsync',
  'fsyncIntervalMs',
  'onFull',
] as const;

/** Resolves `pipelines[i].spool`. */
export function resolveSpool(check: ConfigChecker, path: ConfigPath, raw: unknown): SpoolConfig {
  const at = (key: string): ConfigPath => [...path, key];
  const s = check.section(path, raw, SPOOL_KEYS);
  const d = DEFAULT_SPOOL_CONFIG;
  const maxBytes = check.int(at('maxBytes'), s.maxBytes, d.maxBytes, {
    min: 65536,
    unit: 'bytes',
  });
  const segmentBytes = check.int(
    at('segmentBytes'),
    s.segmentBytes,
    Math.min(d.segmentBytes, Math.floor(maxBytes / 4)),
    { min: 4096, unit: 'bytes' },
  );
  if (segmentBytes > maxBytes / 4) {
    check.report(
      at('segmentBytes'),
      `${segmentBytes} is above maxBytes / 4 (${Math.floor(maxBytes / 4)}; the budget must hold ` +
        `several segments: lower segmentBytes or raise maxBytes)`,
      s.segmentBytes,
    );
  }
  return {
    enabled: check.bool(at('enabled'), s.enabled, d.enabled),
    maxBytes,
    segmentBytes,
    maxAgeMs: check.int(at('maxAgeMs'), s.maxAgeMs, d.maxAgeMs, { min: 0, unit: MS }),
    fsync: check.choice(
      at('fsync'),
      s.fsync,
      d.fsync,
      ['always', 'interval', 'never'] as const,
      'an fsync policy',
    ),
    fsyncIntervalMs: check.int(at('fsyncIntervalMs'), s.fsyncIntervalMs, d.fsyncIntervalMs, {
      min: 1,
      unit: MS,
    }),
    onFull: check.choice(
      at('onFull'),
      s.onFull,
      d.onFull,
      ['block', 'drop-oldest'] as const,
      'a policy for a full spool',
    ),
  };
}
