/**
 * @module Errors of MQTT ingest.
 */

/** No connection to the broker could be made, or the broker refused it. */
export class IngestConnectError extends Error {
  override readonly name = 'IngestConnectError';
  readonly code = 'MQTT_CONNECT_FAILED';
}

/** The broker refused a subscription. */
export class IngestSubscribeError extends Error {
  override readonly name = 'IngestSubscribeError';
  readonly code = 'MQTT_SUBSCRIBE_FAILED';
}
