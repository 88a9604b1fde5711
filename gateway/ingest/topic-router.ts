/**
 * @module Routes an incoming MQTT topic to the pipeline whose topic filter matches it and
 * extracts the device key. Filters are split into levels once at start; the result per topic
 * string is cached in a bounded map, so the per-message cost is one map lookup.
 */

const SHARE_PREFIX = '$share/';

/** Where one topic goes: the target, the topic and the device key taken from it. */
export interface Route<T> {
  readonly target: T;
  readonly topic: string;
  readonly key: string;
}

/** One pipeline's subscription as the router sees it. */
export interface RouterEntry<T> {
  /** MQTT topic filters; a `$share/<group>/` prefix is stripped for matching. */
  readonly filters: readonly string[];
  /** Topic level (0-based) holding the device key; -1 → the whole topic. */
  readonly keyLevel: number;
  readonly target: T;
}

/** Options of a {@link TopicRouter}. */
export interface TopicRouterOptions {
  /** Most topics whose route is cached; the cache is cleared when it fills. @default 65536 */
  cacheSize?: number;
}

interface CompiledFilter<T> {
  readonly levels: readonly string[];
  readonly entry: RouterEntry<T>;
}

/** Removes a `$share/<group>/` prefix: shared subscriptions deliver topics matching the rest. */
export function stripSharePrefix(filter: string): string {
  if (!filter.startsWith(SHARE_PREFIX)) return filter;
  const slash = filter.indexOf('/', SHARE_PREFIX.length);
  return slash < 0 ? '' : filter.slice(slash + 1);
}

/**
 * Whether `topic` matches `filter` (levels already split), with `+` matching one level and `#`
 * the rest (including the parent level, [MQTT-4.7.1-2]). Topics starting with `$` never match a
 * filter starting with a wildcard [MQTT-4.7.2-1].
 */
export function topicMatchesLevels(filter: readonly string[], topic: readonly string[]): boolean {
  const first = topic[0];
  if (first !== undefined && first.startsWith('$') && (filter[0] === '+' || filter[0] === '#'))
    return false;
  for (let i = 0; i < filter.length; i++) {
    const level = filter[i];
    if (level === '#') return true;
    if (i >= topic.length) return false;
    if (level !== '+' && level !== topic[i]) return false;
  }
  return filter.length === topic.length;
}

/** Whether `topic` matches the MQTT topic filter `filter` (a `$share/` prefix is ignored). */
export function topicMatches(filter: string, topic: string): boolean {
  return topicMatchesLevels(stripSharePrefix(filter).split('/'), topic.split('/'));
}

/** Maps topics to pipelines; the first entry (in configuration order) whose filter matches wins. */
export class TopicRouter<T> {
  readonly #filters: CompiledFilter<T>[] = [];
  readonly #cache = new Map<string, Route<T> | null>();
  readonly #cacheSize: number;

  constructor(entries: readonly RouterEntry<T>[], options: TopicRouterOptions = {}) {
    this.#cacheSize = options.cacheSize ?? 65_536;
    for (const entry of entries) {
      for (const filter of entry.filters) {
        this.#filters.push({ levels: stripSharePrefix(filter).split('/'), entry });
      }
    }
  }

  /** The route of `topic`, or null when no filter matches it. */
  route(topic: string): Route<T> | null {
    const cached = this.#cache.get(topic);
    if (cached !== undefined) return cached;
    const route = this.#compute(topic);
    if (this.#cache.size >= this.#cacheSize) this.#cache.clear();
    this.#cache.set(topic, route);
    return route;
  }

  #compute(topic: string): Route<T> | null {
    const levels = topic.split('/');
    for (const { levels: filter, entry } of this.#filters) {
      if (!topicMatchesLevels(filter, levels)) continue;
      const key = entry.keyLevel < 0 ? topic : (levels[entry.keyLevel] ?? '');
      return { target: entry.target, topic, key };
    }
    return null;
  }
}
