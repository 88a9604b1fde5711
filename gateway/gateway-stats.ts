/**
 * @module The gateway's figures: the shape `Gateway.stats()` returns (counters, outbox and spool
 * depths, breakers) and how they are collected from the running parts.
 */

import type { DeadLetterSize } from './dead-letter/dead-letter-size.js';
import type { AckGate } from './ingest/ack-gate.js';
import type { Outbox } from './outbox/outbox.js';
import type { Counters } from './pipeline/counters.js';
import type { Pipeline } from './pipeline/pipeline.js';
import type { BreakerStats } from './sinks/circuit-breaker.js';
import type { Forwarder } from './sinks/forwarder.js';
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
  /** Failed (retried or refused) send attempts of the pipeline's sinks, summed. */
  sinkFailures: number;
  /** The disk spool's figures, when `spool.enabled`. */
  spool?: SpoolStats;
  /** The first sink's circuit breaker (`closed`, `open`, `half-open`), for sinks that have one. */
  breaker?: BreakerStats;
  /** Each sink's figures, in configuration order. */
  sinks: SinkStats[];
}

/** One sink of a pipeline in {@link PipelineStats}. */
export interface SinkStats {
  /** The sink's name (unique within the pipeline). */
  name: string;
  /** Records not yet accepted by this sink's upstream (in flight included). */
  backlogRecords: number;
  /** Bytes of those records. */
  backlogBytes: number;
  /** Age of the oldest record this sink has not sent yet (an upper bound with the spool), ms. */
  oldestAgeMs: number;
  /** Records this sink's upstream accepted. */
  sent: number;
  /** Failed attempts, retried (or refused). */
  retries: number;
  /** Records dropped before this sink sent them (spool `drop-oldest` or `maxAgeMs`). */
  dropped: number;
  /** Records this sink's upstream refused for good (dead-lettered). */
  rejected: number;
  /** Batches in flight now. */
  inFlight: number;
  /** The adaptive drain's limit of batches in flight now. */
  concurrency: number;
  /** The sink's circuit breaker, for sinks that have one. */
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
  /** Rule-state checkpoints (state entries) written since start. */
  checkpoints: number;
  /** Bytes written to the segment files since start (records and state entries). */
  bytesWritten: number;
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
  /** Output records accepted upstream, summed over sinks (a record two sinks sent counts twice). */
  sent: number;
  deadLetters: number;
  commands: number;
  ruleTraps: number;
  /** QoS 0 messages dropped (only at shutdown). */
  qos0Dropped: number;
  /** Output records upstream refused for good (dead-lettered). */
  rejected: number;
  /** Redelivered QoS 1/2 messages already in the restored rule state: acknowledged, skipped. */
  redeliveredSkipped: number;
  /**
   * QoS 1/2 messages received on the current connection whose acknowledgement waits for their
   * batch to be accepted (durable, with the spool).
   */
  awaitingAck: number;
  /** Sum of the outboxes' depths. */
  outboxDepth: number;
  /** Dead letters the dead-letter file holds now (buffered ones included). */
  deadLetterRecords: number;
  /** Bytes of the dead-letter file now (buffered ones included). */
  deadLetterBytes: number;
  pipelines: PipelineStats[];
}

/** One running pipeline with its outbox, spool and sink. */
export interface PipelineParts {
  pipeline: Pipeline;
  outbox: Outbox;
  spool: Spool | undefined;
  /** One per sink, in configuration order. */
  forwarders: Forwarder[];
}

/** The counters and outbox depths now. */
export function collectStats(
  c: Counters,
  parts: readonly PipelineParts[],
  gate: AckGate,
  deadLetterStore: DeadLetterSize,
): GatewayStats {
  let outboxDepth = 0;
  const pipelines: PipelineStats[] = [];
  for (const { pipeline, outbox, spool, forwarders } of parts) {
    outboxDepth += outbox.depth;
    const sinks = forwarders.map(sinkStats);
    let sinkFailures = 0;
    for (const sink of sinks) sinkFailures += sink.retries;
    const stats: PipelineStats = {
      name: pipeline.name,
      outboxDepth: outbox.depth,
      outboxPeak: outbox.peakDepth,
      outboxCapacity: outbox.capacity,
      sinkFailures,
      sinks,
    };
    const breaker = sinks[0]?.breaker;
    if (breaker !== undefined) stats.breaker = breaker;
    if (spool !== undefined) {
      stats.spool = {
        bytes: spool.bytes,
        maxBytes: spool.maxBytes,
        segments: spool.segmentCount,
        dropped: spool.dropped,
        expired: spool.expired,
        corruptRecords: spool.corruptRecords,
        oldestAgeMs: spool.oldestAgeMs,
        checkpoints: spool.checkpoints,
        bytesWritten: spool.bytesWritten,
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
    redeliveredSkipped: c.redeliveredSkipped,
    awaitingAck: gate.held,
    outboxDepth,
    deadLetterRecords: deadLetterStore.records,
    deadLetterBytes: deadLetterStore.bytes,
    pipelines,
  };
}

function sinkStats(forwarder: Forwarder): SinkStats {
  const reader = forwarder.reader;
  const sink = forwarder.sink;
  const stats: SinkStats = {
    name: forwarder.name,
    backlogRecords: reader.depth,
    backlogBytes: reader.backlogBytes,
    oldestAgeMs: reader.oldestAgeMs,
    sent: forwarder.sent,
    retries: sink.failures ?? 0,
    dropped: reader.dropped,
    rejected: forwarder.rejected,
    inFlight: forwarder.inFlight,
    concurrency: forwarder.concurrency,
  };
  if (sink.breaker !== undefined) stats.breaker = sink.breaker.stats();
  return stats;
}
