/**
 * @module The contract every `Sink` keeps, as one suite run against each implementation
 * (`sinkContract(name, create)` inside a test file): records arrive with their id, key, time,
 * output and value, in order; `send` resolves only once upstream holds the batch; transient
 * failures are retried until upstream recovers, without duplicating what it accepted; an
 * aborted send rejects with the abort reason; `close` is idempotent.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { FrameWriter } from '../../runtime/index.js';
import type { OutboxBatch } from '../../gateway/outbox/outbox.js';
import type { Sink } from '../../gateway/sinks/sink.js';
import { waitFor } from '../gateway/helpers/wait.js';

/** One record as upstream holds it. */
export interface UpstreamRecord {
  id: string;
  key: string;
  time: number;
  output: string;
  value: unknown;
}

/** A sink wired to a real upstream a test can break and restore. */
export interface SinkUnderTest {
  sink: Sink;
  /**
   * The records upstream holds, in arrival order. `atLeast`: how many the test expects, for an
   * upstream whose consumers receive asynchronously after the sink's acknowledgement (a
   * subscriber behind a broker) — wait for them (with a timeout) before answering.
   */
  received(atLeast?: number): Promise<UpstreamRecord[]>;
  /** Attempts that failed so far. */
  failures(): number;
  /** Makes upstream fail transiently until {@link restoreUpstream}. Called before any send. */
  breakUpstream(): Promise<void>;
  restoreUpstream(): Promise<void>;
  /** Releases the upstream (the sink is closed by the suite). */
  close(): Promise<void>;
}

const encoder = new TextEncoder();

/** A batch of `count` JSON records with ids from `firstId`, keys `dev-<id % 3>`. */
export function contractBatch(firstId: number, count: number): OutboxBatch {
  const writer = new FrameWriter({ maxEvents: count, maxBytes: 1 << 20 });
  for (let i = 0; i < count; i++) {
    const id = firstId + i;
    writer.append(
      'default',
      `dev-${id % 3}`,
      encoder.encode(`{"n":${id},"avg":${id / 4}}`),
      id,
      1700000000000 + id,
      0,
      1,
    );
  }
  const frame = writer.bytes().slice();
  return { frame, count, bytes: frame.length - 16 };
}

/** What upstream should hold for ids `[from, to)`. */
function expected(from: number, to: number): UpstreamRecord[] {
  const out: UpstreamRecord[] = [];
  for (let id = from; id < to; id++) {
    out.push({
      id: id.toString(16).padStart(16, '0'),
      key: `dev-${id % 3}`,
      time: 1700000000000 + id,
      output: 'default',
      value: { n: id, avg: id / 4 },
    });
  }
  return out;
}

/** Registers the contract suite for the sink `create` builds (a fresh one per test). */
export function sinkContract(name: string, create: () => Promise<SinkUnderTest>): void {
  describe(`Sink contract: ${name}`, () => {
    let current: SinkUnderTest | undefined;
    const open = async (): Promise<SinkUnderTest> => {
      current = await create();
      return current;
    };
    afterEach(async () => {
      await current?.sink.close();
      await current?.close();
      current = undefined;
    });

    it('delivers every record with its id, key, time, output and value, and resolves only once upstream holds them', async () => {
      const under = await open();
      await under.sink.send(contractBatch(1, 5));
      expect(await under.received(5)).toEqual(expected(1, 6));
    });

    it('keeps the order of records across batches', async () => {
      const under = await open();
      for (let first = 1; first <= 40; first += 10) await under.sink.send(contractBatch(first, 10));
      expect(await under.received(40)).toEqual(expected(1, 41));
    });

    it('retries while upstream fails and delivers the batch once when it recovers', async () => {
      const under = await open();
      await under.breakUpstream();
      const sent = under.sink.send(contractBatch(1, 3));
      await waitFor(() => under.failures() >= 2, { what: 'failed attempts' });
      expect(await under.received()).toEqual([]);
      await under.restoreUpstream();
      await sent;
      expect(await under.received(3)).toEqual(expected(1, 4));
    });

    it('rejects with the abort reason when a retrying send is aborted', async () => {
      const under = await open();
      await under.breakUpstream();
      const abort = new AbortController();
      const sent = under.sink.send(contractBatch(1, 1), abort.signal);
      await waitFor(() => under.failures() >= 1, { what: 'a failed attempt' });
      const reason = new Error('stop');
      abort.abort(reason);
      await expect(sent).rejects.toBe(reason);
    });

    it('refuses to send once closed, and closes idempotently', async () => {
      const under = await open();
      await under.sink.send(contractBatch(1, 1));
      await under.sink.close();
      await under.sink.close();
      await expect(under.sink.send(contractBatch(2, 1))).rejects.toThrow();
      expect(await under.received(1)).toEqual(expected(1, 2));
    });
  });
}
