/**
 * @module `sluice config`: validate a configuration and print it resolved (every default
 * filled, environment overrides applied).
 */

import { parseCommandArgs, stringFlag } from '../args.js';
import { EXIT_OK, type Command } from '../command.js';

export const configCommand: Command = {
  name: 'config',
  summary: 'check a configuration and print it with every default filled',
  help: `Usage: sluice config [--config <file>] [--json]

Loads the configuration as \`sluice start\` would (file, then environment overrides),
reports every problem, or prints the resolved configuration.

Options:
  -c, --config <file>  YAML or JSON configuration (default: $SLUICE_CONFIG, else all defaults)
      --json           print JSON instead of YAML
  -h, --help           show this help

Exit status: 0 when valid, 2 when not.`,
  async run(argv) {
    const { values } = parseCommandArgs('config', argv, {
      config: { type: 'string', short: 'c' },
      json: { type: 'boolean' },
    });
    if (values.help) {
      process.stdout.write(`${this.help}\n`);
      return EXIT_OK;
    }
    const { loadConfig } = await import('../../config/index.js');
    const config = await loadConfig(stringFlag(values, 'config'), process.env);
    if (values.json) {
      process.stdout.write(`${JSON.stringify(config, null, 2)}\n`);
    } else {
      const { stringify } = await import('yaml');
      process.stdout.write(stringify(config));
    }
    return EXIT_OK;
  },
};
