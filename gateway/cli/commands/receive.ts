/**
 * @module `sluice receive`: the demo upstream alone, printing a line per batch it receives.
 */

import { numberFlag, parseCommandArgs, stringFlag } from '../args.js';
import { EXIT_OK, type Command } from '../command.js';
import { onShutdown } from '../signals.js';

export const receiveCommand: Command = {
  name: 'receive',
  summary: 'run the demo upstream receiver that prints the batches it gets',
  help: `Usage: sluice receive [--port 8787] [--host 127.0.0.1]

Accepts the batches the HTTP sink posts (JSON or CBOR, by Content-Type) on any path,
answers 200 and prints one line per batch, e.g.
  upstream ← batch of 50 records (json, 3.1 kB): dev-7 avg 21.4 min 19.0 max 23.9 count 20; …
The default sink URL of the gateway, http://127.0.0.1:8787/ingest, points here.

Options:
  -p, --port <port>  TCP port (default 8787; 0 picks a free one)
      --host <host>  address to listen on (default 127.0.0.1)
  -h, --help         show this help`,
  async run(argv) {
    const { values } = parseCommandArgs('receive', argv, {
      port: { type: 'string', short: 'p' },
      host: { type: 'string' },
    });
    if (values.help) {
      process.stdout.write(`${this.help}\n`);
      return EXIT_OK;
    }
    const port = numberFlag(values, 'port', { min: 0, max: 65535 }) ?? 8787;
    const { startReceiver } = await import('../../demo/receiver.js');
    const receiver = await startReceiver({ port, host: stringFlag(values, 'host') ?? '127.0.0.1' });
    process.stderr.write(`receiving batches on ${receiver.url} (Ctrl-C to stop)\n`);
    const shutdown = onShutdown();
    try {
      await shutdown.requested;
      await receiver.close();
      process.stderr.write(`received ${receiver.batches} batches, ${receiver.records} records\n`);
      return EXIT_OK;
    } finally {
      shutdown.dispose();
    }
  },
};
