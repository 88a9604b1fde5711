/**
 * @module The consumer side's wait shared by every `Outbox`: resolve once enough records (or
 * bytes) are ready, once the oldest ready record has waited `lingerMs`, or on close.
 */

/** What the outbox reports when the waiter re-evaluates (read only as far as needed). */
export interface ReadyState {
  closed(): boolean;
  /** Records ready to be taken. */
  ready(): number;
  /** Bytes ready to be taken; asked for only when some records are ready. */
  readyBytes(): number;
  /** When the oldest ready record became ready (ms since the epoch). */
  readySince(): number;
}

/** One pending `waitForRecords` of an outbox, with its linger timer. */
export class RecordsWaiter {
  #waiter:
    { minRecords: number; minBytes: number; lingerMs: number; resolve: () => void } | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;

  /** Waits until `check` finds enough ready (call `check` right after, and on every change). */
  wait(minRecords: number, minBytes: number, lingerMs: number): Promise<void> {
    return new Promise((resolve) => {
      this.#waiter = { minRecords, minBytes, lingerMs, resolve };
    });
  }

  /** Re-evaluates the pending wait against the outbox's state. */
  check(state: ReadyState): void {
    const waiter = this.#waiter;
    if (waiter === undefined) return;
    const ready = state.ready();
    if (
      state.closed() ||
      ready >= waiter.minRecords ||
      (ready > 0 && state.readyBytes() >= waiter.minBytes)
    ) {
      this.resolve();
      return;
    }
    if (ready === 0 || this.#timer !== undefined) return;
    const delay = state.readySince() + waiter.lingerMs - Date.now();
    if (delay <= 0) {
      this.resolve();
      return;
    }
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.resolve();
    }, delay);
    this.#timer.unref?.();
  }

  /** Ends the pending wait now (close, or enough records). */
  resolve(): void {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    const waiter = this.#waiter;
    if (waiter === undefined) return;
    this.#waiter = undefined;
    waiter.resolve();
  }
}
