import { beforeAll, describe, expect, it } from 'vitest';
import {
  Format,
  FrameReader,
  FrameWriter,
  RuleInitError,
  RuleInstance,
  RuleOutputInvalidError,
  RuleRestoreError,
  RuleTrapError,
  compileRule,
} from '../../runtime/index.js';
import type { RuleInstanceOptions, RuleModule } from '../../runtime/index.js';
import { ECHO_MAX_PAGES, EchoMode, echoRuleWasm } from './echo-rule.js';
import { stubRuleWasm } from './wat.js';

const enc = new TextEncoder();
let echo: RuleModule;

beforeAll(async () => {
  echo = await compileRule(echoRuleWasm());
});

/** A batch of `events` small JSON readings; `mode` goes into the header flags the echo rule reads. */
function batch(events: number, mode: number = EchoMode.Echo, payloadBytes = 40): Uint8Array {
  const writer = new FrameWriter({ maxBytes: 16 * 1024 * 1024, maxEvents: events + 1 });
  const payload = enc.encode(`{"temp":21.5,"pad":"${'x'.repeat(Math.max(0, payloadBytes - 22))}"}`);
  for (let i = 0; i < events; i++) {
    writer.append(
      `sensors/dev-${i % 10}/reading`,
      `dev-${i % 10}`,
      payload,
      i,
      1_700_000_000_000 + i,
      1,
      Format.Json,
    );
  }
  const frame = writer.bytes().slice();
  new DataView(frame.buffer).setUint32(12, mode, true);
  return frame;
}

/** The echo rule's call count, read from the payload of the record `tick` returns. */
function callsSeen(rule: RuleInstance): number {
  const reader = new FrameReader().reset(rule.tick(5));
  expect(reader.next()).toBe(true);
  return Number(new DataView(reader.payload().slice().buffer).getBigUint64(0, true));
}

/** Byte equality without vitest's element-by-element diffing (megabyte batches). */
function expectSameBytes(actual: Uint8Array, expected: Uint8Array): void {
  expect(actual.length).toBe(expected.length);
  expect(Buffer.from(actual.buffer, actual.byteOffset, actual.length).equals(expected)).toBe(true);
}

function create(options: RuleInstanceOptions = {}): RuleInstance {
  return RuleInstance.create(echo, { name: 'echo', ...options });
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to throw');
}

