/**
 * @module Resolution of a pipeline's sinks: `sinks: [...]`, or the one-sink shorthand `sink:`
 * (both is an error), each sink's name (defaulted, unique within the pipeline) and the fields
 * every sink has (the adaptive drain's `maxInFlight` and `latencyTargetMs`).
 */
import { renderValue, type ConfigChecker, type ConfigPath } from './check.js';
import type { SinkConfig } from './types.js';

/** A sink's type-specific section, without the common fields. */
export type SinkSection = Omit<SinkConfig, 'name' | 'maxInFlight' | 'latencyTargetMs'>;

/** Resolves one sink's type-specific section at `path`. */
export type ResolveSinkSection = (
  path: ConfigPath,
  raw: unknown,
  mqttClientId: string,
) => SinkSection;

/** Defaults of the fields every sink has. */
export const DEFAULT_SINK_COMMON = {
  maxInFlight: 4,
  latencyTargetMs: 1000,
} as const;

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/**
 * Resolves the sinks of the pipeline at `path` from its `sink` and `sinks` keys (neither → one
 * default sink). `mqttClientId` is the default client id of the first MQTT sink; later ones get
 * `-<index>` appended.
 */
export function resolveSinks(
  check: ConfigChecker,
  path: ConfigPath,
  rawSink: unknown,
  rawSinks: unknown,
  mqttClientId: string,
  resolveSection: ResolveSinkSection,
): SinkConfig[] {
  let items: { path: ConfigPath; raw: unknown }[];
  if (rawSinks !== undefined && rawSink !== undefined) {
    check.report(
      [...path, 'sinks'],
      'is set along with sink: (use sinks: [...] for one or more sinks, or sink: for one, not both)',
    );
  }
  if (rawSinks !== undefined) {
    const list = check.list([...path, 'sinks'], rawSinks, 'sink sections', []) ?? [];
    if (list.length === 0) {
      check.report(
        [...path, 'sinks'],
        '[] is empty (a pipeline sends to at least one sink; remove the key for the default HTTP sink)',
      );
    }
    items = list.map((raw, i) => ({ path: [...path, 'sinks', i], raw }));
  } else {
    items = [{ path: [...path, 'sink'], raw: rawSink }];
  }
  const sections = items.map((item, i) =>
    resolveSection(item.path, item.raw, i === 0 ? mqttClientId : `${mqttClientId}-${i}`),
  );
  const typeCounts = new Map<string, number>();
  for (const section of sections) {
    typeCounts.set(section.type, (typeCounts.get(section.type) ?? 0) + 1);
  }
  const sinks: SinkConfig[] = [];
  const names = new Map<string, number>();
  for (let i = 0; i < sections.length; i++) {
    const section = sections[i] as SinkSection;
    const at = (key: string): ConfigPath => [...(items[i] as { path: ConfigPath }).path, key];
    const raw = (items[i] as { raw: unknown }).raw;
    const s = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
    const fallbackName = typeCounts.get(section.type) === 1 ? section.type : `${section.type}-${i}`;
    const name = check.string(at('name'), s.name, fallbackName);
    if (!NAME_PATTERN.test(name)) {
      check.report(
        at('name'),
        `${renderValue(name)} is not a valid sink name (use letters, digits, ".", "_" and "-", starting with a letter or digit)`,
        s.name,
      );
    }
    const first = names.get(name);
    if (first === undefined) names.set(name, i);
    else {
      check.report(
        at('name'),
        `${renderValue(name)} is already the name of sinks[${first}] ` +
          `(sink names must be unique within a pipeline; set name: on each sink)`,
        s.name,
      );
    }
    const file = section.type === 'file';
    const maxInFlight = check.int(
      at('maxInFlight'),
      s.maxInFlight,
      file ? 1 : DEFAULT_SINK_COMMON.maxInFlight,
      {
        min: 1,
        max: file ? 1 : 1024,
        unit: 'batches',
        note: file ? 'the file sink writes one batch at a time' : '1 sends one batch at a time',
      },
    );
    const latencyTargetMs = check.int(
      at('latencyTargetMs'),
      s.latencyTargetMs,
      DEFAULT_SINK_COMMON.latencyTargetMs,
      { min: 1, unit: 'milliseconds' },
    );
    sinks.push({ ...section, name, maxInFlight, latencyTargetMs } as SinkConfig);
  }
  return sinks;
}
