import { describe, expect, it } from 'vitest';
import { RuleInitError, RuleTrapError } from '../../runtime/index.js';
import { TEST_RULES_DIR, loadRule, readOutputs, run, startRule } from './rule-harness.js';
import type { InEvent } from './rule-harness.js';

const OK = 0;
const MISSING = 1;
const MALFORMED = 2;
const WRONG_TYPE = 3;

const probe = () => loadRule('probe', TEST_RULES_DIR);

describe('Event field getters', () => {
  const reading = { a: 21.5, b: 1_700_000_000_123, c: true, d: 'hello', x: { y: -0.25 } };

  it('read the same values from JSON and CBOR payloads', async () => {
    const { rule } = startRule(await probe());
    const out = run(rule, [
      { key: 'dev-1', id: 1, payload: reading, format: 'json' },
      { key: 'dev-1', id: 2, payload: reading, format: 'cbor' },
    ]);
    expect(out.map((r) => r.output)).toEqual(['default', 'default']);
    const [json, cbor] = out.map((r) => JSON.parse(r.text) as Record<string, unknown>);
    const expected = {
      a: 21.5,
      as: OK,
      b: 1_700_000_000_123,
      bs: OK,
      c: true,
      cs: OK,
      d: 'hello',
      ds: OK,
      dHello: true,
      xy: -0.25,
      xys: OK,
      key: 'dev-1',
      topic: 'sensors/dev-1/reading',
      qos: 1,
      valid: true,
    };
    expect(json).toMatchObject({ ...expected, format: 1, pf: 1 });
    expect(cbor).toMatchObject({ ...expected, format: 2, pf: 2 });
  });

  it('sniff the payload format when the hint is unknown or text', async () => {
    const { rule } = startRule(await probe());
    const out = run(rule, [
      { key: 'k', id: 1, payload: ' \n{"a":1}', format: 'unknown' },
      { key: 'k', id: 2, payload: { a: 2 }, format: 'cbor' },
      { key: 'k', id: 3, payload: new Uint8Array([0xa1, 0x61, 0x61, 0x03]), format: 'unknown' },
      { key: 'k', id: 4, payload: '{"a":4}', format: 'text' },
    ]);
    expect(out.map((r) => (JSON.parse(r.text) as { a: number; pf: number }).a)).toEqual([
      1, 2, 3, 4,
    ]);
    expect(out.map((r) => (JSON.parse(r.text) as { pf: number }).pf)).toEqual([1, 2, 2, 1]);
  });

  it('report missing fields, wrong types and malformed payloads in `status`, never trapping', async () => {
    const { rule } = startRule(await probe());
    const events: InEvent[] = [
      { key: 'k', id: 1, payload: { a: 'x', b: 1.5, c: null, d: 5, x: 3 } },
      { key: 'k', id: 2, payload: {} },
      { key: 'k', id: 3, payload: '{"a":1,' },
      { key: 'k', id: 4, payload: { a: 'x', b: 1.5, c: null, d: 5, x: 3 }, format: 'cbor' },
      { key: 'k', id: 5, payload: new Uint8Array([0xbf, 0x61]), format: 'cbor' },
      { key: 'k', id: 6, payload: '' },
    ];
    const records = run(rule, events).filter((r) => r.output === 'default');
    const statuses = records.map((r) => {
      const v = JSON.parse(r.text) as Record<string, number>;
      return [v['as'], v['bs'], v['cs'], v['ds'], v['xys']];
    });
    expect(statuses).toEqual([
      [WRONG_TYPE, WRONG_TYPE, WRONG_TYPE, WRONG_TYPE, WRONG_TYPE],
      [MISSING, MISSING, MISSING, MISSING, MISSING],
      [MALFORMED, MALFORMED, MALFORMED, MALFORMED, MALFORMED],
      [WRONG_TYPE, WRONG_TYPE, WRONG_TYPE, WRONG_TYPE, WRONG_TYPE],
      [MALFORMED, MALFORMED, MALFORMED, MALFORMED, MALFORMED],
      [MALFORMED, MALFORMED, MALFORMED, MALFORMED, MALFORMED],
    ]);
  });

  it('decodes JSON escapes in strings and compares them decoded', async () => {
    const { rule } = startRule(await probe());
    const [rec] = run(rule, [{ key: 'k', id: 1, payload: '{"a":1,"d":"h\\u0065llo"}' }]);
    expect(JSON.parse(rec!.text)).toMatchObject({ d: 'hello', dHello: true });
    const [rec2] = run(rule, [
      { key: 'k', id: 2, payload: '{"a":1,"d":"tab\\there \\ud83d\\ude80 \\"q\\""}' },
    ]);
    expect(JSON.parse(rec2!.text)).toMatchObject({ d: 'tab\there 🚀 "q"', dHello: false });
  });
});

