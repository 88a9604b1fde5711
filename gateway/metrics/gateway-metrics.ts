/**
 * @module The gateway's Prometheus metrics (prom-client): one registry per gateway whose every
 * series is read when scraped — from `Gateway.stats()` (counters, outbox depths, spool figures)
 * and from each pipeline's per-rule figures (`RuleStats`) and rule instances (memory, restarts).
 * Nothing is updated on the hot path here: the pipelines only bump plain numeric fields once per
 * rule call, and labels and text are built at scrape time.
 */
import { Registry, Summary } from 'prom-client';
import type { GatewayStats } from '../gateway-stats.js';
import type { PartitionFigures } from '../partition/index.js';
import type { Pipeline } from '../pipeline/pipeline.js';
import type { RuleStats } from '../pipeline/rule-stats.js';
import { counter, gauge } from './metric-collectors.js';
import { registerSinkMetrics } from './sink-metrics.js';

/** The quantiles of `sluice_rule_batch_duration_seconds`. */
export const RULE_LATENCY_QUANTILES: readonly number[] = [0.5, 0.99];

/** Bytes in a WebAssembly memory page. */
const WASM_PAGE_BYTES = 65536;

/** Where {@link createGatewayMetrics} reads its figures. */
export interface GatewayMetricsSources {
  /** The gateway's counters and outbox figures now. */
  stats: () => GatewayStats;
  /** The running pipelines (their rule figures and instances). */
  pipelines: readonly Pipeline[];
  /** Pipelines whose rules run on worker threads (memory per partition, timeouts). @default none */
  partitions?: () => readonly PartitionFigures[];
}

/** One rule position, as labelled in the per-rule series. */
interface RulePosition {
  labels: { pipeline: string; rule: string };
  stats: RuleStats;
  memoryBytes: number;
  restarts: number;
}

/**
 * A summary whose quantiles come from the latest batch durations each rule keeps (a ring of
 * `RULE_LATENCY_SAMPLES`), computed when scraped; `_sum` and `_count` cover every batch.
 */
class RuleLatencySummary extends Summary<'pipeline' | 'rule'> {
  readonly #positions: () => RulePosition[];

  constructor(registry: Registry, positions: () => RulePosition[]) {
    super({
      name: 'sluice_rule_batch_duration_seconds',
      help: 'Duration of a rule call on one batch (quantiles over the latest 1024 batches; retries of single events excluded)',
      labelNames: ['pipeline', 'rule'],
      percentiles: [...RULE_LATENCY_QUANTILES],
      registers: [registry],
    });
    this.#positions = positions;
  }

  override async get(): ReturnType<Summary<'pipeline' | 'rule'>['get']> {
    const base = await super.get();
    const values: typeof base.values = [];
    for (const { labels, stats } of this.#positions()) {
      const q = stats.quantiles(RULE_LATENCY_QUANTILES);
      for (let i = 0; i < q.length; i++) {
        values.push({
          labels: { ...labels, quantile: RULE_LATENCY_QUANTILES[i] } as typeof labels,
          value: (q[i] as number) / 1000,
        });
      }
      values.push({
        metricName: 'sluice_rule_batch_duration_seconds_sum',
        labels,
        value: stats.sampledMs / 1000,
      });
      values.push({
        metricName: 'sluice_rule_batch_duration_seconds_count',
        labels,
        value: stats.sampled,
      });
    }
    return { ...base, values };
  }
}

/**
 * Builds the registry of one gateway: gateway counters (`sluice_received_total`, …), the
 * dead-letter file's size, outbox and spool gauges by pipeline, per-sink series (sink-metrics.ts),
 * and per-rule series labelled by pipeline and rule (calls, events
 * in/out, errors by code, CPU time, batch duration quantiles, memory pages, restarts).
 * Serve it with `registry.metrics()` and `registry.contentType`.
 */
