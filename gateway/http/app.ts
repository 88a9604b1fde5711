/**
 * @module The API as a Hono app: `/healthz` (public), then bearer-token authentication on
 * everything else, the request body limit, the versioned routes under `/v1`, Prometheus text at
 * `/metrics`, and JSON errors for every failure (statuses from `error-status.ts`).
 *
 * `/metrics` needs the bearer token like every other route: the per-rule series name pipelines
 * and rules (an inventory of what runs) and the API may listen beyond loopback. Prometheus sends
 * the token with `authorization: { credentials_file: <dataDir>/api-token }` in the scrape config.
 */
import { Hono } from 'hono';
import type { Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { Logger } from 'pino';
import type { TokenCheck } from './api-token.js';
import { bearerAuth } from './auth.js';
import { errorBody, statusOf } from './error-status.js';
import { ApiBodyTooLargeError, ApiRouteNotFoundError } from './errors.js';
import { pipelineRoutes } from './pipeline-routes.js';
import { ruleRoutes } from './rule-routes.js';
import type { RuleRoutesOptions } from './rule-routes.js';
import type { Pipeline } from '../pipeline/pipeline.js';

/** A metrics registry (a prom-client `Registry` fits). */
export interface MetricsSource {
  /** The `Content-Type` of the text. */
  readonly contentType: string;
  /** The metrics as Prometheus exposition text. */
  metrics(): Promise<string>;
}

/** Options of {@link createApiApp}. */
export interface ApiAppOptions extends Omit<RuleRoutesOptions, 'logger'> {
  token: TokenCheck;
  /** config `api.maxBodyBytes` */
  maxBodyBytes: number;
  /** The running pipelines (for activation). */
  pipelines: readonly Pipeline[];
  /** Served at `GET /metrics`. @default no `/metrics` route */
  metrics?: MetricsSource | undefined;
  logger: Logger;
}

/** Builds the API app (not yet listening). */
export function createApiApp(options: ApiAppOptions): Hono {
  const { logger } = options;
  const app = new Hono();
  const fail = (c: Context, error: unknown): Response => {
    const status = statusOf(error);
    if (status >= 500) {
      logger.error({ err: error, method: c.req.method, path: c.req.path }, 'API request failed');
    }
    return c.json(errorBody(error), status as ContentfulStatusCode);
  };
  app.onError((error, c) => fail(c, error));
  app.notFound((c) =>
    fail(
      c,
      new ApiRouteNotFoundError(
        `no route ${c.req.method} ${c.req.path} (the API is under /v1; see docs/http-api.md)`,
      ),
    ),
  );
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.use('*', bearerAuth(options.token, logger));
  app.use(
    '*',
    bodyLimit({
      maxSize: options.maxBodyBytes,
      onError: (c) =>
        fail(
          c,
          new ApiBodyTooLargeError(
            `the request body is larger than the ${options.maxBodyBytes}-byte limit (api.maxBodyBytes)`,
          ),
        ),
    }),
  );
  app.route('/v1/rules', ruleRoutes({ ...options, logger }));
  app.route('/v1/pipelines', pipelineRoutes({ ...options, logger }));
  const { metrics } = options;
  if (metrics !== undefined) {
    app.get('/metrics', async (c) =>
      c.body(await metrics.metrics(), 200, { 'content-type': metrics.contentType }),
    );
  }
  app.get('/v1/audit', async (c) => c.json({ entries: await options.audit.entries() }));
  return app;
}
