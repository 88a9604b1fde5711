/**
 * @module Test helper: what a gateway left open, from Node's list of active resources.
 */

/** Active handles and requests by kind (sockets, servers, timers, file requests). */
export function openHandles(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const kind of process.getActiveResourcesInfo())
    counts.set(kind, (counts.get(kind) ?? 0) + 1);
  return counts;
}

/** Kinds of which more are open now than in `before` (what the test's gateway left behind). */
export function leftOpen(before: Map<string, number>): string[] {
  const left: string[] = [];
  for (const [kind, count] of openHandles()) {
    if (count > (before.get(kind) ?? 0)) left.push(`${kind} ×${count - (before.get(kind) ?? 0)}`);
  }
  return left;
}
