/**
 * @module Errors of the device simulator.
 */
import { SluiceError } from '../../runtime/index.js';

/** A simulator option has a value that cannot work; `option` names it (`invalidRatio`). */
export class SimulatorOptionsError extends SluiceError {
  readonly code = 'SIMULATOR_OPTIONS_INVALID';
  /** The option's name in `SimulatorOptions`. */
  readonly option: string;

  constructor(option: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.option = option;
  }
}

/** The simulator could not connect to the broker. */
export class SimulatorConnectError extends SluiceError {
  readonly code = 'SIMULATOR_CONNECT_FAILED';
  readonly url: string;

  constructor(url: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.url = url;
  }
}
