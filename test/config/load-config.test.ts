import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ConfigError,
  ConfigFileError,
  loadConfig,
  resolveConfig,
} from '../../gateway/config/index.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sluice-config-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

/** The messages of the ConfigError `fn` throws. */
async function problems(fn: () => unknown): Promise<string[]> {
  try {
    await fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).code).toBe('CONFIG_INVALID');
    return (error as ConfigError).problems.map((problem) => problem.message);
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('resolves an empty file to the demo configuration with every default', async () => {
    const defaultSink = {
      type: 'http',
      name: 'http',
      maxInFlight: 4,
      latencyTargetMs: 1000,
      url: 'http://127.0.0.1:8787/ingest',
      format: 'json',
      maxRecords: 500,
      maxBytes: 1048576,
      lingerMs: 100,
      timeoutMs: 10000,
      headers: {},
      retry: { initialDelayMs: 100, maxDelayMs: 10000 },
      breaker: { failureThreshold: 5, cooldownMs: 1000, maxCooldownMs: 30000 },
    };
    const config = await loadConfig(await file('empty.yaml', ''), {});
    expect(config.dataDir).toBe('./.sluice');
    expect(config.mqtt).toEqual({
      url: '',
      clientId: `sluice-${hostname()}`,
      protocolVersion: 4,
      clean: false,
      keepaliveSeconds: 30,
      receiveMaximum: 1000,
      reconnectPeriodMs: 1000,
      inflightWindow: 0,
      embedded: { host: '127.0.0.1', port: 1883 },
    });
    expect(config.pipelines).toEqual([
      {
        name: 'default',
        topics: ['sensors/+/reading'],
        qos: 1,
        keyLevel: 1,
        format: 'json',
        rules: [
          { name: 'threshold', module: 'threshold', config: { field: 'temp', min: -40, max: 125 } },
          {
            name: 'window-stats',
            module: 'window-stats',
            config: { field: 'temp', timeField: 'ts', windowMs: 1000 },
          },
        ],
        sinks: [defaultSink],
        sink: defaultSink,
        commandTopic: 'devices/{key}/commands',
        batch: { maxEvents: 500, maxBytes: 1048576, lingerMs: 5 },
        tickIntervalMs: 1000,
        outboxMaxRecords: 10000,
        spool: {
          enabled: true,
          maxBytes: 268435456,
          segmentBytes: 8388608,
          maxAgeMs: 0,
          fsync: 'always',
          fsyncIntervalMs: 1000,
          onFull: 'block',
        },
        workers: { count: 0, ruleTimeoutMs: 1000 },
      },
    ]);
    expect(config.deadLetter.path).toBe(join('.sluice', 'dead-letter.jsonl'));
    expect(config.limits).toEqual({
      ruleMemoryBytes: 64 * 1024 * 1024,
      ruleModuleBytes: 8 * 1024 * 1024,
      ruleInitTimeoutMs: 1000,
    });
    expect(config.api).toEqual({
      enabled: false,
      host: '127.0.0.1',
      port: 8686,
      maxBodyBytes: 16 * 1024 * 1024,
    });
    expect(config.shutdownTimeoutMs).toBe(10_000);
    expect(config.log.level).toBe('info');
  });

  it('resolves no file at all, and a comment-only file, to the same defaults', async () => {
    const none = await loadConfig(undefined, {});
    const comments = await loadConfig(await file('comments.yaml', '# nothing set yet\n'), {});
    expect(comments).toEqual(none);
    expect(none).toEqual(resolveConfig({}));
  });

  it('reads YAML and JSON with the same meaning, telling them apart by content', async () => {
    const yaml = await file(
      'a.yaml',
      `mqtt:\n  url: mqtt://broker.local:1883\n  clientId: edge-7\npipelines:\n  - name: temps\n    topics: [plant/+/temp]\n    sink: { url: "https://up.example/ingest", format: cbor }\n`,
    );
    const jsonText = JSON.stringify(
      {
        mqtt: { url: 'mqtt://broker.local:1883', clientId: 'edge-7' },
        pipelines: [
          {
            name: 'temps',
            topics: ['plant/+/temp'],
            sink: { url: 'https://up.example/ingest', format: 'cbor' },
          },
        ],
      },
      null,
      '\t',
    );
    const json = await file('a.json', jsonText);
    // No extension: still JSON, recognised by its content.
    const bare = await file('sluice-config', jsonText);
    const fromYaml = await loadConfig(yaml, {});
    expect(await loadConfig(json, {})).toEqual(fromYaml);
    expect(await loadConfig(bare, {})).toEqual(fromYaml);
    expect(fromYaml.mqtt.url).toBe('mqtt://broker.local:1883');
    expect(fromYaml.pipelines[0]?.sink).toMatchObject({ type: 'http', format: 'cbor' });
    expect(fromYaml.pipelines[0]?.rules.map((rule) => rule.name)).toEqual([
      'threshold',
      'window-stats',
    ]);
  });

  it('reports a YAML syntax error with file, line and column', async () => {
    const path = await file('broken.yaml', 'mqtt:\n  url: [mqtt://x\nlog: {}\n');
    const messages = await problems(() => loadConfig(path, {}));
    expect(messages[0]).toMatch(/broken\.yaml:\d+:\d+: YAML syntax error/);
  });

  it('reports a JSON syntax error as JSON, and duplicate keys', async () => {
    const path = await file('dup.json', '{"log": {"level": "info"}, "log": {}}');
    const messages = await problems(() => loadConfig(path, {}));
    expect(messages[0]).toMatch(/dup\.json:1:\d+: JSON syntax error: Map keys must be unique/);
  });

  it('fails with CONFIG_UNREADABLE when the file does not exist', async () => {
    const error = await loadConfig(join(dir, 'missing.yaml'), {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigFileError);
    expect((error as ConfigFileError).code).toBe('CONFIG_UNREADABLE');
    expect((error as Error).message).toContain('missing.yaml" does not exist');
  });

  it('points each problem at its line in the file', async () => {
    const path = await file(
      'lines.yaml',
      'log:\n  level: info\npipelines:\n  - sink:\n      lingerMs: soon\n',
    );
    try {
      await loadConfig(path, {});
      throw new Error('expected a ConfigError');
    } catch (error) {
      const [problem] = (error as ConfigError).problems;
      expect(problem?.source).toBe(`${path}:5`);
      expect((error as Error).message).toContain(`[${path}:5]`);
    }
  });

  it('resolves relative paths in the file against the file directory', async () => {
    const path = await file(
      'paths.yaml',
      'dataDir: data\npipelines:\n  - rules: [{ module: rules/mine.wasm }]\n',
    );
    const config = await loadConfig(path, {});
    expect(config.dataDir).toBe(join(dir, 'data'));
    expect(config.deadLetter.path).toBe(join(dir, 'data', 'dead-letter.jsonl'));
    expect(config.pipelines[0]?.rules[0]).toEqual({
      name: 'mine',
      module: join(dir, 'rules', 'mine.wasm'),
      config: {},
    });
  });

  it('uses SLUICE_CONFIG when no path is given', async () => {
    const path = await file('env-named.yaml', 'log: { level: debug }\n');
    const config = await loadConfig(undefined, { SLUICE_CONFIG: path });
    expect(config.log.level).toBe('debug');
  });
});
