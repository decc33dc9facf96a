import assert from 'node:assert/strict';
import type { ChangeBatch } from '../engine/store.js';
import { containEqual, equal, like } from './assertions.js';
import type { ConformanceContext } from './context.js';

export function changeFeedTests({ store, unique, runs, describe, it }: ConformanceContext): void {
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
          ...(runs('boards') ? [{ op: 'score', board, member: 'm', score: 1, mode: 'set' } as const] : []),
        ]);
        const changes = heard.flatMap((b) => b.changes);
        containEqual(changes, like({ kind: 'document', collection, key: 'k' }));
        containEqual(changes, {
          kind: 'stream',
          stream,
          events: [like({ seq: 1, type: 'e', data: 1 })],
        });
        if (runs('boards')) containEqual(changes, { kind: 'board', board });
        const before = heard.length;
        await store()
          .commit([{ op: 'put', collection, key: 'k', value: 2, mustNotExist: true }])
          .catch(() => undefined);
        assert.equal(heard.length, before);
        await store().commit([{ op: 'delete', collection, key: 'k' }]);
        equal(heard.at(-1)?.changes, [{ kind: 'document', collection, key: 'k', document: null }]);
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
        assert.equal((await store().get(collection, 'k'))?.value, 1);
      } finally {
        unsubscribe();
      }
    });
  });
}
