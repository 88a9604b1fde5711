/**
 * @module Validation of MQTT topic filters and topic names (MQTT 3.1.1 §4.7, MQTT 5 §4.7-4.8).
 */

const SHARE_PREFIX = '$share/';

/** The levels of a filter after any `$share/<group>/` prefix. */
export function filterLevels(filter: string): string[] {
  if (filter.startsWith(SHARE_PREFIX)) {
    return filter.split('/').slice(2);
  }
  return filter.split('/');
}

/**
 * Why `filter` is not a valid subscription filter, or undefined when it is. The text follows
 * the rendered value: `"a/#/b" is not a valid topic filter (...)`.
 */
export function topicFilterProblem(filter: string): string | undefined {
  const invalid = 'is not a valid topic filter';
  if (filter === '') return `${invalid} (a filter must not be empty; e.g. "sensors/+/reading")`;
  if (filter.includes('\u0000')) return `${invalid} (it contains a NUL character)`;
  if (new TextEncoder().encode(filter).length > 65535)
    return `${invalid} (longer than 65535 bytes)`;
  if (filter.startsWith(SHARE_PREFIX)) {
    const group = filter.split('/')[1] ?? '';
    // [MQTT-4.8.2-1] [MQTT-4.8.2-2]: the ShareName is at least one character, without wildcards.
    if (group === '' || group.includes('+') || group.includes('#')) {
      return `${invalid} (a shared subscription is "$share/<group>/<filter>" with a group name without + or #)`;
    }
    if (filter.split('/').length < 3 || filterLevels(filter).join('/') === '') {
      return `${invalid} (a shared subscription needs a filter after the group: "$share/${group}/sensors/+/reading")`;
    }
  }
  const levels = filterLevels(filter);
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i] ?? '';
    // [MQTT-4.7.1-2]: "#" occupies a whole level and is the last character of the filter.
    if (level.includes('#')) {
      if (level !== '#')
        return `${invalid} ("#" must be a whole level, as in "sensors/#", not "${level}")`;
      if (i !== levels.length - 1)
        return `${invalid} ("#" must be the last level, as in "sensors/#")`;
    }
    // [MQTT-4.7.1-3]: "+" occupies a whole level.
    if (level.includes('+') && level !== '+') {
      return `${invalid} ("+" must be a whole level, as in "sensors/+/reading", not mixed into "${level}")`;
    }
  }
  return undefined;
}

/** Why `topic` is not a valid topic name to publish to (no wildcards), or undefined. */
export function topicNameProblem(topic: string): string | undefined {
  const invalid = 'is not a valid topic to publish to';
  if (topic === '') return `${invalid} (it is empty)`;
  if (topic.includes('+') || topic.includes('#'))
    return `${invalid} (wildcards + and # are only for subscriptions)`;
  if (topic.includes('\u0000')) return `${invalid} (it contains a NUL character)`;
  return undefined;
}
