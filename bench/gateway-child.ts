/**
 * @module The gateway side of the benchmark: runs a Sluice gateway in this process with the
 * configuration file it is given, and reports when `count` events have gone through the rule
 * chain. Forked by `bench/run.ts` with `<config file> <count>`.
 */

import { loadConfig } from '../gateway/config/index.js';
import { Gateway } from '../gateway/gateway.js';
import { createLogger } from '../gateway/log.js';
import { listen, Stopwatch, tell } from './child-protocol.js';

const [configFile = '', countText = '0'] = process.argv.slice(2);
const count = Number(countText);
// Polling the counters costs ~100 wake-ups a second, the same for every run.
const POLL_MS = 10;

const config = await loadConfig(configFile);
const gateway = await Gateway.start(config, { logger: createLogger(config.log.level) });
const stopwatch = new Stopwatch();

const poll = (): void => {
  const processed = gateway.stats().processed;
  if (processed >= count) {
    tell({ type: 'done', measurement: stopwatch.end(processed) });
    if (process.env.SLUICE_BENCH_MEMORY !== undefined) console.error(process.memoryUsage());
  } else setTimeout(poll, POLL_MS);
};

listen((message) => {
  if (message.type === 'start') {
    stopwatch.begin();
    poll();
  }
  if (message.type === 'close') {
    void gateway.close().then(() => {
      const { pipelines: _pipelines, ...totals } = gateway.stats();
      tell({ type: 'closed', extra: totals });
      process.disconnect?.();
    });
  }
});
tell({ type: 'ready' });
