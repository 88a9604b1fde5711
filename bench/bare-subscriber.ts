/**
 * @module The floor of the benchmark: a bare MQTT.js subscriber that receives and discards every
 * message. Forked by `bench/run.ts` with `<url> <topic filter> <qos> <count>`.
 */

import { connect } from 'mqtt';
import { listen, Stopwatch, tell } from './child-protocol.js';

const [url = '', topic = '', qosText = '0', countText = '0'] = process.argv.slice(2);
const qos = Number(qosText) as 0 | 1 | 2;
const count = Number(countText);

const stopwatch = new Stopwatch();
let received = 0;
const client = connect(url, {
  clientId: `bench-bare-${process.pid}`,
  clean: true,
  reconnectPeriod: 0,
});
client.on('error', (error) => tell({ type: 'error', message: error.message }));
client.on('message', () => {
  received += 1;
  if (received === count) tell({ type: 'done', measurement: stopwatch.end(received) });
});
client.on('connect', () => {
  client.subscribe(topic, { qos }, (error) => {
    if (error) tell({ type: 'error', message: error.message });
    else tell({ type: 'ready' });
  });
});
listen((message) => {
  if (message.type === 'start') stopwatch.begin();
  if (message.type === 'close') {
    client.end(false, {}, () => {
      tell({ type: 'closed', extra: { received } });
      process.disconnect?.();
    });
  }
});
