/**
 * @module The `Sink` seam: where a pipeline's output records go upstream. A send resolves only
 * once upstream accepted its batch, retrying transient failures itself; the forwarder has at most
 * a few sends in flight (the adaptive drain) and takes nothing more from the outbox meanwhile,
 * which is what makes a slow upstream slow ingest down. Sinks take concurrent sends unless they
 * say otherwise (`maxConcurrentSends`).
 */
import type { OutboxBatch } from '../outbox/outbox.js';
import type { CircuitBreaker } from './circuit-breaker.js';

/** How a sink wants its batches cut. */
export interface SinkBatching {
  /** Most records in one batch. */
  readonly maxRecords: number;
  /** Most record bytes in one batch (frame record layout, a proxy for the body size). */
  readonly maxBytes: number;
  /** How long the oldest ready record may wait for a fuller batch. */
  readonly lingerMs: number;
}

/** An upstream destination. */
export interface Sink {
  /** Batch sizes this sink wants. */
  readonly batching: SinkBatching;
  /**
   * Sends one batch. Resolves once upstream accepted it. Retries transient failures until then,
   * or until `signal` aborts (rejects with the abort reason).
   * @throws SinkRejectedError when upstream refused the batch for good (it will never accept it).
   */
  send(batch: OutboxBatch, signal?: AbortSignal): Promise<void>;
  /**
   * The gateway is closing: the batches sent from now on are the last ones (an HTTP sink closes
   * its keep-alive connection after them, so no idle socket outlives the gateway).
   */
  closing(): void;
  /**
   * Most `send` calls this sink takes at once; the forwarder's adaptive drain never goes past
   * it. @default unlimited (the drain's `maxInFlight` applies)
   */
  readonly maxConcurrentSends?: number;
  /** Attempts that failed and were retried (or refused), for the stats. @default undefined */
  readonly failures?: number;
  /** The sink's circuit breaker, for the stats (HTTP, NATS and MQTT sinks). @default undefined */
  readonly breaker?: CircuitBreaker;
  /** Releases the sink's resources. Idempotent. */
  close(): Promise<void>;
}
