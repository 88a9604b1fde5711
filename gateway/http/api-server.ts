/**
 * @module The API server: the Hono app on Node's HTTP (or HTTPS, when `api.tls` names a
 * certificate and key) server via `@hono/node-server`, the token loaded or generated, the rule
 * store opened under `<dataDir>/rules`. `close()` is idempotent.
 */
import { readFile } from 'node:fs/promises';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createAdaptorServer } from '@hono/node-server';
import type { ServerType } from '@hono/node-server';
import type { Logger } from 'pino';
import type { Config } from '../config/types.js';
import type { Pipeline } from '../pipeline/pipeline.js';
import { AuditLog } from '../rule-store/audit-log.js';
import { RuleStore } from '../rule-store/rule-store.js';
import { ModuleSignatureCheck } from '../rule-store/signature.js';
import { TokenCheck, loadApiToken } from './api-token.js';
import type { ApiToken } from './api-token.js';
import { createApiApp } from './app.js';
import type { MetricsSource } from './app.js';
import { ApiListenError } from './errors.js';

/** Options of {@link ApiServer.start}. */
export interface ApiServerOptions {
  logger: Logger;
  /** The running pipelines, whose rules can be swapped. @default none */
  pipelines?: readonly Pipeline[];
  /** Served as Prometheus text at `GET /metrics` (bearer token required). @default no `/metrics` route */
  metrics?: MetricsSource;
  /** Called once when a token was generated (so the operator can be shown it). @default log the file's path */
  onTokenGenerated?: (token: string, file: string) => void;
}

/** The running API. */
export class ApiServer {
  readonly #server: ServerType;
  readonly #url: string;
  readonly #store: RuleStore;
  #closing: Promise<void> | undefined;

  private constructor(server: ServerType, url: string, store: RuleStore) {
    this.#server = server;
    this.#url = url;
    this.#store = store;
  }

  /**
   * Opens the rule store, loads or generates the token, and listens on `api.host:api.port`.
   * @throws ApiListenError (port taken, TLS files unreadable), RuleStoreCorruptError
   */
  static async start(config: Config, options: ApiServerOptions): Promise<ApiServer> {
    const { api } = config;
    const logger = options.logger;
    const store = await RuleStore.open(join(config.dataDir, 'rules'));
    const audit = new AuditLog(join(store.dir, 'audit.jsonl'));
    const token: ApiToken = await loadApiToken(config.dataDir, api.token);
    if (token.source === 'generated') {
      const file = token.file as string;
      if (options.onTokenGenerated === undefined) {
        logger.warn(
          { file },
          'no api.token configured: generated an API token and wrote it to the file',
        );
      } else {
        options.onTokenGenerated(token.token, file);
      }
    }
    const pipelines = options.pipelines ?? [];
    const inUse = (): ReadonlySet<string> => {
      const hashes = new Set<string>();
      for (const pipeline of pipelines)
        for (const rule of pipeline.rules) hashes.add(rule.module.hash);
      return hashes;
    };
    const signatures =
      api.signingKey === undefined ? undefined : await ModuleSignatureCheck.create(api.signingKey);
    const app = createApiApp({
      store,
      signatures,
      audit,
      token: new TokenCheck(token.token),
      maxBodyBytes: api.maxBodyBytes,
      limits: {
        maxModuleBytes: config.limits.ruleModuleBytes,
        maxMemoryBytes: config.limits.ruleMemoryBytes,
        initTimeoutMs: config.limits.ruleInitTimeoutMs,
      },
      modulesInUse: inUse,
      pipelines,
      metrics: options.metrics,
      logger,
    });
    let server: ServerType;
    if (api.tls === undefined) {
      server = createAdaptorServer({ fetch: app.fetch });
    } else {
      let cert: Buffer;
      let key: Buffer;
      try {
        [cert, key] = await Promise.all([readFile(api.tls.cert), readFile(api.tls.key)]);
      } catch (error) {
        throw new ApiListenError(
          `api.tls: cannot read the certificate or key (${(error as Error).message}); set api.tls.cert and api.tls.key to PEM files`,
          { cause: error },
        );
      }
      server = createAdaptorServer({
        fetch: app.fetch,
        createServer: createHttpsServer,
        serverOptions: { cert, key },
      });
    }
    await new Promise<void>((resolve, reject) => {
      const onError = (error: NodeJS.ErrnoException): void => {
        reject(
          new ApiListenError(
            error.code === 'EADDRINUSE'
              ? `api.port: ${api.port} on ${api.host} is in use (stop what uses it, or set api.port to another port, 0 for any free one)`
              : `api: cannot listen on ${api.host}:${api.port} (${error.message})`,
            { cause: error },
          ),
        );
      };
      server.once('error', onError);
      server.listen(api.port, api.host, () => {
        server.off('error', onError);
        resolve();
      });
    });
    const address = server.address() as AddressInfo;
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    const url = `${api.tls === undefined ? 'http' : 'https'}://${host}:${address.port}`;
    logger.info({ url, tls: api.tls !== undefined }, 'API listening');
    return new ApiServer(server, url, store);
  }

  /** Base URL, e.g. `http://127.0.0.1:8686`. */
  get url(): string {
    return this.#url;
  }

  /** The rule store the API serves. */
  get store(): RuleStore {
    return this.#store;
  }

  /** Stops listening and closes open connections. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      const server = this.#server as { closeAllConnections?: () => void };
      server.closeAllConnections?.();
    });
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
