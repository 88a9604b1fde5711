/**
 * TopicRouter: MQTT wildcard matching, shared-subscription prefixes, first match wins, device
 * key extraction.
 */
import { describe, expect, it } from 'vitest';
import { TopicRouter, topicMatches } from '../../gateway/ingest/topic-router.js';

describe('topicMatches', () => {
  it.each([
    ['sensors/+/reading', 'sensors/dev-1/reading', true],
    ['sensors/+/reading', 'sensors/dev-1/other', false],
    ['sensors/+/reading', 'sensors/reading', false],
    ['sensors/#', 'sensors', true],
    ['sensors/#', 'sensors/a/b/c', true],
    ['#', '$SYS/broker/uptime', false],
    ['+/x', '$SYS/x', false],
    ['$SYS/#', '$SYS/broker', true],
    ['$share/group/sensors/+/reading', 'sensors/d/reading', true],
    ['a/b', 'a/b/', false],
    ['a/+', 'a/', true],
  ])('%s matches %s: %s', (filter, topic, expected) => {
    expect(topicMatches(filter, topic)).toBe(expected);
  });
});

describe('TopicRouter', () => {
  it('routes to the first matching pipeline and takes the key from the configured level', () => {
    const router = new TopicRouter<string>([
      { filters: ['sensors/+/reading'], keyLevel: 1, target: 'readings' },
      { filters: ['sensors/#', '$share/g/plant/+/+/state'], keyLevel: -1, target: 'rest' },
    ]);
    expect(router.route('sensors/dev-7/reading')).toEqual({
      target: 'readings',
      topic: 'sensors/dev-7/reading',
      key: 'dev-7',
    });
    expect(router.route('sensors/dev-7/status')).toEqual({
      target: 'rest',
      topic: 'sensors/dev-7/status',
      key: 'sensors/dev-7/status',
    });
    expect(router.route('plant/a/b/state')?.target).toBe('rest');
    expect(router.route('other/topic')).toBeNull();
    // Cached: the same object comes back.
    expect(router.route('sensors/dev-7/reading')).toBe(router.route('sensors/dev-7/reading'));
  });

  it('keeps its cache bounded', () => {
    const router = new TopicRouter<string>([{ filters: ['#'], keyLevel: 0, target: 't' }], {
      cacheSize: 10,
    });
    for (let i = 0; i < 1000; i++) expect(router.route(`d-${i}/x`)?.key).toBe(`d-${i}`);
  });
});
