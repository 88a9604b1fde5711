/**
 * @module Errors of the HTTP API itself (authentication, request shape, listening). Errors of
 * the rule store and the runtime pass through with their own codes; `error-status.ts` maps
 * every code to an HTTP status in one place.
 */
import { SluiceError } from '../../runtime/index.js';

/** The request carries no bearer token, or a wrong one. */
export class ApiUnauthorizedError extends SluiceError {
  readonly code = 'API_UNAUTHORIZED';
}

/** The request body is larger than `api.maxBodyBytes`. */
export class ApiBodyTooLargeError extends SluiceError {
  readonly code = 'API_BODY_TOO_LARGE';
}

/** The request is malformed (a parameter or header that cannot be read). */
export class ApiBadRequestError extends SluiceError {
  readonly code = 'API_BAD_REQUEST';
}

/** No route matches the method and path. */
export class ApiRouteNotFoundError extends SluiceError {
  readonly code = 'API_NOT_FOUND';
}

/** The API cannot listen (port taken, address not available, TLS files unreadable). */
export class ApiListenError extends SluiceError {
  readonly code = 'API_LISTEN_FAILED';
}

/** No pipeline of that name, or no rule at that index in it. */
export class ApiPipelineNotFoundError extends SluiceError {
  readonly code = 'PIPELINE_NOT_FOUND';
}

/** No shadow runs beside that rule. */
export class ApiShadowNotFoundError extends SluiceError {
  readonly code = 'SHADOW_NOT_FOUND';
}
