import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { BUILTIN_RULES, ConfigError, resolveConfig } from '../../gateway/config/index.js';

/** The problem messages `resolveConfig(raw, env)` reports. */
function problems(raw: unknown, env: Record<string, string> = {}): string[] {
  try {
    resolveConfig(raw, env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).code).toBe('CONFIG_INVALID');
    return (error as ConfigError).problems.map((problem) => problem.message);
  }
  throw new Error('expected a ConfigError');
}

describe('resolveConfig validation', () => {
  it('suggests the intended key for an unknown key', () => {
    expect(problems({ mqtt: { clientid: 'x' } })).toEqual([
      'mqtt.clientid: unknown key (did you mean "clientId"?)',
    ]);
    expect(problems({ mqtt: { keepalive: 10 } })).toEqual([
      'mqtt.keepalive: unknown key (did you mean "keepaliveSeconds"?)',
    ]);
    expect(problems({ pipelines: [{ sink: { lingerMS: 5 } }] })).toEqual([
      'pipelines[0].sink.lingerMS: unknown key (did you mean "lingerMs"?)',
    ]);
  });

  it('lists the known keys when nothing is close', () => {
    expect(problems({ zzz: 1 })).toEqual([
      'zzz: unknown key (known keys here: dataDir, mqtt, pipelines, deadLetter, limits, shutdownTimeoutMs, log, api)',
    ]);
  });

  it('names the field, the value and the expected type for a wrong type', () => {
    expect(problems({ pipelines: [{ sink: { lingerMs: '100ms' } }] })).toEqual([
      'pipelines[0].sink.lingerMs: "100ms" is not a number (expected a whole number of milliseconds from 0 to 3600000)',
    ]);
    expect(problems({ mqtt: { clean: 'yes' } })).toEqual([
      'mqtt.clean: "yes" is not true or false (expected true or false)',
    ]);
    expect(problems({ mqtt: { password: 123456 } })).toEqual([
      'mqtt.password: 123456 is not a string (quote it: "123456")',
    ]);
    expect(problems({ mqtt: 'mqtt://x' })).toEqual([
      'mqtt: "mqtt://x" is not a mapping (expected a mapping with the keys url, clientId, protocolVersion, clean, username, password, keepaliveSeconds, receiveMaximum, reconnectPeriodMs, inflightWindow, tls, embedded)',
    ]);
    expect(problems([1, 2])[0]).toMatch(/^\(root\): \[1,2\] is not a mapping/);
  });

  it('reports numbers out of range and fractions where whole numbers are expected', () => {
    expect(problems({ mqtt: { receiveMaximum: 0 } })).toEqual([
      'mqtt.receiveMaximum: 0 is out of range (expected a whole number from 1 to 65535)',
    ]);
    expect(problems({ mqtt: { embedded: { port: 70000 } } })).toEqual([
      'mqtt.embedded.port: 70000 is out of range (expected a whole number from 0 to 65535; 0 picks a free port)',
    ]);
    expect(problems({ pipelines: [{ batch: { maxEvents: 2.5 } }] })).toEqual([
      'pipelines[0].batch.maxEvents: 2.5 is not a whole number (expected a whole number of events from 1 to 1000000)',
    ]);
  });

  it('reports values outside a fixed set with the choices and a suggestion', () => {
    expect(problems({ log: { level: 'verbose' } })).toEqual([
      'log.level: "verbose" is not a log level (expected trace, debug, info, warn, error, silent)',
    ]);
    expect(problems({ log: { level: 'warning' } })).toEqual([
      'log.level: "warning" is not a log level (expected trace, debug, info, warn, error, silent; did you mean "warn"?)',
    ]);
    expect(problems({ pipelines: [{ qos: 3 }] })).toEqual([
      'pipelines[0].qos: 3 is not an MQTT QoS (expected 0, 1, 2)',
    ]);
  });

  it('rejects broker URLs that are not MQTT URLs', () => {
    expect(problems({ mqtt: { url: 'mqt://x' } })).toEqual([
      'mqtt.url: "mqt://x" is not a URL (expected mqtt://, mqtts://, ws:// or wss://)',
    ]);
    expect(problems({ mqtt: { url: 'broker.local:1883' } })[0]).toContain('is not a URL');
    expect(resolveConfig({ mqtt: { url: 'mqtts://broker.local:8883' } }).mqtt.url).toBe(
      'mqtts://broker.local:8883',
    );
  });

  it('rejects sink URLs that are not HTTP URLs', () => {
    expect(problems({ pipelines: [{ sink: { url: 'ftp://up.example' } }] })).toEqual([
      'pipelines[0].sink.url: "ftp://up.example" is not an HTTP URL (expected http:// or https://)',
    ]);
  });

  it('rejects topic filters with misplaced wildcards', () => {
    expect(problems({ pipelines: [{ topics: ['sensors/#/reading'], keyLevel: -1 }] })).toEqual([
      'pipelines[0].topics[0]: "sensors/#/reading" is not a valid topic filter ("#" must be the last level, as in "sensors/#")',
    ]);
    expect(problems({ pipelines: [{ topics: ['sensors/dev+/reading'] }] })).toEqual([
      'pipelines[0].topics[0]: "sensors/dev+/reading" is not a valid topic filter ("+" must be a whole level, as in "sensors/+/reading", not mixed into "dev+")',
    ]);
    expect(problems({ pipelines: [{ topics: ['sensors/a#'] }] })[0]).toContain(
      '"#" must be a whole level',
    );
    expect(problems({ pipelines: [{ topics: [] }] })[0]).toBe(
      'pipelines[0].topics: [] is empty (a pipeline subscribes to at least one topic filter, e.g. "sensors/+/reading")',
    );
    const ok = resolveConfig({
      pipelines: [{ topics: ['$share/g1/sensors/+/reading', 'plant/#'] }],
    });
    expect(ok.pipelines[0]?.topics).toEqual(['$share/g1/sensors/+/reading', 'plant/#']);
  });

  it('rejects a key level past the last level of a filter', () => {
    expect(problems({ pipelines: [{ topics: ['sensors/+'], keyLevel: 2 }] })).toEqual([
      'pipelines[0].keyLevel: 2 is past the last level of the topic filter "sensors/+" (levels 0 to 1; set keyLevel to the level that holds the device id, or -1 for the whole topic)',
    ]);
  });

  it('rejects duplicate pipeline names and empty rule chains', () => {
    expect(problems({ pipelines: [{ name: 'a' }, { name: 'a', topics: ['other/+/x'] }] })).toEqual([
      'pipelines[1].name: "a" is already the name of pipelines[0] (pipeline names must be unique; set name: on each pipeline)',
    ]);
    expect(problems({ pipelines: [{ rules: [] }] })).toEqual([
      'pipelines[0].rules: [] is empty (a pipeline needs at least one rule; remove the key to use the default threshold → window-stats chain)',
    ]);
    expect(problems({ pipelines: [] })).toEqual([
      'pipelines: [] is empty (remove the key to run the default pipeline, or add a pipeline with topics:)',
    ]);
  });

  it('rejects unknown built-in rules with a suggestion, and a rule without a module', () => {
    expect(problems({ pipelines: [{ rules: ['window-stat'] }] })).toEqual([
      `pipelines[0].rules[0].module: "window-stat" is neither a .wasm file nor a built-in rule (did you mean "window-stats"? expected a path to a .wasm file or a built-in rule: ${BUILTIN_RULES.join(', ')})`,
    ]);
    expect(problems({ pipelines: [{ rules: [{ config: {} }] }] })).toEqual([
      `pipelines[0].rules[0].module: is missing (expected a path to a .wasm file or a built-in rule: ${BUILTIN_RULES.join(', ')})`,
    ]);
    expect(problems({ pipelines: [{ rules: [5] }] })).toEqual([
      'pipelines[0].rules[0]: 5 is not a rule (expected a built-in rule name, a .wasm path, or a mapping with module:)',
    ]);
    expect(problems({ pipelines: [{ rules: ['threshold', 'threshold'] }] })[0]).toContain(
      'pipelines[0].rules[1].name: "threshold" is already the name of rules[0]',
    );
  });

  it('checks fields against each other', () => {
    expect(problems({ mqtt: { protocolVersion: 5 } })[0]).toBe(
      'mqtt.protocolVersion: 5 is not supported by the embedded broker (it speaks MQTT 3.1.1 only; set mqtt.protocolVersion to 4, or set mqtt.url to an MQTT 5 broker such as Mosquitto)',
    );
    expect(
      resolveConfig({ mqtt: { url: 'mqtt://b:1883', protocolVersion: 5 } }).mqtt.protocolVersion,
    ).toBe(5);
    expect(problems({ mqtt: { url: 'mqtt://b', tls: { ca: 'ca.pem' } } })).toEqual([
      'mqtt.tls: is set, but mqtt.url "mqtt://b" does not use TLS (use mqtts:// or wss://, or remove mqtt.tls)',
    ]);
    expect(problems({ mqtt: { url: 'mqtts://b', tls: { cert: 'c.pem' } } })).toEqual([
      'mqtt.tls.key: is missing (mqtt.tls.cert is set; a client certificate needs both cert and key)',
    ]);
    expect(
      problems({ pipelines: [{ sink: { retry: { initialDelayMs: 500, maxDelayMs: 100 } } }] }),
    ).toEqual([
      'pipelines[0].sink.retry.maxDelayMs: 100 is below retry.initialDelayMs 500 (the backoff ceiling must be at least the first delay)',
    ]);
    expect(
      problems({
        limits: { ruleMemoryBytes: 1048576 },
        pipelines: [{ batch: { maxBytes: 2097152 } }],
      }),
    ).toEqual([
      "pipelines[0].batch.maxBytes: 2097152 is larger than limits.ruleMemoryBytes 1048576 (a batch must fit in a rule's memory; lower batch.maxBytes or raise limits.ruleMemoryBytes)",
    ]);
  });

  it('collects every problem of a configuration into one error', () => {
    try {
      resolveConfig({
        mqtt: { url: 'mqt://x', clientid: 'a' },
        log: { level: 'loud' },
        pipelines: [{ rules: [] }],
      });
      throw new Error('expected a ConfigError');
    } catch (error) {
      const message = (error as Error).message;
      expect(message).toMatch(/^Invalid configuration \(4 problems\):\n {2}- /);
      expect(message).toContain('mqtt.clientid: unknown key');
      expect(message).toContain('mqtt.url: "mqt://x" is not a URL');
      expect(message).toContain('log.level: "loud" is not a log level');
      expect(message).toContain('pipelines[0].rules: [] is empty');
    }
  });

  it('fills pipeline defaults around the keys that are set', () => {
    const config = resolveConfig({
      pipelines: [
        {
          name: 'temps',
          topics: 'plant/+/temp',
          rules: ['deadband', { module: 'threshold', name: 'hot', config: { min: 30 } }],
        },
        { topics: ['plant/+/hum'] },
      ],
    });
    expect(config.pipelines.map((p) => p.name)).toEqual(['temps', 'pipeline-1']);
    expect(config.pipelines[0]?.topics).toEqual(['plant/+/temp']);
    expect(config.pipelines[0]?.rules).toEqual([
      { name: 'deadband', module: 'deadband', config: {} },
      { name: 'hot', module: 'threshold', config: { min: 30 } },
    ]);
    expect(config.pipelines[1]?.rules.map((r) => r.name)).toEqual(['threshold', 'window-stats']);
    expect(config.pipelines[1]?.sink).toMatchObject({ url: 'http://127.0.0.1:8787/ingest' });
  });

  it('treats an empty YAML value (null) as the default', () => {
    expect(resolveConfig({ mqtt: null, log: { level: null } })).toEqual(resolveConfig({}));
  });
});

