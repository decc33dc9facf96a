import { describe, expect, it } from 'vitest';
import type { ChangeBatch } from '../../src/engine/store.js';
import type { ConformanceContext } from './context.js';

export function changeFeedTests({ store, unique }: ConformanceContext): void {
  describe('change feed', () => {
    it('tells subscribers of every committed op before the commit resolves, and nothing of failed ones', async () => {
      const collection = unique('feed');
      const stream = unique('feed');
      const board = unique('feed');
      const heard: ChangeBatch[] = [];
      const unsubscribe = store().subscribe((batch) => {
        if (batch.origin === 'local') heard.push(batch);
      });
      try {
        await store().commit([
          { op: 'put', collection, key: 'k', value: 1 },
          { op: 'append', stream, events: [{ type: 'e', data: 1 }] },
          { op: 'score', board, member: 'm', score: 1, mode: 'set' },
        ]);
        const changes = heard.flatMap((b) => b.changes);
        expect(changes).toContainEqual(expect.objectContaining({ kind: 'document', collection, key: 'k' }));
        expect(changes).toContainEqual({
          kind: 'stream',
          stream,
          events: [expect.objectContaining({ seq: 1, type: 'e', data: 1 })],
        });
        expect(changes).toContainEqual({ kind: 'board', board });
        const before = heard.length;
        await store()
          .commit([{ op: 'put', collection, key: 'k', value: 2, mustNotExist: true }])
          .catch(() => undefined);
        expect(heard.length).toBe(before);
        await store().commit([{ op: 'delete', collection, key: 'k' }]);
        expect(heard.at(-1)?.changes).toEqual([{ kind: 'document', collection, key: 'k', document: null }]);
      } finally {
        unsubscribe();
      }
    });

    it('a throwing subscriber does not fail the commit', async () => {
      const collection = unique('feedthrow');
      const unsubscribe = store().subscribe(() => {
        throw new Error('subscriber bug');
      });
      try {
        await store().commit([{ op: 'put', collection, key: 'k', value: 1 }]);
        expect((await store().get(collection, 'k'))?.value).toBe(1);
      } finally {
        unsubscribe();
      }
    });
  });
}
