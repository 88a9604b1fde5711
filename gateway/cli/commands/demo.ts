/**
 * @module `sluice demo` (what `npm start` runs): receiver + gateway + simulated devices.
 */

import { choiceFlag, numberFlag, parseCommandArgs } from '../args.js';
import { EXIT_OK, type Command } from '../command.js';
import { onShutdown } from '../signals.js';

export const demoCommand: Command = {
  name: 'demo',
  summary: 'live demo: embedded broker, simulated devices, example rules, a printing upstream',
  help: `Usage: sluice demo [options]

Starts, in one process:
  - an upstream receiver on http://127.0.0.1:8787/ingest that prints each batch it gets,
  - the gateway with the default configuration: the embedded MQTT broker on 127.0.0.1:1883,
    sensors/+/reading → threshold (temp -40..125) → window-stats (per-device avg/min/max/count
    of temp per 1 s window) → HTTP batches to the receiver,
  - a simulated fleet publishing readings, 5% of them invalid (they end in the dead-letter file).
Within seconds a line per batch appears. Ctrl-C stops everything cleanly.
When port 1883 or 8787 is taken, a free port is used instead.

Options:
  -n, --devices <n>        simulated devices (default 50)
  -r, --rate <r>           messages per second over all devices (default 500)
      --format json|cbor   device payload encoding (default json)
      --invalid-ratio <f>  share of invalid readings (default 0.05)
  -p, --port <port>        receiver port (default 8787)
      --mqtt-port <port>   embedded broker port (default 1883)
  -d, --duration <s>       stop after this many seconds (default: until Ctrl-C)
  -h, --help               show this help

Environment overrides (SLUICE_LOG_LEVEL=info, SLUICE__...) apply to the demo's configuration.`,
  async run(argv) {
    const { values } = parseCommandArgs('demo', argv, {
      devices: { type: 'string', short: 'n' },
      rate: { type: 'string', short: 'r' },
      format: { type: 'string' },
      'invalid-ratio': { type: 'string' },
      port: { type: 'string', short: 'p' },
      'mqtt-port': { type: 'string' },
      duration: { type: 'string', short: 'd' },
    });
    if (values.help) {
      process.stdout.write(`${this.help}\n`);
      return EXIT_OK;
    }
    const options = {
      devices: numberFlag(values, 'devices', { min: 1, max: 100_000 }),
      rate: numberFlag(values, 'rate', { min: 1, integer: false, what: 'messages per second' }),
      format: choiceFlag(values, 'format', ['json', 'cbor'] as const),
      invalidRatio: numberFlag(values, 'invalid-ratio', {
        min: 0,
        max: 1,
        integer: false,
        what: 'a share',
      }),
      receiverPort: numberFlag(values, 'port', { min: 0, max: 65535 }),
      mqttPort: numberFlag(values, 'mqtt-port', { min: 0, max: 65535 }),
      durationMs: numberFlag(values, 'duration', { min: 0, integer: false, what: 'seconds' }),
    };
    const { runDemo } = await import('../../demo/run-demo.js');
    const shutdown = onShutdown();
    try {
      await runDemo({
        ...(options.devices === undefined ? {} : { devices: options.devices }),
        ...(options.rate === undefined ? {} : { rate: options.rate }),
        ...(options.format === undefined ? {} : { format: options.format }),
        ...(options.invalidRatio === undefined ? {} : { invalidRatio: options.invalidRatio }),
        ...(options.receiverPort === undefined ? {} : { receiverPort: options.receiverPort }),
        ...(options.mqttPort === undefined ? {} : { mqttPort: options.mqttPort }),
        ...(options.durationMs === undefined ? {} : { durationMs: options.durationMs * 1000 }),
        signal: shutdown.signal,
      });
      return EXIT_OK;
    } finally {
      shutdown.dispose();
    }
  },
};
