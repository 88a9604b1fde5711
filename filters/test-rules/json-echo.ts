/**
 * @module Test rule: writes values back as JSON so tests can check the SDK's JSON writer against
 * `JSON.parse`. Payload byte 0 selects the kind, the rest is data:
 *   0: f64 values (8 bytes LE each) → one record `{"v":<number>}` per value
 *   1: i64 values (8 bytes LE each) → one record `{"v":<integer>}` per value
 *   2: UTF-8 text → one record `{"s":<text as string>,"b":<text as raw bytes>}`
 * Records go to `default` with the event's key, id and time.
 */
import { Batch, Output, Rule, register } from '../sdk';

class JsonEcho extends Rule {
  process(batch: Batch, out: Output, now: i64): void {
    while (batch.next()) {
      const ev = batch.event;
      const p = ev.payloadPtr;
      const n = ev.payloadLen;
      if (n == 0) continue;
      const kind = load<u8>(p);
      if (kind == 2) {
        const text = String.UTF8.decodeUnsafe(p + 1, n - 1);
        out
          .jsonFor('default', ev)
          .str('s', text)
          .strBytes('b', p + 1, n - 1)
          .end();
        continue;
      }
      for (let at: usize = 1; at + 8 <= n; at += 8) {
        if (kind == 0)
          out
            .jsonFor('default', ev)
            .num('v', load<f64>(p + at))
            .end();
        else
          out
            .jsonFor('default', ev)
            .int('v', load<i64>(p + at))
            .end();
      }
    }
  }
}

register(new JsonEcho());
export * from '../sdk/exports';
