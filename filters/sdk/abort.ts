/**
 * @module The rule's `abort`: logs the message through the host, then traps with `unreachable`.
 *
 * Built with `--use abort=filters/sdk/abort/ruleAbort` (asconfig.json, gateway/rules/build.ts) so
 * that the module imports nothing but `$root.log` and `$root.metric` (no `env.abort`). The message
 * is encoded into a static area, never the heap: an abort may be the heap running out.
 */

import { log } from './$root';

const MESSAGE_CAPACITY: usize = 512;
const area = memory.data(<i32>MESSAGE_CAPACITY);

/** Appends up to the area's capacity of `text` as UTF-8 (ASCII-safe truncation). */
function put(at: usize, text: string): usize {
  const n = <usize>text.length;
  for (let i: usize = 0; i < n && at < MESSAGE_CAPACITY; i++) {
    const c = <u32>load<u16>(changetype<usize>(text) + (i << 1));
    store<u8>(area + at, c < 0x80 ? <u8>c : 0x3f);
    at++;
  }
  return at;
}

/** Appends a decimal number. */
function putNumber(at: usize, value: u32): usize {
  let digits: usize = 1;
  for (let v = value; v >= 10; v /= 10) digits++;
  if (at + digits > MESSAGE_CAPACITY) return at;
  let v = value;
  for (let i = digits; i > 0; i--) {
    store<u8>(area + at + i - 1, <u8>(0x30 + (v % 10)));
    v /= 10;
  }
  return at + digits;
}

/** The abort every SDK-built rule uses: log "rule aborted: <message> at <file>:<line>:<column>", trap. */
export function ruleAbort(
  message: string | null = null,
  fileName: string | null = null,
  line: u32 = 0,
  column: u32 = 0,
): void {
  let at = put(0, 'rule aborted: ');
  at = put(at, message !== null ? message : '(no message)');
  if (fileName !== null) {
    at = put(at, ' at ');
    at = put(at, fileName);
    at = put(at, ':');
    at = putNumber(at, line);
    at = put(at, ':');
    at = putNumber(at, column);
  }
  log(4, area, at);
  unreachable();
}
