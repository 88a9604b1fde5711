/**
 * The `sinks:` list of a pipeline: names (defaulted, unique), the `sink:` shorthand, and the
 * adaptive drain's keys.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, resolveConfig } from '../../gateway/config/index.js';

function problems(raw: unknown): string[] {
  try {
    resolveConfig(raw, {});
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems.map((problem) => problem.message);
  }
  throw new Error('expected a ConfigError');
}

describe('Pipeline sinks configuration', () => {
  it('resolves a list of sinks, naming each by its type, or type and index when a type repeats', () => {
    const config = resolveConfig(
      {
        pipelines: [
          {
            sinks: [
              { type: 'http', url: 'http://a:1/in' },
              { type: 'http', url: 'http://b:1/in', maxInFlight: 1 },
              { type: 'file', name: 'archive' },
              { type: 'nats' },
            ],
          },
        ],
      },
      {},
    );
    const pipeline = config.pipelines[0];
    expect(pipeline?.sinks.map((sink) => sink.name)).toEqual([
      'http-0',
      'http-1',
      'archive',
      'nats',
    ]);
    expect(pipeline?.sinks.map((sink) => sink.maxInFlight)).toEqual([4, 1, 1, 4]);
    expect(pipeline?.sink).toBe(pipeline?.sinks[0]);
  });

  it('keeps sink: as the one-sink shorthand, named after its type', () => {
    const config = resolveConfig({ pipelines: [{ sink: { type: 'file' } }] }, {});
    expect(config.pipelines[0]?.sinks).toHaveLength(1);
    expect(config.pipelines[0]?.sinks[0]).toMatchObject({ type: 'file', name: 'file' });
  });

  it('refuses sink and sinks together, duplicate names, an empty list and a file sink with several batches in flight', () => {
    expect(
      problems({ pipelines: [{ sink: { type: 'file' }, sinks: [{ type: 'file' }] }] }),
    ).toEqual([
      'pipelines[0].sinks: is set along with sink: (use sinks: [...] for one or more sinks, or sink: for one, not both)',
    ]);
    expect(
      problems({
        pipelines: [
          {
            sinks: [
              { type: 'http', name: 'up' },
              { type: 'file', name: 'up' },
            ],
          },
        ],
      }),
    ).toEqual([
      'pipelines[0].sinks[1].name: "up" is already the name of sinks[0] (sink names must be unique within a pipeline; set name: on each sink)',
    ]);
    expect(problems({ pipelines: [{ sinks: [] }] })).toEqual([
      'pipelines[0].sinks: [] is empty (a pipeline sends to at least one sink; remove the key for the default HTTP sink)',
    ]);
    const [fileProblem] = problems({ pipelines: [{ sinks: [{ type: 'file', maxInFlight: 2 }] }] });
    expect(fileProblem).toContain('pipelines[0].sinks[0].maxInFlight: 2');
    expect(fileProblem).toContain('the file sink writes one batch at a time');
  });
});
