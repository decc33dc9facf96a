import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { engineBoardName } from '../../src/domains/leaderboards/board-names.js';
import { type LeaderboardEntry, Leaderboards } from '../../src/domains/leaderboards/leaderboards.js';
import {
  isoWeeksInYear,
  isPeriodName,
  periodOf,
  resolvePeriod,
} from '../../src/domains/leaderboards/periods.js';
import { ManualClock } from '../../src/engine/clock.js';
import { Store } from '../../src/engine/store.js';
import { expectCode } from '../support/expect-code.js';
import { testStorages } from '../support/storages.js';

const { storages, cleanup } = await testStorages('sp_leaderboards');
const opened: Store[] = [];

afterEach(async () => {
  await Promise.all(opened.splice(0).map((store) => store.close()));
});
afterAll(cleanup);

const DAY = 86_400_000;
const utc = (date: string): number => Date.parse(`${date}T00:00:00Z`);

describe('periods', () => {
  it('names daily, weekly (ISO) and monthly periods in UTC', () => {
    const time = Date.parse('2026-01-13T23:59:59.999Z');
    expect(periodOf('daily', time)).toBe('2026-01-13');
    expect(periodOf('monthly', time)).toBe('2026-01');
    expect(periodOf('weekly', time)).toBe('2026-W03');
    expect(periodOf('daily', time + 1)).toBe('2026-01-14');
    expect(periodOf('none', time)).toBeNull();
  });

  it('puts ISO weeks in the year of their Thursday', () => {
    const cases: Array<[string, string]> = [
      ['2026-01-01', '2026-W01'], // a Thursday
      ['2027-01-01', '2026-W53'], // a Friday: still the last week of 2026
      ['2027-01-03', '2026-W53'], // Sunday ends that week
      ['2027-01-04', '2027-W01'], // Monday starts the next
      ['2024-12-30', '2025-W01'], // a Monday in December belonging to the next year
      ['2021-01-03', '2020-W53'],
      ['2025-12-28', '2025-W52'],
      ['2026-12-31', '2026-W53'],
    ];
    for (const [date, week] of cases) expect([date, periodOf('weekly', utc(date))]).toEqual([date, week]);
    expect([2020, 2021, 2025, 2026, 2032].map(isoWeeksInYear)).toEqual([53, 52, 52, 53, 53]);
  });

  it('accepts only real period names', () => {
    expect(isPeriodName('daily', '2028-02-29')).toBe(true);
    expect(isPeriodName('daily', '2026-02-29')).toBe(false);
    expect(isPeriodName('daily', '2026-1-01')).toBe(false);
    expect(isPeriodName('weekly', '2026-W53')).toBe(true);
    expect(isPeriodName('weekly', '2025-W53')).toBe(false);
    expect(isPeriodName('weekly', '2025-W00')).toBe(false);
    expect(isPeriodName('monthly', '2026-12')).toBe(true);
    expect(isPeriodName('monthly', '2026-13')).toBe(false);
    expect(resolvePeriod('daily', undefined, utc('2026-03-01'))).toBe('2026-03-01');
    expect(() => resolvePeriod('daily', '2026-W01', 0)).toThrow(/YYYY-MM-DD/);
    expect(() => resolvePeriod('none', '2026-01-01', 0)).toThrow(/no periods/);
  });
});

