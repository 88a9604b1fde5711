/**
 * @module Options of the disk spool and their validation.
 */
import type { Logger } from 'pino';
import { SpoolOptionsError } from './errors.js';

/** When the spool calls fsync. */
export type SpoolFsync = 'always' | 'interval' | 'never';
/** What the spool does when its byte budget is reached. */
export type SpoolFullPolicy = 'block' | 'drop-oldest';

/** Options of {@link Spool.open}. */
export interface SpoolOptions {
  /** Directory of the segment files and the cursor (created when missing). */
  dir: string;
  /** Most bytes of unacknowledged entries held (disk use stays under maxBytes + segmentBytes). @default 268435456 (256 MiB) */
  maxBytes?: number;
  /** A segment file is closed and a new one started past this size. At most maxBytes / 4. @default 8388608 (8 MiB) */
  segmentBytes?: number;
  /** Segments whose newest record is older than this are dropped (counted as expired); 0 = never. @default 0 */
  maxAgeMs?: number;
  /** `always`: fsync each group commit before acknowledging it; `interval`: every `fsyncIntervalMs`; `never`: leave it to the OS. @default 'always' */
  fsync?: SpoolFsync;
  /** Period of the `interval` fsync policy. @default 1000 */
  fsyncIntervalMs?: number;
  /** `block`: refuse offers (backpressure) while full; `drop-oldest`: drop the oldest segment, counted. @default 'block' */
  onFull?: SpoolFullPolicy;
  /** Once full (`block`), offers are accepted again when the held bytes fall to this fraction of maxBytes. @default 0.75 */
  lowWaterRatio?: number;
  /**
   * Names of the spool's readers (one per sink), each with its own persisted cursor. A name not
   * seen before starts at the oldest record held; cursors of names no longer listed are dropped.
   * @default ['default']
   */
  readers?: readonly string[];
  /**
   * Identities of recently checkpointed QoS 1/2 events kept for recognising broker redeliveries
   * after a restart: at least the broker's in-flight window (`mqtt.inflightWindow`).
   * @default 65535 (the MQTT packet id space)
   */
  identityWindow?: number;
  /** @default a silent logger */
  logger?: Logger;
}

/** {@link SpoolOptions} with every default filled. */
export interface ResolvedSpoolOptions {
  dir: string;
  maxBytes: number;
  segmentBytes: number;
  maxAgeMs: number;
  fsync: SpoolFsync;
  fsyncIntervalMs: number;
  onFull: SpoolFullPolicy;
  lowWaterRatio: number;
  readers: readonly string[];
  identityWindow: number;
  logger: Logger | undefined;
}

/** Defaults of {@link SpoolOptions}. */
export const DEFAULT_SPOOL = {
  maxBytes: 256 * 1024 * 1024,
  segmentBytes: 8 * 1024 * 1024,
  maxAgeMs: 0,
  fsync: 'always',
  fsyncIntervalMs: 1000,
  onFull: 'block',
  lowWaterRatio: 0.75,
  identityWindow: 65_535,
} as const;

function positiveInt(field: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min) {
    throw new SpoolOptionsError(`spool.${field}: ${String(value)} is not an integer ≥ ${min}`);
  }
}

/** Fills the defaults of {@link SpoolOptions} and validates them. */
export function resolveSpoolOptions(options: SpoolOptions): ResolvedSpoolOptions {
  const maxBytes = options.maxBytes ?? DEFAULT_SPOOL.maxBytes;
  positiveInt('maxBytes', maxBytes, 65536);
  const segmentBytes = options.segmentBytes ?? Math.min(DEFAULT_SPOOL.segmentBytes, maxBytes / 4);
  positiveInt('segmentBytes', Math.floor(segmentBytes), 4096);
  if (segmentBytes > maxBytes / 4) {
    throw new SpoolOptionsError(
      `spool.segmentBytes: ${segmentBytes} is above maxBytes / 4 (${maxBytes / 4}); ` +
        `lower segmentBytes or raise maxBytes`,
    );
  }
  const maxAgeMs = options.maxAgeMs ?? DEFAULT_SPOOL.maxAgeMs;
  positiveInt('maxAgeMs', maxAgeMs, 0);
  const fsyncIntervalMs = options.fsyncIntervalMs ?? DEFAULT_SPOOL.fsyncIntervalMs;
  positiveInt('fsyncIntervalMs', fsyncIntervalMs, 1);
  const lowWaterRatio = options.lowWaterRatio ?? DEFAULT_SPOOL.lowWaterRatio;
  if (!(lowWaterRatio >= 0 && lowWaterRatio < 1)) {
    throw new SpoolOptionsError(`spool.lowWaterRatio: ${String(lowWaterRatio)} is not in [0, 1)`);
  }
  const readers = options.readers ?? ['default'];
  if (readers.length === 0 || new Set(readers).size !== readers.length) {
    throw new SpoolOptionsError(
      `spool.readers: ${JSON.stringify(readers)} must list at least one name, each once`,
    );
  }
  const identityWindow = options.identityWindow ?? DEFAULT_SPOOL.identityWindow;
  positiveInt('identityWindow', identityWindow, 1);
  return {
    dir: options.dir,
    maxBytes,
    segmentBytes: Math.floor(segmentBytes),
    maxAgeMs,
    fsync: options.fsync ?? DEFAULT_SPOOL.fsync,
    fsyncIntervalMs,
    onFull: options.onFull ?? DEFAULT_SPOOL.onFull,
    lowWaterRatio,
    readers,
    identityWindow,
    logger: options.logger,
  };
}