export function createGatewayMetrics(sources: GatewayMetricsSources): Registry {
  const registry = new Registry();
  // One scrape reads the stats once, however many series use them.
  let cached: GatewayStats | undefined;
  let cachedAt = -1;
  const stats = (): GatewayStats => {
    const now = performance.now();
    if (cached === undefined || now - cachedAt > 50) {
      cached = sources.stats();
      cachedAt = now;
    }
    return cached;
  };

  const totals: [keyof GatewayStats, string, string][] = [
    ['received', 'sluice_received_total', 'MQTT messages accepted into a pipeline'],
    ['unrouted', 'sluice_unrouted_total', 'MQTT messages on topics no pipeline matches'],
    ['processed', 'sluice_processed_total', 'Events run through a rule chain'],
    ['batches', 'sluice_batches_total', 'Batches processed'],
    ['outputRecords', 'sluice_output_records_total', 'Output records accepted by the outboxes'],
    ['sent', 'sluice_sent_total', 'Output records accepted upstream'],
    ['deadLetters', 'sluice_dead_letters_total', 'Entries written to the dead-letter file'],
    ['commands', 'sluice_commands_total', 'Device commands published'],
    [
      'ruleTraps',
      'sluice_rule_failures_total',
      'Rule calls that trapped or returned a malformed frame',
    ],
    ['qos0Dropped', 'sluice_qos0_dropped_total', 'QoS 0 messages dropped (only at shutdown)'],
    [
      'rejected',
      'sluice_rejected_total',
      'Output records refused for good upstream (dead-lettered)',
    ],
    [
      'redeliveredSkipped',
      'sluice_redelivered_skipped_total',
      'Redelivered QoS 1/2 messages already in the restored rule state (acknowledged, skipped)',
    ],
  ];
  for (const [field, name, help] of totals) {
    counter(registry, name, help, [], (set) => set({}, stats()[field] as number));
  }
  gauge(
    registry,
    'sluice_awaiting_ack',
    'QoS 1/2 messages whose acknowledgement waits for their batch to be accepted',
    [],
    (set) => set({}, stats().awaitingAck),
  );
  gauge(
    registry,
    'sluice_dead_letter_records',
    'Dead letters the dead-letter file holds',
    [],
    (set) => set({}, stats().deadLetterRecords),
  );
  gauge(registry, 'sluice_dead_letter_bytes', 'Bytes of the dead-letter file', [], (set) =>
    set({}, stats().deadLetterBytes),
  );
  registerSinkMetrics(registry, stats);

  const perPipeline = (
    name: string,
    help: string,
    kind: 'counter' | 'gauge',
    read: (p: GatewayStats['pipelines'][number]) => number | undefined,
  ): void => {
    (kind === 'counter' ? counter : gauge)(registry, name, help, ['pipeline'], (set) => {
      for (const p of stats().pipelines) {
        const value = read(p);
        if (value !== undefined) set({ pipeline: p.name }, value);
      }
    });
  };
  perPipeline(
    'sluice_outbox_depth',
    'Output records in the outbox, not yet accepted upstream',
    'gauge',
    (p) => p.outboxDepth,
  );
  perPipeline(
    'sluice_outbox_peak_depth',
    'The highest outbox depth reached',
    'gauge',
    (p) => p.outboxPeak,
  );
  perPipeline('sluice_outbox_capacity', 'The outbox bound in records', 'gauge', (p) =>
    Number.isFinite(p.outboxCapacity) ? p.outboxCapacity : undefined,
  );
  perPipeline(
    'sluice_sink_failures_total',
    'Failed (retried or refused) sink send attempts',
    'counter',
    (p) => p.sinkFailures,
  );
  perPipeline(
    'sluice_spool_bytes',
    'Bytes in the disk spool not yet accepted upstream',
    'gauge',
    (p) => p.spool?.bytes,
  );
  perPipeline('sluice_spool_max_bytes', 'The disk spool budget', 'gauge', (p) => p.spool?.maxBytes);
  perPipeline(
    'sluice_spool_segments',
    'Segment files of the disk spool',
    'gauge',
    (p) => p.spool?.segments,
  );
  perPipeline(
    'sluice_spool_dropped_total',
    'Records dropped by the drop-oldest policy',
    'counter',
    (p) => p.spool?.dropped,
  );
  perPipeline(
    'sluice_spool_expired_total',
    'Records dropped after spool.maxAgeMs',
    'counter',
    (p) => p.spool?.expired,
  );
  perPipeline(
    'sluice_spool_corrupt_records_total',
    'Records lost to on-disk corruption',
    'counter',
    (p) => p.spool?.corruptRecords,
  );
  perPipeline(
    'sluice_spool_checkpoints_total',
    'Rule-state checkpoints (state entries) written to the spool',
    'counter',
    (p) => p.spool?.checkpoints,
  );
  perPipeline(
    'sluice_spool_written_bytes_total',
    'Bytes written to the spool files (records and state entries)',
    'counter',
    (p) => p.spool?.bytesWritten,
  );
  perPipeline(
    'sluice_spool_oldest_age_seconds',
    'Age of the oldest record not yet sent (upper bound)',
    'gauge',
    (p) => (p.spool === undefined ? undefined : p.spool.oldestAgeMs / 1000),
  );

  const positions = (): RulePosition[] => {
    const list: RulePosition[] = [];
    for (const pipeline of sources.pipelines) {
      const rules = pipeline.rules;
      const figures = pipeline.ruleStats;
      for (let i = 0; i < rules.length; i++) {
        const rule = rules[i];
        const ruleStats = figures[i];
        if (rule === undefined || ruleStats === undefined) continue;
        list.push({
          labels: { pipeline: pipeline.name, rule: rule.name },
          stats: ruleStats,
          memoryBytes: rule.memoryBytes,
          restarts: ruleStats.restartsBefore + rule.restarts,
        });
      }
    }
    return list;
  };
  const perRule = (
    name: string,
    help: string,
    kind: 'counter' | 'gauge',
    read: (position: RulePosition) => number,
  ): void => {
    (kind === 'counter' ? counter : gauge)(registry, name, help, ['pipeline', 'rule'], (set) => {
      for (const position of positions()) set(position.labels, read(position));
    });
  };
  perRule(
    'sluice_rule_calls_total',
    'Calls into the rule (process, tick, flush; retries of single events included)',
    'counter',
    (r) => r.stats.calls,
  );
  perRule(
    'sluice_rule_events_in_total',
    'Records passed to the rule',
    'counter',
    (r) => r.stats.eventsIn,
  );
  perRule(
    'sluice_rule_events_out_total',
    'Records the rule returned',
    'counter',
    (r) => r.stats.eventsOut,
  );
  perRule(
    'sluice_rule_cpu_seconds_total',
    'Time spent inside the rule calls (on the gateway thread, or summed over the rule workers)',
    'counter',
    (r) => r.stats.callMs / 1000,
  );
  perRule(
    'sluice_rule_memory_pages',
    'Pages (64 KiB) of the rule instance memory (0 while discarded after a trap)',
    'gauge',
    (r) => r.memoryBytes / WASM_PAGE_BYTES,
  );
  perRule(
    'sluice_rule_restarts_total',
    'Rule instances re-created after a trap or ABI violation',
    'counter',
    (r) => r.restarts,
  );
  counter(
    registry,
    'sluice_rule_errors_total',
    'Failed rule calls by error code (RULE_TRAP, RULE_OUTPUT_INVALID, FRAME_INVALID, RULE_RESTORE_FAILED)',
    ['pipeline', 'rule', 'code'],
    (set) => {
      for (const { labels, stats: figures } of positions()) {
        for (const [code, count] of figures.errors) set({ ...labels, code }, count);
      }
    },
  );
  new RuleLatencySummary(registry, positions);
  if (sources.partitions !== undefined) partitionSeries(registry, sources.partitions);
  return registry;
}

