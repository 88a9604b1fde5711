/**
 * Checkpointed rule states taken on workers: the layout round-trips, and a restart restores
 * them only onto the same number of workers and the same rule at the same position; anything
 * else starts clean with a warning naming the rule and the reason (the logger is a real pino
 * logger writing to a stream the test reads).
 */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import {
  decodeWorkerStates,
  encodeRuleStates,
  encodeWorkerStates,
  isWorkerStates,
  workerStatesToRestore,
} from '../../gateway/pipeline/rule-checkpoint.js';

function recordingLogger(): { logger: pino.Logger; lines: () => Record<string, unknown>[] } {
  const out: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      out.push(chunk.toString('utf8'));
      done();
    },
  });
  const logger = pino({ level: 'warn' }, stream);
  return {
    logger,
    lines: () =>
      out
        .join('')
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

const a = new Uint8Array([1, 2, 3]);
const b = new Uint8Array([]);
const c = new Uint8Array(300).fill(7);

describe('rule states checkpointed on workers', () => {
  it('round-trips one state per worker, empty ones included', () => {
    const encoded = encodeWorkerStates([a, b, c]);
    expect(isWorkerStates(encoded)).toBe(true);
    expect(decodeWorkerStates(encoded)).toEqual([a, b, c]);
    expect(isWorkerStates(a)).toBe(false);
    expect(decodeWorkerStates(encoded.subarray(0, encoded.length - 1))).toBeUndefined();
  });

  it('restores a rule onto as many workers, at its position and under its name', () => {
    const { logger, lines } = recordingLogger();
    const checkpoint = encodeRuleStates([
      { name: 'threshold', state: new Uint8Array(0) },
      { name: 'window-stats', state: encodeWorkerStates([a, c]) },
    ]);
    const states = workerStatesToRestore(['threshold', 'window-stats'], 2, checkpoint, logger);
    expect(states).toEqual([undefined, [a, c]]);
    expect(lines()).toEqual([]);
  });

  it('starts a rule clean, with a warning, after a change of worker count, name or thread', () => {
    const { logger, lines } = recordingLogger();
    const checkpoint = encodeRuleStates([
      { name: 'window-stats', state: encodeWorkerStates([a, c]) },
      { name: 'old-name', state: encodeWorkerStates([a, c, a]) },
      { name: 'deadband', state: c },
    ]);
    const states = workerStatesToRestore(
      ['window-stats', 'new-name', 'deadband'],
      3,
      checkpoint,
      logger,
    );
    expect(states).toEqual([undefined, undefined, undefined]);
    const warned = lines().map((line) => [line['rule'], line['msg']]);
    expect(warned).toEqual([
      [
        'window-stats',
        'rule starts clean: its state was checkpointed on another number of workers (a state cannot be re-split by device key)',
      ],
      [
        'new-name',
        'rule starts clean: the spool checkpoint has no state for this rule at this position',
      ],
      [
        'deadband',
        'rule starts clean on workers: its checkpointed state was taken on the gateway thread (workers.count 0)',
      ],
    ]);
  });
});
