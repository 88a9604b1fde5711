/**
 * @module threshold: forwards readings whose value lies within [min, max] and drops the others.
 *
 * Config (a CBOR map; every key optional):
 *   field  string  dotted path of the number to check                          default "temp"
 *   min    number  lowest value kept (inclusive)                                default -40
 *   max    number  highest value kept (inclusive)                               default 125
 *
 * Outputs:
 *   default  each reading within range, unchanged (same key, id, time, payload)
 *   dead     a reading whose payload is malformed or whose field is missing or not a number,
 *            with the reason (e.g. `field "temp" is missing`)
 * Metrics (once per batch, only when non-zero): `dropped` = readings out of range.
 */

import { Batch, Config, FIELD_OK, FieldPath, Output, Rule, metric, register } from '../sdk';

class Threshold extends Rule {
  field: FieldPath = new FieldPath('temp');
  min: f64 = -40;
  max: f64 = 125;

  init(cfg: Config): void {
    this.field = new FieldPath(cfg.str('field', 'temp'));
    this.min = cfg.f64('min', -40);
    this.max = cfg.f64('max', 125);
    if (cfg.error === null && !(this.min <= this.max)) {
      cfg.fail(
        'config.min (' +
          this.min.toString() +
          ') is greater than config.max (' +
          this.max.toString() +
          ')',
      );
    }
  }

  process(batch: Batch, out: Output, now: i64): void {
    const field = this.field;
    const min = this.min;
    const max = this.max;
    let dropped = 0;
    while (batch.next()) {
      const ev = batch.event;
      const v = ev.f64(field);
      if (ev.status != FIELD_OK) {
        out.deadField(ev);
      } else if (v >= min && v <= max) {
        out.forward(ev);
      } else {
        dropped++;
      }
    }
    if (dropped > 0) metric('dropped', <f64>dropped);
  }
}

register(new Threshold());
export * from '../sdk/exports';
