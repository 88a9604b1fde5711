/**
 * @module Shutdown on SIGINT/SIGTERM: the first signal asks for a clean stop (an AbortSignal),
 * a second one exits at once.
 */

/** A shutdown request; `dispose()` removes the signal handlers. */
export interface Shutdown {
  readonly signal: AbortSignal;
  /** Resolves with the signal's name when the first signal arrives. */
  readonly requested: Promise<NodeJS.Signals>;
  dispose(): void;
}

/** Installs the handlers; see the module comment. */
export function onShutdown(): Shutdown {
  const controller = new AbortController();
  let resolveRequested: (signal: NodeJS.Signals) => void = () => {};
  const requested = new Promise<NodeJS.Signals>((resolve) => {
    resolveRequested = resolve;
  });
  const handler = (signal: NodeJS.Signals): void => {
    if (controller.signal.aborted) {
      process.stderr.write(`sluice: ${signal} again, exiting without a clean stop\n`);
      process.exit(130);
    }
    process.stderr.write(`sluice: ${signal} received, stopping (press Ctrl-C again to force)\n`);
    controller.abort(signal);
    resolveRequested(signal);
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    signal: controller.signal,
    requested,
    dispose() {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}
