/**
 * @module Holds MQTT PUBACK/PUBCOMP packets until the batch holding their messages is committed
 * (every record it produced accepted by the outbox): the QoS 1/2 half of ingest backpressure and
 * of at-least-once delivery.
 *
 * Why this reaches into a private method — checked against MQTT.js 5.16.0 (pinned in
 * package.json; re-check on any upgrade): `handlers/publish.js` sends a QoS 1 PUBACK (and
 * `handlers/pubrel.js` a QoS 2 PUBCOMP) through `client._sendPacket(packet, done)` right after
 * `client.handleMessage(packet, cb)` calls back, and the client's `connect()` `work()` loop parses
 * the next packet only once `done` runs. Holding `cb` until a batch is committed would therefore
 * allow one message in flight and no batching. Instead ingest calls `cb` at once while there is
 * room, and this gate wraps the instance's `_sendPacket`: an ack for a message of an uncommitted
 * batch is kept and its `done` called immediately (the read loop goes on); the packet is written
 * when the batch commits. `customHandleAcks` cannot do this: it applies to MQTT 5 only and runs
 * before `handleMessage`.
 *
 * Acks from a connection that has since dropped are never sent: MQTT.js would queue them while
 * offline and send them on the next connection, acknowledging message ids that the broker has
 * reassigned. The broker redelivers those messages on the persistent session instead
 * (at-least-once; duplicates are possible, loss is not).
 */

/** The narrow slice of MQTT.js's client this gate touches. */
export interface AckGateClient {
  readonly connected: boolean;
  /** The current connection's stream (acks of packets the publish tap took are written to it). */
  readonly stream?: { write(chunk: Uint8Array): boolean };
  /** Private in MQTT.js 5.16.0 (`client.js`, `_sendPacket(packet, cb, cbStorePut, noStore)`). */
  _sendPacket: SendPacket;
}

/** An outgoing packet as `_sendPacket` receives it. */
interface OutgoingPacket {
  readonly cmd: string;
  readonly messageId?: number;
}

type SendPacket = (
  packet: OutgoingPacket,
  cb?: (error?: Error) => void,
  ...rest: unknown[]
) => void;

const MESSAGE_IDS = 65_536;

/** The acknowledgements of one batch's QoS 1/2 messages. */
export class AckTicket {
  /** QoS 1/2 messages in the batch. */
  count = 0;
  /** Acks MQTT.js sent while the batch was open, written on commit... */
  readonly packets: OutgoingPacket[] = [];
  /** ...if the connection they belong to (same index) is still the current one. */
  readonly generations: number[] = [];
  /** Message ids of QoS 1 messages the publish tap took (MQTT.js never saw them): PUBACKs to write. */
  readonly tapped: number[] = [];
  /** The connection generation of each of `tapped`. */
  readonly tappedGenerations: number[] = [];
  /** The generation of the messages counted in `heldCount`. */
  heldGeneration = 0;
  /** Messages of this batch that arrived on connection `heldGeneration`. */
  heldCount = 0;
  committed = false;
}

