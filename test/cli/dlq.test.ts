import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectAsync, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DeadLetterFile, type DeadLetter } from '../../gateway/index.js';
import { startMosquitto, type Mosquitto } from '../support/mosquitto.js';
import { waitFor } from '../gateway/helpers/wait.js';
import { ensureBuilt, runCli } from './run-cli.js';

let LETTERS_ID = 0x10;
const BINARY = new Uint8Array([0xff, 0x00, 0x81, 0x7f, 0xc3]);

/** Dead letters as the gateway writes them: rule refusals, a binary payload, a sink refusal. */
const LETTERS: DeadLetter[] = [
  letter('a', 'threshold', 'malformed JSON payload', 'sensors/dev-1', '{"temp":'),
  letter('a', 'threshold', 'field "temp" missing', 'sensors/dev-2', '{"hum":40}'),
  letter('b', 'window-stats', 'malformed CBOR payload', 'plant/dev-3', BINARY),
  letter('b', 'sink:http', 'upstream refused the batch with HTTP 400: bad', 'alerts', '{"v":1}'),
  letter('a', 'threshold', 'field "temp" missing', 'sensors/dev-4', '{"hum":41}'),
];

function letter(
  pipeline: string,
  rule: string,
  reason: string,
  topic: string,
  payload: string | Uint8Array,
): DeadLetter {
  return {
    pipeline,
    rule,
    reason,
    topic,
    key: topic.split('/').at(-1) ?? null,
    id: (LETTERS_ID++).toString(16).padStart(16, '0'),
    payload: typeof payload === 'string' ? new TextEncoder().encode(payload) : payload,
  };
}

let dir: string;
let file: string;
let broker: Mosquitto;

async function writeLetters(): Promise<void> {
  await rm(file, { force: true });
  await rm(`${file}.replayed`, { force: true });
  const dlq = await DeadLetterFile.open(file);
  for (const item of LETTERS) dlq.add(item, Date.parse('2026-11-23T08:00:00Z'));
  dlq.commit();
  await dlq.close();
}

interface ListedEntry {
  n: number;
  pipeline: string;
  rule: string;
  reason: string;
  topic: string;
  id: string;
  payload: string;
  encoding: string;
}

async function listJson(...args: string[]): Promise<{ total: number; entries: ListedEntry[] }> {
  const run = await runCli(['dlq', 'list', '--file', file, '--json', ...args]);
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  return JSON.parse(run.stdout) as { total: number; entries: ListedEntry[] };
}

beforeAll(async () => {
  ensureBuilt();
  dir = await mkdtemp(join(tmpdir(), 'sluice-dlq-'));
  file = join(dir, 'dead-letter.jsonl');
  broker = await startMosquitto();
}, 180_000);
afterAll(async () => {
  await broker?.close();
  await rm(dir, { recursive: true, force: true });
});
beforeEach(writeLetters);

