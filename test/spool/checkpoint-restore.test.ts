/**
 * Restoring rules from the spool's checkpoint after a crash: a window-stats gateway killed with
 * SIGKILL while its windows are open resumes them (the window counts the readings from before
 * and after the crash); a rule that finds another rule's state at its position starts clean,
 * with a warning naming it and the reason, and the gateway runs on; after a clean stop (which
 * emits every open window) a restart does not emit those windows again.
 */
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { Logger } from 'pino';
import { describe, expect, it } from 'vitest';
import type { Config } from '../../gateway/config/index.js';
import { Gateway } from '../../gateway/gateway.js';
import { startChildGateway } from '../gateway/helpers/child-gateway.js';
import { publishAll, readingMessages } from '../gateway/helpers/gateway-config.js';
import type { Reading, WindowResult } from '../gateway/helpers/gateway-config.js';
import { useMosquitto, useUpstream } from '../gateway/helpers/gateway-fixture.js';
import { waitFor } from '../gateway/helpers/wait.js';

const WINDOW_MS = 1000;

/** Readings `from..to-1` of two devices, 50 ms apart, inside one window an hour ahead. */
function readingsOf(base: number, from: number, to: number): Reading[] {
  const out: Reading[] = [];
  for (let i = from; i < to; i++) {
    for (const device of ['dev-0', 'dev-1']) out.push({ device, ts: base + i * 50, temp: 20 + i });
  }
  return out;
}

/** A logger whose entries land in `entries`. */
function capturingLogger(entries: Record<string, unknown>[]): Logger {
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) {
        if (line !== '') entries.push(JSON.parse(line) as Record<string, unknown>);
      }
      done();
    },
  });
  return pino({ level: 'warn' }, stream);
}

describe('Gateway restoring rules from the spool checkpoint', () => {
  const mosquitto = useMosquitto();
  const upstream = useUpstream();

  function configFor(name: string, clientId: string, dir: string): Config {
    const config = upstream().config({
      mqttUrl: mosquitto().url,
      clientId,
      pipeline: {
        rules: [
          {
            name,
            module: 'window-stats',
            config: { field: 'temp', timeField: 'ts', windowMs: WINDOW_MS },
          },
        ],
        spool: { enabled: true },
      },
    });
    config.dataDir = join(upstream().dir, dir);
    return config;
  }

  /** Runs a child gateway on `config`, delivers `readings`, waits until acknowledged, kills it. */
  async function crashWithOpenWindows(config: Config, readings: Reading[]): Promise<void> {
    const child = await startChildGateway(config);
    await publishAll(mosquitto().url, readingMessages(readings), { qos: 1 });
    // Acknowledged means checkpointed: the readings are in a durable state entry.
    await waitFor(
      async () => {
        const stats = await child.stats();
        return stats.processed === readings.length && stats.awaitingAck === 0;
      },
      { what: 'the readings processed and acknowledged' },
    );
    await child.kill();
  }

  function windowsOf(device: string): WindowResult[] {
    return upstream()
      .receiver.records()
      .filter((r) => r.output === 'default' && (r.value as WindowResult).key === device)
      .map((r) => r.value as WindowResult);
  }

  it('resumes open windows after a SIGKILL: a window counts readings from before and after it', async () => {
    const base = Math.ceil((Date.now() + 3_600_000) / WINDOW_MS) * WINDOW_MS;
    const config = configFor('stats', 'sluice-restore-windows', 'restore-windows');
    await crashWithOpenWindows(config, readingsOf(base, 0, 5));
    const gateway = await Gateway.start(config);
    try {
      await publishAll(mosquitto().url, readingMessages(readingsOf(base, 5, 10)), { qos: 1 });
      await waitFor(() => gateway.stats().processed === 10, { what: 'the later readings' });
    } finally {
      await gateway.close();
    }
    const [window] = windowsOf('dev-0');
    expect(windowsOf('dev-0')).toHaveLength(1);
    expect(window).toMatchObject({ start: base, count: 10, min: 20, max: 29 });
  });

  it('emits the windows a clean stop flushed once: a restart does not resume them', async () => {
    const base = Math.ceil((Date.now() + 10_800_000) / WINDOW_MS) * WINDOW_MS;
    const config = configFor('stats', 'sluice-restore-clean', 'restore-clean');
    const windows = (): WindowResult[] => windowsOf('dev-0').filter((w) => w.start >= base);
    const first = await Gateway.start(config);
    try {
      await publishAll(mosquitto().url, readingMessages(readingsOf(base, 0, 5)), { qos: 1 });
      await waitFor(() => first.stats().processed === 10, { what: 'the readings' });
    } finally {
      await first.close();
    }
    expect(windows()).toMatchObject([{ start: base, count: 5 }]);
    // A later reading of dev-0 would close a window resumed from a stale checkpoint.
    const second = await Gateway.start(config);
    try {
      await publishAll(
        mosquitto().url,
        readingMessages([{ device: 'dev-0', ts: base + 5 * WINDOW_MS, temp: 30 }]),
        { qos: 1 },
      );
      await waitFor(() => second.stats().processed === 1, { what: 'the later reading' });
    } finally {
      await second.close();
    }
    expect(windows()).toMatchObject([
      { start: base, count: 5 },
      { start: base + 5 * WINDOW_MS, count: 1 },
    ]);
  });

  it('starts a rule clean, with a warning naming it, when the checkpoint holds another rule at its position', async () => {
    const base = Math.ceil((Date.now() + 7_200_000) / WINDOW_MS) * WINDOW_MS;
    await crashWithOpenWindows(
      configFor('stats', 'sluice-restore-renamed', 'restore-renamed'),
      readingsOf(base, 0, 5),
    );
    const entries: Record<string, unknown>[] = [];
    const config = configFor('averages', 'sluice-restore-renamed', 'restore-renamed');
    const gateway = await Gateway.start(config, { logger: capturingLogger(entries) });
    try {
      await publishAll(mosquitto().url, readingMessages(readingsOf(base, 5, 10)), { qos: 1 });
      await waitFor(() => gateway.stats().processed === 10, { what: 'the later readings' });
    } finally {
      await gateway.close();
    }
    const warning = entries.find((e) => String(e['msg']).startsWith('rule starts clean'));
    expect(warning).toMatchObject({ rule: 'averages', checkpointed: 'stats', position: 0 });
    const windows = windowsOf('dev-0').filter((w) => w.start === base);
    // The readings from before the crash went with the refused state.
    expect(windows.at(-1)).toMatchObject({ count: 5, min: 25, max: 29 });
  });
});
