/**
 * @module Test helper: a TCP proxy in front of a broker whose connections a test can cut, to
 * drop the gateway's MQTT connection without stopping the broker.
 */
import { connect, createServer } from 'node:net';
import type { Socket } from 'node:net';

/** A running proxy. */
export interface TcpProxy {
  readonly url: string;
  /** Connections accepted so far. */
  readonly connections: () => number;
  /** Destroys every open connection (both sides). */
  cut(): void;
  close(): Promise<void>;
}

/** Proxies 127.0.0.1:<free port> to 127.0.0.1:`targetPort`. */
export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  const open = new Set<Socket>();
  let connections = 0;
  const server = createServer((client) => {
    connections++;
    const upstream = connect(targetPort, '127.0.0.1');
    open.add(client);
    open.add(upstream);
    const drop = (): void => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    url: `mqtt://127.0.0.1:${port}`,
    connections: () => connections,
    cut() {
      for (const socket of open) socket.destroy();
      open.clear();
    },
    async close() {
      for (const socket of open) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
