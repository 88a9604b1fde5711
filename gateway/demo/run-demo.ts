/**
 * @module The live demo (`npm start` = `sluice demo`): the upstream receiver, the gateway with
 * the default configuration (embedded broker, threshold → window-stats, HTTP sink to the
 * receiver) and a simulated fleet, wired together on free ports; the receiver prints a line
 * per batch. Stops cleanly on the signal or after `durationMs`.
 */

import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { resolveConfig } from '../config/index.js';
import type { Config } from '../config/index.js';
import { createLogger } from '../log.js';
import { runSimulator, type SimulatorResult } from '../simulator/index.js';
import { ReceiverPortInUseError } from './errors.js';
import { startReceiver, type Receiver } from './receiver.js';

/** Options of `runDemo`. */
export interface DemoOptions {
  /** @default 50 */
  devices?: number;
  /** Messages per second over all devices. @default 500 */
  rate?: number;
  /** @default 'json' */
  format?: 'json' | 'cbor';
  /** @default 0.05 */
  invalidRatio?: number;
  /** Receiver port; when the default is taken a free port is used. @default 8787 */
  receiverPort?: number;
  /** Embedded broker port; when the default is taken a free port is used. @default mqtt.embedded.port (1883) */
  mqttPort?: number;
  /** Stop after this long. @default undefined (until `signal`) */
  durationMs?: number;
  /** Stops the demo. @default undefined */
  signal?: AbortSignal;
  /** Environment overrides applied to the default configuration. @default process.env */
  env?: Readonly<Record<string, string | undefined>>;
  /** Where the demo's lines go. @default process.stdout */
  output?: { write(text: string): unknown };
}

/** What a demo run did. */
export interface DemoResult {
  simulator: SimulatorResult;
  /** Batches and records the receiver accepted. */
  batches: number;
  records: number;
  /** The dead-letter file and the lines added to it during the run. */
  deadLetterPath: string;
  deadLetters: number;
}

/** Runs the demo until `signal` aborts or `durationMs` passes. */
export async function runDemo(options: DemoOptions = {}): Promise<DemoResult> {
  const output = options.output ?? process.stdout;
  const env = options.env ?? process.env;
  // The gateway logs only warnings unless SLUICE_LOG_LEVEL says otherwise: the demo's output is the batches.
  const config = resolveConfig({ log: { level: 'warn' } }, env);
  const receiver = await openReceiver(options.receiverPort, output);
  try {
    for (const pipeline of config.pipelines) {
      if (pipeline.sink.type === 'http') pipeline.sink.url = receiver.url;
    }
    if (config.mqtt.url === '') {
      const { host } = config.mqtt.embedded;
      const wanted = options.mqttPort ?? config.mqtt.embedded.port;
      // 0 lets the embedded broker pick a free port when the usual one is taken (a local Mosquitto).
      config.mqtt.embedded.port =
        options.mqttPort === undefined && !(await isPortFree(host, wanted)) ? 0 : wanted;
    }
    const deadLettersBefore = await countLines(config.deadLetter.path);
    const { Gateway } = await import('../gateway.js');
    const gateway = await Gateway.start(config, { logger: createLogger(config.log.level) });
    const brokerUrl = gateway.mqttUrl;
    try {
      const devices = options.devices ?? 50;
      const rate = options.rate ?? 500;
      const format = options.format ?? 'json';
      const invalidRatio = options.invalidRatio ?? 0.05;
      output.write(
        describe(config, brokerUrl, receiver.url, { devices, rate, format, invalidRatio }),
      );
      const simulator = await runSimulator({
        url: brokerUrl,
        devices,
        rate,
        format,
        qos: 1,
        invalidRatio,
        ...(options.durationMs === undefined ? {} : { durationMs: options.durationMs }),
        ...(options.signal === undefined ? {} : { signal: options.signal }),
      });
      await gateway.close();
      const deadLetters = (await countLines(config.deadLetter.path)) - deadLettersBefore;
      const result: DemoResult = {
        simulator,
        batches: receiver.batches,
        records: receiver.records,
        deadLetterPath: config.deadLetter.path,
        deadLetters,
      };
      output.write(summarize(result));
      return result;
    } finally {
      await gateway.close();
    }
  } finally {
    await receiver.close();
  }
}

async function openReceiver(
  port: number | undefined,
  output: { write(text: string): unknown },
): Promise<Receiver> {
  try {
    return await startReceiver({ port: port ?? 8787, output });
  } catch (error) {
    if (port !== undefined || !(error instanceof ReceiverPortInUseError)) throw error;
    return startReceiver({ port: 0, output });
  }
}

function describe(
  config: Config,
  brokerUrl: string,
  upstream: string,
  sim: { devices: number; rate: number; format: string; invalidRatio: number },
): string {
  const pipeline = config.pipelines[0];
  const rules = pipeline?.rules.map((rule) => rule.name).join(' → ') ?? '';
  const broker = config.mqtt.url === '' ? `${brokerUrl} (embedded)` : brokerUrl;
  return (
    `Sluice demo\n` +
    `  broker    ${broker}\n` +
    `  devices   ${sim.devices} simulated devices, ${sim.rate} msgs/s, ${sim.format}, QoS 1, ` +
    `${+(sim.invalidRatio * 100).toFixed(2)}% invalid (out of range, missing field, malformed)\n` +
    `  pipeline  ${pipeline?.topics.join(', ') ?? ''} → ${rules} → batches of ≤ ${pipeline?.sink.maxRecords ?? 0} records or ${pipeline?.sink.lingerMs ?? 0} ms\n` +
    `  upstream  ${upstream} (prints each batch it receives below)\n` +
    `Ctrl-C to stop.\n`
  );
}

function summarize(result: DemoResult): string {
  const sim = result.simulator;
  const invalid = sim.invalid.range + sim.invalid.missing + sim.invalid.malformed;
  return (
    `\nstopped: published ${sim.published} readings (${invalid} invalid: ${sim.invalid.range} out of range, ` +
    `${sim.invalid.missing} missing a field, ${sim.invalid.malformed} malformed); upstream received ` +
    `${result.batches} batches with ${result.records} records; ${result.deadLetters} events went to ` +
    `the dead-letter file ${result.deadLetterPath}\n`
  );
}

async function isPortFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

async function countLines(path: string): Promise<number> {
  try {
    const bytes = await readFile(path);
    let lines = 0;
    for (let i = bytes.indexOf(10); i !== -1; i = bytes.indexOf(10, i + 1)) lines++;
    return lines;
  } catch {
    return 0;
  }
}
