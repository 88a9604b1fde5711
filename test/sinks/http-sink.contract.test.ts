/**
 * The sink contract against HttpSink and a real HTTP receiver (503 while broken).
 */
import { HttpSink } from '../../gateway/sinks/http-sink.js';
import { startReceiver } from '../gateway/helpers/receiver.js';
import { sinkContract } from './contract.js';

sinkContract('HttpSink', async () => {
  const receiver = await startReceiver();
  const sink = new HttpSink({ url: receiver.url, retry: { initialDelayMs: 10, maxDelayMs: 50 } });
  return {
    sink,
    received: async () => receiver.records(),
    failures: () => sink.failures,
    breakUpstream: async () => receiver.setMode({ kind: 'unavailable' }),
    restoreUpstream: async () => receiver.setMode({ kind: 'accept' }),
    close: () => receiver.close(),
  };
});
