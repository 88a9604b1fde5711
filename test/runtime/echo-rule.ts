/**
 * @module A minimal rule written in WebAssembly text that echoes its input batch, with hostile
 * modes selected by the input frame's header flags (offset 12) to exercise traps and ABI abuse.
 */
import { watToWasm } from './wat.js';

/** Behaviours of the echo rule's `process`, chosen by the input frame's flags word. */
export const EchoMode = {
  Echo: 0,
  Unreachable: 1,
  OutOfBounds: 2,
  StackOverflow: 3,
  ListOutOfRange: 4,
  ResultAreaOutOfRange: 5,
  LogOutOfRange: 6,
  GrowInProcess: 7,
} as const;

/** Memory maximum of the echo rule, in 64 KiB pages (4 MiB). */
export const ECHO_MAX_PAGES = 64;

/**
 * The echo rule:
 * - `init` logs "echo init" (level 2) and reports metric `echo.init` = 1; fails with
 *   "config says fail" when the config starts with CBOR `false` (0xf4), and with
 *   "_initialize did not run" when `_initialize` was not called first.
 * - `process` counts calls and returns its input; `cabi_realloc` always hands out address 1024,
 *   growing memory to fit (so big batches grow memory). Hostile modes: see `EchoMode`.
 * - `tick(now)` returns one `default` record (key "echo") with id = calls, time = now and the
 *   call count as an 8-byte little-endian payload; `flush` returns an empty frame.
 * - `snapshot`/`restore` carry the call count (8 bytes).
 * - `cabi_post_process(ret)` reports metric `echo.post` = ret.
 */
export const ECHO_RULE_WAT = `(module
  (import "$root" "log" (func $log (param i32 i32 i32)))
  (import "$root" "metric" (func $metric (param i32 i32 f64)))
  (memory (export "memory") 1 ${ECHO_MAX_PAGES})
  (global $calls (mut i64) (i64.const 0))
  (global $ready (mut i32) (i32.const 0))
  (data (i32.const 128) "\\53\\4c\\42\\31\\00\\00\\00\\00\\10\\00\\00\\00\\00\\00\\00\\00")
  (data (i32.const 160)
    "\\53\\4c\\42\\31\\01\\00\\00\\00\\43\\00\\00\\00\\00\\00\\00\\00"
    "\\33\\00\\00\\00\\00\\00\\04\\00\\07\\00\\00\\00\\08\\00\\00\\00"
    "\\00\\00\\00\\00\\00\\00\\00\\00\\00\\00\\00\\00\\00\\00\\00\\00"
    "echo" "default" "\\00\\00\\00\\00\\00\\00\\00\\00")
  (data (i32.const 256) "config says fail")
  (data (i32.const 288) "state must be 8 bytes")
  (data (i32.const 320) "echo init")
  (data (i32.const 336) "echo.init")
  (data (i32.const 352) "_initialize did not run")
  (data (i32.const 384) "echo.post")
  (func $list (param $ptr i32) (param $len i32) (result i32)
    (i32.store (i32.const 16) (local.get $ptr))
    (i32.store (i32.const 20) (local.get $len))
    (i32.const 16))
  (func $ok (result i32)
    (i32.store8 (i32.const 32) (i32.const 0))
    (i32.const 32))
  (func $err (param $ptr i32) (param $len i32) (result i32)
    (i32.store8 (i32.const 32) (i32.const 1))
    (i32.store (i32.const 36) (local.get $ptr))
    (i32.store (i32.const 40) (local.get $len))
    (i32.const 32))
  (func $rec (param $n i32) (result i32)
    (i32.add (call $rec (i32.add (local.get $n) (i32.const 1))) (i32.const 1)))
  (func (export "_initialize")
    (global.set $ready (i32.const 1)))
  (func (export "cabi_realloc") (param $old i32) (param $oldSize i32) (param $align i32) (param $size i32) (result i32)
    (local $need i32)
    (local $have i32)
    (local.set $need (i32.add (i32.const 1024) (local.get $size)))
    (local.set $have (i32.shl (memory.size) (i32.const 16)))
    (if (i32.gt_u (local.get $need) (local.get $have))
      (then
        (if (i32.eq
              (memory.grow (i32.shr_u (i32.add (i32.sub (local.get $need) (local.get $have)) (i32.const 65535)) (i32.const 16)))
              (i32.const -1))
          (then unreachable))))
    (i32.const 1024))
  (func (export "init") (param $ptr i32) (param $len i32) (result i32)
    (call $log (i32.const 2) (i32.const 320) (i32.const 9))
    (call $metric (i32.const 336) (i32.const 9) (f64.const 1))
    (if (i32.eqz (global.get $ready))
      (then (return (call $err (i32.const 352) (i32.const 23)))))
    (if (result i32)
      (i32.and (i32.ge_u (local.get $len) (i32.const 1)) (i32.eq (i32.load8_u (local.get $ptr)) (i32.const 0xf4)))
      (then (call $err (i32.const 256) (i32.const 16)))
      (else (call $ok))))
  (func (export "process") (param $ptr i32) (param $len i32) (param $now i64) (result i32)
    (local $mode i32)
    (global.set $calls (i64.add (global.get $calls) (i64.const 1)))
    (if (i32.ge_u (local.get $len) (i32.const 16))
      (then (local.set $mode (i32.load offset=12 (local.get $ptr)))))
    (if (i32.eq (local.get $mode) (i32.const 1)) (then unreachable))
    (if (i32.eq (local.get $mode) (i32.const 2)) (then (drop (i32.load (i32.const -16)))))
    (if (i32.eq (local.get $mode) (i32.const 3)) (then (drop (call $rec (i32.const 0)))))
    (if (i32.eq (local.get $mode) (i32.const 4)) (then (return (call $list (i32.const -65536) (i32.const 100)))))
    (if (i32.eq (local.get $mode) (i32.const 5)) (then (return (i32.const -16))))
    (if (i32.eq (local.get $mode) (i32.const 6)) (then (call $log (i32.const 4) (i32.const -16) (i32.const 100))))
    (if (i32.eq (local.get $mode) (i32.const 7)) (then (drop (memory.grow (i32.const 1)))))
    (call $list (local.get $ptr) (local.get $len)))
  (func (export "cabi_post_process") (param $ret i32)
    (call $metric (i32.const 384) (i32.const 9) (f64.convert_i32_u (local.get $ret))))
  (func (export "tick") (param $now i64) (result i32)
    (i64.store (i32.const 192) (global.get $calls))
    (i64.store (i32.const 200) (local.get $now))
    (i64.store (i32.const 219) (global.get $calls))
    (call $list (i32.const 160) (i32.const 67)))
  (func (export "flush") (result i32)
    (call $list (i32.const 128) (i32.const 16)))
  (func (export "snapshot") (result i32)
    (i64.store (i32.const 64) (global.get $calls))
    (call $list (i32.const 64) (i32.const 8)))
  (func (export "restore") (param $ptr i32) (param $len i32) (result i32)
    (if (result i32) (i32.ne (local.get $len) (i32.const 8))
      (then (call $err (i32.const 288) (i32.const 21)))
      (else
        (global.set $calls (i64.load (local.get $ptr)))
        (call $ok))))
)`;

let cached: Uint8Array | undefined;

/** The echo rule as a binary (built once per test file). */
export function echoRuleWasm(): Uint8Array {
  cached ??= watToWasm(ECHO_RULE_WAT);
  return cached.slice();
}
