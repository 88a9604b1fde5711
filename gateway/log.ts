/**
 * @module The gateway's logger: pino, JSON lines on stderr (stdout stays free for command
 * output such as the demo's batch lines). Disabled levels cost nothing (pino no-ops them).
 */

import { pino, type Logger as PinoLogger } from 'pino';

/** The logger every gateway component takes (a pino logger; `child()` for bindings). */
export type Logger = PinoLogger;

/** Log levels, most verbose first; `silent` logs nothing. */
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'silent';

/**
 * A logger writing JSON lines to stderr at `level`.
 * @param level the lowest level written. @default 'info'
 * @param name  the `name` field of every line. @default 'sluice'
 */
export function createLogger(level: LogLevel = 'info', name = 'sluice'): Logger {
  // Synchronous writes to fd 2: a line logged just before process.exit() is not lost.
  return pino({ level, name, base: { pid: process.pid } }, pino.destination({ fd: 2, sync: true }));
}
