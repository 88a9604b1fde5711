/**
 * @module `sluice start`: load the configuration, run the gateway until SIGINT/SIGTERM, close
 * it cleanly.
 */

import { parseCommandArgs, stringFlag } from '../args.js';
import { EXIT_OK, reportError, type Command } from '../command.js';
import { onShutdown } from '../signals.js';

export const startCommand: Command = {
  name: 'start',
  summary: 'run the gateway with a configuration file',
  help: `Usage: sluice start [--config <file>]

Runs the gateway: MQTT ingest (the embedded broker when mqtt.url is empty), the rule
pipelines and the upstream sinks, until SIGINT (Ctrl-C) or SIGTERM, then closes cleanly.

Options:
  -c, --config <file>  YAML or JSON configuration (default: $SLUICE_CONFIG, else all defaults:
                       the demo pipeline on the embedded broker at 127.0.0.1:1883)
  -h, --help           show this help

Environment overrides of single keys: SLUICE_MQTT_URL, SLUICE_DATA_DIR, SLUICE_LOG_LEVEL,
and SLUICE__<key>__<key>=value for any key (e.g. SLUICE__mqtt__clientId=edge-7).
See docs/configuration.md.

Logs are JSON lines on stderr. Exit status: 0 after a clean stop, 1 when the gateway fails,
2 when the configuration is invalid.`,
  async run(argv) {
    const { values } = parseCommandArgs('start', argv, { config: { type: 'string', short: 'c' } });
    if (values.help) {
      process.stdout.write(`${this.help}\n`);
      return EXIT_OK;
    }
    const { loadConfig } = await import('../../config/index.js');
    const config = await loadConfig(stringFlag(values, 'config'), process.env);
    const { createLogger } = await import('../../log.js');
    const logger = createLogger(config.log.level);
    const shutdown = onShutdown();
    try {
      const { Gateway } = await import('../../gateway.js');
      const gateway = await Gateway.start(config, {
        logger,
        onApiTokenGenerated: (token, file) => {
          process.stderr.write(
            `sluice: generated the API token (shown once; kept in ${file}):\n  ${token}\n`,
          );
        },
      });
      const signal = await shutdown.requested;
      logger.info({ signal }, 'stopping');
      await gateway.close();
      logger.info('stopped');
      return EXIT_OK;
    } catch (error) {
      return reportError(error);
    } finally {
      shutdown.dispose();
    }
  },
};
