/**
 * @module `sluice rules test <rule.wasm> --events <file>`: runs a rule locally over recorded
 * events (no gateway, no broker) through the real rule host — validation, `init` with the
 * configuration, `process` in batches, `flush` at the end — and prints every output record.
 *
 * The events file holds one JSON object per line: `{"topic": "...", "payload": <JSON value or
 * string>, "key"?: "...", "time"?: <ms>}`. Without `key`, the key is the topic level
 * `--key-level` (default 1, as a pipeline's `keyLevel`); without `time`, the line number
 * counted from now in milliseconds. A string payload is sent as its text, anything else as JSON.
 */
import { encode as encodeCbor } from 'cbor-x/encode';
import { numberFlag, parseCommandArgs, stringFlag } from '../args.js';
import { EXIT_OK } from '../command.js';
import { UsageError } from '../errors.js';
import { readOrUsage } from './rules-sign.js';

/** Help text of `sluice rules test`. */
export const TEST_HELP = `Usage: sluice rules test <rule.wasm> --events <file.jsonl> [options]

Runs a rule over recorded events locally (no gateway needed) and prints its outputs: one line
per output record, "<output> <key> <payload>", or JSON lines with --json.

Each line of the events file is {"topic": "...", "payload": ..., "key"?: "...", "time"?: ms}.

Options:
      --events <file>      the recorded events (required)
      --config <json>      rule parameters, a JSON object (default {})
      --batch <n>          events per process call (default 500)
      --key-level <n>      topic level holding the device key when a line has no key (default 1)
      --format <f>         json, cbor or unknown: the format hint passed to the rule (default json)
      --json               print JSON lines {output, key, id, time, payload}
  -h, --help               show this help`;

interface RecordedEvent {
  topic: string;
  key: string;
  payload: Uint8Array;
  time: number;
}

const FORMATS: Record<string, number> = { unknown: 0, json: 1, cbor: 2 };

/** Runs `sluice rules test`. */
export async function runRuleTest(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    'rules test',
    argv,
    {
      events: { type: 'string' },
      config: { type: 'string' },
      batch: { type: 'string' },
      'key-level': { type: 'string' },
      format: { type: 'string' },
      json: { type: 'boolean' },
    },
    1,
  );
  if (values.help) {
    process.stdout.write(`${TEST_HELP}\n`);
    return EXIT_OK;
  }
  const file = positionals[0];
  const eventsFile = stringFlag(values, 'events');
  if (file === undefined || eventsFile === undefined) {
    throw new UsageError(
      'usage: sluice rules test <rule.wasm> --events <file.jsonl> (see sluice rules test --help)',
    );
  }
  const batch = numberFlag(values, 'batch', { min: 1, max: 1_000_000 }) ?? 500;
  const keyLevel = numberFlag(values, 'key-level', { min: -1 }) ?? 1;
  const formatName = stringFlag(values, 'format') ?? 'json';
  const format = FORMATS[formatName];
  if (format === undefined)
    throw new UsageError(`--format: "${formatName}" is not json, cbor or unknown`);
  let config: unknown = {};
  const configText = stringFlag(values, 'config');
  if (configText !== undefined) {
    try {
      config = JSON.parse(configText);
    } catch {
      throw new UsageError(
        `--config: ${configText} is not JSON (expected an object such as {"max":20})`,
      );
    }
    if (typeof config !== 'object' || config === null || Array.isArray(config)) {
      throw new UsageError(`--config: ${configText} is not a JSON object`);
    }
  }
  const events = parseEvents(
    new TextDecoder().decode(await readOrUsage(eventsFile)),
    eventsFile,
    keyLevel,
  );
  const { FrameReader, FrameWriter, RuleInstance, compileRule } =
    await import('../../../runtime/index.js');
  const mod = await compileRule(await readOrUsage(file));
  const rule = RuleInstance.create(mod, {
    name: file,
    config: new Uint8Array(encodeCbor(config)),
    onLog: (level, message) => process.stderr.write(`rule log ${level}: ${message}\n`),
  });
  const json = values.json === true;
  const reader = new FrameReader();
  const utf8 = new TextDecoder();
  let outputs = 0;
  const print = (frame: Uint8Array): void => {
    reader.reset(frame);
    let text = '';
    while (reader.next()) {
      outputs++;
      const payload = utf8.decode(reader.payload());
      if (json) {
        let value: unknown = payload;
        try {
          value = JSON.parse(payload);
        } catch {
          value = payload;
        }
        const id =
          (reader.idHigh >>> 0).toString(16).padStart(8, '0') +
          (reader.idLow >>> 0).toString(16).padStart(8, '0');
        text += `${JSON.stringify({ output: reader.topic(), key: reader.key(), id, time: reader.time, payload: value })}\n`;
      } else {
        text += `${reader.topic()} ${reader.key()} ${payload}\n`;
      }
    }
    process.stdout.write(text);
  };
  const writer = new FrameWriter({ maxEvents: batch, maxBytes: 16 * 1024 * 1024 });
  let now = 0;
  for (let i = 0; i < events.length; i++) {
    const event = events[i] as RecordedEvent;
    now = Math.max(now, event.time);
    if (!writer.append(event.topic, event.key, event.payload, i + 1, event.time, 1, format)) {
      print(rule.process(writer.bytes(), now));
      writer.reset();
      writer.append(event.topic, event.key, event.payload, i + 1, event.time, 1, format);
    }
  }
  if (writer.count > 0) print(rule.process(writer.bytes(), now));
  print(rule.flush());
  if (!json) process.stderr.write(`${events.length} events in, ${outputs} records out\n`);
  return EXIT_OK;
}

function parseEvents(text: string, file: string, keyLevel: number): RecordedEvent[] {
  const events: RecordedEvent[] = [];
  const encoder = new TextEncoder();
  const start = Date.now();
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const line = (lines[n] as string).trim();
    if (line === '') continue;
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch {
      throw new UsageError(
        `${file}:${n + 1}: not JSON (each line is {"topic": "...", "payload": ...})`,
      );
    }
    const e = raw as { topic?: unknown; payload?: unknown; key?: unknown; time?: unknown };
    if (
      typeof raw !== 'object' ||
      raw === null ||
      typeof e.topic !== 'string' ||
      e.payload === undefined
    ) {
      throw new UsageError(`${file}:${n + 1}: needs "topic" (a string) and "payload"`);
    }
    const levels = e.topic.split('/');
    const key =
      typeof e.key === 'string' ? e.key : keyLevel < 0 ? e.topic : (levels[keyLevel] ?? e.topic);
    const payload = typeof e.payload === 'string' ? e.payload : JSON.stringify(e.payload);
    const time = typeof e.time === 'number' && Number.isSafeInteger(e.time) ? e.time : start + n;
    events.push({ topic: e.topic, key, payload: encoder.encode(payload), time });
  }
  return events;
}
