/**
 * @module `sluice dlq`: list, show, replay and purge the entries of the dead-letter file. Works
 * on the file directly (no running gateway needed); the file is `--file`, else the configuration's
 * `deadLetter.path`.
 */

import { randomBytes } from 'node:crypto';
import { numberFlag, parseCommandArgs, stringFlag, type ParsedArgs } from '../args.js';
import { EXIT_FAILURE, EXIT_OK, type Command } from '../command.js';
import { UsageError } from '../errors.js';
import type {
  DeadLetterFileContents,
  DeadLetterFilter,
  StoredDeadLetter,
} from '../../dead-letter/dead-letter-store.js';

const SELECT_FLAGS = {
  file: { type: 'string', short: 'f' },
  config: { type: 'string', short: 'c' },
  pipeline: { type: 'string' },
  rule: { type: 'string' },
  reason: { type: 'string' },
  limit: { type: 'string' },
  json: { type: 'boolean' },
} as const;

const SELECT_HELP = `  -f, --file <path>      the dead-letter file (default: deadLetter.path of the configuration)
  -c, --config <file>    configuration to take deadLetter.path from (default: $SLUICE_CONFIG,
                         else the defaults: ./.sluice/dead-letter.jsonl)
      --pipeline <name>  only entries of this pipeline
      --rule <name>      only entries of this rule (sink:<type> for records upstream refused)
      --reason <text>    only entries whose reason contains this text (case-insensitive)
      --limit <n>        only the first n matching entries (oldest first)
      --json             print JSON`;

const LIST_HELP = `Usage: sluice dlq list [options]

Lists the dead letters (oldest first): number, time, pipeline, rule, topic, reason.

Options:
${SELECT_HELP}
  -h, --help             show this help`;

const SHOW_HELP = `Usage: sluice dlq show <n|id> [--file <path> | --config <file>] [--json]

Shows one dead letter in full, by its number in \`sluice dlq list\` or by its id (16 hex
digits; ids restart with each gateway run, so every entry with that id is shown).`;

const REPLAY_HELP = `Usage: sluice dlq replay --url <mqtt-url> [options]

Publishes the original payloads of the matching dead letters to their original topics at
QoS 1, so they flow through the pipeline again, and waits for the broker's acknowledgements.
Entries acknowledged are moved out of the dead-letter file into <file>.replayed (each with a
"movedAt" time), so a second replay does not send them twice. Records upstream refused
(rule sink:<type>) hold outputs, not events: they are skipped, as are entries without a topic
or payload. A running gateway reopens the rewritten file; for a guarantee that none of its
dead letters written meanwhile is lost, stop it first (see docs/delivery.md).

Options:
      --url <url>            broker to publish to (mqtt://host:port), required
      --topic-prefix <p>     prepend p to every topic (e.g. replay/)
      --username <u>, --password <p>
${SELECT_HELP}
  -h, --help                 show this help`;

const PURGE_HELP = `Usage: sluice dlq purge [options] --yes

Deletes the matching dead letters: the file is rewritten without them (a temporary file
renamed over it, so it is never half written). Refuses without --yes. A running gateway
reopens the rewritten file; for a guarantee, stop it first (see docs/delivery.md).

Options:
      --yes              really delete
${SELECT_HELP}
  -h, --help             show this help`;

export const dlqCommand: Command = {
  name: 'dlq',
  summary: 'list, show, replay and purge dead letters',
  help: `Usage: sluice dlq <subcommand>

Works on the dead-letter file (deadLetter.path) directly; no running gateway is needed.

Subcommands:
  list     list the dead letters, filtered by pipeline, rule, reason
  show     show one dead letter in full (by number or id)
  replay   publish the original payloads to their topics again (QoS 1)
  purge    delete dead letters (--yes)

Run sluice dlq <subcommand> --help for its options.`,
  async run(argv) {
    const [sub, ...rest] = argv;
    if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') {
      process.stdout.write(`${this.help}\n`);
      return sub === undefined ? 2 : EXIT_OK;
    }
    switch (sub) {
      case 'list':
        return list(rest);
      case 'show':
        return show(rest);
      case 'replay':
        return replay(rest);
      case 'purge':
        return purge(rest);
      default:
        throw new UsageError(
          `unknown subcommand "dlq ${sub}" (available: list, show, replay, purge; see sluice dlq --help)`,
        );
    }
  },
};

/** The dead-letter file named by --file, else by the configuration. */
async function deadLetterPath(values: ParsedArgs['values']): Promise<string> {
  const file = stringFlag(values, 'file');
  if (file !== undefined) {
    if (stringFlag(values, 'config') !== undefined)
      throw new UsageError('give either --file or --config, not both (see sluice dlq --help)');
    return file;
  }
  const { loadConfig } = await import('../../config/index.js');
  const config = await loadConfig(stringFlag(values, 'config'), process.env);
  return config.deadLetter.path;
}

