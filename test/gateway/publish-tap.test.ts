/**
 * The publish tap against byte streams made by mqtt-packet (the encoder MQTT.js itself uses),
 * cut into chunks at every possible boundary: QoS 0/1 PUBLISH packets reach the sink with their
 * topic, payload, id and DUP flag; every other packet reaches the client's own parser whole and
 * in order; a refused packet is offered again after `resume()` and nothing is lost or doubled.
 * (Against a real broker the tap is exercised by every gateway test.)
 */
import { PassThrough, Writable } from 'node:stream';
import mqttPacket from 'mqtt-packet';
import type { Packet } from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { PublishTap } from '../../gateway/ingest/publish-tap.js';
import type { PublishSink, TapClient } from '../../gateway/ingest/publish-tap.js';

interface Taken {
  topic: string;
  payload: string;
  qos: number;
  messageId: number;
  dup: boolean;
}

const utf8 = new TextDecoder();

function publish(
  topic: string,
  payload: string,
  qos: 0 | 1 | 2,
  messageId: number,
  extra: Record<string, unknown> = {},
): Packet {
  return {
    cmd: 'publish',
    topic,
    payload: Buffer.from(payload),
    qos,
    dup: false,
    retain: false,
    ...(qos === 0 ? {} : { messageId }),
    ...extra,
  } as Packet;
}

/** A session as a broker sends it: what the tap takes and what goes on to MQTT.js. */
function session(protocolVersion: 4 | 5): Packet[] {
  const packets: Packet[] = [
    { cmd: 'connack', sessionPresent: true, returnCode: 0, reasonCode: 0 } as Packet,
    publish('sensors/dev-1/reading', '{"temp":21.5}', 1, 7, { dup: true }),
    publish('sensors/dev-2/reading', '{"temp":19}', 0, 0),
    { cmd: 'suback', messageId: 1, granted: [1], reasonCode: 0 } as unknown as Packet,
    publish('sensors/dev-3/reading', 'x'.repeat(300), 1, 8),
    publish('sensors/dev-4/reading', '{"q":2}', 2, 9),
    { cmd: 'pubrel', messageId: 9 } as Packet,
    { cmd: 'pingresp' } as Packet,
    publish('sensors/dé-5/reading', '', 0, 0),
    publish('a', 'y'.repeat(20_000), 1, 10),
  ];
  if (protocolVersion === 5) {
    packets.push(
      publish('sensors/dev-6/reading', '{"v":5}', 1, 11, {
        properties: {
          payloadFormatIndicator: true,
          messageExpiryInterval: 60,
          contentType: 'application/json',
          userProperties: { site: 'north', line: ['1', '2'] },
          subscriptionIdentifier: 300,
        },
      }),
      publish('sensors/dev-7/reading', '{"alias":1}', 1, 12, { properties: { topicAlias: 3 } }),
    );
  }
  return packets;
}

function encode(packets: readonly Packet[], protocolVersion: 4 | 5): Buffer {
  return Buffer.concat(packets.map((p) => mqttPacket.generate(p, { protocolVersion })));
}

/** A tap on a stream built the way MQTT.js builds it, with a Writable standing for its parser. */
function tapped(
  protocolVersion: 4 | 5,
  accept: (index: number) => boolean = () => true,
): {
  stream: PassThrough;
  taken: Taken[];
  handedOn: Packet[];
  tap: PublishTap;
  finished: Promise<void>;
  /** Chunks the client's parser got that did not end on a packet boundary. */
  partial: number;
  parseErrors: Error[];
} {
  const taken: Taken[] = [];
  const handedOn: Packet[] = [];
  let offers = 0;
  const sink: PublishSink = {
    publish(chunk, topicStart, topicEnd, payloadStart, payloadEnd, qos, messageId, dup) {
      if (!accept(offers++)) return false;
      taken.push({
        topic: utf8.decode(chunk.subarray(topicStart, topicEnd)),
        payload: utf8.decode(chunk.subarray(payloadStart, payloadEnd)),
        qos,
        messageId,
        dup,
      });
      return true;
    },
    abandoned() {},
  };
  const tap = new PublishTap(sink, protocolVersion);
  // No autoDestroy: the stream stays open, as a socket does, until the test ends it.
  const built = new PassThrough({ autoDestroy: false });
  const client: TapClient = { streamBuilder: () => built };
  tap.attach(client);
  const stream = client.streamBuilder(undefined as never) as PassThrough;
  const parser = mqttPacket.parser({ protocolVersion });
  const result = { stream, taken, handedOn, tap, finished: Promise.resolve(), partial: 0 };
  const parseErrors: Error[] = [];
  parser.on('packet', (packet) => handedOn.push(packet));
  parser.on('error', (error) => parseErrors.push(error));
  const writable = new Writable();
  writable._write = (chunk: Buffer, _encoding, done) => {
    // The client's parser must get whole packets: each chunk ends on a packet boundary.
    const left = parser.parse(chunk);
    if (left !== 0) result.partial++;
    setImmediate(done);
  };
  result.finished = new Promise<void>((resolve) => writable.on('finish', () => resolve()));
  stream.pipe(writable);
  return Object.assign(result, { parseErrors });
}