describe('resolveConfig environment overrides', () => {
  it('applies the shortcut variables', () => {
    const config = resolveConfig(
      {},
      {
        SLUICE_MQTT_URL: 'mqtt://broker:1883',
        SLUICE_DATA_DIR: '/var/lib/sluice',
        SLUICE_LOG_LEVEL: 'debug',
      },
    );
    expect(config.mqtt.url).toBe('mqtt://broker:1883');
    expect(config.dataDir).toBe('/var/lib/sluice');
    expect(config.deadLetter.path).toBe('/var/lib/sluice/dead-letter.jsonl');
    expect(config.log.level).toBe('debug');
  });

  it('applies SLUICE__ keys case-insensitively and converts to the expected type', () => {
    const config = resolveConfig(
      { mqtt: { clientId: 'from-file' } },
      {
        SLUICE__mqtt__clientId: 'edge-7',
        SLUICE__MQTT__KEEPALIVESECONDS: '60',
        SLUICE__mqtt__clean: 'true',
        SLUICE__mqtt__embedded__port: '1884',
        SLUICE__pipelines__0__topics: 'a/+/x,b/+/y',
        SLUICE__pipelines__0__sink__url: 'https://up.example/in',
        SLUICE__pipelines__0__sink__headers__Authorization: 'Bearer t',
        SLUICE__pipelines__0__rules__0__config__max: '99.5',
      },
    );
    expect(config.mqtt.clientId).toBe('edge-7');
    expect(config.mqtt.keepaliveSeconds).toBe(60);
    expect(config.mqtt.clean).toBe(true);
    expect(config.mqtt.embedded.port).toBe(1884);
    expect(config.pipelines[0]?.topics).toEqual(['a/+/x', 'b/+/y']);
    expect(config.pipelines[0]?.sink).toMatchObject({
      url: 'https://up.example/in',
      headers: { Authorization: 'Bearer t' },
    });
    expect(config.pipelines[0]?.rules[0]?.config).toEqual({ field: 'temp', min: -40, max: 99.5 });
  });

  it('lets the general form win over a shortcut and over the file', () => {
    const config = resolveConfig(
      { log: { level: 'error' } },
      { SLUICE_LOG_LEVEL: 'debug', SLUICE__log__level: 'trace' },
    );
    expect(config.log.level).toBe('trace');
  });

  it('creates an absent optional section from an override', () => {
    const config = resolveConfig(
      { mqtt: { url: 'mqtts://b:8883' } },
      { SLUICE__mqtt__tls__rejectUnauthorized: 'false' },
    );
    expect(config.mqtt.tls).toEqual({ rejectUnauthorized: false });
  });

  it('validates overrides like file values and names the variable', () => {
    try {
      resolveConfig({}, { SLUICE_MQTT_URL: 'mqt://x', SLUICE__mqtt__keepaliveSeconds: 'abc' });
      throw new Error('expected a ConfigError');
    } catch (error) {
      const found = (error as ConfigError).problems;
      expect(found).toEqual([
        {
          path: 'mqtt.url',
          message: 'mqtt.url: "mqt://x" is not a URL (expected mqtt://, mqtts://, ws:// or wss://)',
          source: 'environment SLUICE_MQTT_URL',
        },
        {
          path: 'mqtt.keepaliveSeconds',
          message:
            'mqtt.keepaliveSeconds: "abc" is not a number (expected a whole number of seconds from 0 to 65535; 0 disables keepalive)',
          source: 'environment SLUICE__mqtt__keepaliveSeconds',
        },
      ]);
      expect((error as Error).message).toContain('[environment SLUICE_MQTT_URL]');
    }
  });

  it('reports overrides that name no key, with a suggestion', () => {
    expect(problems({}, { SLUICE__mqtt__clientid_: 'x' })).toEqual([
      'mqtt.clientid_: unknown key (did you mean "clientId"?)',
    ]);
    expect(problems({}, { SLUICE__pipelines__3__name: 'x' })).toEqual([
      'pipelines[3]: there is no entry 3 (pipelines has 1; set the whole list in the file instead)',
    ]);
    expect(problems({}, { SLUICE__mqtt__url__host: 'x' })[0]).toBe(
      'SLUICE__mqtt__url__host: mqtt.url.host names no setting (a key in the path holds a single value, not a mapping; see docs/configuration.md)',
    );
    expect(problems({}, { SLUICE__mqtt____url: 'x' })[0]).toContain(
      'SLUICE__mqtt____url: is not a key path',
    );
  });

  it('ignores other environment variables', () => {
    expect(resolveConfig({}, { PATH: '/bin', SLUICE_DEBUG: '1', SLUICE_CONFIG: 'x.yaml' })).toEqual(
      resolveConfig({}),
    );
  });
  it('validates a rule’s fuel, naming the field', () => {
    expect(problems({ pipelines: [{ rules: [{ module: 'threshold', fuel: 10 }] }] })).toEqual([
      'pipelines[0].rules[0].fuel: 10 is out of range (expected a whole number of units of fuel (function entries and loop iterations per call) from 1000 to 2147483647)',
    ]);
    const config = resolveConfig({ pipelines: [{ rules: ['threshold'] }] });
    expect(config.pipelines[0]?.rules[0]?.fuel).toBeUndefined();
  });
  it('validates the workers section, naming the field', () => {
    expect(problems({ pipelines: [{ workers: { count: -1, ruleTimeoutMs: 0 } }] })).toEqual([
      'pipelines[0].workers.count: -1 is out of range (expected a whole number of worker threads from 0 to 256)',
      'pipelines[0].workers.ruleTimeoutMs: 0 is out of range (expected a whole number of milliseconds from 1 to 600000)',
    ]);
    expect(problems({ pipelines: [{ workers: { cuont: 10 } }] })).toEqual([
      'pipelines[0].workers.cuont: unknown key (did you mean "count"?)',
    ]);
    const config = resolveConfig({ pipelines: [{ workers: { count: 2 } }] });
    expect(config.pipelines[0]?.workers).toEqual({ count: 2, ruleTimeoutMs: 1000 });
  });
  it('validates the spool section, naming the field', () => {
    expect(
      problems({
        pipelines: [{ spool: { fsync: 'sometimes', onFull: 'drop-newest', maxBytes: 1000 } }],
      }),
    ).toEqual([
      'pipelines[0].spool.maxBytes: 1000 is out of range (expected a whole number of bytes ≥ 65536)',
      'pipelines[0].spool.fsync: "sometimes" is not an fsync policy (expected always, interval, never)',
      'pipelines[0].spool.onFull: "drop-newest" is not a policy for a full spool (expected block, drop-oldest; did you mean "drop-oldest"?)',
    ]);
    expect(
      problems({ pipelines: [{ spool: { maxBytes: 1048576, segmentBytes: 524288 } }] }),
    ).toEqual([
      'pipelines[0].spool.segmentBytes: 524288 is above maxBytes / 4 (262144; the budget must hold several segments: lower segmentBytes or raise maxBytes)',
    ]);
    expect(problems({ pipelines: [{ spool: { enable: true } }] })).toEqual([
      'pipelines[0].spool.enable: unknown key (did you mean "enabled"?)',
    ]);
  });
  it('resolves file and nats sinks with their defaults, and names a wrong sink type', () => {
    const config = resolveConfig({
      pipelines: [
        { name: 'a', sink: { type: 'file' } },
        { name: 'b', sink: { type: 'nats', subject: 'plant.{key}' } },
      ],
    });
    expect(config.pipelines[0]?.sink).toEqual({
      type: 'file',
      name: 'file',
      maxInFlight: 1,
      latencyTargetMs: 1000,
      path: '',
      maxFileBytes: 67108864,
      maxFiles: 5,
      fsync: true,
      maxRecords: 1000,
      maxBytes: 1048576,
      lingerMs: 100,
      retry: { initialDelayMs: 100, maxDelayMs: 10000 },
    });
    expect(config.pipelines[1]?.sink).toEqual({
      type: 'nats',
      name: 'nats',
      maxInFlight: 4,
      latencyTargetMs: 1000,
      servers: ['nats://127.0.0.1:4222'],
      subject: 'plant.{key}',
      timeoutMs: 10000,
      maxRecords: 500,
      maxBytes: 1048576,
      lingerMs: 20,
      retry: { initialDelayMs: 100, maxDelayMs: 10000 },
      breaker: { failureThreshold: 5, cooldownMs: 1000, maxCooldownMs: 30000 },
    });
    expect(
      resolveConfig({ pipelines: [{ name: 'up', sink: { type: 'mqtt', url: 'mqtts://c:8883' } }] })
        .pipelines[0]?.sink,
    ).toEqual({
      type: 'mqtt',
      name: 'mqtt',
      maxInFlight: 4,
      latencyTargetMs: 1000,
      url: 'mqtts://c:8883',
      clientId: `sluice-sink-${hostname()}-up`,
      protocolVersion: 5,
      topic: 'sluice/{output}/{key}',
      timeoutMs: 10000,
      maxRecords: 500,
      maxBytes: 1048576,
      lingerMs: 20,
      retry: { initialDelayMs: 100, maxDelayMs: 10000 },
      breaker: { failureThreshold: 5, cooldownMs: 1000, maxCooldownMs: 30000 },
    });
    expect(problems({ pipelines: [{ sink: { type: 'mqtt', topic: 'up/#' } }] })).toEqual([
      'pipelines[0].sink.topic: "up/#" has a wildcard (a topic to publish to has none; {output} and {key} are replaced)',
    ]);
    expect(problems({ pipelines: [{ sink: { type: 'kafka' } }] })).toEqual([
      'pipelines[0].sink.type: "kafka" is not a sink type (expected http, file, nats, mqtt)',
    ]);
    expect(
      problems({ pipelines: [{ sink: { type: 'nats', servers: ['http://x'], url: 'y' } }] }),
    ).toEqual([
      'pipelines[0].sink.url: unknown key (known keys here: type, name, maxInFlight, latencyTargetMs, servers, subject, timeoutMs, user, pass, maxRecords, maxBytes, lingerMs, retry, breaker)',
      'pipelines[0].sink.servers[0]: "http://x" is not a NATS URL (expected nats://host:port, tls://, ws:// or wss://)',
    ]);
  });
});
