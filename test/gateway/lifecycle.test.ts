/**
 * Starting and stopping: clear errors for an impossible embedded broker setup, and a clean
 * close that leaves no handle open.
 */
import { rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { BrokerPortInUseError } from '../../gateway/broker/errors.js';
import { ConfigError } from '../../gateway/config/index.js';
import { Gateway } from '../../gateway/gateway.js';
import {
  makeReadings,
  publishAll,
  readingMessages,
  tempDir,
  testConfig,
} from './helpers/gateway-config.js';
import { startReceiver } from './helpers/receiver.js';
import type { Receiver } from './helpers/receiver.js';
import { waitFor } from './helpers/wait.js';
import { leftOpen, openHandles } from './helpers/open-handles.js';

describe('Gateway lifecycle', () => {
  let dir: string;
  let receiver: Receiver | undefined;

  afterEach(async () => {
    await receiver?.close();
    receiver = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  it('leaves no open handle after a clean close', async () => {
    dir = await tempDir();
    const before = openHandles();
    receiver = await startReceiver();
    const gateway = await Gateway.start(
      testConfig({ dataDir: dir, sinkUrl: receiver.url, embeddedPort: 0 }),
    );
    const readings = makeReadings(3, 20, Date.now(), 100);
    await publishAll(gateway.mqttUrl, readingMessages(readings), { qos: 1 });
    await waitFor(() => gateway.stats().received === readings.length, {
      what: 'every reading received',
    });
    await gateway.close();
    await gateway.close(); // idempotent
    expect(gateway.stats().sent).toBeGreaterThan(0);
    // Upstream is still up: the gateway's last request closed its keep-alive connection, so
    // only the receiver's listening socket is left (well before a 4 s keep-alive would expire).
    const receiverOnly = new Map(before);
    receiverOnly.set('TCPServerWrap', (before.get('TCPServerWrap') ?? 0) + 1);
    await waitFor(() => leftOpen(receiverOnly).length === 0, { timeoutMs: 2_000 }).catch(
      () => undefined,
    );
    expect(leftOpen(receiverOnly)).toEqual([]);
    await receiver.close();
    receiver = undefined;
    await waitFor(() => leftOpen(before).length === 0, { timeoutMs: 10_000 }).catch(
      () => undefined,
    );
    expect(leftOpen(before)).toEqual([]);
  });

  it('names the port and the fix when the embedded broker port is taken', async () => {
    dir = await tempDir();
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const address = blocker.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    try {
      const config = testConfig({
        dataDir: dir,
        sinkUrl: 'http://127.0.0.1:9/ingest',
        embeddedPort: port,
      });
      const error: unknown = await Gateway.start(config).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BrokerPortInUseError);
      expect((error as BrokerPortInUseError).code).toBe('BROKER_PORT_IN_USE');
      expect((error as Error).message).toContain(`mqtt.embedded.port: ${port}`);
      expect((error as Error).message).toContain('mqtt.url');
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });

  it('refuses MQTT 5 with the embedded broker with a configuration error', async () => {
    dir = await tempDir();
    const config = testConfig({
      dataDir: dir,
      sinkUrl: 'http://127.0.0.1:9/ingest',
      embeddedPort: 0,
    });
    config.mqtt.protocolVersion = 5;
    const error: unknown = await Gateway.start(config).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).code).toBe('CONFIG_INVALID');
    expect((error as Error).message).toMatch(/mqtt\.protocolVersion: 5 .*3\.1\.1/);
  });
});
