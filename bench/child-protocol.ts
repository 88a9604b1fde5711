/**
 * @module The messages a benchmark child process (the bare subscriber or the gateway) exchanges
 * with the benchmark runner over the IPC channel, and the measurement both children take the
 * same way: CPU time and wall time from the runner's `start` until the last message is handled.
 */

/** Runner → child. */
export type RunnerMessage = { type: 'start' } | { type: 'close' };

/** Child → runner. */
export type ChildMessage =
  | { type: 'ready' }
  | { type: 'done'; measurement: Measurement }
  | { type: 'closed'; extra?: Record<string, number> }
  | { type: 'error'; message: string };

/** What a child measured between `start` and its last message. */
export interface Measurement {
  messages: number;
  wallMs: number;
  /** User + system CPU of the child process over `wallMs`, in microseconds. */
  cpuMicros: number;
  /** Peak resident set size of the child process, bytes. */
  peakRssBytes: number;
}

/** Measures from `begin()` until `end(messages)`; both read the process's own clocks. */
export class Stopwatch {
  #t0 = 0;
  #cpu0: NodeJS.CpuUsage = { user: 0, system: 0 };

  begin(): void {
    this.#t0 = performance.now();
    this.#cpu0 = process.cpuUsage();
  }

  end(messages: number): Measurement {
    const cpu = process.cpuUsage(this.#cpu0);
    return {
      messages,
      wallMs: performance.now() - this.#t0,
      cpuMicros: cpu.user + cpu.system,
      peakRssBytes: process.resourceUsage().maxRSS * 1024,
    };
  }
}

/** Sends a message to the runner (the child was forked with an IPC channel). */
export function tell(message: ChildMessage): void {
  process.send?.(message);
}

/** Calls `handler` for each message from the runner. */
export function listen(handler: (message: RunnerMessage) => void): void {
  process.on('message', (message) => handler(message as RunnerMessage));
}
