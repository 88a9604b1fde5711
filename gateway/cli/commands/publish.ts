/**
 * @module `sluice publish`: the device simulator against any MQTT broker.
 */

import { choiceFlag, numberFlag, parseCommandArgs, stringFlag, type ParsedArgs } from '../args.js';
import { EXIT_FAILURE, EXIT_OK, type Command } from '../command.js';
import { UsageError } from '../errors.js';
import { onShutdown } from '../signals.js';
import type { InvalidKind, SimulatorOptions } from '../../simulator/index.js';

const FLAGS = {
  url: { type: 'string' },
  devices: { type: 'string', short: 'n' },
  rate: { type: 'string', short: 'r' },
  duration: { type: 'string', short: 'd' },
  count: { type: 'string' },
  format: { type: 'string' },
  qos: { type: 'string', short: 'q' },
  'invalid-ratio': { type: 'string' },
  'invalid-kinds': { type: 'string' },
  topic: { type: 'string', short: 't' },
  seed: { type: 'string' },
  protocol: { type: 'string' },
  clients: { type: 'string' },
  'start-ts': { type: 'string' },
  'ts-step': { type: 'string' },
  'device-prefix': { type: 'string' },
  username: { type: 'string' },
  password: { type: 'string' },
  quiet: { type: 'boolean' },
} as const;

const INVALID_KIND_NAMES: readonly InvalidKind[] = ['range', 'missing', 'malformed'];

export const publishCommand: Command = {
  name: 'publish',
  summary: 'simulate a fleet of devices publishing readings over MQTT',
  help: `Usage: sluice publish [options]

Simulates devices publishing readings such as
  {"id":42,"device":"dev-17","ts":1718000000000,"temp":21.5,"hum":40.1}
to sensors/<device>/reading, with a share of invalid messages mixed in. Runs until --count
or --duration is reached, or until Ctrl-C, then prints what it sent.

Options:
      --url <url>              broker (default mqtt://127.0.0.1:1883)
  -n, --devices <n>            simulated devices, taking turns (default 100)
  -r, --rate <r>               messages per second over all devices; 0 = as fast as the
                               broker takes them (default 1000)
  -d, --duration <s>           stop after this many seconds
      --count <n>              stop after this many messages
      --format json|cbor       payload encoding (default json)
  -q, --qos 0|1|2              publish QoS (default 0)
      --invalid-ratio <f>      share of invalid messages, 0..1 (default 0.05)
      --invalid-kinds <list>   which invalid kinds to mix, comma-separated:
                               range (temp out of range), missing (no temp field),
                               malformed (truncated JSON / broken CBOR) (default all three)
  -t, --topic <topic>          topic, {device} is replaced (default sensors/{device}/reading)
      --seed <seed>            seed of the random choices, to publish the same run again
      --protocol 4|5           MQTT 3.1.1 (4) or MQTT 5 (5) (default 4)
      --clients <k>            connections to spread the devices over (default 1)
      --start-ts <ms|date>     event time "ts" of the first message (default: send time)
      --ts-step <ms>           event time step per message with --start-ts (default 1000/rate)
      --device-prefix <p>      device names are <p><n> (default dev-)
      --username <u>, --password <p>
      --quiet                  print only the summary
  -h, --help                   show this help

Example: sluice publish --devices 1000 --rate 0 --count 1000000 --qos 1`,
  async run(argv) {
    const { values } = parseCommandArgs('publish', argv, FLAGS);
    if (values.help) {
      process.stdout.write(`${this.help}\n`);
      return EXIT_OK;
    }
    const options = simulatorOptionsFromFlags(values);
    const { runSimulator, formatSimulatorSummary, resolveSimulatorOptions, SimulatorOptionsError } =
      await import('../../simulator/index.js');
    let resolved;
    try {
      resolved = resolveSimulatorOptions(options);
    } catch (error) {
      if (error instanceof SimulatorOptionsError) {
        const flag = error.option.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
        throw new UsageError(`--${flag}: ${error.message.replace(/^[^:]*: /, '')}`);
      }
      throw error;
    }
    if (!values.quiet) {
      const invalid =
        resolved.invalidRatio > 0
          ? `${+(resolved.invalidRatio * 100).toFixed(2)}% invalid`
          : 'no invalid';
      process.stderr.write(
        `publishing to ${resolved.url}: ${resolved.devices} devices, ` +
          `${resolved.rate === 0 ? 'as fast as possible' : `${resolved.rate} msgs/s`}, ${resolved.format}, ` +
          `QoS ${resolved.qos}, ${invalid}` +
          `${resolved.count === undefined && resolved.durationMs === undefined ? ' (Ctrl-C to stop)' : ''}\n`,
      );
    }
    const shutdown = onShutdown();
    try {
      const result = await runSimulator({
        ...options,
        seed: resolved.seed,
        signal: shutdown.signal,
      });
      process.stdout.write(`${formatSimulatorSummary(result)}\n`);
      return result.failed > 0 ? EXIT_FAILURE : EXIT_OK;
    } finally {
      shutdown.dispose();
    }
  },
};