/** Per-partition memory of each rule, and the watchdog's figures, of the rule worker pools. */
function partitionSeries(registry: Registry, sources: () => readonly PartitionFigures[]): void {
  const labels = ['pipeline', 'rule', 'partition'] as const;
  gauge(
    registry,
    'sluice_rule_partition_memory_pages',
    'Pages (64 KiB) of a rule instance memory in one worker partition (0 while discarded after a trap)',
    labels,
    (set) => {
      for (const chain of sources()) {
        for (const m of chain.memory()) {
          set({ pipeline: chain.pipeline, rule: m.rule, partition: String(m.partition) }, m.pages);
        }
      }
    },
  );
  gauge(
    registry,
    'sluice_rule_partition_memory_max_pages',
    'Declared maximum pages of a rule memory (growth past it fails: the rule traps)',
    labels,
    (set) => {
      for (const chain of sources()) {
        for (const m of chain.memory()) {
          set(
            { pipeline: chain.pipeline, rule: m.rule, partition: String(m.partition) },
            m.maximumPages,
          );
        }
      }
    },
  );
  counter(
    registry,
    'sluice_rule_timeouts_total',
    'Calls into a partition of rules that overran ruleTimeoutMs (the worker was replaced)',
    ['pipeline'],
    (set) => {
      for (const chain of sources()) set({ pipeline: chain.pipeline }, chain.timeouts);
    },
  );
  counter(
    registry,
    'sluice_rule_worker_restarts_total',
    'Rule worker threads replaced after a timeout or a crash',
    ['pipeline'],
    (set) => {
      for (const chain of sources()) set({ pipeline: chain.pipeline }, chain.workerRestarts);
    },
  );
}
