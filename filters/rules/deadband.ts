/**
 * @module deadband: forwards a reading only when its value moved by more than `delta` from the
 * last value forwarded for the same device; the first reading of a device is always forwarded.
 *
 * Config (a CBOR map; every key optional):
 *   field  string  dotted path of the number to watch                          default "temp"
 *   delta  number  smallest change (exclusive) that is forwarded, ≥ 0         default 1
 *
 * Outputs:
 *   default  each forwarded reading, unchanged (same key, id, time, payload)
 *   dead     a reading that is malformed or lacks a number at `field`, with the reason
 * Metrics (once per batch, only when non-zero): `suppressed` = readings within the deadband.
 * State: the last forwarded value of every device (snapshot/restore).
 */

import {
  Batch,
  ByteBuffer,
  Config,
  FIELD_OK,
  FieldPath,
  KeyTable,
  Output,
  Rule,
  StateReader,
  StateWriter,
  metric,
  register,
} from '../sdk';

/** Section tag of the deadband state: `D` `B` `D` `1`. */
const DEADBAND_TAG: u32 = 0x31444244;

class Deadband extends Rule {
  field: FieldPath = new FieldPath('temp');
  delta: f64 = 1;
  keys: KeyTable = new KeyTable();
  // The last forwarded value of key i, as f64 at offset 8 * i (raw memory).
  last: ByteBuffer = new ByteBuffer(8 * 1024);

  init(cfg: Config): void {
    this.field = new FieldPath(cfg.str('field', 'temp'));
    this.delta = cfg.f64('delta', 1);
    if (cfg.error === null && !(this.delta >= 0)) {
      cfg.fail('config.delta: got ' + this.delta.toString() + ', expected a number ≥ 0');
    }
  }

  process(batch: Batch, out: Output, now: i64): void {
    const field = this.field;
    const keys = this.keys;
    const last = this.last;
    const delta = this.delta;
    let suppressed = 0;
    while (batch.next()) {
      const ev = batch.event;
      const v = ev.f64(field);
      if (ev.status != FIELD_OK) {
        out.deadField(ev);
        continue;
      }
      const i = keys.intern(ev.keyPtr, ev.keyLen);
      if (keys.added) {
        last.f64(v);
        out.forward(ev);
        continue;
      }
      const at = last.ptr + ((<usize>i) << 3);
      if (Math.abs(v - load<f64>(at)) > delta) {
        store<f64>(at, v);
        out.forward(ev);
      } else {
        suppressed++;
      }
    }
    if (suppressed > 0) metric('suppressed', <f64>suppressed);
  }

  snapshot(state: StateWriter): void {
    state.u32(DEADBAND_TAG);
    this.keys.save(state);
    state.bytes(this.last.ptr, <usize>this.last.len);
  }

  restore(state: StateReader): void {
    this.last.clear();
    if (!state.expect(DEADBAND_TAG, 'deadband values (version 1)') || !this.keys.load(state)) {
      this.keys.clear();
      return;
    }
    const bytes = (<usize>this.keys.count) << 3;
    const p = state.take(bytes);
    if (p == 0 && bytes != 0) {
      this.keys.clear();
      return;
    }
    this.last.bytes(p, <u32>bytes);
  }
}

register(new Deadband());
export * from '../sdk/exports';
