/**
 * @module A real Mosquitto broker spawned on a free loopback port, for tests and benchmarks that
 * stop, restart or overload a broker. Uses the `mosquitto` binary installed on the machine.
 */

import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Options of `startMosquitto`. */
export interface MosquittoOptions {
  /** Port to listen on. @default a free port */
  port?: number;
  /** QoS 1/2 messages in flight per client. @default 1000 */
  maxInflightMessages?: number;
  /** Messages queued per client beyond those in flight; 0 = no limit. @default 0 */
  maxQueuedMessages?: number;
  /** Keep sessions and queued messages on disk across restarts (in the broker's own directory). @default false */
  persistence?: boolean;
  /** Extra lines for mosquitto.conf. @default [] */
  extraConfig?: string[];
}

/** A running Mosquitto process. */
export interface Mosquitto {
  readonly port: number;
  readonly url: string;
  /** What the broker logged (errors, warnings, notices), for test diagnostics. */
  log(): string;
  /** Stops the broker (SIGTERM, then SIGKILL after 3 s). Idempotent. */
  stop(): Promise<void>;
  /** Starts the broker again on the same port with the same configuration and directory. */
  restart(): Promise<void>;
  /** Stops the broker and removes its directory. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

const BINARIES = ['/usr/sbin/mosquitto', '/usr/bin/mosquitto', 'mosquitto'];

/** Finds a free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) {
      throw new Error(`mosquitto exited with code ${child.exitCode} before listening on ${port}`);
    }
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline)
      throw new Error(`mosquitto did not listen on ${port} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function binary(): string {
  return BINARIES[0] as string;
}

/** Spawns Mosquitto on a free port and waits until it accepts connections. */
export async function startMosquitto(options: MosquittoOptions = {}): Promise<Mosquitto> {
  const port = options.port ?? (await freePort());
  const dir = await mkdtemp(join(tmpdir(), 'sluice-mosquitto-'));
  // Started as root, Mosquitto drops to the `mosquitto` user: it must be able to write its
  // persistence file here (else it logs "Permission denied" on shutdown and loses the sessions).
  if (options.persistence === true) await chmod(dir, 0o777);
  const lines = [
    `listener ${port} 127.0.0.1`,
    'allow_anonymous true',
    `max_inflight_messages ${options.maxInflightMessages ?? 1000}`,
    `max_queued_messages ${options.maxQueuedMessages ?? 0}`,
    `persistence ${options.persistence === true ? 'true' : 'false'}`,
    `persistence_location ${dir}/`,
    'log_dest stderr',
    'log_type error',
    'log_type warning',
    'log_type notice',
    ...(options.extraConfig ?? []),
  ];
  const configFile = join(dir, 'mosquitto.conf');
  await writeFile(configFile, lines.join('\n') + '\n');

  let child: ChildProcess | undefined;
  let log = '';
  const launch = async (): Promise<void> => {
    const started = spawn(binary(), ['-c', configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
    started.stderr?.setEncoding('utf8');
    started.stderr?.on('data', (chunk: string) => {
      log += chunk;
    });
    child = started;
    await waitForPort(port, started, 10_000);
  };
  const stop = async (): Promise<void> => {
    const running = child;
    child = undefined;
    if (running === undefined || running.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => running.once('exit', () => resolve()));
    running.kill('SIGTERM');
    const timer = setTimeout(() => running.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  };
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await stop();
    await rm(dir, { recursive: true, force: true });
  };

  await launch();
  return {
    port,
    url: `mqtt://127.0.0.1:${port}`,
    log: () => log,
    stop,
    restart: async () => {
      await stop();
      await launch();
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
