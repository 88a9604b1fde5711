/**
 * `/metrics` through the real HTTP API (bearer token) with two sinks, one of them down: the
 * per-sink backlog (records, bytes, age), sent, retries and drops, the adaptive drain's figures,
 * and the size of the dead-letter file, as a user scraping the gateway sees them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SinkConfig } from '../../gateway/config/index.js';
import { makeReadings, publishAll, readingMessages } from '../gateway/helpers/gateway-config.js';
import { startReceiver, type Receiver } from '../gateway/helpers/receiver.js';
import { waitFor } from '../gateway/helpers/wait.js';
import { startApiGateway, type ApiGateway } from './api-fixture.js';
import { metricSample } from '../support/prometheus.js';

describe('GET /metrics with several sinks', () => {
  let api: ApiGateway;
  let down: Receiver;

  beforeAll(async () => {
    down = await startReceiver();
    down.setMode({ kind: 'unavailable' });
    api = await startApiGateway((config) => {
      const pipeline = config.pipelines[0];
      if (pipeline === undefined) throw new Error('no pipeline');
      pipeline.rules = [
        { name: 'threshold', module: 'threshold', config: { field: 'temp', min: -40, max: 125 } },
      ];
      const second = { ...pipeline.sink, name: 'down', url: down.url } as SinkConfig;
      pipeline.sinks = [pipeline.sink, second];
    });
  });

  afterAll(async () => {
    await api.close();
    await down.close();
  });

  async function scrape(): Promise<string> {
    const response = await fetch(`${api.url}/metrics`, {
      headers: { authorization: `Bearer ${api.token}` },
    });
    expect(response.status).toBe(200);
    return response.text();
  }

  it('shows each sink’s backlog, sent, retries and drops, and the dead-letter file’s size', async () => {
    const readings = makeReadings(5, 40, Date.now(), 10);
    const messages = readingMessages(readings);
    // Readings without the field are dead-lettered by the threshold rule.
    const broken = [1, 2, 3].map((i) => ({
      topic: `sensors/broken-${i}/reading`,
      payload: JSON.stringify({ device: `broken-${i}`, ts: Date.now() }),
    }));
    await publishAll(api.gateway.mqttUrl, [...messages, ...broken], { qos: 1 });
    await waitFor(() => api.receiver.recordCount() >= readings.length, {
      what: 'every reading at the live receiver',
    });

    const pipeline = 'test';
    let text = '';
    await waitFor(
      async () => {
        text = await scrape();
        return (
          metricSample(text, 'sluice_dead_letter_records') === broken.length &&
          (metricSample(text, 'sluice_sink_retries_total', { pipeline, sink: 'down' }) ?? 0) > 0
        );
      },
      { what: 'the dead letters written and the down sink retried' },
    );
    const live = { pipeline, sink: 'http' };
    const dead = { pipeline, sink: 'down' };
    expect(metricSample(text, 'sluice_sink_sent_total', live)).toBe(readings.length);
    expect(metricSample(text, 'sluice_sink_backlog_records', live)).toBe(0);
    expect(metricSample(text, 'sluice_sink_backlog_bytes', live)).toBe(0);
    expect(metricSample(text, 'sluice_sink_oldest_age_seconds', live)).toBe(0);
    expect(metricSample(text, 'sluice_sink_sent_total', dead)).toBe(0);
    expect(metricSample(text, 'sluice_sink_backlog_records', dead)).toBe(readings.length);
    expect(metricSample(text, 'sluice_sink_backlog_bytes', dead)).toBeGreaterThan(
      readings.length * 20,
    );
    expect(metricSample(text, 'sluice_sink_oldest_age_seconds', dead)).toBeGreaterThan(0);
    expect(metricSample(text, 'sluice_sink_dropped_total', dead)).toBe(0);
    expect(metricSample(text, 'sluice_sink_in_flight', dead)).toBe(1);
    expect(metricSample(text, 'sluice_sink_concurrency_limit', dead)).toBe(1);
    expect(metricSample(text, 'sluice_sink_rejected_total', dead)).toBe(0);
    expect(metricSample(text, 'sluice_outbox_depth', { pipeline })).toBe(readings.length);
    expect(metricSample(text, 'sluice_dead_letter_bytes')).toBeGreaterThan(broken.length * 50);

    // Upstream back: the backlog drains and the series follow.
    down.setMode({ kind: 'accept' });
    await waitFor(() => down.recordCount() >= readings.length, {
      timeoutMs: 40_000,
      what: 'every reading at the receiver that was down',
    });
    await waitFor(
      async () => {
        text = await scrape();
        return metricSample(text, 'sluice_sink_backlog_records', dead) === 0;
      },
      { what: 'the backlog drained' },
    );
    expect(metricSample(text, 'sluice_sink_sent_total', dead)).toBe(readings.length);
    expect(metricSample(text, 'sluice_sink_backlog_bytes', dead)).toBe(0);
  });

  it('has the per-sink figures in the stats too', () => {
    const stats = api.gateway.stats();
    expect(stats.deadLetterRecords).toBe(3);
    expect(stats.deadLetterBytes).toBeGreaterThan(0);
    expect(stats.pipelines[0]?.sinks.map((sink) => sink.name)).toEqual(['http', 'down']);
    expect(stats.pipelines[0]?.sinks[1]?.retries).toBeGreaterThan(0);
  });
});
