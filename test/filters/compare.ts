/**
 * @module Turns actual and expected output records into one comparable shape: JSON payloads of
 * the `default` and `device` outputs are parsed (number formatting may differ from
 * `JSON.stringify`, values may not), everything else is compared as text.
 */
import type { Expected } from './reference.js';
import type { OutRecord } from './rule-harness.js';

/** A record reduced to what the tests compare. */
export interface Comparable {
  output: string;
  key: string;
  id: bigint;
  time: number;
  body: unknown;
}

function body(output: string, text: string, parse: boolean): unknown {
  return parse && (output === 'default' || output === 'device')
    ? (JSON.parse(text) as unknown)
    : text;
}

/** Actual records, comparable. `parse`: the rule's `default` records are JSON it wrote. */
export function actual(records: readonly OutRecord[], parse = true): Comparable[] {
  return records.map((r) => ({
    output: r.output,
    key: r.key,
    id: r.id,
    time: r.time,
    body: body(r.output, r.text, parse),
  }));
}

/** Expected records, comparable. */
export function expected(records: readonly Expected[], parse = true): Comparable[] {
  return records.map((r) => ({
    output: r.output,
    key: r.key,
    id: r.id,
    time: r.time,
    body: body(r.output, r.text, parse),
  }));
}
