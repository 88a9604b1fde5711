/**
 * @module Options of the device simulator (`sluice publish`, `runSimulator`) and their
 * validation.
 */

import { SimulatorOptionsError } from './errors.js';
import { INVALID_KINDS, type InvalidKind, type MessageKind, type Reading } from './fleet.js';

/** One message the simulator published. */
export interface PublishedMessage {
  /** 0-based position in the run. */
  index: number;
  topic: string;
  device: string;
  kind: MessageKind;
  /** The exact payload bytes. */
  payload: Buffer;
  /** The reading encoded in the payload; undefined for a malformed payload. */
  reading: Reading | undefined;
  /** Index of the connection it went out on. */
  client: number;
}

/** Options of `runSimulator`. */
export interface SimulatorOptions {
  /** Broker URL. @default 'mqtt://127.0.0.1:1883' */
  url?: string;
  /** Number of simulated devices; they take turns, so each sends an equal share. @default 100 */
  devices?: number;
  /** Messages per second over all devices; 0 = as fast as the connection takes them. @default 1000 */
  rate?: number;
  /** Stop after this long. @default undefined (run until `count`, or until `signal` aborts) */
  durationMs?: number;
  /** Stop after this many messages. @default undefined */
  count?: number;
  /** Payload encoding. @default 'json' */
  format?: 'json' | 'cbor';
  /** @default 0 */
  qos?: 0 | 1 | 2;
  /** Share of invalid messages, 0..1. @default 0.05 */
  invalidRatio?: number;
  /** Which invalid kinds to mix in, in equal shares. @default ['range', 'missing', 'malformed'] */
  invalidKinds?: readonly InvalidKind[];
  /** Topic; `{device}` is replaced by the device name. @default 'sensors/{device}/reading' */
  topic?: string;
  /** Device names are `<prefix><n>`, n from 1. @default 'dev-' */
  devicePrefix?: string;
  /** Seed of the random choices; the same seed publishes the same messages. @default random */
  seed?: number | string;
  /** 4 = MQTT 3.1.1, 5 = MQTT 5. @default 4 */
  protocolVersion?: 4 | 5;
  /** Connections to spread the devices over (device n uses connection n mod clients). @default 1 */
  clients?: number;
  /** Event time (`ts`) of the first message; undefined → each message's send time. @default undefined */
  startTs?: number;
  /** Event time step per message when `startTs` is set. @default 1000 / rate (1 when rate is 0) */
  tsStep?: number;
  /** Client ids are `<prefix>-<n>`. @default 'sluice-sim-<random>' */
  clientIdPrefix?: string;
  /** @default undefined */
  username?: string;
  /** @default undefined */
  password?: string;
  /** QoS 1/2 messages awaiting acknowledgement per connection (capped by the broker's receive maximum). @default 1000 */
  maxInflight?: number;
  /** @default 10000 */
  connectTimeoutMs?: number;
  /** Stops the run: publishing ends, in-flight messages are awaited, connections close. @default undefined */
  signal?: AbortSignal;
  /** Called for every message when it is handed to the connection. @default undefined */
  onPublish?: (message: PublishedMessage) => void;
  /** Keep every message in `SimulatorResult.messages` (memory grows with the run). @default false */
  collect?: boolean;
}

/** Options with every default filled. */
export interface ResolvedSimulatorOptions extends Required<
  Omit<
    SimulatorOptions,
    'durationMs' | 'count' | 'startTs' | 'username' | 'password' | 'signal' | 'onPublish'
  >
> {
  durationMs: number | undefined;
  count: number | undefined;
  startTs: number | undefined;
  username: string | undefined;
  password: string | undefined;
  signal: AbortSignal | undefined;
  onPublish: ((message: PublishedMessage) => void) | undefined;
}