describe('RuleInstance', () => {
  it('runs _initialize then init, delivering the log lines and metrics of the rule', () => {
    const logs: [number, string][] = [];
    const metrics: [string, number][] = [];
    create({
      onLog: (level, message) => logs.push([level, message]),
      onMetric: (n, v) => metrics.push([n, v]),
    });
    expect(logs).toEqual([[2, 'echo init']]);
    expect(metrics).toEqual([['echo.init', 1]]);
  });

  it('passes a batch to process and returns the output frame', () => {
    const rule = create();
    const input = batch(100);
    const output = rule.process(input, Date.now());
    expect(output).toEqual(input);
    const reader = new FrameReader().reset(output);
    expect(reader.count).toBe(100);
    reader.next();
    expect(reader.key()).toBe('dev-0');
    expect(callsSeen(rule)).toBe(1);
  });

  it('passes now to tick as an i64', () => {
    const rule = create();
    const now = 1_790_000_000_123;
    const reader = new FrameReader().reset(rule.tick(now));
    reader.next();
    expect(reader.topic()).toBe('default');
    expect(reader.time).toBe(now);
  });

  it('returns an empty frame from flush and for an empty list', async () => {
    const rule = create();
    expect(new FrameReader().reset(rule.flush()).count).toBe(0);
    const stub = RuleInstance.create(await compileRule(stubRuleWasm()));
    const out = stub.process(batch(3), 0);
    expect(out.length).toBe(16);
    expect(new FrameReader().reset(out).count).toBe(0);
  });

  it('keeps working when memory grows between calls', () => {
    const rule = create();
    const small = batch(10);
    expect(rule.process(small, 1)).toEqual(small);
    const before = rule.memoryBytes;
    const big = batch(2000, EchoMode.Echo, 1000);
    expect(big.length).toBeGreaterThan(2 * 1024 * 1024);
    const out = rule.process(big, 2);
    expect(rule.memoryBytes).toBeGreaterThan(before);
    expectSameBytes(out, big);
    expect(rule.process(small, 3)).toEqual(small);
    expect(callsSeen(rule)).toBe(3);
  });

  it('reads the output through the new buffer when the rule grows memory during process', () => {
    const rule = create();
    const before = rule.memoryBytes;
    const input = batch(3, EchoMode.GrowInProcess);
    const out = rule.process(input, 1);
    expect(rule.memoryBytes).toBe(before + 65536);
    expect(out.buffer.byteLength).toBe(before + 65536);
    expect(out).toEqual(input);
  });

  it('calls cabi_post_process before the next call', () => {
    const metrics: [string, number][] = [];
    const rule = create({ onMetric: (name, value) => metrics.push([name, value]) });
    rule.process(batch(1), 1);
    expect(metrics.filter(([name]) => name === 'echo.post')).toEqual([]);
    rule.flush();
    expect(metrics.filter(([name]) => name === 'echo.post')).toEqual([['echo.post', 16]]);
  });

  const traps: [string, number, new (...args: never[]) => Error][] = [
    ['unreachable', EchoMode.Unreachable, WebAssembly.RuntimeError],
    ['an out-of-bounds load', EchoMode.OutOfBounds, WebAssembly.RuntimeError],
    ['a stack overflow', EchoMode.StackOverflow, RangeError],
  ];
  for (const [what, mode, causeType] of traps) {
    it(`turns ${what} into a RuleTrapError and serves the next call from a fresh instance`, () => {
      const rule = create();
      rule.process(batch(2), 1);
      const error = thrown(() => rule.process(batch(2, mode), 2));
      expect(error).toBeInstanceOf(RuleTrapError);
      const trap = error as RuleTrapError;
      expect(trap.code).toBe('RULE_TRAP');
      expect(trap.rule).toBe('echo');
      expect(trap.call).toBe('process');
      expect(trap.cause).toBeInstanceOf(causeType);
      expect(trap.message).toMatch(/^rule "echo" trapped in process: /);
      expect(rule.memoryBytes).toBe(0);
      const input = batch(5);
      expect(rule.process(input, 3)).toEqual(input);
      expect(rule.restarts).toBe(1);
      expect(callsSeen(rule)).toBe(1);
    });
  }

  it('stays healthy across many traps', () => {
    const rule = create();
    const poison = batch(1, EchoMode.Unreachable);
    for (let i = 0; i < 300; i++) expect(() => rule.process(poison, i)).toThrow(RuleTrapError);
    const input = batch(3);
    expect(rule.process(input, 1)).toEqual(input);
    expect(rule.restarts).toBe(300);
  });

  it('re-creates a trapped instance from the last snapshot', () => {
    const rule = create();
    for (let i = 0; i < 3; i++) rule.process(batch(1), i);
    const state = rule.snapshot();
    expect(state.length).toBe(8);
    rule.process(batch(1), 4);
    expect(() => rule.process(batch(1, EchoMode.Unreachable), 5)).toThrow(RuleTrapError);
    expect(callsSeen(rule)).toBe(3);
  });

  it('re-creates a trapped instance from the last state given to restore', () => {
    const source = create();
    for (let i = 0; i < 7; i++) source.process(batch(1), i);
    const state = source.snapshot();
    const rule = create();
    rule.restore(state);
    expect(() => rule.process(batch(1, EchoMode.OutOfBounds), 1)).toThrow(RuleTrapError);
    expect(callsSeen(rule)).toBe(7);
  });

  it('round-trips state through snapshot and restore', () => {
    const a = create();
    for (let i = 0; i < 5; i++) a.process(batch(2), i);
    const state = a.snapshot();
    const kept = state.slice();
    state.fill(0xff); // the copy belongs to the caller: the instance keeps its own for restarts
    expect(() => a.process(batch(1, EchoMode.Unreachable), 6)).toThrow(RuleTrapError);
    expect(callsSeen(a)).toBe(5);
    const b = create();
    expect(callsSeen(b)).toBe(0);
    b.restore(kept);
    expect(callsSeen(b)).toBe(5);
    expect(b.snapshot()).toEqual(kept);
  });

  it('reports a refused state as RuleRestoreError and keeps the instance usable', () => {
    const rule = create();
    rule.process(batch(1), 1);
    const error = thrown(() => rule.restore(new Uint8Array(3)));
    expect(error).toBeInstanceOf(RuleRestoreError);
    expect((error as RuleRestoreError).code).toBe('RULE_RESTORE_FAILED');
    expect((error as RuleRestoreError).ruleMessage).toBe('state must be 8 bytes');
    expect(callsSeen(rule)).toBe(1);
    expect(rule.restarts).toBe(0);
  });

  it('reports an init error as RuleInitError with the rule message', () => {
    const error = thrown(() => create({ config: new Uint8Array([0xf4]) }));
    expect(error).toBeInstanceOf(RuleInitError);
    const init = error as RuleInitError;
    expect(init.code).toBe('RULE_INIT_FAILED');
    expect(init.ruleMessage).toBe('config says fail');
    expect(init.message).toBe('rule "echo" refused its configuration: config says fail');
  });

  it('refuses an output list outside memory as RULE_OUTPUT_INVALID and recovers', () => {
    const rule = create();
    const error = thrown(() => rule.process(batch(1, EchoMode.ListOutOfRange), 1));
    expect(error).toBeInstanceOf(RuleOutputInvalidError);
    expect((error as RuleOutputInvalidError).code).toBe('RULE_OUTPUT_INVALID');
    expect((error as Error).message).toMatch(
      /process returned a list at 4294901760 of 100 bytes, outside its \d+-byte memory/,
    );
    const area = thrown(() => rule.process(batch(1, EchoMode.ResultAreaOutOfRange), 2));
    expect(area).toBeInstanceOf(RuleOutputInvalidError);
    expect((area as Error).message).toContain('process returned its result area at 4294967280');
    const input = batch(2);
    expect(rule.process(input, 3)).toEqual(input);
    expect(rule.restarts).toBe(2);
  });

  it('names a log message outside memory instead of reading it', () => {
    const logs: [number, string][] = [];
    const rule = create({ onLog: (level, message) => logs.push([level, message]) });
    rule.process(batch(1, EchoMode.LogOutOfRange), 1);
    expect(logs.at(-1)).toEqual([
      4,
      expect.stringContaining('passed log a string at 4294967280 of 100 bytes, outside'),
    ]);
  });

  it('traps in cabi_realloc when a batch does not fit under the memory maximum', () => {
    const rule = create();
    const tooBig = batch(5000, EchoMode.Echo, 1000);
    expect(tooBig.length).toBeGreaterThan(ECHO_MAX_PAGES * 65536);
    const error = thrown(() => rule.process(tooBig, 1));
    expect(error).toBeInstanceOf(RuleTrapError);
    expect((error as RuleTrapError).call).toBe('cabi_realloc');
    expect((error as Error).message).toContain(
      `while allocating ${tooBig.length} bytes for the input`,
    );
    expect(rule.process(batch(1), 2).length).toBeGreaterThan(16);
  });

  it('refuses a now that is not an integer', () => {
    const rule = create();
    expect(() => rule.process(batch(1), 1.5)).toThrow(TypeError);
    expect(rule.restarts).toBe(0);
  });
});