function filterFromFlags(values: ParsedArgs['values']): DeadLetterFilter {
  const filter: DeadLetterFilter = {};
  const pipeline = stringFlag(values, 'pipeline');
  if (pipeline !== undefined) filter.pipeline = pipeline;
  const rule = stringFlag(values, 'rule');
  if (rule !== undefined) filter.rule = rule;
  const reason = stringFlag(values, 'reason');
  if (reason !== undefined) filter.reason = reason;
  return filter;
}

interface Selection {
  path: string;
  contents: DeadLetterFileContents;
  selected: StoredDeadLetter[];
}

async function selectFromFlags(values: ParsedArgs['values']): Promise<Selection> {
  const limit = numberFlag(values, 'limit', { min: 1 });
  const path = await deadLetterPath(values);
  const { readDeadLetters, selectDeadLetters } =
    await import('../../dead-letter/dead-letter-store.js');
  const contents = await readDeadLetters(path);
  let selected = selectDeadLetters(contents.entries, filterFromFlags(values));
  if (limit !== undefined) selected = selected.slice(0, limit);
  if (contents.badLines.length > 0) {
    process.stderr.write(
      `sluice: ${path}: ${contents.badLines.length} line(s) are not dead letters and were ignored ` +
        `(line ${contents.badLines.slice(0, 5).join(', ')}${contents.badLines.length > 5 ? ', …' : ''})\n`,
    );
  }
  return { path, contents, selected };
}

/** An entry for JSON output (without the raw line). */
function publicEntry(entry: StoredDeadLetter): Omit<StoredDeadLetter, 'line'> {
  const { line: _line, ...rest } = entry;
  return rest;
}

function oneLine(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ');
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

async function list(argv: readonly string[]): Promise<number> {
  const { values } = parseCommandArgs('dlq list', argv, SELECT_FLAGS);
  if (values.help) {
    process.stdout.write(`${LIST_HELP}\n`);
    return EXIT_OK;
  }
  const { path, contents, selected } = await selectFromFlags(values);
  if (values.json) {
    process.stdout.write(
      `${JSON.stringify({ file: path, total: contents.entries.length, entries: selected.map(publicEntry) }, null, 2)}\n`,
    );
    return EXIT_OK;
  }
  const width = String(selected.at(-1)?.n ?? 0).length;
  for (const entry of selected) {
    process.stdout.write(
      `${String(entry.n).padStart(width)}  ${entry.time}  ${entry.pipeline}  ${entry.rule ?? '-'}  ` +
        `${entry.topic ?? '-'}  ${oneLine(entry.reason, 100)}\n`,
    );
  }
  process.stdout.write(
    `${selected.length} of ${contents.entries.length} dead letter(s) in ${path}\n`,
  );
  return EXIT_OK;
}

async function show(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    'dlq show',
    argv,
    { file: SELECT_FLAGS.file, config: SELECT_FLAGS.config, json: SELECT_FLAGS.json },
    1,
  );
  if (values.help) {
    process.stdout.write(`${SHOW_HELP}\n`);
    return EXIT_OK;
  }
  const which = positionals[0];
  if (which === undefined)
    throw new UsageError('missing the entry: sluice dlq show <n|id> (see sluice dlq show --help)');
  const byId = /^[0-9a-fA-F]{16}$/.test(which);
  if (!byId && !/^\d+$/.test(which)) {
    throw new UsageError(
      `"${which}" is neither an entry number (as in sluice dlq list) nor an id (16 hex digits)`,
    );
  }
  const path = await deadLetterPath(values);
  const { readDeadLetters } = await import('../../dead-letter/dead-letter-store.js');
  const { entries } = await readDeadLetters(path);
  const found = byId
    ? entries.filter((entry) => entry.id === which.toLowerCase())
    : entries.filter((entry) => entry.n === Number(which));
  if (found.length === 0) {
    process.stderr.write(
      `sluice: no dead letter ${byId ? 'with id' : 'number'} ${which} in ${path}\n`,
    );
    return EXIT_FAILURE;
  }
  if (values.json) {
    process.stdout.write(`${JSON.stringify(found.map(publicEntry), null, 2)}\n`);
    return EXIT_OK;
  }
  const blocks = found.map((entry) =>
    [
      `number    ${entry.n}`,
      `time      ${entry.time}`,
      `pipeline  ${entry.pipeline}`,
      `rule      ${entry.rule ?? '-'}`,
      `topic     ${entry.topic ?? '-'}`,
      `key       ${entry.key ?? '-'}`,
      `id        ${entry.id ?? '-'}`,
      `reason    ${entry.reason}`,
      `payload   ${entry.payload === null ? '-' : entry.encoding === 'base64' ? `(base64) ${entry.payload}` : entry.payload}`,
    ].join('\n'),
  );
  process.stdout.write(`${blocks.join('\n\n')}\n`);
  return EXIT_OK;
}