/** Fills defaults and validates once. @throws SimulatorOptionsError */
export function resolveSimulatorOptions(options: SimulatorOptions = {}): ResolvedSimulatorOptions {
  const rate = number(
    'rate',
    options.rate,
    1000,
    0,
    'messages per second ≥ 0; 0 = as fast as possible',
    false,
  );
  const resolved: ResolvedSimulatorOptions = {
    url: options.url ?? 'mqtt://127.0.0.1:1883',
    devices: number('devices', options.devices, 100, 1, 'a whole number ≥ 1', true),
    rate,
    durationMs: optional('durationMs', options.durationMs, 0, 'milliseconds ≥ 0', false),
    count: optional('count', options.count, 0, 'a whole number ≥ 0', true),
    format: oneOf('format', options.format, 'json', ['json', 'cbor'] as const),
    qos: oneOf('qos', options.qos, 0, [0, 1, 2] as const),
    invalidRatio: number(
      'invalidRatio',
      options.invalidRatio,
      0.05,
      0,
      'a share from 0 to 1',
      false,
    ),
    invalidKinds: options.invalidKinds ?? INVALID_KINDS,
    topic: options.topic ?? 'sensors/{device}/reading',
    devicePrefix: options.devicePrefix ?? 'dev-',
    seed: options.seed ?? Math.floor(Math.random() * 2 ** 31),
    protocolVersion: oneOf('protocolVersion', options.protocolVersion, 4, [4, 5] as const),
    clients: number('clients', options.clients, 1, 1, 'a whole number ≥ 1', true),
    startTs: optional('startTs', options.startTs, 0, 'milliseconds since the Unix epoch', true),
    tsStep: number(
      'tsStep',
      options.tsStep,
      rate > 0 ? 1000 / rate : 1,
      0,
      'milliseconds ≥ 0',
      false,
    ),
    clientIdPrefix:
      options.clientIdPrefix ?? `sluice-sim-${Math.random().toString(36).slice(2, 8)}`,
    username: options.username,
    password: options.password,
    maxInflight: number(
      'maxInflight',
      options.maxInflight,
      1000,
      1,
      'a whole number from 1 to 65535',
      true,
    ),
    connectTimeoutMs: number(
      'connectTimeoutMs',
      options.connectTimeoutMs,
      10_000,
      1,
      'milliseconds ≥ 1',
      true,
    ),
    signal: options.signal,
    onPublish: options.onPublish,
    collect: options.collect ?? false,
  };
  if (resolved.invalidRatio > 1) {
    throw new SimulatorOptionsError(
      'invalidRatio',
      `invalidRatio: ${resolved.invalidRatio} is more than 1 (expected a share from 0 to 1, e.g. 0.05)`,
    );
  }
  if (resolved.maxInflight > 65535) {
    throw new SimulatorOptionsError(
      'maxInflight',
      `maxInflight: ${resolved.maxInflight} is more than 65535 (MQTT packet ids are 16-bit)`,
    );
  }
  if (resolved.invalidKinds.length === 0 && resolved.invalidRatio > 0) {
    throw new SimulatorOptionsError(
      'invalidKinds',
      `invalidKinds: [] is empty while invalidRatio is ${resolved.invalidRatio} (name at least one of ${INVALID_KINDS.join(', ')}, or set invalidRatio to 0)`,
    );
  }
  for (const kind of resolved.invalidKinds) {
    if (!INVALID_KINDS.includes(kind)) {
      throw new SimulatorOptionsError(
        'invalidKinds',
        `invalidKinds: "${String(kind)}" is not an invalid kind (expected ${INVALID_KINDS.join(', ')})`,
      );
    }
  }
  if (!resolved.topic.includes('{device}')) {
    throw new SimulatorOptionsError(
      'topic',
      `topic: "${resolved.topic}" has no {device} placeholder (e.g. "sensors/{device}/reading"), so all devices would share one topic`,
    );
  }
  if (/[+#]/.test(resolved.topic)) {
    throw new SimulatorOptionsError(
      'topic',
      `topic: "${resolved.topic}" contains a wildcard (+ or # are only for subscriptions)`,
    );
  }
  let scheme = '';
  try {
    scheme = new URL(resolved.url).protocol;
  } catch {
    // reported below
  }
  if (!['mqtt:', 'mqtts:', 'ws:', 'wss:', 'tcp:'].includes(scheme)) {
    throw new SimulatorOptionsError(
      'url',
      `url: "${resolved.url}" is not a broker URL (expected mqtt://, mqtts://, ws:// or wss://, e.g. mqtt://127.0.0.1:1883)`,
    );
  }
  return resolved;
}

function number(
  name: string,
  value: number | undefined,
  fallback: number,
  min: number,
  expected: string,
  integer: boolean,
): number {
  if (value === undefined) return fallback;
  if (
    typeof value !== 'number' ||
    !Number.isFinite(value) ||
    value < min ||
    (integer && !Number.isInteger(value))
  ) {
    throw new SimulatorOptionsError(
      name,
      `${name}: ${JSON.stringify(value)} is not valid (expected ${expected})`,
    );
  }
  return value;
}

function optional(
  name: string,
  value: number | undefined,
  min: number,
  expected: string,
  integer: boolean,
): number | undefined {
  return value === undefined ? undefined : number(name, value, 0, min, expected, integer);
}

function oneOf<T extends string | number>(
  name: string,
  value: T | undefined,
  fallback: T,
  values: readonly T[],
): T {
  if (value === undefined) return fallback;
  if (!values.includes(value)) {
    throw new SimulatorOptionsError(
      name,
      `${name}: ${JSON.stringify(value)} is not valid (expected ${values.join(', ')})`,
    );
  }
  return value;
}