describe('sluice dlq', () => {
  it('lists every dead letter with its number, and filters by pipeline, rule and reason', async () => {
    const all = await listJson();
    expect(all.total).toBe(5);
    expect(all.entries.map((entry) => entry.n)).toEqual([1, 2, 3, 4, 5]);
    expect(all.entries[2]).toMatchObject({ pipeline: 'b', encoding: 'base64' });

    const a = await listJson('--pipeline', 'a');
    expect(a.entries.map((entry) => entry.topic)).toEqual([
      'sensors/dev-1',
      'sensors/dev-2',
      'sensors/dev-4',
    ]);
    const missing = await listJson('--reason', 'TEMP" MISSING');
    expect(missing.entries.map((entry) => entry.n)).toEqual([2, 5]);
    const limited = await listJson('--reason', 'missing', '--limit', '1');
    expect(limited.entries.map((entry) => entry.n)).toEqual([2]);
    const sink = await listJson('--rule', 'sink:http');
    expect(sink.entries.map((entry) => entry.n)).toEqual([4]);

    const human = await runCli(['dlq', 'list', '--file', file, '--pipeline', 'b']);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain('plant/dev-3  malformed CBOR payload');
    expect(human.stdout).toContain(`2 of 5 dead letter(s) in ${file}`);
  });

  it('takes the file from the configuration deadLetter.path', async () => {
    const config = join(dir, 'sluice.yaml');
    await writeFile(config, `deadLetter:\n  path: ${file}\n`);
    const run = await runCli(['dlq', 'list', '--config', config, '--json']);
    expect(run.code).toBe(0);
    expect((JSON.parse(run.stdout) as { total: number }).total).toBe(5);
  });

  it('shows one dead letter by number or by id, and fails on an unknown one', async () => {
    const byNumber = await runCli(['dlq', 'show', '2', '--file', file]);
    expect(byNumber.code).toBe(0);
    expect(byNumber.stdout).toContain('reason    field "temp" missing');
    expect(byNumber.stdout).toContain('payload   {"hum":40}');
    const id = (await listJson()).entries[2]?.id as string;
    const byId = await runCli(['dlq', 'show', id, '--file', file, '--json']);
    expect(byId.code).toBe(0);
    const [shown] = JSON.parse(byId.stdout) as ListedEntry[];
    expect(Buffer.from(shown?.payload ?? '', 'base64')).toEqual(Buffer.from(BINARY));
    const unknown = await runCli(['dlq', 'show', '99', '--file', file]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no dead letter number 99');
    const wrong = await runCli(['dlq', 'show', 'dev-1', '--file', file]);
    expect(wrong.code).toBe(2);
  });

  it('replays the original payloads to their topics at QoS 1 and moves them to <file>.replayed', async () => {
    const subscriber: MqttClient = await connectAsync(broker.url, { clean: true });
    const received: { topic: string; payload: Buffer; qos: number }[] = [];
    subscriber.on('message', (topic, payload, packet) =>
      received.push({ topic, payload, qos: packet.qos }),
    );
    await subscriber.subscribeAsync('replay/#', { qos: 1 });
    try {
      const run = await runCli([
        'dlq',
        'replay',
        '--file',
        file,
        '--url',
        broker.url,
        '--topic-prefix',
        'replay/',
        '--json',
      ]);
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(JSON.parse(run.stdout)).toEqual({
        file,
        replayed: 4,
        skipped: 1,
        failed: 0,
        movedTo: `${file}.replayed`,
      });
      await waitFor(() => received.length >= 4, { what: 'the replayed messages' });
      const byTopic = new Map(received.map((message) => [message.topic, message]));
      expect(received).toHaveLength(4);
      expect(byTopic.get('replay/sensors/dev-1')?.payload.toString()).toBe('{"temp":');
      expect(byTopic.get('replay/sensors/dev-2')?.payload.toString()).toBe('{"hum":40}');
      expect(byTopic.get('replay/sensors/dev-4')?.payload.toString()).toBe('{"hum":41}');
      expect(byTopic.get('replay/plant/dev-3')?.payload).toEqual(Buffer.from(BINARY));
      expect(received.every((message) => message.qos === 1)).toBe(true);

      // Only the record upstream refused stays; the replayed ones moved, with the time.
      const left = await listJson();
      expect(left.entries.map((entry) => entry.rule)).toEqual(['sink:http']);
      const moved = (await readFile(`${file}.replayed`, 'utf8'))
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { topic: string; movedAt: string });
      expect(moved.map((entry) => entry.topic)).toEqual([
        'sensors/dev-1',
        'sensors/dev-2',
        'plant/dev-3',
        'sensors/dev-4',
      ]);
      expect(moved.every((entry) => !Number.isNaN(Date.parse(entry.movedAt)))).toBe(true);

      // A second replay sends nothing again.
      const again = await runCli(['dlq', 'replay', '--file', file, '--url', broker.url]);
      expect(again.code).toBe(0);
      expect(again.stdout).toContain('replayed 0 dead letter(s)');
    } finally {
      await subscriber.endAsync();
    }
  });

  it('replays only the entries matching the filters', async () => {
    const subscriber = await connectAsync(broker.url, { clean: true });
    const topics: string[] = [];
    subscriber.on('message', (topic) => topics.push(topic));
    await subscriber.subscribeAsync('filtered/#', { qos: 1 });
    try {
      const run = await runCli([
        'dlq',
        'replay',
        '--file',
        file,
        '--url',
        broker.url,
        '--topic-prefix',
        'filtered/',
        '--reason',
        'missing',
      ]);
      expect(run.code).toBe(0);
      expect(run.stdout).toContain('replayed 2 dead letter(s)');
      await waitFor(() => topics.length >= 2, { what: 'the replayed messages' });
      expect(topics.sort()).toEqual(['filtered/sensors/dev-2', 'filtered/sensors/dev-4']);
      expect((await listJson()).entries.map((entry) => entry.topic)).toEqual([
        'sensors/dev-1',
        'plant/dev-3',
        'alerts',
      ]);
    } finally {
      await subscriber.endAsync();
    }
  });

  it('refuses to purge without --yes, then deletes only the matching entries', async () => {
    const refused = await runCli(['dlq', 'purge', '--file', file, '--pipeline', 'a']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('refusing to delete 3 dead letter(s)');
    expect((await listJson()).total).toBe(5);

    // A line that is not a dead letter (a torn write) is kept as it is.
    await writeFile(file, `${await readFile(file, 'utf8')}{"torn":\n`);
    const run = await runCli(['dlq', 'purge', '--file', file, '--pipeline', 'a', '--yes']);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(`purged 3 dead letter(s) from ${file}\n`);
    const text = await readFile(file, 'utf8');
    expect(text.endsWith('{"torn":\n')).toBe(true);
    const left = await runCli(['dlq', 'list', '--file', file, '--json']);
    expect(left.stderr).toContain('1 line(s) are not dead letters');
    const entries = (JSON.parse(left.stdout) as { entries: ListedEntry[] }).entries;
    expect(entries.map((entry) => entry.pipeline)).toEqual(['b', 'b']);
  });

  it('prints its help, and exits 2 on a wrong subcommand or a replay without --url', async () => {
    const help = await runCli(['dlq', '--help']);
    expect(help.code).toBe(0);
    for (const sub of ['list', 'show', 'replay', 'purge'])
      expect(help.stdout).toContain(`  ${sub} `);
    const replayHelp = await runCli(['dlq', 'replay', '--help']);
    expect(replayHelp.stdout).toContain('--topic-prefix');
    const wrong = await runCli(['dlq', 'lsit']);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('unknown subcommand "dlq lsit"');
    const noUrl = await runCli(['dlq', 'replay', '--file', file]);
    expect(noUrl.code).toBe(2);
    expect(noUrl.stderr).toContain('missing --url');
    expect((await listJson()).total).toBe(5);
  });

  it('reads a missing file as empty', async () => {
    const run = await runCli(['dlq', 'list', '--file', join(dir, 'none.jsonl')]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('0 of 0 dead letter(s)');
  });
});
