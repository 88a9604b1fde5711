/**
 * @module Test rule for the rule worker pool: forwards every event to `default` unchanged,
 * except on these device keys:
 *   "loop"  → spins forever (only the watchdog stops it)
 *   "grow"  → keeps 1 MiB more memory per event, forever (traps once the declared maximum is reached)
 *   "flaky" → traps (`abort`) when the JSON field `seq` is 99 mod 100 (every 100th event)
 *   "deep"  → recurses without end (stack overflow)
 *   "flood" → writes 4096 records of 4 KiB each for the event (16 MiB: more than the memory allows)
 */
import { Batch, FieldPath, FieldText, Output, Rule, register } from '../sdk';

const LOOP = new FieldText('loop');
const GROW = new FieldText('grow');
const FLAKY = new FieldText('flaky');
const DEEP = new FieldText('deep');
const FLOOD = new FieldText('flood');
const SEQ = new FieldPath('seq');

const kept: Uint8Array[] = [];
let spins: i32 = 1;
let depth: i32 = 0;

function recurse(n: i32): i32 {
  depth++;
  if (n == 0) return depth;
  return recurse(n + 1) + 1;
}

class Hostile extends Rule {
  process(batch: Batch, out: Output, now: i64): void {
    while (batch.next()) {
      const ev = batch.event;
      if (ev.keyEquals(LOOP)) {
        while (spins != 0) {
          spins++;
          if (spins == 0) spins = 1;
        }
      } else if (ev.keyEquals(GROW)) {
        kept.push(new Uint8Array(1 << 20));
      } else if (ev.keyEquals(FLAKY)) {
        const seq = ev.f64(SEQ);
        if (<i64>seq % 100 == 99) abort('every 100th event traps');
      } else if (ev.keyEquals(DEEP)) {
        if (recurse(1) == 0) spins = 0;
      } else if (ev.keyEquals(FLOOD)) {
        const filler = 'x'.repeat(4096);
        for (let i = 0; i < 4096; i++) out.jsonFor('flood', ev).str('x', filler).end();
      }
      out.forward(ev);
    }
  }
}

register(new Hostile());
export * from '../sdk/exports';
