/**
 * @module Errors of MQTT ingest.
 */
import { SluiceError } from '../../runtime/index.js';

/** No connection to the broker could be made, or the broker refused it. */
export class IngestConnectError extends SluiceError {
  readonly code = 'MQTT_CONNECT_FAILED';
}

/** The broker refused a subscription. */
export class IngestSubscribeError extends SluiceError {
  readonly code = 'MQTT_SUBSCRIBE_FAILED';
}
