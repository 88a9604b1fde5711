/**
 * @module The embedded MQTT broker (aedes) that Sluice runs when no `mqtt.url` is configured, so
 * that an edge box needs no external service. aedes 1.2 speaks MQTT 3.1.1 only: MQTT 5 clients
 * are refused, so Sluice refuses `protocolVersion: 5` with the embedded broker at start.
 * Sessions and queued QoS 1/2 messages live in memory: they survive client reconnects, not a
 * restart of the gateway.
 */
import { createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import type { Aedes } from 'aedes';
import type { Logger } from 'pino';
import { pino } from 'pino';
import { ConfigError } from '../config/errors.js';
import { BrokerPortInUseError, BrokerStartError } from './errors.js';

/** Options of {@link EmbeddedBroker.start}. */
export interface EmbeddedBrokerOptions {
  /** Interface to listen on. @default '127.0.0.1' */
  host?: string;
  /** TCP port; 0 picks a free one. @default 1883 */
  port?: number;
  /** The protocol version the gateway's clients will speak; 5 is refused. @default 4 */
  protocolVersion?: 4 | 5;
  /** @default a silent logger */
  logger?: Logger;
}

interface ResolvedEmbeddedBrokerOptions {
  host: string;
  port: number;
  protocolVersion: 4 | 5;
  logger: Logger;
}

/** Fills the defaults of {@link EmbeddedBrokerOptions} and validates them. */
export function resolveEmbeddedBrokerOptions(
  options: EmbeddedBrokerOptions = {},
): ResolvedEmbeddedBrokerOptions {
  const port = options.port ?? 1883;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new BrokerStartError(
      `mqtt.embedded.port: ${String(port)} is not a TCP port (expected an integer 0..65535)`,
    );
  }
  return {
    host: options.host ?? '127.0.0.1',
    port,
    protocolVersion: options.protocolVersion ?? 4,
    logger: options.logger ?? pino({ level: 'silent' }),
  };
}

/** A running aedes broker on a TCP listener. */
export class EmbeddedBroker {
  readonly #aedes: Aedes;
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  readonly #host: string;
  readonly #port: number;
  #closing: Promise<void> | undefined;

  private constructor(aedes: Aedes, server: Server, sockets: Set<Socket>, host: string) {
    this.#aedes = aedes;
    this.#server = server;
    this.#sockets = sockets;
    this.#host = host;
    const address = server.address();
    this.#port = typeof address === 'object' && address !== null ? address.port : 0;
  }

  /**
   * Starts the broker and resolves once it listens.
   * @throws {ConfigError} when `protocolVersion` is 5.
   * @throws {BrokerPortInUseError} when the port is taken.
   */
  static async start(options: EmbeddedBrokerOptions = {}): Promise<EmbeddedBroker> {
    const { host, port, protocolVersion, logger } = resolveEmbeddedBrokerOptions(options);
    if (protocolVersion === 5) {
      throw new ConfigError([
        {
          path: 'mqtt.protocolVersion',
          message:
            'mqtt.protocolVersion: 5 is not supported by the embedded broker (aedes 1.2 speaks ' +
            'MQTT 3.1.1 only); set mqtt.protocolVersion to 4, or set mqtt.url to an MQTT 5 ' +
            'broker (Mosquitto, EMQX, HiveMQ)',
        },
      ]);
    }
    // Loaded only when the embedded broker runs: aedes adds ~13 MB of RSS to a gateway that
    // connects to an external broker instead.
    const { Aedes: AedesBroker } = await import('aedes');
    const aedes = await AedesBroker.createBroker({
      // MQTT.js's default and Sluice's `sluice-<hostname>` ids are often longer than 23.
      maxClientsIdLength: 256,
      // Sluice stops reading on purpose while upstream is slow (backpressure); aedes's default
      // 60 s drain timeout would disconnect the gateway's own subscriber for doing so.
      drainTimeout: 0,
    });
    aedes.on('clientError', (client, error) => {
      logger.debug({ client: client.id, err: error }, 'embedded broker: client error');
    });
    aedes.on('connectionError', (_client, error) => {
      logger.debug({ err: error }, 'embedded broker: connection error');
    });
    const sockets = new Set<Socket>();
    const server = createServer((socket) => {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
      aedes.handle(socket);
    });
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (error) {
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EADDRINUSE') throw new BrokerPortInUseError(host, port, { cause: error });
      throw new BrokerStartError(
        `mqtt.embedded: cannot listen on ${host}:${port} (${(error as Error).message}). ` +
          `Set mqtt.embedded.host/port to an address this process may bind, or set mqtt.url.`,
        { cause: error },
      );
    }
    server.on('error', (error) => logger.error({ err: error }, 'embedded broker: server error'));
    const broker = new EmbeddedBroker(aedes, server, sockets, host);
    logger.info({ host, port: broker.port }, 'embedded MQTT broker listening (MQTT 3.1.1)');
    return broker;
  }

  /** The port the broker listens on (the chosen one when started with port 0). */
  get port(): number {
    return this.#port;
  }

  /** The interface the broker listens on. */
  get host(): string {
    return this.#host;
  }

  /** `mqtt://host:port` for clients. */
  get url(): string {
    const host = this.#host.includes(':') ? `[${this.#host}]` : this.#host;
    return `mqtt://${host}:${this.#port}`;
  }

  /** Disconnects every client and stops listening. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    const serverClosed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    await new Promise<void>((resolve) => this.#aedes.close(() => resolve()));
    for (const socket of this.#sockets) socket.destroy();
    await serverClosed;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