describe('Output.deadField', () => {
  it('sends the event to `dead` with its id, key and a reason naming the field and the problem', async () => {
    const { rule } = startRule(await probe());
    const out = run(rule, [
      { key: 'dev-9', id: 11, time: 5000, payload: { b: 1 } },
      { key: 'dev-9', id: 12, time: 5001, payload: { a: 'hot' } },
      { key: 'dev-9', id: 13, time: 5002, payload: '{"a":' },
      { key: 'dev-9', id: 14, time: 5003, payload: new Uint8Array([0xff]), format: 'cbor' },
      { key: 'dev-9', id: 15, time: 5004, payload: { a: true }, format: 'cbor' },
    ]);
    const dead = out.filter((r) => r.output === 'dead');
    expect(dead.map((r) => [r.id, r.key, r.time, r.format, r.text])).toEqual([
      [11n, 'dev-9', 5000, 3, 'field "a" is missing'],
      [12n, 'dev-9', 5001, 3, 'field "a" is not a number'],
      [13n, 'dev-9', 5002, 3, 'payload is not valid JSON'],
      [14n, 'dev-9', 5003, 3, 'payload is not well-formed CBOR'],
      [15n, 'dev-9', 5004, 3, 'field "a" is not a number'],
    ]);
  });
});

describe('Config', () => {
  it('gives defaults for absent keys and the values of present ones', async () => {
    const mod = await probe();
    const defaults = startRule(mod).rule;
    expect(
      readOutputs(defaults.tick(9)).map((r) => [r.output, r.key, r.time, JSON.parse(r.text)]),
    ).toEqual([['config', 'probe', 9, { num: 1.5, int: 7, flag: true, name: 'probe' }]]);
    const set = startRule(mod, { num: -40, int: 2 ** 40, flag: false, name: 'café ✓' }).rule;
    expect(JSON.parse(readOutputs(set.tick(0))[0]!.text)).toEqual({
      num: -40,
      int: 2 ** 40,
      flag: false,
      name: 'café ✓',
    });
  });

  it('refuses a value of the wrong type, naming the key, the value and what was expected', async () => {
    const mod = await probe();
    const cases: [Record<string, unknown>, string][] = [
      [{ num: 'warm' }, 'config.num: got the string "warm", expected a number'],
      [{ int: 1.5 }, 'config.int: got the number 1.5, expected an integer'],
      [{ flag: 1 }, 'config.flag: got the number 1, expected a boolean'],
      [{ name: true }, 'config.name: got the boolean true, expected a string'],
      [{ name: [1, 2] }, 'config.name: got a value that is not a string, number or boolean'],
      [{ strict: true }, 'config.need is required when strict is true'],
    ];
    for (const [config, message] of cases) {
      let error: unknown;
      try {
        startRule(mod, config);
      } catch (e) {
        error = e;
      }
      expect(error, JSON.stringify(config)).toBeInstanceOf(RuleInitError);
      expect((error as RuleInitError).message).toContain(message);
    }
  });

  it('refuses a configuration that is not a CBOR map', async () => {
    const mod = await probe();
    const { RuleInstance } = await import('../../runtime/index.js');
    expect(() => RuleInstance.create(mod, { config: new Uint8Array([0x83, 1, 2, 3]) })).toThrow(
      /config is an array, expected a map of parameters/,
    );
    expect(() => RuleInstance.create(mod, { config: new Uint8Array([0xa1, 0x61]) })).toThrow(
      /config is not well-formed CBOR/,
    );
    expect(() => RuleInstance.create(mod, { config: new Uint8Array(0) })).not.toThrow();
  });
});

describe('Output.command', () => {
  it('writes a JSON command to the `device` output keyed by the device', async () => {
    const { rule } = startRule(await probe());
    const [cmd] = readOutputs(rule.flush());
    expect(cmd).toMatchObject({
      output: 'device',
      key: 'dev-1',
      id: 42n,
      time: 1000,
      format: 1,
      qos: 0,
    });
    expect(JSON.parse(cmd!.text)).toEqual({ cmd: 'reboot', delayMs: 250, reason: null });
  });
});

describe('abort', () => {
  it('logs the message through the host, traps, and the host re-creates the instance', async () => {
    const { rule, host } = startRule(await probe());
    expect(() => run(rule, [{ key: 'abort', id: 1, payload: { a: 1 } }])).toThrow(RuleTrapError);
    expect(host.logs).toEqual([
      {
        level: 4,
        message: expect.stringMatching(
          /^rule aborted: probe abort requested( at \S+:\d+:\d+)?$/,
        ) as unknown,
      },
    ]);
    const out = run(rule, [{ key: 'dev-1', id: 2, payload: { a: 1 } }]);
    expect(out.map((r) => r.id)).toEqual([2n]);
    expect(rule.restarts).toBe(1);
  });
});
