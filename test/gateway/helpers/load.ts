/**
 * @module Test helper: continuous QoS 1 load — one MQTT.js client publishing readings at a
 * steady, modest rate until stopped, reconnecting (persistent session) when the broker goes away.
 * A reading counts as published once the broker acknowledged it (PUBACK).
 */
import { randomUUID } from 'node:crypto';
import { connectAsync } from 'mqtt';
import type { Reading } from './gateway-config.js';

/** A publisher running in the background. */
export interface Load {
  /** Readings the broker acknowledged so far, in order. */
  published(): readonly Reading[];
  /** Stops publishing; resolves with every reading the broker acknowledged. */
  stop(): Promise<Reading[]>;
}

/** Options of {@link startLoad}. */
export interface LoadOptions {
  /** Messages per second. @default 50 */
  ratePerSecond?: number;
  /** Devices, round robin. @default 10 */
  devices?: number;
}

/** Starts publishing readings to `url` (topic `sensors/<device>/reading`) at QoS 1. */
export async function startLoad(url: string, options: LoadOptions = {}): Promise<Load> {
  const rate = options.ratePerSecond ?? 50;
  const devices = options.devices ?? 10;
  const client = await connectAsync(url, {
    clientId: `load-${randomUUID().slice(0, 8)}`,
    clean: false,
    reconnectPeriod: 200,
    protocolVersion: 4,
  });
  client.on('error', () => undefined);
  const acked: Reading[] = [];
  const pending = new Set<Promise<void>>();
  const started = Date.now();
  let sent = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      // A steady pace; a pause (the broker away) is not caught up with in a burst.
      await new Promise((resolve) => setTimeout(resolve, 1000 / rate));
      const reading: Reading = {
        device: `dev-${sent % devices}`,
        ts: started + sent,
        temp: 20 + (sent % 50) / 10,
      };
      sent++;
      const publish = client
        .publishAsync(`sensors/${reading.device}/reading`, JSON.stringify(reading), { qos: 1 })
        .then(() => {
          acked.push(reading);
        });
      pending.add(publish);
      void publish.finally(() => pending.delete(publish)).catch(() => undefined);
      // At most a second of messages waiting for PUBACK (the broker away): then wait.
      while (pending.size >= rate && running) await Promise.race(pending).catch(() => undefined);
    }
  })();
  return {
    published: () => acked,
    async stop() {
      running = false;
      await loop;
      await Promise.allSettled([...pending]);
      await client.endAsync();
      return [...acked];
    },
  };
}
