import { describe, expect, it } from 'vitest';
import { L1Cache } from '../../src/cache/redis/l1-cache.js';

const options = { maxEntries: 3, maxAgeMs: 60_000, maxEntryChars: 100 };

describe('L1 cache', () => {
  it('evicts the least recently used entry beyond maxEntries', () => {
    const l1 = new L1Cache(options);
    for (const key of ['a', 'b', 'c']) l1.fill(key, `"${key}"`, null, 1000, l1.readToken());
    l1.get('a');
    l1.fill('d', '"d"', null, 1000, l1.readToken());
    expect(l1.size).toBe(3);
    expect(l1.get('b')).toBeUndefined();
    expect(l1.get('a')?.json).toBe('"a"');
    expect(l1.get('d')?.json).toBe('"d"');
  });

  it('refuses a fill by a read that started before an invalidation of its key', () => {
    const l1 = new L1Cache(options);
    const slow = l1.readToken();
    l1.invalidate(['k']);
    expect(l1.fill('k', '"old"', null, 1000, slow)).toBe(false);
    expect(l1.fill('other', '"fine"', null, 1000, slow)).toBe(true);
    expect(l1.fill('k', '"new"', null, 1000, l1.readToken())).toBe(true);
    expect(l1.get('k')?.json).toBe('"new"');
  });

  it('refuses every older fill after clear, and after forgetting many invalidations', () => {
    const l1 = new L1Cache(options);
    const before = l1.readToken();
    l1.clear();
    expect(l1.fill('k', '1', null, 1000, before)).toBe(false);
    const token = l1.readToken();
    l1.invalidate(Array.from({ length: 2000 }, (_, i) => `key${i}`));
    expect(l1.fill('unrelated', '1', null, 1000, token)).toBe(false);
    expect(l1.fill('unrelated', '1', null, 1000, l1.readToken())).toBe(true);
  });

  it('serves an entry no longer than its ttl and keeps no oversized documents', async () => {
    const l1 = new L1Cache(options);
    l1.fill('k', '1', null, 5, l1.readToken());
    expect(l1.get('k')).toBeDefined();
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(l1.get('k')).toBeUndefined();
    expect(l1.fill('big', `"${'x'.repeat(200)}"`, null, 1000, l1.readToken())).toBe(false);
    expect(l1.fill('absent', null, null, 1000, l1.readToken())).toBe(true);
    expect(l1.get('absent')).toMatchObject({ json: null });
  });

  it('does nothing with maxEntries 0', () => {
    const l1 = new L1Cache({ ...options, maxEntries: 0 });
    expect(l1.enabled).toBe(false);
    expect(l1.fill('k', '1', null, 1000, l1.readToken())).toBe(false);
    expect(l1.size).toBe(0);
  });
});
