import { describe, expect, it } from 'vitest';
import {
  FRAME_HEADER_BYTES,
  FRAME_MAGIC,
  Format,
  FrameEventTooLargeError,
  FrameFormatError,
  FrameReader,
  FrameSelector,
  FrameWriter,
  OUTPUT_NAME_BYTES,
  RECORD_HEADER_BYTES,
  createEmptyFrame,
} from '../../runtime/index.js';

const enc = new TextEncoder();
const dec = new TextDecoder();

interface Event {
  topic: string;
  key: string;
  payload: Uint8Array;
  id: number;
  time: number;
  qos: number;
  format: number;
}

function readAll(frame: Uint8Array): Event[] {
  const reader = new FrameReader().reset(frame);
  const events: Event[] = [];
  while (reader.next()) {
    events.push({
      topic: reader.topic(),
      key: reader.key(),
      payload: reader.payload().slice(),
      id: reader.id,
      time: reader.time,
      qos: reader.qos,
      format: reader.format,
    });
  }
  return events;
}

function frameOf(events: readonly Event[], maxBytes = 1 << 20): Uint8Array {
  const writer = new FrameWriter({ maxBytes, maxEvents: events.length + 1 });
  for (const e of events) {
    expect(writer.append(e.topic, e.key, e.payload, e.id, e.time, e.qos, e.format)).toBe(true);
  }
  return writer.bytes().slice();
}

function outputsFrame(outputs: readonly string[]): Uint8Array {
  return frameOf(
    outputs.map((topic, i) => ({
      topic,
      key: `k${i}`,
      payload: enc.encode(`p${i}`),
      id: i,
      time: 1000 + i,
      qos: 0,
      format: Format.Json,
    })),
  );
}