describe.each(
  storages.filter((storage) => storage.enabled).map((storage) => [storage.name, storage] as const),
)('leaderboards on %s', (_name, storage) => {
  async function setup(start = Date.parse('2026-01-13T12:00:00Z')) {
    const clock = new ManualClock(start);
    const store = new Store(await storage.openDriver(), { clock: clock.now });
    opened.push(store);
    return { store, clock, boards: new Leaderboards(store) };
  }

  it('defines a board idempotently and refuses to change its rules', async () => {
    const { boards } = await setup();
    const definition = { order: 'asc', operator: 'best', period: 'daily', keepPeriods: 3 } as const;
    expect(await boards.define('speedrun', definition)).toEqual({ board: 'speedrun', ...definition });
    expect(await boards.define('speedrun', definition)).toEqual({ board: 'speedrun', ...definition });
    expect(await boards.define('speedrun', { ...definition, keepPeriods: 5 })).toMatchObject({
      keepPeriods: 5,
    });
    await expectCode(boards.define('speedrun', { ...definition, order: 'desc' }), 'VERSION_CONFLICT');
    await expectCode(boards.define('speedrun', { ...definition, operator: 'set' }), 'VERSION_CONFLICT');
    await expectCode(boards.define('speedrun', { ...definition, period: 'weekly' }), 'VERSION_CONFLICT');
    await expectCode(
      boards.define('lifetime-wins', { order: 'desc', operator: 'best', period: 'none' }),
      'VERSION_CONFLICT',
    );
    expect(
      await boards.define('weekly', { order: 'desc', operator: 'incr', period: 'weekly' }),
    ).toMatchObject({
      keepPeriods: 13,
    });
    expect(
      await boards.define('forever', { order: 'desc', operator: 'set', period: 'none', keepPeriods: 4 }),
    ).toMatchObject({ keepPeriods: null });
    await expectCode(boards.define('x', { ...definition, keepPeriods: 0 }), 'INVALID_INPUT');
    await expectCode(boards.top('undefined'), 'NOT_FOUND');
  });

  it('defines an undefined board as desc/best/none on its first write, once under a race', async () => {
    const { boards } = await setup();
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => boards.submit('global', { member: `p${i}`, score: i })),
    );
    expect(results.find((r) => r.member === 'p19')).toMatchObject({ rank: 1, score: 19, period: null });
    expect(await boards.get('global')).toEqual({
      board: 'global',
      order: 'desc',
      operator: 'best',
      period: 'none',
      keepPeriods: null,
    });
    expect(await boards.submit('global', { member: 'p19', score: 1 })).toMatchObject({
      score: 19,
      rank: 1,
      changed: false,
    });
    const page = await boards.top('global', { limit: 2, offset: 1 });
    expect(page).toEqual({
      board: 'global',
      period: null,
      total: 20,
      entries: [
        { rank: 2, member: 'p18', score: 18, metadata: null },
        { rank: 3, member: 'p17', score: 17, metadata: null },
      ],
    });
    await expectCode(boards.top('global', { limit: 1001 }), 'INVALID_INPUT');
    await expectCode(boards.top('global', { period: '2026-01-01' }), 'INVALID_INPUT');
    await expectCode(
      boards.submit('global', { member: 'p', score: Number.POSITIVE_INFINITY }),
      'INVALID_INPUT',
    );
  });

  it('combines scores by the operator, keeps metadata, and ranks ties by time', async () => {
    const { boards, clock } = await setup();
    await boards.define('sum', { order: 'desc', operator: 'incr', period: 'none' });
    await boards.define('last', { order: 'asc', operator: 'set', period: 'none' });
    await boards.submit('sum', { member: 'a', score: 5, metadata: { country: 'NO' } });
    clock.advance(1);
    await boards.submit('sum', { member: 'b', score: 8 });
    clock.advance(1);
    expect(await boards.submit('sum', { member: 'a', score: 3 })).toMatchObject({ score: 8, rank: 2 });
    expect(await boards.member('sum', 'a')).toEqual({
      rank: 2,
      member: 'a',
      score: 8,
      metadata: { country: 'NO' },
      period: null,
      around: [{ rank: 2, member: 'a', score: 8, metadata: { country: 'NO' } }],
    });
    await boards.submit('last', { member: 'a', score: 50 });
    expect(await boards.submit('last', { member: 'a', score: 70 })).toMatchObject({ score: 70, rank: 1 });
    expect(await boards.member('sum', 'nobody')).toBeUndefined();
    expect(await boards.removeMember('sum', 'a')).toBe(true);
    expect(await boards.removeMember('sum', 'a')).toBe(false);
    expect((await boards.top('sum')).entries.map((e) => e.member)).toEqual(['b']);
    await expectCode(boards.member('undefined', 'a'), 'NOT_FOUND');
    await expectCode(boards.removeMember('undefined', 'a'), 'NOT_FOUND');
  });

  it('ranks 10,000 random scores with ties exactly as a sort does; around agrees with top', async () => {
    const { boards, clock } = await setup();
    const model: Array<{ member: string; score: number; at: number }> = [];
    // 100 waves of 100 concurrent writers: scores 0-99 tie often, and then time breaks ties, then member.
    for (let wave = 0; wave < 100; wave++) {
      const writes = Array.from({ length: 100 }, (_, i) => {
        const member = `m${String((i * 7919 + wave * 104_729) % 1_000_003).padStart(7, '0')}-${wave}`;
        const score = Math.floor(Math.random() * 100);
        model.push({ member, score, at: clock.now() });
        return boards.submit('big', { member, score });
      });
      await Promise.all(writes);
      clock.advance(Math.random() < 0.5 ? 0 : 1000);
    }
    model.sort((a, b) => b.score - a.score || a.at - b.at || (a.member < b.member ? -1 : 1));
    const ranked: LeaderboardEntry[] = [];
    for (let offset = 0; offset < model.length; offset += 1000) {
      const page = await boards.top('big', { limit: 1000, offset });
      expect(page.total).toBe(10_000);
      ranked.push(...page.entries);
    }
    expect(ranked.map((e) => [e.rank, e.member, e.score])).toEqual(
      model.map((m, index) => [index + 1, m.member, m.score]),
    );
    for (let sample = 0; sample < 40; sample++) {
      const rank = 1 + Math.floor(Math.random() * model.length);
      const member = (model[rank - 1] as { member: string }).member;
      const standing = await boards.member('big', member, { around: 3 });
      expect(standing?.rank).toBe(rank);
      const from = Math.max(0, rank - 4);
      expect(standing?.around).toEqual(ranked.slice(from, rank + 3));
    }
  });

  it('writes into the current period, keeps keepPeriods of them, and reads old ones', async () => {
    const { boards, clock, store } = await setup(Date.parse('2026-01-01T10:00:00Z'));
    await boards.define('daily', { order: 'desc', operator: 'best', period: 'daily', keepPeriods: 2 });
    expect(await boards.submit('daily', { member: 'a', score: 1 })).toMatchObject({
      period: '2026-01-01',
      rank: 1,
    });
    expect(await store.boardInfo('leaderboard:daily:2026-01-01')).toMatchObject({ count: 1 });
    clock.advance(DAY);
    await boards.submit('daily', { member: 'b', score: 2 });
    expect((await boards.top('daily', { period: '2026-01-01' })).entries.map((e) => e.member)).toEqual(['a']);
    expect(await boards.top('daily')).toMatchObject({ period: '2026-01-02', total: 1 });
    clock.advance(DAY);
    await boards.submit('daily', { member: 'c', score: 3 });
    // 2026-01-01 is now the third period back: pruned.
    expect(await boards.top('daily', { period: '2026-01-01' })).toMatchObject({ total: 0, entries: [] });
    expect(await store.boardInfo('leaderboard:daily:2026-01-01')).toBeUndefined();
    expect(await boards.member('daily', 'b', { period: '2026-01-02' })).toMatchObject({ rank: 1, score: 2 });
    expect(await boards.member('daily', 'b')).toBeUndefined();
    // Lowering keepPeriods prunes at once.
    await boards.define('daily', { order: 'desc', operator: 'best', period: 'daily', keepPeriods: 1 });
    expect(await store.boardInfo('leaderboard:daily:2026-01-02')).toBeUndefined();
    expect(await boards.top('daily')).toMatchObject({ total: 1 });
    await expectCode(boards.top('daily', { period: '2026-W01' }), 'INVALID_INPUT');
    await expectCode(boards.top('daily', { period: '2026-02-30' }), 'INVALID_INPUT');
  });

  it('names weekly and monthly periods from the store clock', async () => {
    const { boards } = await setup(Date.parse('2027-01-01T00:00:00Z'));
    await boards.define('weekly', { order: 'desc', operator: 'incr', period: 'weekly' });
    await boards.define('monthly', { order: 'desc', operator: 'incr', period: 'monthly' });
    expect(await boards.submit('weekly', { member: 'a', score: 1 })).toMatchObject({ period: '2026-W53' });
    expect(await boards.submit('monthly', { member: 'a', score: 1 })).toMatchObject({ period: '2027-01' });
    expect(await boards.top('weekly', { period: '2026-W53' })).toMatchObject({ total: 1 });
  });

  it('keeps boards whose names contain ":" apart from period boards', async () => {
    const { boards, store } = await setup(Date.parse('2026-01-13T00:00:00Z'));
    await boards.define('a', { order: 'desc', operator: 'set', period: 'daily', keepPeriods: 1 });
    await boards.submit('a:2026-01-13', { member: 'x', score: 1 });
    await boards.submit('a', { member: 'y', score: 2 });
    expect(engineBoardName('a:2026-01-13', null)).toBe('leaderboard:a%3A2026-01-13');
    expect((await boards.top('a')).entries.map((e) => e.member)).toEqual(['y']);
    expect((await boards.top('a:2026-01-13')).entries.map((e) => e.member)).toEqual(['x']);
    expect((await store.listBoards('leaderboard:')).map((b) => b.board).sort()).toEqual([
      'leaderboard:a%3A2026-01-13',
      'leaderboard:a:2026-01-13',
    ]);
  });
});
