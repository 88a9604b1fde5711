import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectAsync } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startMosquitto, type Mosquitto } from '../support/mosquitto.js';
import { ROOT, ensureBuilt, exited, runCli, spawnCli, waitForOutput } from './run-cli.js';

/** With SLUICE_DEBUG the CLI says so when handles keep it alive after a command finished. */
const DEBUG = { SLUICE_DEBUG: '1' };
const LINGERING = 'handles still open';

let dir: string;
beforeAll(async () => {
  ensureBuilt();
  dir = await mkdtemp(join(tmpdir(), 'sluice-cli-'));
}, 180_000);
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('sluice command line', () => {
  it('prints the commands with --help and exits 0', async () => {
    const run = await runCli(['--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Usage: sluice <command> [options]');
    for (const command of ['start', 'demo', 'publish', 'receive', 'rules', 'dlq', 'config']) {
      expect(run.stdout).toMatch(new RegExp(`^ {2}${command} `, 'm'));
    }
  });

  it('prints the package version with --version', async () => {
    const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as {
      version: string;
    };
    const run = await runCli(['--version']);
    expect(run).toMatchObject({ code: 0, stdout: `${pkg.version}\n` });
  });

  it('prints each command help with <command> --help', async () => {
    for (const [command, text] of [
      ['start', '--config <file>'],
      ['demo', '--mqtt-port'],
      ['publish', '--invalid-ratio'],
      ['receive', '--port'],
      ['config', '--json'],
    ] as const) {
      const run = await runCli([command, '--help']);
      expect(run.code).toBe(0);
      expect(run.stdout).toContain(`Usage: sluice ${command}`);
      expect(run.stdout).toContain(text);
    }
    const rules = await runCli(['rules', 'build', '--help']);
    expect(rules.stdout).toContain('sluice rules build --all');
  });

  it('names an unknown command, suggests the intended one and exits 2', async () => {
    const run = await runCli(['strat']);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(
      'sluice: unknown command "strat" (did you mean "start"? see sluice --help)\n',
    );
  });

  it('names an unknown option with a suggestion and exits 2', async () => {
    const run = await runCli(['publish', '--rat', '5']);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(
      'sluice: unknown option --rat for "sluice publish" (did you mean --rate? see sluice publish --help)\n',
    );
    const top = await runCli(['--verbose']);
    expect(top.code).toBe(2);
    expect(top.stderr).toContain('unknown option --verbose');
  });

  it('refuses a malformed option value with the flag, the value and the range', async () => {
    const qos = await runCli(['publish', '--qos', '3']);
    expect(qos).toMatchObject({ code: 2, stderr: 'sluice: --qos: "3" is not one of 0, 1, 2\n' });
    const ratio = await runCli(['publish', '--invalid-ratio', '2']);
    expect(ratio.stderr).toBe(
      'sluice: --invalid-ratio: 2 is out of range (expected a share from 0 to 1)\n',
    );
    const missing = await runCli(['receive', '--port']);
    expect(missing).toMatchObject({
      code: 2,
      stderr: 'sluice: option --port needs a value (see sluice receive --help)\n',
    });
  });

  it('prints every configuration problem and exits 2 without starting', async () => {
    const config = join(dir, 'bad.yaml');
    await writeFile(config, 'mqtt:\n  url: mqt://x\n  clientid: a\npipelines:\n  - rules: []\n');
    const run = await runCli(['start', '--config', config]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`Invalid configuration in ${config} (3 problems):`);
    expect(run.stderr).toContain(
      `mqtt.clientid: unknown key (did you mean "clientId"?) [${config}:3]`,
    );
    expect(run.stderr).toContain(
      `mqtt.url: "mqt://x" is not a URL (expected mqtt://, mqtts://, ws:// or wss://) [${config}:2]`,
    );
    expect(run.stderr).toContain('pipelines[0].rules: [] is empty');
  });

  it('exits 2 when the configuration file does not exist', async () => {
    const run = await runCli(['start', '--config', join(dir, 'nope.yaml')]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('nope.yaml" does not exist');
  });

  it('prints the resolved configuration with environment overrides applied', async () => {
    const config = join(dir, 'good.yaml');
    await writeFile(config, 'mqtt:\n  url: mqtt://broker:1883\n');
    const run = await runCli(['config', '--config', config, '--json'], {
      env: { SLUICE__mqtt__clientId: 'edge-9' },
    });
    expect(run.code).toBe(0);
    const resolved = JSON.parse(run.stdout) as {
      mqtt: { url: string; clientId: string };
      pipelines: { topics: string[] }[];
    };
    expect(resolved.mqtt).toMatchObject({ url: 'mqtt://broker:1883', clientId: 'edge-9' });
    expect(resolved.pipelines[0]?.topics).toEqual(['sensors/+/reading']);
    const bad = await runCli(['config'], { env: { SLUICE_LOG_LEVEL: 'loud' } });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('log.level: "loud" is not a log level');
    expect(bad.stderr).toContain('[environment SLUICE_LOG_LEVEL]');
  });
});

describe('sluice publish', () => {
  let broker: Mosquitto;
  beforeAll(async () => {
    broker = await startMosquitto();
  });
  afterAll(async () => {
    await broker?.close();
  });

  it('publishes the requested messages to a broker and prints a summary', async () => {
    const subscriber = await connectAsync(broker.url, { reconnectPeriod: 0 });
    let received = 0;
    subscriber.on('message', () => received++);
    await subscriber.subscribeAsync('sensors/+/reading', { qos: 1 });
    try {
      const run = await runCli([
        'publish',
        '--url',
        broker.url,
        '--devices',
        '5',
        '--rate',
        '0',
        '--count',
        '500',
        '--qos',
        '1',
        '--seed',
        '3',
        '--invalid-kinds',
        'range,missing',
      ]);
      expect(run.code).toBe(0);
      expect(run.stderr).toContain(
        `publishing to ${broker.url}: 5 devices, as fast as possible, json, QoS 1, 5% invalid`,
      );
      expect(run.stdout).toMatch(
        /^sent 500 of 500 messages \(json, QoS 1, 5 devices over 1 connection\) in [\d.]+ s = \d+ msgs\/s/,
      );
      expect(run.stdout).toMatch(
        /valid \d+, invalid \d+ \(range \d+, missing \d+, malformed 0\); seed 3/,
      );
      const deadline = Date.now() + 20_000;
      while (received < 500 && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 20));
      expect(received).toBe(500);
    } finally {
      await subscriber.endAsync();
    }
  });

  it('fails with exit code 1 and a clear message when no broker listens', async () => {
    const port = await freePort();
    const run = await runCli(['publish', '--url', `mqtt://127.0.0.1:${port}`, '--count', '1']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`sluice: could not connect to mqtt://127.0.0.1:${port}`);
  });

  it('stops on SIGINT, prints what it sent and exits 0', async () => {
    const child = spawnCli(['publish', '--url', broker.url, '--rate', '200'], { env: DEBUG });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    await waitForOutput(child, /Ctrl-C to stop/);
    // Interrupt only once messages flow: on a loaded machine the connection can take a while.
    const watcher = await connectAsync(broker.url, { reconnectPeriod: 0 });
    try {
      const first = new Promise<void>((resolve) => watcher.once('message', () => resolve()));
      await watcher.subscribeAsync('#');
      await first;
    } finally {
      await watcher.endAsync();
    }
    child.kill('SIGINT');
    const code = await exited(child);
    const output = `stdout:\n${stdout}\nstderr:\n${stderr}`;
    expect(code, output).toBe(0);
    expect(stdout, output).toMatch(/^sent ([1-9]\d*) of \1 messages/);
    expect(stderr, output).not.toContain(LINGERING);
  });
});

describe('sluice receive', () => {
  it('prints a line per batch and a total on SIGINT', async () => {
    const child = spawnCli(['receive', '--port', '0'], { env: DEBUG });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const url = (await waitForOutput(child, /http:\/\/127\.0\.0\.1:\d+\/ingest/)).trim();
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([{ key: 'dev-3', value: { count: 4, avg: 20.25, min: 19.5, max: 21 } }]),
    });
    expect(response.status).toBe(200);
    child.kill('SIGINT');
    expect(await exited(child)).toBe(0);
    expect(stdout).toContain('upstream ← batch of 1 record (json, ');
    expect(stdout).toContain('dev-3 avg 20.3 min 19.5 max 21.0 count 4');
    expect(stderr).toContain('received 1 batches, 1 records');
    expect(stderr).not.toContain(LINGERING);
  });
});

