/**
 * @module Errors of the demo receiver.
 */
import { SluiceError } from '../../runtime/index.js';

/** The receiver's port is taken. */
export class ReceiverPortInUseError extends SluiceError {
  readonly code = 'RECEIVER_PORT_IN_USE';
  readonly port: number;

  constructor(host: string, port: number, options?: ErrorOptions) {
    super(
      `port ${port} on ${host} is already in use (another receiver or upstream is running there; ` +
        `pass --port with a free port, or stop the other process)`,
      options,
    );
    this.port = port;
  }
}
