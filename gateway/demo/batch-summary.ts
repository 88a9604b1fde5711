/**
 * @module The one-line summary the demo receiver prints per batch:
 * `upstream ← batch of 50 records (json, 3.1 kB): dev-7 avg 21.4 min 19.0 max 23.9 count 20; …`.
 * Window results are shown as statistics; any other record as compact JSON.
 */

import { decode as decodeCbor } from 'cbor-x/decode';
import { formatBytes } from '../simulator/summary.js';

/** Records are shown while the line stays under this many characters (at least one is). */
const LINE_WIDTH = 120;
const utf8 = new TextDecoder();

/** The summary line of a batch of `records` that arrived as `bytes` bytes of `format`. */
export function formatBatchSummary(
  records: readonly unknown[],
  format: string,
  bytes: number,
): string {
  const noun = records.length === 1 ? 'record' : 'records';
  let line = `upstream ← batch of ${records.length} ${noun} (${format}, ${formatBytes(bytes)})`;
  let shown = 0;
  for (const record of records) {
    const part = `${shown === 0 ? ': ' : '; '}${describeRecord(record)}`;
    if (shown > 0 && line.length + part.length > LINE_WIDTH) break;
    line += part;
    shown++;
  }
  if (shown < records.length) line += ` … (+${records.length - shown} more)`;
  return line;
}

/** `dev-7 avg 21.4 min 19.0 max 23.9 count 20`, or `<key> <json>` for other records. */
export function describeRecord(record: unknown): string {
  const outer = asObject(record);
  const value = outer === undefined ? record : decodeValue(outer.value ?? outer.payload ?? record);
  const inner = asObject(value);
  const key = text(outer?.key) ?? text(inner?.key) ?? text(inner?.device) ?? '?';
  if (inner !== undefined) {
    const avg = num(inner.avg) ?? num(inner.mean) ?? num(inner.average);
    const min = num(inner.min);
    const max = num(inner.max);
    const count = num(inner.count);
    if (avg !== undefined || (min !== undefined && max !== undefined)) {
      let line = key;
      if (avg !== undefined) line += ` avg ${avg.toFixed(1)}`;
      if (min !== undefined) line += ` min ${min.toFixed(1)}`;
      if (max !== undefined) line += ` max ${max.toFixed(1)}`;
      if (count !== undefined) line += ` count ${count}`;
      return line;
    }
  }
  let json: string;
  try {
    json = JSON.stringify(value) ?? String(value);
  } catch {
    json = String(value);
  }
  return `${key} ${json.length > 80 ? `${json.slice(0, 77)}...` : json}`;
}

function decodeValue(value: unknown): unknown {
  if (!(value instanceof Uint8Array)) return value;
  try {
    return decodeCbor(value) as unknown;
  } catch {
    const textValue = utf8.decode(value);
    try {
      return JSON.parse(textValue) as unknown;
    } catch {
      return textValue;
    }
  }
}

function asObject(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    !(value instanceof Uint8Array)
    ? (value as Record<string, unknown>)
    : undefined;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : undefined;
}

function num(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}