describe('sluice start', () => {
  it('runs the gateway from a configuration file, forwards windows upstream and exits 0 on SIGTERM', async () => {
    const { startReceiver } = await import('../../gateway/demo/receiver.js');
    const { runSimulator } = await import('../../gateway/simulator/index.js');
    const records: unknown[] = [];
    await using receiver = await startReceiver({
      port: 0,
      output: null,
      onBatch: (batch) => void records.push(...batch.records),
    });
    const port = await freePort();
    const config = join(dir, 'start.yaml');
    await writeFile(
      config,
      [
        'dataDir: ./start-data',
        'mqtt:',
        `  embedded: { port: ${port} }`,
        'pipelines:',
        '  - sink:',
        `      url: ${receiver.url}`,
        '      lingerMs: 20',
        '',
      ].join('\n'),
    );
    const child = spawnCli(['start', '--config', config], { env: DEBUG });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout?.resume();
    await waitForOutput(child, /"msg":"gateway started"/, 60_000);
    // Two seconds of event time for 4 devices: the first second's windows close when the second's readings arrive.
    await runSimulator({
      url: `mqtt://127.0.0.1:${port}`,
      devices: 4,
      rate: 0,
      count: 400,
      qos: 1,
      invalidRatio: 0,
      startTs: 1_700_000_000_000,
      tsStep: 5,
    });
    const deadline = Date.now() + 30_000;
    while (records.length < 4 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 50));
    const keys = new Set(records.map((record) => (record as { key: string }).key));
    expect(keys).toEqual(new Set(['dev-1', 'dev-2', 'dev-3', 'dev-4']));
    child.kill('SIGTERM');
    expect(await exited(child)).toBe(0);
    expect(stderr).toContain('"msg":"gateway closed"');
    expect(stderr).not.toContain(LINGERING);
  });

  it('exits 1 with a clear message when the embedded broker port is taken', async () => {
    const { createServer } = await import('node:net');
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const run = await runCli(['start'], {
        env: {
          SLUICE__mqtt__embedded__port: String(port),
          SLUICE_DATA_DIR: join(dir, 'taken-data'),
        },
      });
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(`mqtt.embedded.port: ${port} on 127.0.0.1 is already in use`);
    } finally {
      blocker.close();
    }
  });
});

describe('sluice demo', () => {
  it('shows window batches arriving at the receiver and stops cleanly on Ctrl-C', async () => {
    const cwd = await mkdtemp(join(dir, 'demo-'));
    const child = spawnCli(
      ['demo', '--port', '0', '--mqtt-port', '0', '--devices', '10', '--rate', '100'],
      { cwd, env: DEBUG },
    );
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    await waitForOutput(
      child,
      /upstream ← batch of \d+ records? \(json, [\d.]+ k?B\): dev-\d+ avg [\d.-]+ min [\d.-]+ max [\d.-]+ count \d+/,
      60_000,
    );
    child.kill('SIGINT');
    expect(await exited(child)).toBe(0);
    expect(stdout).toMatch(/^Sluice demo\n {2}broker {4}mqtt:\/\/127\.0\.0\.1:\d+ \(embedded\)/);
    expect(stderr).not.toContain(LINGERING);
    expect(stdout).toMatch(
      /stopped: published \d+ readings \(\d+ invalid: .*\); upstream received \d+ batches with \d+ records/,
    );
  });
});
