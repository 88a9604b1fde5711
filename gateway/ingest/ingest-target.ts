/**
 * @module What ingest feeds: a pipeline's batching entry point, seen from the MQTT side.
 */

/** A pipeline as ingest sees it. */
export interface IngestTarget {
  /**
   * Appends one event to the pipeline's current batch. Returns false when the pipeline has no
   * room: ingest then stops reading and calls again once the pipeline signals room.
   */
  append(
    topic: string,
    key: string,
    payload: Uint8Array,
    qos: number,
    messageId: number,
    time: number,
  ): boolean;
  /**
   * For a QoS 1/2 message the broker redelivers (DUP set): whether its event is already in the
   * pipeline's checkpointed state (recognised by packet id and a hash of topic + payload). If
   * so, its ack is held with the current batch and the event is not processed again.
   */
  redelivered(topic: string, payload: Uint8Array, messageId: number): boolean;
  /** Cuts the current batch if it holds QoS 1/2 messages (the broker's in-flight window is full). */
  cutHeld(): void;
}
