/**
 * @module Test rule: exposes the SDK's reading side to tests.
 *
 * init reads every config getter: num (f64), int (i64), flag (bool), name (str), and `strict`
 * (bool): when true, `need` must be present (else `cfg.fail`).
 * process, per event:
 *   key "abort"  → abort("probe abort requested") (the instance traps)
 *   key "alloc"  → allocates 1000 strings (garbage for the collector), then continues
 *   otherwise    → one `default` record with what the getters read from fields a, b, c, d, x.y:
 *     {"a":f64,"as":status,"b":i64,"bs":status,"c":bool,"cs":status,"d":string,"ds":status,
 *      "dHello":bool,"xy":f64,"xys":status,"key":…,"topic":…,"qos":…,"format":…,"pf":…,
 *      "valid":bool}
 *   and, when field a is missing or bad, a `dead` record from `out.deadField`.
 * tick → one `config` record with the config values; flush → a `device` command to "dev-1".
 */
import { Batch, Config, FIELD_OK, FieldPath, FieldText, Output, Rule, register } from '../sdk';

const A = new FieldPath('a');
const B = new FieldPath('b');
const C = new FieldPath('c');
const D = new FieldPath('d');
const XY = new FieldPath('x.y');
const HELLO = new FieldText('hello');
const ABORT = new FieldText('abort');
const ALLOC = new FieldText('alloc');

class Probe extends Rule {
  num: f64 = 0;
  int: i64 = 0;
  flag: bool = false;
  name: string = '';

  init(cfg: Config): void {
    this.num = cfg.f64('num', 1.5);
    this.int = cfg.i64('int', 7);
    this.flag = cfg.bool('flag', true);
    this.name = cfg.str('name', 'probe');
    if (cfg.bool('strict', false) && !cfg.has('need'))
      cfg.fail('config.need is required when strict is true');
  }

  process(batch: Batch, out: Output, now: i64): void {
    while (batch.next()) {
      const ev = batch.event;
      if (ev.keyEquals(ABORT)) abort('probe abort requested');
      if (ev.keyEquals(ALLOC)) {
        let total = 0;
        for (let i = 0; i < 1000; i++) total += ('garbage-' + i.toString()).length;
        if (total < 0) out.dead(ev, 'impossible');
      }
      const a = ev.f64(A);
      const as = ev.status;
      const deadA = as != FIELD_OK;
      if (deadA) out.deadField(ev);
      const b = ev.i64(B);
      const bs = ev.status;
      const c = ev.bool(C);
      const cs = ev.status;
      const d = ev.strString(D);
      const ds = ev.status;
      const dHello = ev.strEquals(D, HELLO);
      const xy = ev.f64(XY);
      const xys = ev.status;
      out
        .jsonFor('default', ev)
        .num('a', a)
        .int('as', as)
        .int('b', b)
        .int('bs', bs)
        .bool('c', c)
        .int('cs', cs)
        .str('d', d)
        .int('ds', ds)
        .bool('dHello', dHello)
        .num('xy', xy)
        .int('xys', xys)
        .str('key', ev.keyString())
        .str('topic', ev.topicString())
        .int('qos', ev.qos)
        .int('format', ev.format)
        .int('pf', ev.payloadFormat)
        .bool('valid', ev.validPayload())
        .end();
    }
  }

  tick(out: Output, now: i64): void {
    out
      .json('config', 'probe', 0, now)
      .num('num', this.num)
      .int('int', this.int)
      .bool('flag', this.flag)
      .str('name', this.name)
      .end();
  }

  flush(out: Output): void {
    out.command('dev-1', 42, 1000).str('cmd', 'reboot').int('delayMs', 250).nul('reason').end();
  }
}

register(new Probe());
export * from '../sdk/exports';
