import { encode as encodeCbor } from 'cbor-x';
import { describe, expect, it } from 'vitest';
import {
  startReceiver,
  type ReceivedBatch,
  type ReceiverOptions,
} from '../../gateway/demo/receiver.js';

/** One window result as the gateway posts it upstream. */
function windowRecord(
  id: string,
  key: string,
  value: { count: number; avg: number; min: number; max: number },
): { id: string; key: string; time: number; output: string; value: typeof value } {
  return { id, key, time: 1_700_000_001_000, output: 'default', value };
}

const WINDOWS = [
  windowRecord('00000000000000a1', 'dev-7', { count: 20, avg: 21.44, min: 19, max: 23.9 }),
  windowRecord('00000000000000a2', 'dev-8', { count: 19, avg: 20.0, min: 18.5, max: 22.25 }),
  windowRecord('00000000000000a3', 'dev-9', { count: 20, avg: 22.0, min: 21, max: 23 }),
  windowRecord('00000000000000a4', 'dev-10', { count: 20, avg: 22.0, min: 21, max: 23 }),
];

/** POSTs `body` to `url` with the given Content-Type. */
function postBody(url: string, contentType: string, body: BodyInit): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'content-type': contentType }, body });
}

function sink(): { lines: string[]; write(text: string): void } {
  const lines: string[] = [];
  return {
    lines,
    write: (text: string) => void lines.push(...text.split('\n').filter((line) => line !== '')),
  };
}

/** A receiver on a free port that prints to `output` and records every batch into `batches`. */
function recording(output: ReturnType<typeof sink>, batches: ReceivedBatch[]): ReceiverOptions {
  return { port: 0, output, onBatch: (batch) => void batches.push(batch) };
}

describe('demo receiver', () => {
  it('decodes a JSON batch, answers 200 and prints a one-line summary of the windows', async () => {
    const output = sink();
    const batches: ReceivedBatch[] = [];
    await using receiver = await startReceiver(recording(output, batches));
    const body = JSON.stringify(WINDOWS);
    const response = await postBody(receiver.url, 'application/json', body);
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
    await using receiver = await startReceiver(recording(output, batches));
    const body = new Uint8Array(encodeCbor(WINDOWS.slice(0, 1)));
    const response = await postBody(receiver.url, 'application/cbor', body);
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
    await postBody(receiver.url, 'application/json', body);
    expect(output.lines[0]).toBe(
      `upstream ← batch of 1 record (json, ${Buffer.byteLength(body)} B): dev-1 {"temp":130.5}`,
    );
  });

  it('refuses undecodable bodies and unknown content types without counting them', async () => {
    const output = sink();
    await using receiver = await startReceiver({ port: 0, output });
    const bad = await postBody(receiver.url, 'application/json', '[{"key":');
    expect(bad.status).toBe(400);
    const badCbor = await postBody(
      receiver.url,
      'application/cbor',
      new Uint8Array(encodeCbor(WINDOWS).subarray(0, 10)),
    );
    expect(badCbor.status).toBe(400);
    const text = await postBody(receiver.url, 'text/plain', 'hi');
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
    const post = (): Promise<Response> => postBody(receiver.url, 'application/json', '[]');
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
