/**
 * @module The identity of a set of windows in a snapshot: the section tag and version, then what
 * shapes the state (kind, lengths, aggregates, sketch accuracy, key field). A state is restored
 * only into windows of the same identity; anything else is refused with a message naming both
 * sides. outOfOrderMs, latenessMs, idleMs and the watermark scope are not part of it: they may
 * change across a restore and apply from then on.
 */

import { Aggregates } from './aggregates';
import { StateReader, StateWriter } from './state';
import {
  WINDOW_COUNT,
  WINDOW_HOPPING,
  WINDOW_SESSION,
  WindowSpec,
  describeLengths,
  describeWindows,
} from './window-spec';

/** Section tag of windows in a snapshot: `W` `N` `D` `2` (version 2; version 1 is `WIN1`). */
export const WINDOW_STATE_TAG: u32 = 0x32444e57;

/** Writes the tag and the identity of `spec` with its `aggs`. */
export function saveWindowIdentity(w: StateWriter, spec: WindowSpec, aggs: Aggregates): void {
  w.u32(WINDOW_STATE_TAG);
  w.u32(<u32>spec.kind);
  w.i64(spec.sizeMs);
  w.i64(spec.effectiveSlideMs);
  w.i64(spec.gapMs);
  w.i64(spec.count);
  w.str(aggs.spec);
  w.f64(aggs.sketch !== null ? spec.accuracy : 0);
  w.str(spec.keyField);
}

/** Reads an identity and checks it against `spec`; false (and `r.error`) when they differ. */
export function loadWindowIdentity(r: StateReader, spec: WindowSpec, aggs: Aggregates): bool {
  if (!r.expect(WINDOW_STATE_TAG, 'windows (version 2)')) return false;
  const kind = <i32>r.u32();
  const size = r.i64();
  const slide = r.i64();
  const gap = r.i64();
  const count = r.i64();
  const items = r.str();
  const accuracy = r.f64();
  const keyField = r.str();
  if (!r.ok) return false;
  const mine = spec.kind;
  const slideNow = spec.effectiveSlideMs;
  const same =
    kind == mine &&
    (mine == WINDOW_COUNT || mine == WINDOW_SESSION || size == spec.sizeMs) &&
    (mine != WINDOW_HOPPING || slide == slideNow) &&
    (mine != WINDOW_SESSION || gap == spec.gapMs) &&
    (mine != WINDOW_COUNT || count == spec.count);
  if (!same) {
    r.fail(
      'state holds ' +
        describeWindows(kind, size, slide, gap, count) +
        ' but the rule is configured for ' +
        (kind == mine
          ? describeLengths(mine, spec.sizeMs, slideNow, spec.gapMs, spec.count)
          : describeWindows(mine, spec.sizeMs, slideNow, spec.gapMs, spec.count)),
    );
    return false;
  }
  if (items != aggs.spec) {
    r.fail('state holds windows computing ' + items + ' but the rule computes ' + aggs.spec);
    return false;
  }
  const mineAccuracy = aggs.sketch !== null ? spec.accuracy : 0;
  if (accuracy != mineAccuracy) {
    r.fail(
      'state holds quantile sketches of accuracy ' +
        accuracy.toString() +
        ' but the rule is configured for ' +
        mineAccuracy.toString(),
    );
    return false;
  }
  if (keyField != spec.keyField) {
    r.fail(
      'state holds windows keyed by ' +
        keyName(keyField) +
        ' but the rule keys by ' +
        keyName(spec.keyField),
    );
    return false;
  }
  return true;
}

function keyName(field: string): string {
  return field.length == 0 ? 'the event key' : 'field "' + field + '"';
}
