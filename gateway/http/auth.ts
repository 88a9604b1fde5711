/**
 * @module Bearer-token authentication of every API route but `/healthz`. A missing or wrong
 * token is a 401 with a `WWW-Authenticate` header, and the attempt is logged (address, method,
 * path; never the presented token).
 */
import type { MiddlewareHandler } from 'hono';
import type { Logger } from 'pino';
import { getConnInfo } from '@hono/node-server/conninfo';
import type { TokenCheck } from './api-token.js';
import { ApiUnauthorizedError } from './errors.js';

/** Paths anyone may call. */
const PUBLIC_PATHS = new Set(['/healthz']);

/** Hono middleware requiring `Authorization: Bearer <token>`. */
export function bearerAuth(check: TokenCheck, logger: Logger): MiddlewareHandler {
  return async (c, next) => {
    if (PUBLIC_PATHS.has(c.req.path)) return next();
    const header = c.req.header('authorization');
    const match = header === undefined ? null : /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
    const presented = match?.[1];
    if (presented !== undefined && check.matches(presented)) return next();
    let address: string | undefined;
    try {
      address = getConnInfo(c).remote.address;
    } catch {
      address = undefined;
    }
    logger.warn(
      {
        address,
        method: c.req.method,
        path: c.req.path,
        token: header === undefined ? 'missing' : 'wrong',
      },
      'API request refused: missing or wrong bearer token',
    );
    c.header('WWW-Authenticate', 'Bearer realm="sluice"');
    throw new ApiUnauthorizedError(
      header === undefined
        ? 'this route needs the API token: send "Authorization: Bearer <token>" (the token is api.token, or the file <dataDir>/api-token)'
        : 'the bearer token is wrong (or the Authorization header is not "Bearer <token>")',
    );
  };
}
