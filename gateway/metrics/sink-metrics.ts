/**
 * @module The per-sink series of `/metrics`, labelled by pipeline and sink: backlog (records,
 * bytes, age of the oldest record), records sent, retried attempts, drops, refusals, and the
 * adaptive drain's batches in flight and limit. Read from `Gateway.stats()` when scraped.
 */
import type { Registry } from 'prom-client';
import type { GatewayStats, SinkStats } from '../gateway-stats.js';
import { counter, gauge } from './metric-collectors.js';

type SinkSeries = [name: string, help: string, read: (sink: SinkStats) => number];

const GAUGES: SinkSeries[] = [
  [
    'sluice_sink_backlog_records',
    'Output records this sink has not had accepted upstream yet (in flight included)',
    (s) => s.backlogRecords,
  ],
  ['sluice_sink_backlog_bytes', 'Bytes of those records', (s) => s.backlogBytes],
  [
    'sluice_sink_oldest_age_seconds',
    'Age of the oldest record this sink has not sent yet (an upper bound with the spool)',
    (s) => s.oldestAgeMs / 1000,
  ],
  ['sluice_sink_in_flight', 'Batches in flight to this sink now', (s) => s.inFlight],
  [
    'sluice_sink_concurrency_limit',
    "The adaptive drain's limit of batches in flight to this sink",
    (s) => s.concurrency,
  ],
];

const COUNTERS: SinkSeries[] = [
  ['sluice_sink_sent_total', "Output records this sink's upstream accepted", (s) => s.sent],
  [
    'sluice_sink_retries_total',
    'Failed send attempts of this sink (retried or refused)',
    (s) => s.retries,
  ],
  [
    'sluice_sink_dropped_total',
    'Records dropped before this sink sent them (spool drop-oldest or maxAgeMs)',
    (s) => s.dropped,
  ],
  [
    'sluice_sink_rejected_total',
    "Records this sink's upstream refused for good (dead-lettered)",
    (s) => s.rejected,
  ],
];

/** Registers the per-sink series in `registry`, reading `stats()` when scraped. */
export function registerSinkMetrics(registry: Registry, stats: () => GatewayStats): void {
  for (const [kind, series] of [
    ['gauge', GAUGES],
    ['counter', COUNTERS],
  ] as const) {
    for (const [name, help, read] of series) {
      (kind === 'counter' ? counter : gauge)(registry, name, help, ['pipeline', 'sink'], (set) => {
        for (const p of stats().pipelines) {
          for (const sink of p.sinks) set({ pipeline: p.name, sink: sink.name }, read(sink));
        }
      });
    }
  }
}
