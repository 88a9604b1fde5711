/**
 * @module Setting up the ingest's MQTT.js client: options from the configuration (session,
 * credentials, TLS files, MQTT 5 receive maximum), waiting for the first connection with errors
 * that name the fix, and subscribing with the broker's grants checked.
 */
import { readFileSync } from 'node:fs';
import type { IClientOptions, MqttClient } from 'mqtt';
import type { MqttConfig } from '../config/types.js';
import { IngestConnectError, IngestSubscribeError } from './errors.js';

/** One subscription. */
export interface IngestSubscription {
  filter: string;
  qos: 0 | 1 | 2;
}

function skipMqttDebugLog(): void {}

/** MQTT.js options for the resolved `mqtt` configuration section. */
export function clientOptions(mqtt: MqttConfig): IClientOptions {
  const options: IClientOptions = {
    clientId: mqtt.clientId,
    clean: mqtt.clean,
    protocolVersion: mqtt.protocolVersion,
    keepalive: mqtt.keepaliveSeconds,
    reconnectPeriod: mqtt.reconnectPeriodMs,
    resubscribe: true,
    manualConnect: true,
    // MQTT.js's own debug logging runs ~15 disabled `debug()` checks per packet; a no-op logger
    // removed ~0.25 µs per message of CPU in the sensor-window benchmark profile.
    log: skipMqttDebugLog,
    // mqtt-packet otherwise pre-builds a 2-byte Buffer for each of the 65 536 packet ids on its
    // first write: 6.1 MB of the gateway's 19.6 MB live heap after a benchmark run. The ingest
    // writes its PUBACKs itself (ack-gate.ts), so the cache saved nothing here. The setting is
    // mqtt-packet's and process-wide: the MQTT sink's packets then build their 2-byte ids as
    // they go (a 2-byte allocation per packet, at the sink's far lower packet rate).
    writeCache: false,
  };
  if (mqtt.username !== undefined) options.username = mqtt.username;
  if (mqtt.password !== undefined) options.password = mqtt.password;
  if (mqtt.protocolVersion === 5) options.properties = { receiveMaximum: mqtt.receiveMaximum };
  const tls = mqtt.tls;
  if (tls !== undefined) {
    options.rejectUnauthorized = tls.rejectUnauthorized;
    if (tls.ca !== undefined) options.ca = readPem('mqtt.tls.ca', tls.ca);
    if (tls.cert !== undefined) options.cert = readPem('mqtt.tls.cert', tls.cert);
    if (tls.key !== undefined) options.key = readPem('mqtt.tls.key', tls.key);
  }
  return options;
}

/** Reads a PEM file named by a TLS option. */
function readPem(field: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new IngestConnectError(
      `${field}: cannot read "${path}" (${(error as Error).message}); set ${field} to a readable PEM file`,
      { cause: error },
    );
  }
}

/** Resolves on the first CONNACK; rejects on a refusal or after `timeoutMs`. */
export function waitForConnect(client: MqttClient, url: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let lastError: Error | undefined;
    const cleanup = (): void => {
      clearTimeout(timer);
      client.off('connect', onConnect);
      client.off('error', onError);
    };
    const onConnect = (): void => {
      cleanup();
      resolve();
    };
    const onError = (error: Error & { code?: unknown }): void => {
      lastError = error;
      // A CONNACK refusal (bad credentials, client id refused, unsupported protocol) carries a
      // numeric return code and will not get better by retrying.
      if (typeof error.code === 'number') {
        cleanup();
        reject(
          new IngestConnectError(
            `mqtt.url: the broker at ${url} refused the connection: ${error.message}. Check mqtt.clientId, ` +
              `mqtt.username/password and mqtt.protocolVersion.`,
            { cause: error },
          ),
        );
      }
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(
        new IngestConnectError(
          `mqtt.url: no connection to ${url} within ${timeoutMs} ms` +
            (lastError === undefined ? '' : ` (last error: ${lastError.message})`) +
            '. Check that the broker runs and that mqtt.url (or mqtt.embedded) is right.',
          { cause: lastError },
        ),
      );
    }, timeoutMs);
    client.on('connect', onConnect);
    client.on('error', onError);
  });
}

/** Subscribes every filter and checks the broker granted each. */
export async function subscribe(
  client: MqttClient,
  subscriptions: readonly IngestSubscription[],
): Promise<void> {
  if (subscriptions.length === 0) return;
  const map: Record<string, { qos: 0 | 1 | 2 }> = {};
  for (const { filter, qos } of subscriptions) map[filter] = { qos };
  const granted = await client.subscribeAsync(map);
  for (const grant of granted) {
    if (grant.qos === 128 || (grant.qos as number) > 2) {
      throw new IngestSubscribeError(
        `pipelines[].topics: the broker refused the subscription to "${grant.topic}" ` +
          `(return code ${grant.qos}); check the broker's ACLs for mqtt.clientId/username.`,
      );
    }
  }
}
