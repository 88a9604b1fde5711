/**
 * @module Identities of QoS 1/2 events for recognising broker redeliveries after a restart:
 * (MQTT packet id, 64-bit hash of topic + payload). A packet id alone is reused as soon as its
 * message is acknowledged; the hash tells two messages that share one apart (docs/delivery.md).
 * The hash is two 32-bit multiplicative hashes (FNV-1a, and the same walk with MurmurHash2's
 * multiplier and a final mix) computed in one pass, without allocation.
 */

/** Where {@link hashEvent} leaves its result: [low, high]. */
const HASH = new Uint32Array(2);

/** Hashes topic + payload into {@link HASH}. */
function hashEvent(topic: string, payload: Uint8Array): void {
  let a = 0x811c9dc5;
  let b = 0x9747b28c;
  for (let i = 0; i < topic.length; i++) {
    const c = topic.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
  }
  // A separator, so that topic "ab" + payload "c" differs from topic "a" + payload "bc".
  a = Math.imul(a ^ 0x1ff, 0x01000193);
  b = Math.imul(b ^ 0x1ff, 0x5bd1e995);
  for (let i = 0; i < payload.length; i++) {
    const c = payload[i] as number;
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
  }
  b ^= b >>> 13;
  b = Math.imul(b, 0x5bd1e995);
  b ^= b >>> 15;
  HASH[0] = a;
  HASH[1] = b;
}

/**
 * A growable list of identities (triples: packet id, hash low, hash high), bounded: past
 * `limit` identities the oldest half is dropped.
 */
export class IdentityList {
  #items: Uint32Array;
  #count = 0;
  readonly #limit: number;

  constructor(limit: number) {
    this.#limit = limit;
    this.#items = new Uint32Array(Math.min(limit, 1024) * 3);
  }

  /** Identities held. */
  get count(): number {
    return this.#count;
  }

  /** Adds the identity of one event. */
  add(messageId: number, topic: string, payload: Uint8Array): void {
    hashEvent(topic, payload);
    this.#push(messageId, HASH[0] as number, HASH[1] as number);
  }

  /** Moves every identity of `other` to the end of this list. */
  takeAll(other: IdentityList): void {
    const items = other.#items;
    for (let i = 0; i < other.#count; i++) {
      this.#push(items[i * 3] as number, items[i * 3 + 1] as number, items[i * 3 + 2] as number);
    }
    other.#count = 0;
  }

  /** A copy of the identities held, then empties the list. */
  drain(): Uint32Array {
    const copy = this.#items.slice(0, this.#count * 3);
    this.#count = 0;
    return copy;
  }

  #push(id: number, low: number, high: number): void {
    if (this.#count === this.#limit) {
      const half = this.#count >>> 1;
      this.#items.copyWithin(0, half * 3, this.#count * 3);
      this.#count -= half;
    }
    if ((this.#count + 1) * 3 > this.#items.length) {
      const grown = new Uint32Array(Math.min(this.#limit, this.#count * 2) * 3);
      grown.set(this.#items.subarray(0, this.#count * 3));
      this.#items = grown;
    }
    const at = this.#count * 3;
    this.#items[at] = id;
    this.#items[at + 1] = low;
    this.#items[at + 2] = high;
    this.#count++;
  }
}

/** The identities of events already in the restored state: redeliveries to skip. */
export class RedeliveredEvents {
  /** (hash low × 65536 + packet id) → hash high. */
  readonly #known = new Map<number, number>();

  /** From restored identities (triples). */
  constructor(identities: Uint32Array | undefined) {
    if (identities === undefined) return;
    for (let i = 0; i + 2 < identities.length; i += 3) {
      const id = identities[i] as number;
      this.#known.set((identities[i + 1] as number) * 65536 + id, identities[i + 2] as number);
    }
  }

  /** Whether none is known (nothing to check). */
  get empty(): boolean {
    return this.#known.size === 0;
  }

  /** Whether the event (packet id, topic, payload) is one already covered by the state. */
  has(messageId: number, topic: string, payload: Uint8Array): boolean {
    hashEvent(topic, payload);
    return this.#known.get((HASH[0] as number) * 65536 + messageId) === HASH[1];
  }
}