async function replay(argv: readonly string[]): Promise<number> {
  const { values } = parseCommandArgs('dlq replay', argv, {
    ...SELECT_FLAGS,
    url: { type: 'string' },
    'topic-prefix': { type: 'string' },
    username: { type: 'string' },
    password: { type: 'string' },
  });
  if (values.help) {
    process.stdout.write(`${REPLAY_HELP}\n`);
    return EXIT_OK;
  }
  const url = stringFlag(values, 'url');
  if (url === undefined)
    throw new UsageError(
      'missing --url <mqtt-url>: the broker to publish to (see sluice dlq replay --help)',
    );
  const prefix = stringFlag(values, 'topic-prefix') ?? '';
  const { path, contents, selected } = await selectFromFlags(values);
  const { isSinkDeadLetter, payloadBytes, removeDeadLetters } =
    await import('../../dead-letter/dead-letter-store.js');
  const replayable: StoredDeadLetter[] = [];
  let skipped = 0;
  for (const entry of selected) {
    if (entry.topic === null || entry.payload === null || isSinkDeadLetter(entry)) skipped++;
    else replayable.push(entry);
  }
  const replayed = new Set<number>();
  let failed = 0;
  let failure: string | undefined;
  if (replayable.length > 0) {
    const { connectAsync } = await import('mqtt');
    const client = await connectAsync(url, {
      clientId: `sluice-dlq-${randomBytes(4).toString('hex')}`,
      clean: true,
      reconnectPeriod: 0,
      connectTimeout: 10_000,
      ...(stringFlag(values, 'username') === undefined
        ? {}
        : { username: stringFlag(values, 'username') }),
      ...(stringFlag(values, 'password') === undefined
        ? {}
        : { password: stringFlag(values, 'password') }),
    }).catch((error: unknown) => {
      throw new Error(`cannot connect to ${url}: ${(error as Error).message}`, { cause: error });
    });
    try {
      const results = await Promise.allSettled(
        replayable.map((entry) =>
          client.publishAsync(
            `${prefix}${entry.topic as string}`,
            Buffer.from(payloadBytes(entry) as Uint8Array),
            { qos: 1 },
          ),
        ),
      );
      results.forEach((result, i) => {
        if (result.status === 'fulfilled') replayed.add((replayable[i] as StoredDeadLetter).n);
        else {
          failed++;
          failure ??= (result.reason as Error).message;
        }
      });
    } finally {
      await client.endAsync();
    }
  }
  const movedTo = `${path}.replayed`;
  await removeDeadLetters(path, contents, replayed, { moveTo: movedTo });
  if (values.json) {
    process.stdout.write(
      `${JSON.stringify({ file: path, replayed: replayed.size, skipped, failed, movedTo: replayed.size > 0 ? movedTo : null })}\n`,
    );
  } else {
    process.stdout.write(
      `replayed ${replayed.size} dead letter(s) to ${url}` +
        `${replayed.size > 0 ? `; moved them to ${movedTo}` : ''}` +
        `${skipped > 0 ? `; skipped ${skipped} (records upstream refused, or no topic or payload)` : ''}\n`,
    );
  }
  if (failed > 0) {
    process.stderr.write(
      `sluice: ${failed} publish(es) failed (${failure ?? 'unknown error'}); they stay in ${path}\n`,
    );
    return EXIT_FAILURE;
  }
  return EXIT_OK;
}

async function purge(argv: readonly string[]): Promise<number> {
  const { values } = parseCommandArgs('dlq purge', argv, {
    ...SELECT_FLAGS,
    yes: { type: 'boolean' },
  });
  if (values.help) {
    process.stdout.write(`${PURGE_HELP}\n`);
    return EXIT_OK;
  }
  const { path, contents, selected } = await selectFromFlags(values);
  if (values.yes !== true) {
    throw new UsageError(
      `refusing to delete ${selected.length} dead letter(s) from ${path} without --yes ` +
        `(check them with sluice dlq list and the same filters)`,
    );
  }
  const { removeDeadLetters } = await import('../../dead-letter/dead-letter-store.js');
  const removed = await removeDeadLetters(
    path,
    contents,
    new Set(selected.map((entry) => entry.n)),
  );
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ file: path, purged: removed })}\n`);
  } else {
    process.stdout.write(`purged ${removed} dead letter(s) from ${path}\n`);
  }
  return EXIT_OK;
}
