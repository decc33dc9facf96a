import assert from 'node:assert/strict';
import type { JsonValue } from '../engine/types.js';
import { equal, expectCode, matchObject } from './assertions.js';
import type { ConformanceContext } from './context.js';

export function documentTests({ store, clock, unique, describe, it }: ConformanceContext): void {
  describe('documents', () => {
    it('creates with version 1 and bumps the version on every change', async () => {
      const collection = unique('docs');
      const created = await store().commit([{ op: 'put', collection, key: 'a', value: { n: 1 } }]);
      matchObject(created.results[0], {
        op: 'put',
        created: true,
        document: { version: 1, value: { n: 1 } },
      });
      const first = await store().get(collection, 'a');
      matchObject(first, { collection, key: 'a', value: { n: 1 }, version: 1, expiresAt: null });
      assert.equal(first?.createdAt, clock.now());
      clock.advance(5);
      await store().commit([{ op: 'put', collection, key: 'a', value: { n: 2 } }]);
      const second = await store().get(collection, 'a');
      matchObject(second, {
        value: { n: 2 },
        version: 2,
        createdAt: first?.createdAt,
        updatedAt: clock.now(),
      });
    });

    it('returns undefined for a missing document and a fresh copy on every read', async () => {
      const collection = unique('docs');
      assert.equal(await store().get(collection, 'missing'), undefined);
      await store().commit([{ op: 'put', collection, key: 'k', value: { list: [1, 2] } }]);
      const read = await store().get(collection, 'k');
      (read?.value as { list: number[] } | undefined)?.list.push(3);
      equal(read?.value, { list: [1, 2, 3] });
      equal((await store().get(collection, 'k'))?.value, { list: [1, 2] });
    });

    it('round-trips every kind of JSON value exactly', async () => {
      const collection = unique('json');
      const values: JsonValue[] = [
        null,
        true,
        0,
        -1.5,
        1e300,
        5e-324,
        Number.MAX_SAFE_INTEGER,
        '',
        'plain',
        'quote " backslash \\ newline \n tab \t',
        'ünïcødé 🎲 中文',
        [],
        [1, 'two', null, [3]],
        {},
        { nested: { deep: { deeper: [{ a: 1 }] } }, 'key with spaces': 1, 'dotted.key': 2 },
      ];
      await store().commit(
        values.map((value, index) => ({ op: 'put' as const, collection, key: `v${index}`, value })),
      );
      for (const [index, value] of values.entries()) {
        equal((await store().get(collection, `v${index}`))?.value, value);
      }
    });

    it('stores large values (1 MiB)', async () => {
      const collection = unique('large');
      const value = { blob: 'x'.repeat(1024 * 1024), items: Array.from({ length: 1000 }, (_, i) => ({ i })) };
      await store().commit([{ op: 'put', collection, key: 'big', value }]);
      equal((await store().get(collection, 'big'))?.value, value);
    });

    it('accepts unicode keys and collections', async () => {
      const collection = unique('ünï');
      const keys = ['joueur-é', '玩家', '🎮:player', 'Ω', 'a b', 'x/y\\z', "o'neil", '%_*?[]'];
      await store().commit(keys.map((key, i) => ({ op: 'put' as const, collection, key, value: i })));
      for (const [i, key] of keys.entries()) assert.equal((await store().get(collection, key))?.value, i);
      const page = await store().list(collection, { limit: 100 });
      equal(
        page.items.map((d) => d.key),
        [...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))),
      );
    });

    it('reads many keys at once, leaving out missing ones', async () => {
      const collection = unique('many');
      await store().commit(
        ['a', 'b', 'c'].map((key) => ({ op: 'put' as const, collection, key, value: key })),
      );
      const found = await store().getMany(collection, ['c', 'missing', 'a']);
      equal(
        found.map((d) => d.key),
        ['c', 'a'],
      );
      equal(await store().getMany(collection, []), []);
    });

    it('lists a collection by key with prefix and cursor pagination', async () => {
      const collection = unique('list');
      const keys = Array.from({ length: 25 }, (_, i) => `user:${String(i).padStart(2, '0')}`);
      await store().commit([
        ...keys.map((key) => ({ op: 'put' as const, collection, key, value: { key } })),
        { op: 'put', collection, key: 'other:1', value: 1 },
        { op: 'put', collection, key: 'user', value: 'exact prefix itself' },
        { op: 'put', collection, key: 'user_%', value: 'like metacharacters' },
      ]);
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page: Awaited<ReturnType<ReturnType<typeof store>['list']>> = await store().list(collection, {
          prefix: 'user:',
          limit: 10,
          ...(cursor === null ? {} : { after: cursor }),
        });
        assert.ok(page.items.length <= 10);
        seen.push(...page.items.map((d) => d.key));
        cursor = page.nextCursor;
      } while (cursor !== null);
      equal(seen, keys);
      const all = await store().list(collection, { limit: 1000 });
      assert.equal(all.nextCursor, null);
      assert.equal(all.items.length, 28);
      equal(
        (await store().list(collection, { prefix: 'user_' })).items.map((d) => d.key),
        ['user_%'],
      );
      equal((await store().list(unique('empty'))).items, []);
    });

    it('deletes, reporting whether anything was there', async () => {
      const collection = unique('del');
      await store().commit([{ op: 'put', collection, key: 'k', value: 1 }]);
      const removed = await store().commit([{ op: 'delete', collection, key: 'k' }]);
      equal(removed.results[0], { op: 'delete', deleted: true });
      assert.equal(await store().get(collection, 'k'), undefined);
      const again = await store().commit([{ op: 'delete', collection, key: 'k' }]);
      equal(again.results[0], { op: 'delete', deleted: false });
      await store().commit([{ op: 'put', collection, key: 'k', value: 2 }]);
      assert.equal((await store().get(collection, 'k'))?.version, 1);
    });

    it('rejects bad names and values with INVALID_INPUT and writes nothing', async () => {
      const collection = unique('bad');
      const cyclic: Record<string, unknown> = {};
      cyclic.self = cyclic;
      const bad: unknown[] = [
        { op: 'put', collection: '', key: 'k', value: 1 },
        { op: 'put', collection, key: '', value: 1 },
        { op: 'put', collection, key: 'a\u0000b', value: 1 },
        { op: 'put', collection, key: 'x'.repeat(600), value: 1 },
        { op: 'put', collection, key: 'k', value: Number.NaN },
        { op: 'put', collection, key: 'k', value: { score: Number.POSITIVE_INFINITY } },
        { op: 'put', collection, key: 'k', value: cyclic },
        { op: 'put', collection, key: 'k', value: undefined },
        { op: 'put', collection, key: 'k', value: () => 1 },
        { op: 'put', collection, key: 'k', value: new Map() },
        { op: 'put', collection, key: 'k', value: 10n },
        { op: 'put', collection, key: 'k', value: [undefined] },
        { op: 'frobnicate', collection, key: 'k' },
      ];
      for (const op of bad) {
        await expectCode(store().commit([op as never]), 'INVALID_INPUT');
      }
      await expectCode(store().commit([]), 'INVALID_INPUT');
      let deep: unknown = 1;
      for (let i = 0; i < 100; i++) deep = [deep];
      await expectCode(
        store().commit([{ op: 'put', collection, key: 'deep', value: deep as never }]),
        'INVALID_INPUT',
      );
      equal((await store().list(collection)).items, []);
    });

    it('rejects values over the size limit with PAYLOAD_TOO_LARGE', async () => {
      const collection = unique('huge');
      const value = 'x'.repeat(17 * 1024 * 1024);
      await expectCode(store().commit([{ op: 'put', collection, key: 'k', value }]), 'PAYLOAD_TOO_LARGE');
      assert.equal(await store().get(collection, 'k'), undefined);
    });
  });
}
