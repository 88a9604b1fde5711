/**
 * @module Test helper: the setup and teardown gateway suites share, registered as vitest hooks
 * by one call inside a `describe`: a Mosquitto broker per suite, an upstream receiver and data
 * directory per suite, or a receiver, data directory and gateway per test.
 */
import { rm } from 'node:fs/promises';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { Gateway } from '../../../gateway/gateway.js';
import type { Config } from '../../../gateway/config/index.js';
import { startMosquitto } from '../../support/mosquitto.js';
import type { Mosquitto, MosquittoOptions } from '../../support/mosquitto.js';
import { tempDir, testConfig } from './gateway-config.js';
import type { TestConfigOptions } from './gateway-config.js';
import { startReceiver } from './receiver.js';
import type { Receiver, ReceiverMode } from './receiver.js';

/**
 * The broker most gateway suites run against: at most 20 messages in flight per client, and a
 * queue deep enough that the broker holds whatever the gateway does not read.
 */
export const GATEWAY_TEST_BROKER: MosquittoOptions = {
  maxInflightMessages: 20,
  maxQueuedMessages: 100_000,
};

/**
 * Runs `start` before the suite and `stop` after it; the returned accessor gives what `start`
 * made, inside tests (it throws, naming `what`, anywhere else).
 */
function useForSuite<T>(
  what: string,
  start: () => Promise<T>,
  stop: (value: T) => Promise<void>,
): () => T {
  let value: T | undefined;
  beforeAll(async () => {
    value = await start();
  });
  afterAll(async () => {
    if (value !== undefined) await stop(value);
  });
  return () => {
    if (value === undefined) throw new Error(`${what} is not set up (outside a test?)`);
    return value;
  };
}

/** Starts Mosquitto before the suite and stops it after; the accessor is valid inside tests. */
export function useMosquitto(options: MosquittoOptions = GATEWAY_TEST_BROKER): () => Mosquitto {
  return useForSuite(
    'Mosquitto',
    () => startMosquitto(options),
    (mosquitto) => mosquitto.close(),
  );
}

/** The upstream receiver and data directory of a suite. */
export interface Upstream {
  receiver: Receiver;
  dir: string;
  /** `testConfig` with this data directory and this receiver as the sink. */
  config(options: UpstreamConfigOptions): Config;
}

/** {@link TestConfigOptions} without what {@link Upstream} fills in. */
export type UpstreamConfigOptions = Omit<TestConfigOptions, 'dataDir' | 'sinkUrl'>;

function upstreamOf(receiver: Receiver, dir: string): Upstream {
  return {
    receiver,
    dir,
    config: (options) => testConfig({ ...options, dataDir: dir, sinkUrl: receiver.url }),
  };
}

/**
 * Starts a receiver and creates a data directory before the suite; closes and removes them
 * after it. The accessor is valid inside tests.
 */
export function useUpstream(): () => Upstream {
  return useForSuite(
    'the upstream',
    async () => {
      const receiver = await startReceiver();
      return upstreamOf(receiver, await tempDir());
    },
    async (upstream) => {
      await upstream.receiver.close();
      await rm(upstream.dir, { recursive: true, force: true });
    },
  );
}

/** A gateway started for one test, with its receiver, data directory and configuration. */
export interface TestGateway {
  gateway: Gateway;
  receiver: Receiver;
  dir: string;
  config: Config;
}

/** What {@link useTestGateway}'s `start` does beyond building the configuration. */
export interface StartTestGatewayOptions {
  /**
   * How the receiver answers, set before the gateway starts.
   * @default { kind: 'accept' }
   */
  receiverMode?: ReceiverMode;
  /** Adjusts the resolved configuration before the gateway starts. */
  configure?: (config: Config) => void;
  /** The rule worker's bundled entry, for pipelines with `workers.count` > 0 (see worker-entry.ts). */
  workerEntry?: URL;
}

/** Starts a receiver, a data directory and a gateway on them. */
export type StartTestGateway = (
  config: UpstreamConfigOptions,
  options?: StartTestGatewayOptions,
) => Promise<TestGateway>;

/**
 * Per test: the returned `start` opens a receiver, creates a data directory and starts a
 * gateway (`testConfig` with `config`) on them; after each test the gateway and the receiver
 * are closed and the directory removed.
 */
export function useTestGateway(): StartTestGateway {
  let gateway: Gateway | undefined;
  let receiver: Receiver | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    await gateway?.close();
    gateway = undefined;
    await receiver?.close();
    receiver = undefined;
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  });
  return async (config, options = {}) => {
    const started = await startReceiver();
    receiver = started;
    if (options.receiverMode !== undefined) started.setMode(options.receiverMode);
    const created = await tempDir();
    dir = created;
    const resolved = upstreamOf(started, created).config(config);
    options.configure?.(resolved);
    gateway = await Gateway.start(
      resolved,
      options.workerEntry === undefined ? {} : { workerEntry: options.workerEntry },
    );
    return { gateway, receiver: started, dir: created, config: resolved };
  };
}
