/**
 * @module The gateway's Prometheus metrics registry.
 */
export { RULE_LATENCY_QUANTILES, createGatewayMetrics } from './gateway-metrics.js';
export type { GatewayMetricsSources } from './gateway-metrics.js';
