/**
 * @module `createWindows(spec)`: the `Windows` of the kind a `WindowSpec` names.
 */

import { CountWindows } from './count-windows';
import { SessionWindows } from './session-windows';
import { SlidingWindows } from './sliding-windows';
import { TimeWindows } from './time-windows';
import { Windows } from './window-engine';
import { WINDOW_COUNT, WINDOW_SESSION, WINDOW_SLIDING, WindowSpec } from './window-spec';

/** Windows as `spec` describes them (check the spec first: `readWindowSpec` does). */
export function createWindows(spec: WindowSpec): Windows {
  if (spec.kind == WINDOW_SESSION) return new SessionWindows(spec);
  if (spec.kind == WINDOW_SLIDING) return new SlidingWindows(spec);
  if (spec.kind == WINDOW_COUNT) return new CountWindows(spec);
  return new TimeWindows(spec);
}
