import assert from 'node:assert/strict';
import { equal, expectCode, matchObject } from './assertions.js';
import type { ConformanceContext } from './context.js';

export function streamTests({ store, clock, unique, describe, it }: ConformanceContext): void {
  describe('streams', () => {
    it('appends with gap-free seq from 1 and reads after a seq', async () => {
      const stream = unique('log');
      const first = await store().commit([
        { op: 'append', stream, events: [{ type: 'deal', data: { cards: 2 } }, { type: 'bet' }] },
      ]);
      matchObject(first.results[0], { op: 'append', firstSeq: 1, lastSeq: 2 });
      const second = await store().commit([{ op: 'append', stream, events: [{ type: 'fold', data: 'p2' }] }]);
      matchObject(second.results[0], {
        firstSeq: 3,
        lastSeq: 3,
        events: [{ seq: 3, type: 'fold', data: 'p2' }],
      });
      assert.equal(await store().streamHead(stream), 3);
      const all = await store().readStream(stream);
      equal(all, [
        { seq: 1, type: 'deal', data: { cards: 2 }, at: clock.now() },
        { seq: 2, type: 'bet', data: null, at: clock.now() },
        { seq: 3, type: 'fold', data: 'p2', at: clock.now() },
      ]);
      equal(
        (await store().readStream(stream, { after: 1, limit: 1 })).map((e) => e.seq),
        [2],
      );
      equal(await store().readStream(stream, { after: 3 }), []);
      equal(await store().readStream(unique('missing')), []);
      assert.equal(await store().streamHead(unique('missing')), 0);
    });

    it('expectedHead guards appends', async () => {
      const stream = unique('guard');
      await store().commit([{ op: 'append', stream, events: [{ type: 'a' }], expectedHead: 0 }]);
      await expectCode(
        store().commit([{ op: 'append', stream, events: [{ type: 'b' }], expectedHead: 0 }]),
        'VERSION_CONFLICT',
      );
      await store().commit([{ op: 'append', stream, events: [{ type: 'b' }], expectedHead: 1 }]);
      assert.equal(await store().streamHead(stream), 2);
    });

    it('moves a snapshot and the stream head together', async () => {
      const stream = unique('game');
      const collection = unique('snap');
      await store().commit([
        { op: 'put', collection, key: 'g', value: { pot: 0 } },
        { op: 'append', stream, events: [{ type: 'start' }] },
      ]);
      await expectCode(
        store().commit([
          { op: 'put', collection, key: 'g', value: { pot: 10 }, expectedVersion: 1 },
          { op: 'append', stream, events: [{ type: 'bet' }], expectedHead: 0 },
        ]),
        'VERSION_CONFLICT',
      );
      equal((await store().get(collection, 'g'))?.value, { pot: 0 });
      assert.equal(await store().streamHead(stream), 1);
    });

    it('concurrent appends to one stream never duplicate or skip a seq', async () => {
      const stream = unique('busy');
      await Promise.all(
        Array.from({ length: 100 }, (_, i) =>
          store().commit([{ op: 'append', stream, events: [{ type: 't', data: i }] }]),
        ),
      );
      const events = await store().readStream(stream, { limit: 1000 });
      equal(
        events.map((e) => e.seq),
        Array.from({ length: 100 }, (_, i) => i + 1),
      );
      assert.equal(new Set(events.map((e) => e.data)).size, 100);
    });

    it('deletes a stream with its events', async () => {
      const stream = unique('gone');
      await store().commit([{ op: 'append', stream, events: [{ type: 'a' }, { type: 'b' }] }]);
      equal((await store().commit([{ op: 'deleteStream', stream }])).results[0], {
        op: 'deleteStream',
        deleted: true,
      });
      assert.equal(await store().streamHead(stream), 0);
      await store().commit([{ op: 'append', stream, events: [{ type: 'again' }] }]);
      equal(
        (await store().readStream(stream)).map((e) => [e.seq, e.type]),
        [[1, 'again']],
      );
      equal((await store().commit([{ op: 'deleteStream', stream: unique('none') }])).results[0], {
        op: 'deleteStream',
        deleted: false,
      });
    });

    it('rejects empty appends and bad event types', async () => {
      const stream = unique('bad');
      await expectCode(store().commit([{ op: 'append', stream, events: [] }]), 'INVALID_INPUT');
      await expectCode(
        store().commit([{ op: 'append', stream, events: [{ type: '' } as never] }]),
        'INVALID_INPUT',
      );
      await expectCode(
        store().commit([{ op: 'append', stream, events: [{ type: 'x', data: Number.NaN }] }]),
        'INVALID_INPUT',
      );
      await expectCode(store().readStream(stream, { after: -1 }), 'INVALID_INPUT');
      assert.equal(await store().streamHead(stream), 0);
    });
  });
}
