/**
 * @module The gateway's figures: the shape `Gateway.stats()` returns (counters, outbox and spool
 * depths, breakers) and how they are collected from the running parts.
 */

import type { AckGate } from './ingest/ack-gate.js';
import type { Outbox } from './outbox/outbox.js';
import type { Counters } from './pipeline/counters.js';
import type { Pipeline } from './pipeline/pipeline.js';
import type { BreakerStats } from './sinks/circuit-breaker.js';
import type { Forwarder } from './sinks/forwarder.js';
import type { Sink } from './sinks/sink.js';
import type { Spool } from './spool/spool.js';

/** One pipeline's figures in {@link GatewayStats}. */
export interface PipelineStats {
  name: string;
  /** Output records in the outbox (not yet accepted upstream). */
  outboxDepth: number;
  /** The highest outbox depth reached. */
  outboxPeak: number;
  /** The outbox's bound (`outboxMaxRecords`; unbounded in records with a spool). */
  outboxCapacity: number;
  /** Failed (retried or refused) send attempts of the pipeline's sink. */
  sinkFailures: number;
  /** The disk spool's figures, when `spool.enabled`. */
  spool?: SpoolStats;
  /** The sink's circuit breaker (`closed`, `open`, `half-open`), for sinks that have one. */
  breaker?: BreakerStats;
}

/** A pipeline's disk spool in {@link PipelineStats}. */
export interface SpoolStats {
  /** Bytes of records not yet accepted upstream. */
  bytes: number;
  /** The budget (`spool.maxBytes`). */
  maxBytes: number;
  segments: number;
  /** Records dropped by the `drop-oldest` policy. */
  dropped: number;
  /** Records dropped after `maxAgeMs`. */
  expired: number;
  /** Records lost to on-disk corruption (skipped). */
  corruptRecords: number;
  /** Age of the oldest record not yet sent (upper bound), ms. */
  oldestAgeMs: number;
}

/** A snapshot of the gateway's counters. */
export interface GatewayStats {
  /** MQTT messages accepted into a pipeline. */
  received: number;
  /** MQTT messages on topics no pipeline matches. */
  unrouted: number;
  /** Events run through a rule chain. */
  processed: number;
  batches: number;
  /** Output records accepted by the outboxes. */
  outputRecords: number;
  /** Output records accepted upstream. */
  sent: number;
  deadLetters: number;
  commands: number;
  ruleTraps: number;
  /** QoS 0 messages dropped (only at shutdown). */
  qos0Dropped: number;
  /** Output records upstream refused for good (dead-lettered). */
  rejected: number;
  /**
   * QoS 1/2 messages received on the current connection whose acknowledgement waits for their
   * batch to be accepted (durable, with the spool).
   */
  awaitingAck: number;
  /** Sum of the outboxes' depths. */
  outboxDepth: number;
  pipelines: PipelineStats[];
}

/** One running pipeline with its outbox, spool and sink. */
export interface PipelineParts {
  pipeline: Pipeline;
  outbox: Outbox;
  spool: Spool | undefined;
  sink: Sink;
  forwarder: Forwarder;
}

/** The counters and outbox depths now. */
export function collectStats(
  c: Counters,
  parts: readonly PipelineParts[],
  gate: AckGate,
): GatewayStats {
  let outboxDepth = 0;
  const pipelines: PipelineStats[] = [];
  for (const { pipeline, outbox, spool, sink } of parts) {
    outboxDepth += outbox.depth;
    const stats: PipelineStats = {
      name: pipeline.name,
      outboxDepth: outbox.depth,
      outboxPeak: outbox.peakDepth,
      outboxCapacity: outbox.capacity,
      sinkFailures: sink.failures ?? 0,
    };
    if (sink.breaker !== undefined) stats.breaker = sink.breaker.stats();
    if (spool !== undefined) {
      stats.spool = {
        bytes: spool.bytes,
        maxBytes: spool.maxBytes,
        segments: spool.segmentCount,
        dropped: spool.dropped,
        expired: spool.expired,
        corruptRecords: spool.corruptRecords,
        oldestAgeMs: spool.oldestAgeMs,
      };
    }
    pipelines.push(stats);
  }
  return {
    received: c.received,
    unrouted: c.unrouted,
    processed: c.processed,
    batches: c.batches,
    outputRecords: c.outputRecords,
    sent: c.sent,
    deadLetters: c.deadLetters,
    commands: c.commands,
    ruleTraps: c.ruleTraps,
    qos0Dropped: c.qos0Dropped,
    rejected: c.rejected,
    awaitingAck: gate.held,
    outboxDepth,
    pipelines,
  };
}
