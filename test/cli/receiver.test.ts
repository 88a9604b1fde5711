import { encode as encodeCbor } from 'cbor-x';
import { describe, expect, it } from 'vitest';
import { startReceiver, type ReceivedBatch } from '../../gateway/demo/receiver.js';

const WINDOWS = [
  {
    id: '00000000000000a1',
    key: 'dev-7',
    time: 1_700_000_001_000,
    output: 'default',
    value: { count: 20, avg: 21.44, min: 19, max: 23.9 },
  },
  {
    id: '00000000000000a2',
    key: 'dev-8',
    time: 1_700_000_001_000,
    output: 'default',
    value: { count: 19, avg: 20.0, min: 18.5, max: 22.25 },
  },
  {
    id: '00000000000000a3',
    key: 'dev-9',
    time: 1_700_000_001_000,
    output: 'default',
    value: { count: 20, avg: 22.0, min: 21, max: 23 },
  },
  {
    id: '00000000000000a4',
    key: 'dev-10',
    time: 1_700_000_001_000,
    output: 'default',
    value: { count: 20, avg: 22.0, min: 21, max: 23 },
  },
];

function sink(): { lines: string[]; write(text: string): void } {
  const lines: string[] = [];
  return {
    lines,
    write: (text: string) => void lines.push(...text.split('\n').filter((line) => line !== '')),
  };
}

describe('demo receiver', () => {
  it('decodes a JSON batch, answers 200 and prints a one-line summary of the windows', async () => {
    const output = sink();
    const batches: ReceivedBatch[] = [];
    await using receiver = await startReceiver({
      port: 0,
      output,
      onBatch: (batch) => void batches.push(batch),
    });
    const body = JSON.stringify(WINDOWS);
    const response = await fetch(receiver.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ ok: true, records: 4 });
    expect(batches[0]?.records).toEqual(WINDOWS);
    expect(batches[0]).toMatchObject({
      format: 'json',
      bytes: Buffer.byteLength(body),
      path: '/ingest',
    });
    expect(output.lines).toEqual([
      `upstream ← batch of 4 records (json, ${Buffer.byteLength(body)} B): ` +
        'dev-7 avg 21.4 min 19.0 max 23.9 count 20 … (+3 more)',
    ]);
    expect(receiver.batches).toBe(1);
    expect(receiver.records).toBe(4);
  });

  it('decodes a CBOR batch by its Content-Type', async () => {
    const output = sink();
    const batches: ReceivedBatch[] = [];
    await using receiver = await startReceiver({
      port: 0,
      output,
      onBatch: (batch) => void batches.push(batch),
    });
    const body = new Uint8Array(encodeCbor(WINDOWS.slice(0, 1)));
    const response = await fetch(receiver.url, {
      method: 'POST',
      headers: { 'content-type': 'application/cbor' },
      body,
    });
    expect(response.status).toBe(200);
    expect(batches[0]?.format).toBe('cbor');
    expect(batches[0]?.records).toEqual(WINDOWS.slice(0, 1));
    expect(output.lines).toEqual([
      `upstream ← batch of 1 record (cbor, ${body.length} B): dev-7 avg 21.4 min 19.0 max 23.9 count 20`,
    ]);
  });

  it('shows records that are not window results as JSON', async () => {
    const output = sink();
    await using receiver = await startReceiver({ port: 0, output });
    const body = JSON.stringify([{ key: 'dev-1', value: { temp: 130.5 } }]);
    await fetch(receiver.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    expect(output.lines[0]).toBe(
      `upstream ← batch of 1 record (json, ${Buffer.byteLength(body)} B): dev-1 {"temp":130.5}`,
    );
  });

  it('refuses undecodable bodies and unknown content types without counting them', async () => {
    const output = sink();
    await using receiver = await startReceiver({ port: 0, output });
    const bad = await fetch(receiver.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '[{"key":',
    });
    expect(bad.status).toBe(400);
    const badCbor = await fetch(receiver.url, {
      method: 'POST',
      headers: { 'content-type': 'application/cbor' },
      body: new Uint8Array(encodeCbor(WINDOWS).subarray(0, 10)),
    });
    expect(badCbor.status).toBe(400);
    const text = await fetch(receiver.url, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'hi',
    });
    expect(text.status).toBe(415);
    expect(receiver.batches).toBe(0);
    expect(output.lines.filter((line) => line.startsWith('upstream ✗'))).toHaveLength(2);
  });

  it('answers with the status onBatch returns, after onBatch resolves', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let calls = 0;
    await using receiver = await startReceiver({
      port: 0,
      output: null,
      onBatch: async () => {
        calls++;
        if (calls === 1) return 503;
        await gate;
        return undefined;
      },
    });
    const post = (): Promise<Response> =>
      fetch(receiver.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '[]',
      });
    expect((await post()).status).toBe(503);
    let answered = false;
    const pending = post().then((response) => {
      answered = true;
      return response;
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(answered).toBe(false);
    release();
    expect((await pending).status).toBe(200);
    expect(receiver.batches).toBe(1);
  });

  it('reports a taken port with RECEIVER_PORT_IN_USE, and closes idempotently', async () => {
    const first = await startReceiver({ port: 0, output: null });
    const error = await startReceiver({ port: first.port, output: null }).catch((e: unknown) => e);
    expect((error as { code?: string }).code).toBe('RECEIVER_PORT_IN_USE');
    expect((error as Error).message).toContain(`port ${first.port} on 127.0.0.1 is already in use`);
    await first.close();
    await first.close();
  });
});
