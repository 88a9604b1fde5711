/**
 * @module The human summary `sluice publish` prints at the end of a run.
 */

import type { SimulatorResult } from './run.js';

/** `sent 10000 messages (json, QoS 1) in 10.0 s = 1000 msgs/s; invalid 512 (range 170, ...)`. */
export function formatSimulatorSummary(result: SimulatorResult): string {
  const invalid = result.invalid.range + result.invalid.missing + result.invalid.malformed;
  const seconds = (result.elapsedMs / 1000).toFixed(1);
  const lines = [
    `sent ${result.sent} of ${result.published} messages (${result.format}, QoS ${result.qos}, ` +
      `${result.devices} devices over ${result.clients} connection${result.clients === 1 ? '' : 's'}) ` +
      `in ${seconds} s = ${Math.round(result.rate)} msgs/s, ${formatBytes(result.bytes)} of payload`,
    `valid ${result.valid}, invalid ${invalid} (range ${result.invalid.range}, missing ` +
      `${result.invalid.missing}, malformed ${result.invalid.malformed}); seed ${String(result.seed)}`,
  ];
  if (result.failed > 0 || result.unconfirmed > 0) {
    lines.push(
      `not confirmed by the broker: ${result.failed} failed, ${result.unconfirmed} unanswered`,
    );
  }
  return lines.join('\n');
}

/** `3.1 kB`, `12.4 MB`. */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  if (bytes < 1_000_000) return `${(bytes / 1000).toFixed(1)} kB`;
  return `${(bytes / 1_000_000).toFixed(1)} MB`;
}
