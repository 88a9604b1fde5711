/**
 * @module One simulator connection to the broker: publishes without awaiting each message and
 * says when it can take more, from the MQTT.js publish callbacks (QoS 0: the packet was written
 * or the socket drained; QoS 1/2: the broker acknowledged) and the socket's `writableNeedDrain`.
 */

import type { IClientOptions, IClientPublishOptions, MqttClient } from 'mqtt';
import { connect } from '../mqtt-library.js';
import { SimulatorConnectError } from './errors.js';

/** Options of `Connection.open`. */
export interface ConnectionOptions {
  url: string;
  clientId: string;
  protocolVersion: 4 | 5;
  qos: 0 | 1 | 2;
  /** Unacknowledged QoS 1/2 publishes allowed (lowered to the broker's receive maximum). */
  maxInflight: number;
  connectTimeoutMs: number;
  username: string | undefined;
  password: string | undefined;
  /** Called when the connection may take more messages after having been full. */
  onReady: () => void;
}

/** A connected MQTT client with flow control; see the module comment. */
export class Connection {
  readonly client: MqttClient;
  /** Publishes whose callback has not fired yet. */
  inflight = 0;
  /** Publishes that completed (written for QoS 0, acknowledged for QoS 1/2). */
  sent = 0;
  /** Publishes whose callback reported an error. */
  failed = 0;
  /** The last error the client reported, if any. */
  lastError: Error | undefined;
  #limit: number;
  readonly #publishOptions: IClientPublishOptions;
  readonly #onReady: () => void;
  // One callback shared by every publish: no closure per message.
  readonly #done = (error?: Error): void => {
    this.inflight--;
    if (error) {
      this.failed++;
      this.lastError = error;
    } else {
      this.sent++;
    }
    if (this.inflight === this.#limit - 1 || this.inflight === 0) this.#onReady();
  };

  private constructor(client: MqttClient, options: ConnectionOptions) {
    this.client = client;
    this.#limit = options.qos === 0 ? Number.MAX_SAFE_INTEGER : options.maxInflight;
    this.#publishOptions = { qos: options.qos };
    this.#onReady = options.onReady;
  }

  /** Connects, resolving once the broker accepted the connection. @throws SimulatorConnectError */
  static async open(options: ConnectionOptions): Promise<Connection> {
    const clientOptions: IClientOptions = {
      clientId: options.clientId,
      protocolVersion: options.protocolVersion,
      clean: true,
      reconnectPeriod: 1000,
      connectTimeout: options.connectTimeoutMs,
      keepalive: 30,
    };
    if (options.username !== undefined) clientOptions.username = options.username;
    if (options.password !== undefined) clientOptions.password = options.password;
    const client = connect(options.url, clientOptions);
    const connection = new Connection(client, options);
    client.on('error', (error) => {
      connection.lastError = error;
    });
    client.on('connect', (connack) => {
      const brokerMaximum = connack.properties?.receiveMaximum;
      if (options.qos > 0 && brokerMaximum !== undefined) {
        connection.#limit = Math.min(options.maxInflight, brokerMaximum);
      }
      client.stream.on('drain', options.onReady);
      options.onReady();
    });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => fail(new Error(`no CONNACK within ${options.connectTimeoutMs} ms`)),
        options.connectTimeoutMs,
      );
      const fail = (error: Error): void => {
        clearTimeout(timer);
        client.off('connect', ok);
        client.end(true);
        reject(
          new SimulatorConnectError(
            options.url,
            `could not connect to ${options.url}: ${error.message} (is a broker running there? ` +
              `\`sluice start\` runs one on mqtt://127.0.0.1:1883; or pass --url)`,
            { cause: error },
          ),
        );
      };
      const ok = (): void => {
        clearTimeout(timer);
        client.off('error', fail);
        resolve();
      };
      client.once('connect', ok);
      client.once('error', fail);
    });
    return connection;
  }

  /** Whether a publish now would neither exceed the in-flight limit nor overfill the socket. */
  get ready(): boolean {
    return (
      this.client.connected && this.inflight < this.#limit && !this.client.stream.writableNeedDrain
    );
  }

  /** Hands one message to MQTT.js; completion is counted in `sent`/`failed`. */
  publish(topic: string, payload: Buffer): void {
    this.inflight++;
    this.client.publish(topic, payload, this.#publishOptions, this.#done);
  }

  /** Disconnects: cleanly (buffered packets flushed first), or at once when `force`. */
  async close(force = false): Promise<void> {
    await this.client.endAsync(force);
  }
}
