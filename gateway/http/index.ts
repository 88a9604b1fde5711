/**
 * @module The HTTP API of the rule lifecycle (Hono).
 */
export { ApiServer } from './api-server.js';
export type { ApiServerOptions } from './api-server.js';
export { createApiApp } from './app.js';
export type { ApiAppOptions, MetricsSource } from './app.js';
export { API_TOKEN_FILE, TokenCheck, loadApiToken } from './api-token.js';
export type { ApiToken } from './api-token.js';
export { errorBody, statusOf } from './error-status.js';
export type { ApiErrorBody } from './error-status.js';
export { RULE_CONFIG_HEADER, RULE_SIGNATURE_HEADER } from './rule-routes.js';
export {
  ApiBadRequestError,
  ApiBodyTooLargeError,
  ApiListenError,
  ApiPipelineNotFoundError,
  ApiRouteNotFoundError,
  ApiShadowNotFoundError,
  ApiUnauthorizedError,
} from './errors.js';
