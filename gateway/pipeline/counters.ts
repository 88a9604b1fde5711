/**
 * @module The gateway's counters: plain numeric fields incremented on the hot path (no maps, no
 * labels), read by `Gateway.stats()`, the CLI and tests.
 */

/** Gateway-wide counters since start. */
export class Counters {
  /** MQTT messages accepted into a pipeline's batch. */
  received = 0;
  /** MQTT messages on a topic no pipeline matches (acknowledged and ignored). */
  unrouted = 0;
  /** Events that went through a pipeline's rule chain (dead-lettered ones included). */
  processed = 0;
  /** Batches processed. */
  batches = 0;
  /** Output records accepted by the outboxes. */
  outputRecords = 0;
  /** Output records accepted upstream. */
  sent = 0;
  /** Entries written to the dead-letter file. */
  deadLetters = 0;
  /** Device commands published. */
  commands = 0;
  /**
   * Rule calls that failed (trap or malformed output): a batch that fails counts once, and each
   * of its events that fails again in the event-by-event retry once more; a failed tick or flush once.
   */
  ruleTraps = 0;
  /** QoS 0 messages dropped by Sluice (only at shutdown: a message read but not yet batched). */
  qos0Dropped = 0;
  /** Output records upstream refused for good (also dead-lettered). */
  rejected = 0;
  /**
   * QoS 1/2 messages the broker redelivered after a restart whose events the restored
   * checkpoint already held: acknowledged, not processed again.
   */
  redeliveredSkipped = 0;
}
