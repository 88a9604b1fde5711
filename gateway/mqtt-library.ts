/**
 * @module MQTT.js, loaded with `require` rather than `import`.
 *
 * MQTT.js is a CommonJS package. When ES modules import a CommonJS package, Node.js first scans
 * the entry file and every file it re-exports for export names (cjs-module-lexer). For MQTT.js
 * that scan runs long enough for V8 to optimise the lexer's `parseSource` twice (OSR, then
 * regular; ~50–75 ms of TurboFan each). The compiler's memory stays resident afterwards. On
 * Node.js 20, `import 'mqtt'` measured 8–12 MB more resident memory than `require('mqtt')`:
 * 60–65 MB against 52–53 MB for a process that loads only MQTT.js. The gateway's peak RSS budget
 * is 80 MB, so every module of the gateway loads MQTT.js through this one.
 *
 * `createRequire` is in Deno's Node.js compatibility layer as well.
 */
import { createRequire } from 'node:module';

type MqttLibrary = typeof import('mqtt');

const require = createRequire(import.meta.url);
const mqtt = require('mqtt') as MqttLibrary;

/** MQTT.js's `connect`. */
export const connect: MqttLibrary['connect'] = mqtt.connect;
