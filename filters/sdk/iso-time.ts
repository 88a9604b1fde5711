/**
 * @module An allocation-free ISO-8601 / RFC 3339 timestamp parser over raw bytes (a string field
 * of a payload, read in place): `parseIsoTime(ptr, len)` → epoch milliseconds.
 *
 * Accepted forms (what devices send; anything else is refused, never guessed):
 *   `YYYY-MM-DD`                                   midnight UTC of that day
 *   `YYYY-MM-DDTHH:MM`, `…THH:MM:SS`, `…THH:MM:SS.fff…` (1 or more fraction digits, `.` or `,`;
 *                                                  digits past the millisecond are truncated)
 *   separator `T`, `t` or one space; then an optional zone: `Z`, `z`, `±HH:MM`, `±HHMM`, `±HH`.
 * A time without a zone is read as UTC (a gateway has no business guessing a device's local
 * zone). Years 0000–9999; months, days (leap years included), hours 00–23, minutes and seconds
 * 00–59 are checked (no leap second 60, no 24:00).
 */

/** What `parseIsoTime` returns for text that is not a timestamp it accepts. */
export const NOT_A_TIME: i64 = i64.MIN_VALUE;

/** Milliseconds per day. */
const DAY_MS: i64 = 86400000;

/** Inlined steps (a static method: Prettier's parser rejects `@inline` on plain functions). */
class Digits {
  /** Two ASCII digits at `p` as a number, or -1. */
  // @ts-ignore: decorator
  @inline static two(p: usize): i32 {
    const a = <i32>load<u8>(p) - 0x30;
    const b = <i32>load<u8>(p, 1) - 0x30;
    if (<u32>a > 9 || <u32>b > 9) return -1;
    return a * 10 + b;
  }
}

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`). */
export function daysFromCivil(year: i32, month: i32, day: i32): i64 {
  const y = <i64>(month <= 2 ? year - 1 : year);
  const era = (y >= 0 ? y : y - 399) / 400;
  const yoe = y - era * 400;
  const mp = <i64>(month > 2 ? month - 3 : month + 9);
  const doy = (153 * mp + 2) / 5 + <i64>day - 1;
  const doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

/** Days in `month` of `year`. */
function daysInMonth(year: i32, month: i32): i32 {
  if (month == 2) {
    const leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return leap ? 29 : 28;
  }
  return month == 4 || month == 6 || month == 9 || month == 11 ? 30 : 31;
}

/**
 * Parses the ISO-8601 timestamp in the `len` bytes at `ptr` to epoch milliseconds, or returns
 * `NOT_A_TIME`. Reads only inside `[ptr, ptr + len)`; allocates nothing.
 */
export function parseIsoTime(ptr: usize, len: usize): i64 {
  if (len < 10) return NOT_A_TIME;
  const y1 = Digits.two(ptr);
  const y2 = Digits.two(ptr + 2);
  if (y1 < 0 || y2 < 0 || load<u8>(ptr, 4) != 0x2d || load<u8>(ptr, 7) != 0x2d) return NOT_A_TIME;
  const year = y1 * 100 + y2;
  const month = Digits.two(ptr + 5);
  const day = Digits.two(ptr + 8);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return NOT_A_TIME;
  let ms = daysFromCivil(year, month, day) * DAY_MS;
  if (len == 10) return ms;
  const sep = load<u8>(ptr, 10);
  if ((sep != 0x54 && sep != 0x74 && sep != 0x20) || len < 16) return NOT_A_TIME;
  const hour = Digits.two(ptr + 11);
  const minute = Digits.two(ptr + 14);
  if (load<u8>(ptr, 13) != 0x3a || hour < 0 || hour > 23 || minute < 0 || minute > 59) {
    return NOT_A_TIME;
  }
  ms += <i64>(hour * 3600000 + minute * 60000);
  let at: usize = 16;
  if (at < len && load<u8>(ptr + at) == 0x3a) {
    if (at + 3 > len) return NOT_A_TIME;
    const second = Digits.two(ptr + at + 1);
    if (second < 0 || second > 59) return NOT_A_TIME;
    ms += <i64>(second * 1000);
    at += 3;
    if (at < len && (load<u8>(ptr + at) == 0x2e || load<u8>(ptr + at) == 0x2c)) {
      at++;
      const first = at;
      let frac = 0;
      let scale = 100;
      while (at < len) {
        const d = <i32>load<u8>(ptr + at) - 0x30;
        if (<u32>d > 9) break;
        frac += d * scale;
        scale /= 10;
        at++;
      }
      if (at == first) return NOT_A_TIME;
      ms += <i64>frac;
    }
  }
  if (at == len) return ms;
  const zone = load<u8>(ptr + at);
  if (zone == 0x5a || zone == 0x7a) return at + 1 == len ? ms : NOT_A_TIME;
  if (zone != 0x2b && zone != 0x2d) return NOT_A_TIME;
  const rest = len - at - 1;
  if (rest != 2 && rest != 4 && rest != 5) return NOT_A_TIME;
  const zh = Digits.two(ptr + at + 1);
  let zm = 0;
  if (rest == 4) zm = Digits.two(ptr + at + 3);
  else if (rest == 5) zm = load<u8>(ptr + at + 3) == 0x3a ? Digits.two(ptr + at + 4) : -1;
  if (zh < 0 || zh > 23 || zm < 0 || zm > 59) return NOT_A_TIME;
  const offset = <i64>(zh * 3600000 + zm * 60000);
  // `+01:00` is one hour ahead of UTC: subtract it to get UTC.
  return zone == 0x2b ? ms - offset : ms + offset;
}
