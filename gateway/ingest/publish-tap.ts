/**
 * @module Takes QoS 0 and QoS 1 PUBLISH packets off the MQTT connection before MQTT.js parses
 * them, and hands their topic and payload to ingest as offsets into the socket's own chunk.
 * Every other packet (CONNACK, SUBACK, PINGRESP, QoS 2 flows, an MQTT 5 PUBLISH with a topic
 * alias or an unknown property) goes on to MQTT.js whole and in order, which keeps handling the
 * connection, the session and keepalive.
 *
 * Why: in the sensor-window benchmark profile MQTT.js's per-packet path (mqtt-packet's parser,
 * `bl` buffer lists, a `nextTick` and several Buffer slices per message) was the largest single
 * cost, about 1.3 µs of CPU per message, more than Sluice's own batching and rule together.
 * Reading the fixed header, topic and payload in place costs a few tens of nanoseconds.
 *
 * How it hooks in (checked against MQTT.js 5.16.0, pinned): `MqttClient.connect()` builds each
 * connection's stream with `client.streamBuilder(client)`, sets its own Writable's `_write`, and
 * then calls `stream.pipe(writable)`. The tap wraps `streamBuilder` and, on that stream only,
 * `pipe`, so that each chunk passes through {@link TapReader.write} before MQTT.js's `_write`.
 *
 * Backpressure: when the sink refuses a packet (a pipeline is full) the reader keeps its place
 * and does not call the Writable's callback, so the socket is not read until `resume()`. Acks of
 * QoS 1 packets taken here are written by the {@link AckGate} when their batch commits.
 */
import type { Duplex, Writable } from 'node:stream';

/** Receives the PUBLISH packets the tap takes. */
export interface PublishSink {
  /**
   * One QoS 0/1 PUBLISH: topic `chunk[topicStart, topicEnd)`, payload `chunk[payloadStart,
   * payloadEnd)` (valid during the call only). Returns false to refuse it for now: the tap
   * stops reading and offers the same packet again after `resume()`.
   */
  publish(
    chunk: Buffer,
    topicStart: number,
    topicEnd: number,
    payloadStart: number,
    payloadEnd: number,
    qos: number,
    messageId: number,
    dup: boolean,
  ): boolean;
  /** A refused packet was given up (connection lost, or the tap stopped); QoS 1/2 ones are redelivered. */
  abandoned(qos: number): void;
}

/** The slice of MQTT.js's client the tap touches. */
export interface TapClient {
  /** Public field of MqttClient in MQTT.js 5.16.0: builds each connection's stream. */
  streamBuilder: (client: never) => Duplex;
}

type WriteChunk = Writable['_write'];
type WriteDone = (error?: Error | null) => void;

const PUBLISH = 3;
const PROPERTY_TOPIC_ALIAS = 0x23;
/** Result of one packet. */
const NEXT = 0;
const PAUSED = 1;
const HANDED_ON = 2;

/** Takes PUBLISH packets off every connection of one MQTT.js client. */
export class PublishTap {
  readonly #sink: PublishSink;
  readonly #protocolVersion: number;
  #reader: TapReader | undefined;

  constructor(sink: PublishSink, protocolVersion: number) {
    this.#sink = sink;
    this.#protocolVersion = protocolVersion;
  }

  /** Wraps the client's stream builder. Call before the client connects. */
  attach(client: TapClient): void {
    const build = client.streamBuilder;
    client.streamBuilder = (c: never): Duplex => {
      const stream = build(c);
      const pipe = stream.pipe.bind(stream);
      stream.pipe = <T extends NodeJS.WritableStream>(
        destination: T,
        options?: { end?: boolean },
      ): T => {
        const writable = destination as unknown as Writable;
        this.#reader?.abandon();
        const reader = new TapReader(
          this.#sink,
          this.#protocolVersion,
          writable._write.bind(writable),
        );
        this.#reader = reader;
        writable._write = (chunk: Buffer, encoding, done) => reader.write(chunk, encoding, done);
        stream.once('close', () => reader.connectionClosed());
        return pipe(destination, options);
      };
      return stream;
    };
  }

  /** Offers the refused packet again and reads on (the sink has room). */
  resume(): void {
    this.#reader?.resume();
  }

  /** Stops reading for good: nothing more is offered or handed on. */
  stop(): void {
    this.#reader?.abandon();
  }
}

