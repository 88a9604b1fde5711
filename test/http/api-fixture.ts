/**
 * @module Test helper: a real gateway (embedded broker on a free port, real upstream receiver)
 * with the HTTP API on a free port, its log lines captured, and small request helpers.
 */
import { rm } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { Gateway } from '../../gateway/gateway.js';
import type { Config } from '../../gateway/config/index.js';
import { tempDir, testConfig } from '../gateway/helpers/gateway-config.js';
import { startReceiver } from '../gateway/helpers/receiver.js';
import type { Receiver } from '../gateway/helpers/receiver.js';

/** A gateway with its API, for one suite. */
export interface ApiGateway {
  gateway: Gateway;
  receiver: Receiver;
  dir: string;
  config: Config;
  url: string;
  token: string;
  /** Log lines (parsed JSON) written so far. */
  logs: Record<string, unknown>[];
  /** Closes the gateway and starts a new one on the same data directory and configuration. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

/** Starts a receiver and a gateway with `api.enabled` on a free port (token generated). */
export async function startApiGateway(
  adjust: (config: Config) => void = () => {},
  options: { workerEntry?: URL } = {},
): Promise<ApiGateway> {
  const receiver = await startReceiver();
  const dir = await tempDir();
  const config = testConfig({ dataDir: dir, sinkUrl: receiver.url });
  config.api = { ...config.api, enabled: true, host: '127.0.0.1', port: 0 };
  adjust(config);
  const logs: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line !== '') logs.push(JSON.parse(line) as Record<string, unknown>);
      }
      callback();
    },
  });
  const logger = pino({ level: 'info' }, stream);
  let token = '';
  const start = (): Promise<Gateway> =>
    Gateway.start(config, {
      logger,
      ...(options.workerEntry === undefined ? {} : { workerEntry: options.workerEntry }),
      onApiTokenGenerated: (generated) => {
        token = generated;
      },
    });
  const fixture: ApiGateway = {
    gateway: await start(),
    receiver,
    dir,
    config,
    url: '',
    token: '',
    logs,
    async restart() {
      await fixture.gateway.close();
      fixture.gateway = await start();
      fixture.url = fixture.gateway.apiUrl as string;
    },
    async close() {
      await fixture.gateway.close();
      await receiver.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
  fixture.url = fixture.gateway.apiUrl as string;
  fixture.token = config.api.token ?? token;
  return fixture;
}

/** A request to the API with the bearer `token` (none when undefined). */
export async function call(
  api: { url: string },
  method: string,
  path: string,
  options: { token?: string | undefined; body?: Uint8Array; headers?: Record<string, string> } = {},
): Promise<{ status: number; json: Record<string, unknown> }> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token !== undefined) headers['authorization'] = `Bearer ${options.token}`;
  const response = await fetch(`${api.url}${path}`, {
    method,
    headers,
    ...(options.body === undefined ? {} : { body: options.body as Uint8Array<ArrayBuffer> }),
  });
  const text = await response.text();
  return {
    status: response.status,
    json: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>),
  };
}

/** The `error` object of a failed request's JSON body. */
export function errorOf(json: Record<string, unknown>): {
  code: string;
  message: string;
  reason?: string;
} {
  return json['error'] as { code: string; message: string; reason?: string };
}