function expectedTaken(packets: readonly Packet[]): Taken[] {
  return packets
    .filter(
      (p): p is Packet & { cmd: 'publish' } =>
        p.cmd === 'publish' && p.qos < 2 && p.properties?.topicAlias === undefined,
    )
    .map((p) => ({
      topic: p.topic,
      payload: String(p.payload),
      qos: p.qos,
      messageId: p.qos === 0 ? 0 : (p.messageId as number),
      dup: p.dup === true,
    }));
}

function expectedHandedOn(packets: readonly Packet[]): string[] {
  return packets
    .filter((p) => p.cmd !== 'publish' || p.qos === 2 || p.properties?.topicAlias !== undefined)
    .map((p) => p.cmd);
}

async function feed(stream: PassThrough, bytes: Buffer, cuts: readonly number[]): Promise<void> {
  let start = 0;
  for (const cut of [...cuts, bytes.length]) {
    if (cut > start) stream.write(bytes.subarray(start, cut));
    start = cut;
    await new Promise((resolve) => setImmediate(resolve));
  }
  stream.end();
}

describe('PublishTap', () => {
  for (const version of [4, 5] as const) {
    it(`takes QoS 0/1 publishes and hands every other packet on whole, at any chunk boundary (MQTT ${version === 4 ? '3.1.1' : '5'})`, async () => {
      const packets = session(version);
      const bytes = encode(packets, version);
      // Every single cut point, then pairs of cuts around packet edges and a byte at a time.
      const cutSets: number[][] = [[]];
      for (let cut = 1; cut < bytes.length; cut += cut < 400 ? 1 : 97) cutSets.push([cut]);
      cutSets.push(Array.from({ length: 600 }, (_, i) => i + 1));
      for (const cuts of cutSets) {
        const run = tapped(version);
        await feed(run.stream, bytes, cuts);
        await run.finished;
        const where = `cuts at ${cuts.join(',')}`;
        expect(run.taken, where).toEqual(expectedTaken(packets));
        expect(
          run.handedOn.map((p) => p.cmd),
          where,
        ).toEqual(expectedHandedOn(packets));
        expect(run.partial, where).toBe(0);
      }
    });
  }

  it('offers a refused publish again after resume(), and reads nothing meanwhile', async () => {
    const packets = session(5);
    const bytes = encode(packets, 5);
    const refused = new Set([0, 3, 4, 7]);
    const { stream, taken, handedOn, tap, finished } = tapped(5, (i) => !refused.has(i));
    stream.write(bytes);
    stream.end();
    for (let i = 0; i < 4; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      const before = taken.length;
      const handed = handedOn.length;
      await new Promise((resolve) => setTimeout(resolve, 10));
      // Paused: nothing more is taken or handed on until resume().
      expect(taken.length).toBe(before);
      expect(handedOn.length).toBe(handed);
      tap.resume();
    }
    await finished;
    expect(taken).toEqual(expectedTaken(packets));
    expect(handedOn.map((p) => p.cmd)).toEqual(expectedHandedOn(packets));
  });

  it('hands a malformed stream to the client parser, which reports it', async () => {
    const { stream, taken, finished, parseErrors } = tapped(4);
    const good = encode([publish('t/1', 'a', 0, 0)], 4);
    // A remaining length of five continuation bytes is malformed [MQTT-2.2.3].
    const bad = Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x7f]);
    stream.write(Buffer.concat([good, bad]));
    stream.end();
    await finished;
    expect(taken.map((t) => t.topic)).toEqual(['t/1']);
    expect(parseErrors.map((e) => e.message)).toEqual([
      expect.stringMatching(/variable byte integer/i),
    ]);
  });
});
