/**
 * @module `sluice rules build`: compile AssemblyScript rules to `.wasm` (the compiler is loaded
 * only when this runs).
 */

import { join, relative, resolve } from 'node:path';
import { choiceFlag, numberFlag, parseCommandArgs, stringFlag } from '../args.js';
import { EXIT_OK, type Command } from '../command.js';
import { UsageError } from '../errors.js';
import { BUILTIN_RULES } from '../../config/defaults.js';
import { packageInfo } from '../package-info.js';

const BUILD_HELP = `Usage: sluice rules build <entry.ts> [-o <out.wasm>] [options]
       sluice rules build --all [--out-dir <dir>] [--force] [options]

Compiles an AssemblyScript rule written against the SDK in filters/sdk to a .wasm module
that the gateway loads (rules[].module in the configuration).

Options:
  -o, --out <file>         output file (default: the entry with the extension .wasm)
      --all                build the example rules (${BUILTIN_RULES.join(', ')})
      --out-dir <dir>      where --all writes them (default: this package's dist/rules)
      --force              with --all, rebuild even when the .wasm is up to date
      --runtime <r>        minimal or incremental garbage collector (default minimal)
      --memory-pages <n>   declared memory maximum in 64 KiB pages (default 256 = 16 MiB)
      --debug              build without optimisation
  -h, --help               show this help`;

/** Subcommands that talk to a gateway's API (in rules-remote.ts). */
const REMOTE_SUBCOMMANDS = ['push', 'list', 'show', 'activate', 'rollback', 'shadow', 'diff', 'rm'];

export const rulesCommand: Command = {
  name: 'rules',
  summary: 'build rules; push, list, show, activate, shadow, roll back, rm them on a gateway',
  help: `Usage: sluice rules <subcommand>

Subcommands:
  build     compile a rule (or the example rules) to .wasm
  test      run a rule locally over recorded events and print its outputs
  push      upload a .wasm to a gateway's rule store (validated, init dry-run)
  list      list the stored rules
  show      show a rule's versions, or one version (name@version)
  activate  swap a stored version into a running pipeline (any version: also a rollback)
  rollback  activate the version before the active one
  shadow    run a version beside a pipeline's rule, outputs compared (--promote, --discard)
  diff      show what the shadow did differently
  rm        delete a stored version no pipeline uses
  keygen    make an Ed25519 key pair for signed modules (api.signingKey)
  sign      print a module's signature

Run sluice rules <subcommand> --help for its options.`,
  async run(argv) {
    const [sub, ...rest] = argv;
    if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') {
      process.stdout.write(`${this.help}\n`);
      return sub === undefined ? 2 : EXIT_OK;
    }
    if (sub === 'test') {
      const { runRuleTest } = await import('./rules-test.js');
      return runRuleTest(rest);
    }
    if (sub === 'keygen' || sub === 'sign') {
      const { runSign } = await import('./rules-sign.js');
      return runSign(sub, rest);
    }
    if (REMOTE_SUBCOMMANDS.includes(sub)) {
      const { runRemote } = await import('./rules-remote.js');
      return runRemote(sub, rest);
    }
    if (sub !== 'build') {
      throw new UsageError(
        `unknown subcommand "rules ${sub}" (available: build, test, keygen, sign, ${REMOTE_SUBCOMMANDS.join(', ')}; see sluice rules --help)`,
      );
    }
    return build(rest);
  },
};

async function build(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    'rules build',
    argv,
    {
      out: { type: 'string', short: 'o' },
      all: { type: 'boolean' },
      'out-dir': { type: 'string' },
      force: { type: 'boolean' },
      runtime: { type: 'string' },
      'memory-pages': { type: 'string' },
      debug: { type: 'boolean' },
    },
    1,
  );
  if (values.help) {
    process.stdout.write(`${BUILD_HELP}\n`);
    return EXIT_OK;
  }
  const entry = positionals[0];
  if (values.all === true && entry !== undefined) {
    throw new UsageError(
      'give either an entry file or --all, not both (see sluice rules build --help)',
    );
  }
  if (values.all !== true && entry === undefined) {
    throw new UsageError(
      'missing the rule to build: sluice rules build <entry.ts>, or --all (see sluice rules build --help)',
    );
  }
  const options: {
    runtime?: 'incremental' | 'minimal';
    maximumMemoryPages?: number;
    optimize?: boolean;
  } = {};
  const runtime = choiceFlag(values, 'runtime', ['incremental', 'minimal'] as const);
  if (runtime !== undefined) options.runtime = runtime;
  const pages = numberFlag(values, 'memory-pages', { min: 1, max: 65536 });
  if (pages !== undefined) options.maximumMemoryPages = pages;
  if (values.debug === true) options.optimize = false;

  const { buildRule, buildExampleRules } = await import('../../rules/build.js');
  if (values.all === true) {
    const outDir = stringFlag(values, 'out-dir') ?? defaultRulesDir();
    const results = await buildExampleRules(outDir, { ...options, force: values.force === true });
    for (const result of results) {
      const what = result.skipped ? 'up to date' : `built in ${Math.round(result.durationMs)} ms`;
      process.stdout.write(`${shown(result.outFile)}: ${result.bytes} bytes, ${what}\n`);
    }
    return EXIT_OK;
  }
  const entryFile = entry ?? '';
  const outFile = stringFlag(values, 'out') ?? `${entryFile.replace(/\.[^./\\]+$/, '')}.wasm`;
  const result = await buildRule(resolve(entryFile), resolve(outFile), options);
  if (result.warnings !== '')
    process.stderr.write(result.warnings.endsWith('\n') ? result.warnings : `${result.warnings}\n`);
  process.stdout.write(
    `${shown(result.outFile)}: ${result.bytes} bytes, built in ${Math.round(result.durationMs)} ms\n`,
  );
  return EXIT_OK;
}

/** A path relative to the working directory when it is inside it, else absolute. */
function shown(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel === '' || rel.startsWith('..') ? path : rel;
}

/** `dist/rules` of this package, where the gateway looks for the built-in rules. */
function defaultRulesDir(): string {
  return join(packageInfo().root, 'dist', 'rules');
}
