/**
 * @module Test helpers: wait for a condition (no fixed sleeps), pick a free TCP port.
 */

/** Polls `condition` until it returns true, or throws after `timeoutMs` naming `what`. */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  options: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const intervalMs = options.intervalMs ?? 20;
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return;
    if (Date.now() > until)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${options.what ?? 'a condition'}`,
      );
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

export { freePort } from '../../support/mosquitto.js';

/** Resolves after `ms` (only to let time pass deliberately, e.g. keep a sink down for a while). */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