/** Maps the flags to `SimulatorOptions`. @throws UsageError on a malformed value. */
export function simulatorOptionsFromFlags(values: ParsedArgs['values']): SimulatorOptions {
  const options: SimulatorOptions = {};
  const url = stringFlag(values, 'url');
  if (url !== undefined) options.url = url;
  const devices = numberFlag(values, 'devices', { min: 1 });
  if (devices !== undefined) options.devices = devices;
  const rate = numberFlag(values, 'rate', { min: 0, integer: false, what: 'messages per second' });
  if (rate !== undefined) options.rate = rate;
  const duration = numberFlag(values, 'duration', { min: 0, integer: false, what: 'seconds' });
  if (duration !== undefined) options.durationMs = duration * 1000;
  const count = numberFlag(values, 'count', { min: 0 });
  if (count !== undefined) options.count = count;
  const format = choiceFlag(values, 'format', ['json', 'cbor'] as const);
  if (format !== undefined) options.format = format;
  const qos = choiceFlag(values, 'qos', ['0', '1', '2'] as const);
  if (qos !== undefined) options.qos = Number(qos) as 0 | 1 | 2;
  const ratio = numberFlag(values, 'invalid-ratio', {
    min: 0,
    max: 1,
    integer: false,
    what: 'a share',
  });
  if (ratio !== undefined) options.invalidRatio = ratio;
  const kinds = stringFlag(values, 'invalid-kinds');
  if (kinds !== undefined) {
    const list = kinds
      .split(',')
      .map((kind) => kind.trim())
      .filter((kind) => kind !== '');
    for (const kind of list) {
      if (!(INVALID_KIND_NAMES as readonly string[]).includes(kind)) {
        throw new UsageError(
          `--invalid-kinds: "${kind}" is not an invalid kind (expected ${INVALID_KIND_NAMES.join(', ')})`,
        );
      }
    }
    options.invalidKinds = list as InvalidKind[];
  }
  const topic = stringFlag(values, 'topic');
  if (topic !== undefined) options.topic = topic;
  const seed = stringFlag(values, 'seed');
  if (seed !== undefined) options.seed = /^-?\d+$/.test(seed) ? Number(seed) : seed;
  const protocol = choiceFlag(values, 'protocol', ['4', '5'] as const);
  if (protocol !== undefined) options.protocolVersion = Number(protocol) as 4 | 5;
  const clients = numberFlag(values, 'clients', { min: 1, max: 10_000 });
  if (clients !== undefined) options.clients = clients;
  const startTs = stringFlag(values, 'start-ts');
  if (startTs !== undefined) {
    const value = /^\d+$/.test(startTs) ? Number(startTs) : Date.parse(startTs);
    if (!Number.isFinite(value)) {
      throw new UsageError(
        `--start-ts: "${startTs}" is neither milliseconds since the epoch nor a date (e.g. 2024-06-01T00:00:00Z)`,
      );
    }
    options.startTs = value;
  }
  const tsStep = numberFlag(values, 'ts-step', { min: 0, integer: false, what: 'milliseconds' });
  if (tsStep !== undefined) options.tsStep = tsStep;
  const prefix = stringFlag(values, 'device-prefix');
  if (prefix !== undefined) options.devicePrefix = prefix;
  const username = stringFlag(values, 'username');
  if (username !== undefined) options.username = username;
  const password = stringFlag(values, 'password');
  if (password !== undefined) options.password = password;
  return options;
}