describe('FrameWriter and FrameReader', () => {
  it('round-trips many events with every field intact', () => {
    const events: Event[] = [];
    for (let i = 0; i < 2000; i++) {
      events.push({
        topic: `sensors/dev-${i % 37}/reading`,
        key: `dev-${i % 37}`,
        payload: enc.encode(JSON.stringify({ i, temp: 20 + (i % 10) / 10 }).repeat(1 + (i % 5))),
        id: i === 7 ? 2 ** 53 - 1 : i * 4_294_967_311,
        time: i === 9 ? -1 : 1_700_000_000_000 + i,
        qos: i % 3,
        format: i % 4,
      });
    }
    events.push({
      topic: 't',
      key: '',
      payload: new Uint8Array(0),
      id: 0,
      time: 0,
      qos: 0,
      format: Format.Unknown,
    });
    const frame = frameOf(events);
    const view = new DataView(frame.buffer);
    expect(view.getUint32(0, true)).toBe(FRAME_MAGIC);
    expect(view.getUint32(4, true)).toBe(events.length);
    expect(view.getUint32(8, true)).toBe(frame.length);
    expect(readAll(frame)).toEqual(events);
  });

  it('round-trips unicode keys and topics as UTF-8', () => {
    const events: Event[] = [
      'capteurs/température/é',
      '传感器/温度',
      'sensors/🌡️/reading',
      'ascii/then/ü',
    ].map((topic, i) => ({
      topic,
      key: ['clé', '设备-1', '🛰', 'k'][i] ?? '',
      payload: enc.encode('{"v":1}'),
      id: i,
      time: i,
      qos: 1,
      format: Format.Text,
    }));
    const frame = frameOf(events);
    expect(readAll(frame)).toEqual(events);
    const reader = new FrameReader().reset(frame);
    reader.next();
    reader.next();
    expect(reader.topicLength).toBe(enc.encode('传感器/温度').length);
    expect(
      dec.decode(frame.subarray(reader.topicStart, reader.topicStart + reader.topicLength)),
    ).toBe('传感器/温度');
  });

  it('refuses an event that does not fit and takes it on a fresh frame', () => {
    const payload = new Uint8Array(100).fill(7);
    const writer = new FrameWriter({ maxBytes: 1000, maxEvents: 100 });
    let appended = 0;
    while (writer.append('sensors/x/reading', 'x', payload, appended, 0, 1, Format.Json))
      appended++;
    const record = RECORD_HEADER_BYTES + 1 + 'sensors/x/reading'.length + 100;
    expect(appended).toBe(Math.floor((1000 - FRAME_HEADER_BYTES) / record));
    expect(writer.count).toBe(appended);
    expect(writer.byteLength).toBe(FRAME_HEADER_BYTES + appended * record);
    expect(readAll(writer.bytes())).toHaveLength(appended);
    writer.reset();
    expect(writer.count).toBe(0);
    expect(writer.append('sensors/x/reading', 'x', payload, 99, 0, 1, Format.Json)).toBe(true);
    expect(readAll(writer.bytes()).map((e) => e.id)).toEqual([99]);
  });

  it('refuses a non-ASCII topic that only partly fits', () => {
    const writer = new FrameWriter({ maxBytes: 100, maxEvents: 10 });
    expect(writer.append('a', 'k', new Uint8Array(10), 1, 0, 0, 0)).toBe(true);
    // 8 UTF-16 units but 24 UTF-8 bytes: passes the cheap bound, fails while encoding.
    expect(writer.append('温度温度温度温度', 'k', new Uint8Array(0), 2, 0, 0, 0)).toBe(false);
    expect(readAll(writer.bytes()).map((e) => e.id)).toEqual([1]);
  });

  it('stops at maxEvents', () => {
    const writer = new FrameWriter({ maxEvents: 3 });
    for (let i = 0; i < 3; i++)
      expect(writer.append('t', 'k', new Uint8Array(1), i, 0, 0, 0)).toBe(true);
    expect(writer.append('t', 'k', new Uint8Array(1), 3, 0, 0, 0)).toBe(false);
    expect(writer.count).toBe(3);
  });

  it('throws a clear error for an event bigger than a whole frame', () => {
    const writer = new FrameWriter({ maxBytes: 4096 });
    writer.append('t', 'k', new Uint8Array(10), 1, 0, 0, 0);
    const error = (() => {
      try {
        writer.append('sensors/big/reading', 'big', new Uint8Array(5000), 42, 0, 1, Format.Json);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(FrameEventTooLargeError);
    expect((error as FrameEventTooLargeError).code).toBe('FRAME_EVENT_TOO_LARGE');
    expect((error as Error).message).toContain('event id 42');
    expect((error as Error).message).toContain('payload 5000');
    expect((error as Error).message).toContain('at most 4096 bytes (maxBytes)');
    // The frame built so far is untouched.
    expect(readAll(writer.bytes()).map((e) => e.id)).toEqual([1]);
  });

  it('throws when an event cannot fit even in an empty frame', () => {
    const writer = new FrameWriter({ maxBytes: 100 });
    // 10 UTF-16 units pass the cheap bound, 30 UTF-8 bytes do not fit even alone.
    expect(() => writer.append('温'.repeat(10), 'k', new Uint8Array(30), 1, 0, 0, 0)).toThrow(
      FrameEventTooLargeError,
    );
  });

  it('throws for a key longer than a record can hold', () => {
    const writer = new FrameWriter({ maxBytes: 1 << 20 });
    expect(() => writer.append('t', 'k'.repeat(70_000), new Uint8Array(0), 1, 0, 0, 0)).toThrow(
      /key is 70000 bytes/,
    );
  });

  it('reads a zero-length list as a frame with no records', () => {
    const reader = new FrameReader().reset(new Uint8Array(0));
    expect(reader.count).toBe(0);
    expect(reader.next()).toBe(false);
    expect(new FrameReader().reset(createEmptyFrame()).count).toBe(0);
  });

  it('keeps all 64 bits of an id and compares names without decoding', () => {
    const frame = outputsFrame(['default', 'device']);
    const view = new DataView(frame.buffer);
    view.setBigUint64(FRAME_HEADER_BYTES + 16, 0xfedcba9876543210n, true);
    const reader = new FrameReader().reset(frame);
    reader.next();
    expect(reader.idBigInt()).toBe(0xfedcba9876543210n);
    expect(reader.idHigh).toBe(0xfedcba98);
    expect(reader.idLow).toBe(0x76543210);
    expect(reader.topicEquals(OUTPUT_NAME_BYTES.default)).toBe(true);
    expect(reader.topicEquals(OUTPUT_NAME_BYTES.device)).toBe(false);
    expect(reader.keyEquals(enc.encode('k0'))).toBe(true);
    reader.next();
    expect(reader.topicEquals(OUTPUT_NAME_BYTES.device)).toBe(true);
    expect(dec.decode(reader.record().subarray(RECORD_HEADER_BYTES))).toBe('k1devicep1');
  });

  it('copies records whole into another frame', () => {
    const source = outputsFrame(['default', 'dead', 'default']);
    const reader = new FrameReader().reset(source);
    const writer = new FrameWriter();
    while (reader.next())
      if (reader.topicEquals(OUTPUT_NAME_BYTES.default)) writer.appendRecord(reader);
    expect(readAll(writer.bytes())).toEqual(readAll(source).filter((e) => e.topic === 'default'));
  });
});

describe('FrameReader on malformed frames', () => {
  const valid = outputsFrame(['default', 'device', 'dead']);

  function patched(
    patch: (view: DataView, frame: Uint8Array) => void,
    frame = valid.slice(),
  ): Uint8Array {
    patch(new DataView(frame.buffer, frame.byteOffset, frame.byteLength), frame);
    return frame;
  }

  const cases: [string, Uint8Array, RegExp][] = [
    ['shorter than its header', valid.slice(0, 10), /10 bytes, shorter than its 16-byte header/],
    ['a foreign magic', patched((v) => v.setUint32(0, 0xdeadbeef, true)), /not a Sluice frame/],
    ['an unknown version', patched((v) => v.setUint8(3, 0x32)), /version byte is 0x32/],
    ['a wrong byte length', patched((v) => v.setUint32(8, 999, true)), /header says 999 bytes/],
    [
      'a record count too large',
      patched((v) => v.setUint32(4, 1_000_000, true)),
      /1000000 records/,
    ],
    [
      'a record count too small',
      patched((v) => v.setUint32(4, 2, true)),
      /bytes after its 2 records/,
    ],
    [
      'a record size that disagrees with its lengths',
      patched((v) => v.setUint32(FRAME_HEADER_BYTES, 33, true)),
      /record 0 at byte 16: size is 33/,
    ],
    [
      'a payload length running past the end',
      patched((v, f) => {
        const last = f.length - (RECORD_HEADER_BYTES + 2 + 4 + 2);
        v.setUint32(last + 12, 1000, true);
        v.setUint32(last, RECORD_HEADER_BYTES + 2 + 4 + 1000, true);
      }),
      /record 2 at byte \d+: .* run past the end/,
    ],
  ];

  for (const [what, frame, message] of cases) {
    it(`rejects a frame with ${what}`, () => {
      const reader = new FrameReader();
      expect(() => reader.reset(frame)).toThrow(FrameFormatError);
      expect(() => reader.reset(frame)).toThrow(message);
    });
  }

  it('never reads out of range on randomly corrupted frames', () => {
    let seed = 12345;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const reader = new FrameReader();
    let rejected = 0;
    for (let i = 0; i < 5000; i++) {
      const frame = valid.slice(0, valid.length - (random(4) === 0 ? random(valid.length) : 0));
      for (let j = 0, n = 1 + random(4); j < n; j++) frame[random(frame.length || 1)] = random(256);
      try {
        reader.reset(frame);
      } catch (error) {
        expect(error).toBeInstanceOf(FrameFormatError);
        rejected++;
        continue;
      }
      while (reader.next()) {
        expect(reader.recordStart + reader.recordSize).toBeLessThanOrEqual(frame.length);
        expect(reader.payloadStart + reader.payloadLength).toBeLessThanOrEqual(frame.length);
      }
    }
    expect(rejected).toBeGreaterThan(0);
  });
});

describe('FrameSelector', () => {
  it('passes a frame whose records all go to the output through without copying', () => {
    const frame = outputsFrame(['default', 'default', 'default']);
    const selector = new FrameSelector();
    expect(selector.select(frame, OUTPUT_NAME_BYTES.default)).toBe(frame);
    expect(selector.count).toBe(3);
  });

  it('builds a frame of only the matching records, in order', () => {
    const frame = outputsFrame([
      'default',
      'default',
      'device',
      'default',
      'dead',
      'defaults',
      'default',
    ]);
    const selector = new FrameSelector();
    const selected = selector.select(frame, OUTPUT_NAME_BYTES.default);
    expect(selector.count).toBe(4);
    expect(readAll(selected)).toEqual(readAll(frame).filter((e) => e.topic === 'default'));
    expect(readAll(selector.select(frame, OUTPUT_NAME_BYTES.device)).map((e) => e.key)).toEqual([
      'k2',
    ]);
  });

  it('returns an empty frame when nothing matches', () => {
    const selector = new FrameSelector();
    const selected = selector.select(outputsFrame(['device', 'dead']), OUTPUT_NAME_BYTES.default);
    expect(selector.count).toBe(0);
    expect(new FrameReader().reset(selected).count).toBe(0);
    expect(selected.length).toBe(FRAME_HEADER_BYTES);
  });
});
