/**
 * AckGate: the PUBACK/PUBCOMP hold-and-release logic in isolation, on an object shaped like the
 * slice of MQTT.js's client it wraps (the end-to-end tests run it on the real client).
 */
import { describe, expect, it } from 'vitest';
import { AckGate } from '../../gateway/ingest/ack-gate.js';
import type { AckGateClient } from '../../gateway/ingest/ack-gate.js';

interface Sent {
  cmd: string;
  messageId?: number;
}

function client(): AckGateClient & { sent: Sent[]; connected: boolean } {
  const sent: Sent[] = [];
  return {
    connected: true,
    sent,
    _sendPacket(packet: Sent, cb?: (error?: Error) => void) {
      sent.push(packet);
      cb?.();
    },
  };
}

/** What MQTT.js does after `handleMessage` calls back for a QoS 1 message. */
function mqttJsAcks(c: AckGateClient, messageId: number): boolean {
  let done = false;
  c._sendPacket({ cmd: 'puback', messageId }, () => {
    done = true;
  });
  return done;
}

describe('AckGate', () => {
  it('holds acks of an open batch, lets the read loop go on, and writes them on commit', () => {
    const c = client();
    const gate = new AckGate();
    gate.attach(c);
    const ticket = gate.ticket();
    for (const id of [1, 2, 3]) {
      gate.received(id);
      gate.hold(ticket, id);
      expect(mqttJsAcks(c, id)).toBe(true);
    }
    expect(c.sent).toEqual([]);
    expect(gate.held).toBe(3);
    gate.commit(ticket);
    expect(c.sent.map((p) => p.messageId)).toEqual([1, 2, 3]);
    expect(gate.held).toBe(0);
  });

  it('sends at once the ack of a message whose batch already committed', () => {
    const c = client();
    const gate = new AckGate();
    gate.attach(c);
    const ticket = gate.ticket();
    gate.received(7);
    gate.hold(ticket, 7);
    gate.commit(ticket);
    mqttJsAcks(c, 7);
    expect(c.sent).toEqual([{ cmd: 'puback', messageId: 7 }]);
  });

  it('never sends on a new connection the acks held for a dropped one', () => {
    const c = client();
    const gate = new AckGate();
    gate.attach(c);
    const old = gate.ticket();
    gate.received(5);
    gate.hold(old, 5);
    mqttJsAcks(c, 5);
    gate.connectionLost();
    expect(gate.held).toBe(0);
    // The broker reuses id 5 on the new connection for another message, in a later batch.
    const fresh = gate.ticket();
    gate.received(5);
    gate.hold(fresh, 5);
    mqttJsAcks(c, 5);
    gate.commit(old);
    expect(c.sent).toEqual([]);
    gate.commit(fresh);
    expect(c.sent).toEqual([{ cmd: 'puback', messageId: 5 }]);
  });

  it('drops acks MQTT.js would queue while disconnected', () => {
    const c = client();
    const gate = new AckGate();
    gate.attach(c);
    gate.received(9);
    c.connected = false;
    expect(mqttJsAcks(c, 9)).toBe(true);
    c.connected = true;
    expect(c.sent).toEqual([]);
  });

  it('passes every other packet through', () => {
    const c = client();
    const gate = new AckGate();
    gate.attach(c);
    c._sendPacket({ cmd: 'pingreq' });
    c._sendPacket({ cmd: 'publish', messageId: 3 });
    expect(c.sent.map((p) => p.cmd)).toEqual(['pingreq', 'publish']);
  });
});
