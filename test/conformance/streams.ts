import { describe, expect, it } from 'vitest';
import type { ConformanceContext } from './context.js';
import { expectCode } from './expect-code.js';

export function streamTests({ store, clock, unique }: ConformanceContext): void {
  describe('streams', () => {
    it('appends with gap-free seq from 1 and reads after a seq', async () => {
      const stream = unique('log');
      const first = await store().commit([
        { op: 'append', stream, events: [{ type: 'deal', data: { cards: 2 } }, { type: 'bet' }] },
      ]);
      expect(first.results[0]).toMatchObject({ op: 'append', firstSeq: 1, lastSeq: 2 });
      const second = await store().commit([{ op: 'append', stream, events: [{ type: 'fold', data: 'p2' }] }]);
      expect(second.results[0]).toMatchObject({
        firstSeq: 3,
        lastSeq: 3,
        events: [{ seq: 3, type: 'fold', data: 'p2' }],
      });
      expect(await store().streamHead(stream)).toBe(3);
      const all = await store().readStream(stream);
      expect(all).toEqual([
        { seq: 1, type: 'deal', data: { cards: 2 }, at: clock.now() },
        { seq: 2, type: 'bet', data: null, at: clock.now() },
        { seq: 3, type: 'fold', data: 'p2', at: clock.now() },
      ]);
      expect((await store().readStream(stream, { after: 1, limit: 1 })).map((e) => e.seq)).toEqual([2]);
      expect(await store().readStream(stream, { after: 3 })).toEqual([]);
      expect(await store().readStream(unique('missing'))).toEqual([]);
      expect(await store().streamHead(unique('missing'))).toBe(0);
    });

    it('expectedHead guards appends', async () => {
      const stream = unique('guard');
      await store().commit([{ op: 'append', stream, events: [{ type: 'a' }], expectedHead: 0 }]);
      await expectCode(
        store().commit([{ op: 'append', stream, events: [{ type: 'b' }], expectedHead: 0 }]),
        'VERSION_CONFLICT',
      );
      await store().commit([{ op: 'append', stream, events: [{ type: 'b' }], expectedHead: 1 }]);
      expect(await store().streamHead(stream)).toBe(2);
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
      expect((await store().get(collection, 'g'))?.value).toEqual({ pot: 0 });
      expect(await store().streamHead(stream)).toBe(1);
    });

    it('concurrent appends to one stream never duplicate or skip a seq', async () => {
      const stream = unique('busy');
      await Promise.all(
        Array.from({ length: 100 }, (_, i) =>
          store().commit([{ op: 'append', stream, events: [{ type: 't', data: i }] }]),
        ),
      );
      const events = await store().readStream(stream, { limit: 1000 });
      expect(events.map((e) => e.seq)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
      expect(new Set(events.map((e) => e.data)).size).toBe(100);
    });

    it('deletes a stream with its events', async () => {
      const stream = unique('gone');
      await store().commit([{ op: 'append', stream, events: [{ type: 'a' }, { type: 'b' }] }]);
      expect((await store().commit([{ op: 'deleteStream', stream }])).results[0]).toEqual({
        op: 'deleteStream',
        deleted: true,
      });
      expect(await store().streamHead(stream)).toBe(0);
      await store().commit([{ op: 'append', stream, events: [{ type: 'again' }] }]);
      expect((await store().readStream(stream)).map((e) => [e.seq, e.type])).toEqual([[1, 'again']]);
      expect((await store().commit([{ op: 'deleteStream', stream: unique('none') }])).results[0]).toEqual({
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
      expect(await store().streamHead(stream)).toBe(0);
    });
  });
}