/** The tap on one connection. */
class TapReader {
  readonly #sink: PublishSink;
  readonly #v5: boolean;
  readonly #inner: WriteChunk;
  /** The chunk being read, the position in it, and the Writable's callback for it. */
  #chunk: Buffer = Buffer.alloc(0);
  #pos = 0;
  #done: WriteDone | undefined;
  #encoding = 'buffer' as BufferEncoding;
  /** A packet split across chunks, gathered whole before it is read. */
  #carry: Buffer = Buffer.alloc(256);
  #carryLength = 0;
  /** Total size of the packet in `#carry`, once its fixed header is complete (else 0). */
  #carryNeed = 0;
  #paused = false;
  #waitingQos: number | undefined;
  #abandoned = false;
  #closed = false;
  /** After a malformed packet everything goes to MQTT.js, which reports it and disconnects. */
  #passThrough = false;
  #inInner = false;
  #innerDoneSync = false;

  constructor(sink: PublishSink, protocolVersion: number, inner: WriteChunk) {
    this.#sink = sink;
    this.#v5 = protocolVersion === 5;
    this.#inner = inner;
  }

  write(chunk: Buffer, encoding: BufferEncoding, done: WriteDone): void {
    if (this.#abandoned) return;
    if (this.#passThrough) {
      this.#inner(chunk, encoding, done);
      return;
    }
    this.#chunk = chunk;
    this.#pos = 0;
    this.#done = done;
    this.#encoding = encoding;
    this.#run();
  }

  resume(): void {
    if (!this.#paused || this.#abandoned) return;
    this.#paused = false;
    this.#waitingQos = undefined;
    this.#run();
  }

  /**
   * The connection is gone. Like MQTT.js, the reader goes on through what was already read
   * from it, except QoS 1 messages: their acks could only reach the next connection, where
   * the broker may have given their ids to other messages; it redelivers them instead.
   */
  connectionClosed(): void {
    this.#closed = true;
  }

  abandon(): void {
    if (this.#abandoned) return;
    this.#abandoned = true;
    if (this.#paused) {
      this.#paused = false;
      this.#sink.abandoned(this.#waitingQos as number);
    }
  }

  /** Reads packets until the chunk is used up, a packet is refused, or MQTT.js works on one. */
  #run(): void {
    for (;;) {
      if (this.#abandoned) return;
      let result: number;
      if (this.#carryLength > 0) {
        if (!this.#gather()) return this.#chunkDone();
        result = this.#packet(this.#carry, 0, this.#carryNeed, true);
        if (result === NEXT) this.#carryLength = this.#carryNeed = 0;
      } else {
        const chunk = this.#chunk;
        const pos = this.#pos;
        if (pos >= chunk.length) return this.#chunkDone();
        const size = packetSize(chunk, pos, chunk.length);
        if (size < 0) {
          this.#toCarry(chunk, pos, chunk.length);
          this.#pos = chunk.length;
          return this.#chunkDone();
        }
        if (size === 0) {
          this.#malformed();
          return;
        }
        if (pos + size > chunk.length) {
          this.#carryNeed = size;
          this.#toCarry(chunk, pos, chunk.length);
          this.#pos = chunk.length;
          return this.#chunkDone();
        }
        result = this.#packet(chunk, pos, pos + size, false);
        if (result === NEXT) this.#pos = pos + size;
      }
      if (result === PAUSED) return;
      if (result === HANDED_ON && !this.#innerDoneSync) return;
      this.#innerDoneSync = false;
    }
  }

  /** Reads or hands on the whole packet `src[start, end)`. */
  #packet(src: Buffer, start: number, end: number, carried: boolean): number {
    const first = src[start] as number;
    const qos = (first >> 1) & 3;
    if (first >> 4 === PUBLISH && qos < 2) {
      let p = start + 1;
      while (((src[p++] as number) & 0x80) !== 0);
      const topicLength = ((src[p] as number) << 8) | (src[p + 1] as number);
      const topicStart = p + 2;
      const topicEnd = topicStart + topicLength;
      p = topicEnd;
      let messageId = 0;
      if (qos !== 0) {
        messageId = ((src[p] as number) << 8) | (src[p + 1] as number);
        p += 2;
      }
      if (p > end || (qos !== 0 && messageId === 0)) return this.#malformed();
      if (this.#v5) {
        p = skipProperties(src, p, end);
        if (p === -2) return this.#handOn(src, start, end, carried);
        if (p < 0) return this.#malformed();
      }
      if (qos !== 0 && this.#closed) return NEXT;
      if (
        !this.#sink.publish(src, topicStart, topicEnd, p, end, qos, messageId, (first & 8) !== 0)
      ) {
        this.#paused = true;
        this.#waitingQos = qos;
        return PAUSED;
      }
      return NEXT;
    }
    return this.#handOn(src, start, end, carried);
  }

  /** Passes one whole packet to MQTT.js and continues when it is done with it. */
  #handOn(src: Buffer, start: number, end: number, carried: boolean): number {
    // MQTT.js may keep slices of what it parses: give it bytes no one reuses.
    const packet = carried ? Buffer.from(src.subarray(start, end)) : src.subarray(start, end);
    if (carried) this.#carryLength = this.#carryNeed = 0;
    else this.#pos = end;
    this.#inInner = true;
    this.#innerDoneSync = false;
    this.#inner(packet, this.#encoding, this.#onInnerDone);
    this.#inInner = false;
    return HANDED_ON;
  }

  readonly #onInnerDone = (error?: Error | null): void => {
    if (error) {
      this.#abandoned = true;
      this.#done?.(error);
      return;
    }
    if (this.#inInner) this.#innerDoneSync = true;
    else this.#run();
  };

  /** Moves the bytes of a split packet into the carry buffer. */
  #toCarry(src: Buffer, start: number, end: number): void {
    const length = end - start;
    this.#reserve(this.#carryLength + length);
    src.copy(this.#carry, this.#carryLength, start, end);
    this.#carryLength += length;
  }

  #reserve(size: number): void {
    if (this.#carry.length >= size) return;
    const grown = Buffer.alloc(Math.max(size, this.#carry.length * 2));
    this.#carry.copy(grown, 0, 0, this.#carryLength);
    this.#carry = grown;
  }

  /**
   * Completes the carried packet from the current chunk. Returns true when it is whole, false
   * when the chunk ran out first.
   */
  #gather(): boolean {
    const chunk = this.#chunk;
    while (this.#carryNeed === 0) {
      if (this.#pos >= chunk.length) return false;
      this.#toCarry(chunk, this.#pos, this.#pos + 1);
      this.#pos++;
      const size = packetSize(this.#carry, 0, this.#carryLength);
      if (size === 0) {
        this.#malformed();
        return false;
      }
      if (size > 0) this.#carryNeed = size;
    }
    const missing = this.#carryNeed - this.#carryLength;
    if (missing <= 0) return true;
    const take = Math.min(missing, chunk.length - this.#pos);
    this.#toCarry(chunk, this.#pos, this.#pos + take);
    this.#pos += take;
    return take === missing;
  }

  /** A packet this reader cannot frame: MQTT.js gets the rest and reports it. */
  #malformed(): number {
    this.#passThrough = true;
    const rest = Buffer.concat([
      this.#carry.subarray(0, this.#carryLength),
      this.#chunk.subarray(this.#pos),
    ]);
    this.#carryLength = this.#carryNeed = 0;
    this.#pos = this.#chunk.length;
    const done = this.#done;
    this.#done = undefined;
    this.#inner(rest, this.#encoding, done ?? noop);
    return PAUSED;
  }

  #chunkDone(): void {
    const done = this.#done;
    this.#done = undefined;
    done?.();
  }
}

function noop(): void {}

/**
 * The total size of the packet at `pos` (fixed header included): -1 when its fixed header is
 * not complete before `end`, 0 when the remaining length is malformed [MQTT-2.2.3].
 */
function packetSize(src: Buffer, pos: number, end: number): number {
  let length = 0;
  let multiplier = 1;
  for (let i = 1; i <= 4; i++) {
    if (pos + i >= end) return -1;
    const byte = src[pos + i] as number;
    length += (byte & 0x7f) * multiplier;
    if ((byte & 0x80) === 0) return 1 + i + length;
    multiplier *= 128;
  }
  return 0;
}

/**
 * Skips an MQTT 5 PUBLISH's properties at `p`. Returns the payload's start, -2 when MQTT.js must
 * handle the packet (a topic alias, which it tracks per connection, or a property this reader
 * does not know), -1 when malformed.
 */
function skipProperties(src: Buffer, p: number, end: number): number {
  let length = 0;
  let multiplier = 1;
  for (let i = 0; ; i++) {
    if (i === 4 || p >= end) return -1;
    const byte = src[p++] as number;
    length += (byte & 0x7f) * multiplier;
    if ((byte & 0x80) === 0) break;
    multiplier *= 128;
  }
  const stop = p + length;
  if (stop > end) return -1;
  while (p < stop) {
    const id = src[p++] as number;
    switch (id) {
      case 0x01: // payload format indicator
        p += 1;
        break;
      case 0x02: // message expiry interval
        p += 4;
        break;
      case 0x03: // content type
      case 0x08: // response topic
      case 0x09: // correlation data
        p += 2 + (((src[p] as number) << 8) | (src[p + 1] as number));
        break;
      case 0x26: {
        // user property: two strings
        p += 2 + (((src[p] as number) << 8) | (src[p + 1] as number));
        p += 2 + (((src[p] as number) << 8) | (src[p + 1] as number));
        break;
      }
      case 0x0b: // subscription identifier (variable byte integer)
        while (p < stop && ((src[p++] as number) & 0x80) !== 0);
        break;
      case PROPERTY_TOPIC_ALIAS:
      default:
        return -2;
    }
  }
  return p === stop ? stop : -1;
}
