import { describe, expect, it } from 'vitest';
import { ConfigError, resolveConfig } from '../../gateway/config/index.js';

/** The problem messages `resolveConfig(raw)` reports. */
function problems(raw: unknown): string[] {
  try {
    resolveConfig(raw, {});
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems.map((problem) => problem.message);
  }
  throw new Error('expected a ConfigError');
}

describe('sink.breaker configuration', () => {
  it('fills the defaults for HTTP, NATS and MQTT sinks', () => {
    const defaults = { failureThreshold: 5, cooldownMs: 1000, maxCooldownMs: 30_000 };
    const http = resolveConfig({ pipelines: [{ sink: { url: 'http://up.example/in' } }] }, {});
    expect(http.pipelines[0]?.sink).toMatchObject({ breaker: defaults });
    for (const type of ['nats', 'mqtt'] as const) {
      const config = resolveConfig({ pipelines: [{ sink: { type } }] }, {});
      expect(config.pipelines[0]?.sink).toMatchObject({ type, breaker: defaults });
    }
  });

  it('takes the values given, 0 disabling the breaker', () => {
    const config = resolveConfig(
      {
        pipelines: [
          {
            sink: {
              url: 'http://up.example/in',
              breaker: { failureThreshold: 0, cooldownMs: 50, maxCooldownMs: 50 },
            },
          },
        ],
      },
      {},
    );
    expect(config.pipelines[0]?.sink).toMatchObject({
      breaker: { failureThreshold: 0, cooldownMs: 50, maxCooldownMs: 50 },
    });
  });

  it('names the field and the fix for a wrong value or key', () => {
    expect(
      problems({ pipelines: [{ sink: { breaker: { cooldownMs: 5000, maxCooldownMs: 1000 } } }] }),
    ).toEqual([
      'pipelines[0].sink.breaker.maxCooldownMs: 1000 is below breaker.cooldownMs 5000 (the longest cool-down must be at least the first)',
    ]);
    expect(
      problems({ pipelines: [{ sink: { type: 'mqtt', breaker: { threshold: 3 } } }] })[0],
    ).toContain('pipelines[0].sink.breaker.threshold: unknown key');
  });
});
