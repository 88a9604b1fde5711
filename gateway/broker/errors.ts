/**
 * @module Errors of the embedded MQTT broker: each carries a stable `code` and a message that
 * names the configuration field, its value and the fix.
 */
import { SluiceError } from '../../runtime/index.js';

/** The embedded broker's port is taken by another process. */
export class BrokerPortInUseError extends SluiceError {
  readonly code = 'BROKER_PORT_IN_USE';
  /** The port that could not be bound. */
  readonly port: number;

  constructor(host: string, port: number, options?: ErrorOptions) {
    super(
      `mqtt.embedded.port: ${port} on ${host} is already in use (another MQTT broker or ` +
        `another Sluice is probably running). Set mqtt.embedded.port to a free port, or set ` +
        `mqtt.url to use the broker that is listening there (e.g. mqtt://${host}:${port}).`,
      options,
    );
    this.port = port;
  }
}

/** The embedded broker could not start for another reason (permission, address not available). */
export class BrokerStartError extends SluiceError {
  readonly code = 'BROKER_START_FAILED';
}
