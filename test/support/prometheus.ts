/**
 * @module Test helper: reads one series out of Prometheus text exposition (what `GET /metrics`
 * returns), so tests assert the values a scraper would see.
 */

/** The value of the series `name{labels}` in Prometheus text (undefined when absent). */
export function metricSample(
  text: string,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (match === null || match[1] !== name) continue;
    const found: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g))
      found[pair[1] as string] = pair[2] as string;
    const wanted = Object.entries(labels);
    if (
      wanted.length === Object.keys(found).length &&
      wanted.every(([key, value]) => found[key] === value)
    )
      return Number(match[3]);
  }
  return undefined;
}