/** Holds acks per batch; one gate per MQTT client. */
export class AckGate {
  readonly #owner: (AckTicket | undefined)[] = new Array<AckTicket | undefined>(MESSAGE_IDS).fill(
    undefined,
  );
  /** The connection generation each message id was last received on. */
  readonly #receivedOn = new Int32Array(MESSAGE_IDS);
  #generation = 1;
  /** 1 where the publish tap took the message with that id. */
  readonly #tapped = new Uint8Array(MESSAGE_IDS);
  #held = 0;
  #holds = 0;
  #client: AckGateClient | undefined;
  #send: SendPacket | undefined;

  /** Wraps the client's `_sendPacket`. Call before the client connects. */
  attach(client: AckGateClient): void {
    const send = client._sendPacket.bind(client) as SendPacket;
    this.#client = client;
    this.#send = send;
    client._sendPacket = (packet, cb, ...rest) => {
      const cmd = packet.cmd;
      if ((cmd === 'puback' || cmd === 'pubcomp') && packet.messageId !== undefined) {
        const id = packet.messageId;
        if (!client.connected || this.#receivedOn[id] !== this.#generation) {
          // Stale: the message came on a dropped connection; the broker will redeliver it.
          cb?.();
          return;
        }
        const ticket = this.#owner[id];
        if (ticket !== undefined) {
          if (!ticket.committed) {
            ticket.packets.push(packet);
            ticket.generations.push(this.#generation);
            cb?.();
            return;
          }
          this.#owner[id] = undefined;
        }
      }
      send(packet, cb, ...rest);
    };
  }

  /** QoS 1/2 messages of uncommitted batches on the current connection (what the broker sees in flight). */
  get held(): number {
    return this.#held;
  }

  /** The current connection generation. */
  get generation(): number {
    return this.#generation;
  }

  /**
   * Notes that a QoS 1/2 message with this id arrived on the current connection; `tapped`: the
   * publish tap took it, so MQTT.js will not ack it and this gate writes its PUBACK itself.
   */
  received(messageId: number, tapped = false): void {
    this.#receivedOn[messageId] = this.#generation;
    this.#tapped[messageId] = tapped ? 1 : 0;
  }

  /** Calls of `hold` so far (ingest tells whether a message was held at all). */
  get holds(): number {
    return this.#holds;
  }

  /**
   * Writes the PUBACK of a tapped message that no batch holds (its topic is routed nowhere, or
   * it was dead-lettered on arrival), as MQTT.js acks such messages at once.
   */
  ackNow(messageId: number): void {
    if (this.#client?.connected !== true || this.#receivedOn[messageId] !== this.#generation)
      return;
    this.#client.stream?.write(pubacks([messageId], 1));
  }

  /** A ticket for a new batch. */
  ticket(): AckTicket {
    return new AckTicket();
  }

  /** Makes the ack of `messageId` wait for `ticket` to commit. */
  hold(ticket: AckTicket, messageId: number): void {
    this.#owner[messageId] = ticket;
    this.#holds++;
    if (this.#tapped[messageId] === 1) {
      ticket.tapped.push(messageId);
      ticket.tappedGenerations.push(this.#generation);
    }
    ticket.count++;
    if (ticket.heldGeneration !== this.#generation) {
      ticket.heldGeneration = this.#generation;
      ticket.heldCount = 0;
    }
    ticket.heldCount++;
    this.#held++;
  }

  /** The batch is committed: writes its held acks (if its connection is still up). */
  commit(ticket: AckTicket): void {
    if (ticket.committed) return;
    ticket.committed = true;
    const generation = this.#generation;
    if (ticket.heldGeneration === generation) this.#held -= ticket.heldCount;
    const client = this.#client;
    const send = this.#send;
    const packets = ticket.packets;
    const generations = ticket.generations;
    const connected = send !== undefined && client?.connected === true;
    for (let i = 0; i < packets.length; i++) {
      const packet = packets[i] as OutgoingPacket;
      const id = packet.messageId as number;
      if (this.#owner[id] === ticket) this.#owner[id] = undefined;
      if (connected && generations[i] === generation && this.#receivedOn[id] === generation) {
        (send as SendPacket)(packet);
      }
    }
    packets.length = 0;
    generations.length = 0;
    if (ticket.tapped.length > 0) this.#writeTapped(ticket, connected ? generation : -1);
  }

  /** The connection dropped: every held ack is now stale. */
  connectionLost(): void {
    this.#generation++;
    this.#held = 0;
  }

  /** Writes PUBACKs of the ticket's tapped messages received on connection `generation`. */
  #writeTapped(ticket: AckTicket, generation: number): void {
    const ids = ticket.tapped;
    const generations = ticket.tappedGenerations;
    let current = 0;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i] as number;
      if (this.#owner[id] === ticket) this.#owner[id] = undefined;
      // Compacts in place to the ids whose connection is still the current one.
      if (generations[i] === generation && this.#receivedOn[id] === generation) ids[current++] = id;
    }
    if (current > 0) this.#client?.stream?.write(pubacks(ids, current));
    ids.length = 0;
    generations.length = 0;
  }
}

/**
 * PUBACKs of the first `count` ids, back to back for one write: type 4, remaining length 2, the
 * packet id [MQTT-3.4]; MQTT 5 may omit the reason code and properties on success [MQTT-3.4.2.1].
 */
function pubacks(ids: readonly number[], count: number): Buffer {
  const acks = Buffer.allocUnsafe(count * 4);
  for (let i = 0, n = 0; i < count; i++, n += 4) {
    const id = ids[i] as number;
    acks[n] = 0x40;
    acks[n + 1] = 2;
    acks[n + 2] = id >> 8;
    acks[n + 3] = id & 0xff;
  }
  return acks;
}
