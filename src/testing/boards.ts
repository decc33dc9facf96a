import assert from 'node:assert/strict';
import type { BoardEntry, BoardOrder } from '../engine/types.js';
import { equal, expectCode, matchObject } from './assertions.js';
import type { ConformanceContext } from './context.js';

interface ModelEntry {
  member: string;
  score: number;
  reachedAt: number;
}

/** The ranking rule, written the obvious way: score in order, then earliest reachedAt, then member bytes. */
export function modelRanking(order: BoardOrder, entries: readonly ModelEntry[]): string[] {
  return [...entries]
    .sort(
      (a, b) =>
        (order === 'desc' ? b.score - a.score : a.score - b.score) ||
        a.reachedAt - b.reachedAt ||
        Buffer.compare(Buffer.from(a.member), Buffer.from(b.member)),
    )
    .map((e) => e.member);
}

export function boardTests({ store, clock, unique, describe, it }: ConformanceContext): void {
  describe('boards', () => {
    it('ranks desc by score, then earliest reachedAt, then member', async () => {
      const board = unique('lb');
      await store().commit([{ op: 'score', board, member: 'carol', score: 50, mode: 'set' }]);
      clock.advance(10);
      await store().commit([
        { op: 'score', board, member: 'bob', score: 50, mode: 'set' },
        { op: 'score', board, member: 'alice', score: 50, mode: 'set' },
        { op: 'score', board, member: 'dave', score: 99, mode: 'set', metadata: { country: 'NO' } },
        { op: 'score', board, member: 'erin', score: -5, mode: 'set' },
      ]);
      const top = await store().boardRange(board);
      equal(
        top.map((e) => [e.rank, e.member, e.score]),
        [
          [1, 'dave', 99],
          [2, 'carol', 50],
          [3, 'alice', 50],
          [4, 'bob', 50],
          [5, 'erin', -5],
        ],
      );
      equal(top[0]?.metadata, { country: 'NO' });
      matchObject(await store().boardMember(board, 'alice'), { rank: 3, score: 50 });
      assert.equal(await store().boardMember(board, 'nobody'), undefined);
      equal(await store().boardInfo(board), { board, order: 'desc', count: 5 });
      equal(
        (await store().boardRange(board, { offset: 3, limit: 10 })).map((e) => e.member),
        ['bob', 'erin'],
      );
      equal(
        (await store().boardAround(board, 'alice', 1)).map((e) => e.member),
        ['carol', 'alice', 'bob'],
      );
      equal(
        (await store().boardAround(board, 'dave', 2)).map((e) => e.member),
        ['dave', 'carol', 'alice'],
      );
      equal(await store().boardAround(board, 'nobody', 2), []);
    });

    it('asc boards rank the lowest score first', async () => {
      const board = unique('speedrun');
      await store().commit([
        { op: 'score', board, member: 'slow', score: 90.5, mode: 'best', order: 'asc' },
        { op: 'score', board, member: 'fast', score: 61.25, mode: 'best', order: 'asc' },
        { op: 'score', board, member: 'neg', score: -1, mode: 'best', order: 'asc' },
      ]);
      equal(
        (await store().boardRange(board)).map((e) => e.member),
        ['neg', 'fast', 'slow'],
      );
      await expectCode(
        store().commit([{ op: 'score', board, member: 'x', score: 1, mode: 'set', order: 'desc' }]),
        'VERSION_CONFLICT',
      );
    });

    it('best keeps the better score and its time; incr adds; set replaces', async () => {
      const board = unique('modes');
      await store().commit([{ op: 'score', board, member: 'm', score: 10, mode: 'best' }]);
      const reached = clock.now();
      clock.advance(100);
      const worse = await store().commit([{ op: 'score', board, member: 'm', score: 5, mode: 'best' }]);
      matchObject(worse.results[0], { op: 'score', score: 10, reachedAt: reached, changed: false });
      const better = await store().commit([{ op: 'score', board, member: 'm', score: 12, mode: 'best' }]);
      matchObject(better.results[0], { score: 12, reachedAt: clock.now(), changed: true });
      await store().commit([{ op: 'score', board, member: 'm', score: 3, mode: 'incr' }]);
      assert.equal((await store().boardMember(board, 'm'))?.score, 15);
      await store().commit([{ op: 'score', board, member: 'm', score: 1, mode: 'set' }]);
      assert.equal((await store().boardMember(board, 'm'))?.score, 1);
      await Promise.all(
        Array.from({ length: 100 }, () =>
          store().commit([{ op: 'score', board, member: 'n', score: 2, mode: 'incr' }]),
        ),
      );
      assert.equal((await store().boardMember(board, 'n'))?.score, 200);
    });

    it('keeps metadata unless replaced or cleared', async () => {
      const board = unique('meta');
      await store().commit([
        { op: 'score', board, member: 'm', score: 1, mode: 'set', metadata: { skin: 'red' } },
      ]);
      await store().commit([{ op: 'score', board, member: 'm', score: 2, mode: 'set' }]);
      equal((await store().boardMember(board, 'm'))?.metadata, { skin: 'red' });
      await store().commit([{ op: 'score', board, member: 'm', score: 3, mode: 'set', metadata: null }]);
      assert.equal((await store().boardMember(board, 'm'))?.metadata, null);
    });

    it('removes members and whole boards', async () => {
      const board = unique('rm');
      await store().commit(
        ['a', 'b', 'c'].map((member, i) => ({
          op: 'score' as const,
          board,
          member,
          score: i,
          mode: 'set' as const,
        })),
      );
      equal((await store().commit([{ op: 'removeMember', board, member: 'b' }])).results[0], {
        op: 'removeMember',
        deleted: true,
      });
      equal(
        (await store().boardRange(board)).map((e) => [e.rank, e.member]),
        [
          [1, 'c'],
          [2, 'a'],
        ],
      );
      matchObject((await store().commit([{ op: 'removeMember', board, member: 'b' }])).results[0], {
        deleted: false,
      });
      equal((await store().commit([{ op: 'deleteBoard', board }])).results[0], {
        op: 'deleteBoard',
        deleted: true,
      });
      assert.equal(await store().boardInfo(board), undefined);
      equal(await store().boardRange(board), []);
    });

    it('lists boards by name prefix', async () => {
      const prefix = unique('daily');
      for (const day of ['2026-11-22', '2026-11-20', '2026-11-21']) {
        await store().commit([
          { op: 'score', board: `${prefix}:${day}`, member: 'm', score: 1, mode: 'set' },
        ]);
      }
      equal(
        (await store().listBoards(`${prefix}:`)).map((b) => b.board),
        [`${prefix}:2026-11-20`, `${prefix}:2026-11-21`, `${prefix}:2026-11-22`],
      );
    });

    it('agrees with a sort for a few thousand members with ties, after updates and removals', async () => {
      const board = unique('bulk');
      const model = new Map<string, ModelEntry>();
      let seed = 7;
      const random = () => {
        seed = (seed * 1103515245 + 12345) % 2147483648;
        return seed / 2147483648;
      };
      for (let round = 0; round < 6; round++) {
        clock.advance(1);
        const ops = Array.from({ length: 600 }, (_, i) => {
          const member = `p${Math.floor(random() * 2500)}`;
          const score = Math.floor(random() * 40) - 10;
          return { op: 'score' as const, board, member, score, mode: 'set' as const, index: i };
        });
        await store().commit(ops.map(({ index: _, ...op }) => op));
        for (const op of ops) {
          const previous = model.get(op.member);
          const changed = previous === undefined || previous.score !== op.score;
          model.set(op.member, {
            member: op.member,
            score: op.score,
            reachedAt: changed ? clock.now() : previous.reachedAt,
          });
        }
        const removed = [...model.keys()].filter(() => random() < 0.05);
        if (removed.length > 0)
          await store().commit(removed.map((member) => ({ op: 'removeMember' as const, board, member })));
        for (const member of removed) model.delete(member);
      }
      const expected = modelRanking('desc', [...model.values()]);
      assert.equal((await store().boardInfo(board))?.count, expected.length);
      const ranked: BoardEntry[] = [];
      for (let offset = 0; offset < expected.length; offset += 1000) {
        ranked.push(...(await store().boardRange(board, { offset, limit: 1000 })));
      }
      equal(
        ranked.map((e) => e.member),
        expected,
      );
      equal(
        ranked.map((e) => e.rank),
        expected.map((_, i) => i + 1),
      );
      for (let i = 0; i < expected.length; i += 97) {
        assert.equal((await store().boardMember(board, expected[i] as string))?.rank, i + 1);
      }
    });

    it('rejects non-finite scores and bad modes', async () => {
      const board = unique('badscore');
      for (const score of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
        await expectCode(
          store().commit([{ op: 'score', board, member: 'm', score, mode: 'set' }]),
          'INVALID_INPUT',
        );
      }
      await expectCode(
        store().commit([{ op: 'score', board, member: 'm', score: 1, mode: 'max' as never }]),
        'INVALID_INPUT',
      );
      assert.equal(await store().boardInfo(board), undefined);
    });
  });
}
