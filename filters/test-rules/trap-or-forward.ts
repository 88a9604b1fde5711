/**
 * @module Test rule for the gateway: forwards every event to `default` unchanged, traps
 * (`abort`) on an event whose device key is "trap", and sends a `device` command
 * `{"cmd":"hello"}` to a device whose key is "cmd" (besides forwarding it).
 */
import { Batch, FieldText, Output, Rule, register } from '../sdk';

const TRAP = new FieldText('trap');
const CMD = new FieldText('cmd');

class TrapOrForward extends Rule {
  process(batch: Batch, out: Output, now: i64): void {
    while (batch.next()) {
      const ev = batch.event;
      if (ev.keyEquals(TRAP)) abort('trap requested by the event');
      if (ev.keyEquals(CMD)) out.command('cmd', ev.id, now).str('cmd', 'hello').end();
      out.forward(ev);
    }
  }
}

register(new TrapOrForward());
export * from '../sdk/exports';
