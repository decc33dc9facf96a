import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { Leaderboards } from '../../src/domains/leaderboards/leaderboards.js';
import { Matches, type MatchesOptions } from '../../src/domains/matches/matches.js';
import { ManualClock } from '../../src/engine/clock.js';
import { Store } from '../../src/engine/store.js';
import { expectCode } from '../support/expect-code.js';
import { testStorages } from '../support/storages.js';

const { storages, cleanup } = await testStorages('sp_matches');
const opened: Store[] = [];

afterEach(async () => {
  await Promise.all(opened.splice(0).map((store) => store.close()));
});
afterAll(cleanup);

const DAY = 86_400_000;
const match = { status: 'active', roundsTotal: 3, createdBy: 'mod', subreddit: 'r/pictact', theme: 'cats' };

describe.each(
  storages.filter((storage) => storage.enabled).map((storage) => [storage.name, storage] as const),
)('matches on %s', (_name, storage) => {
  async function setup(options: MatchesOptions = {}) {
    const clock = new ManualClock(Date.UTC(2026, 0, 13, 12));
    const store = new Store(await storage.openDriver(), { clock: clock.now });
    opened.push(store);
    return { store, clock, matches: new Matches(store, options), leaderboards: new Leaderboards(store) };
  }

  it('creates, replaces, reads and patches a match', async () => {
    const { matches } = await setup();
    const created = await matches.put('t3_a', { ...match, extra: { x: 1 } });
    expect(created.created).toBe(true);
    expect(created.record).toMatchObject({
      matchId: 't3_a',
      ...match,
      extra: { x: 1 },
      version: 1,
      expiresAt: null,
    });
    // Server fields a client sends back are ignored.
    const replaced = await matches.put('t3_a', { ...created.record, currentRound: 1 });
    expect(replaced).toMatchObject({ created: false, record: { version: 2, currentRound: 1 } });
    const patched = await matches.patch('t3_a', { $inc: { currentRound: 1 }, $set: { theme: 'dogs' } });
    expect(patched).toMatchObject({ version: 3, currentRound: 2, theme: 'dogs', createdBy: 'mod' });
    expect(await matches.get('t3_a')).toEqual(patched);
    expect(await matches.get('nope')).toBeUndefined();
    await expectCode(
      matches.patch('t3_a', { $inc: { currentRound: 1 } }, { expectedVersion: 1 }),
      'VERSION_CONFLICT',
    );
    await expectCode(matches.put('t3_a', match, { expectedVersion: 1 }), 'VERSION_CONFLICT');
    await expectCode(matches.put('t3_a', match, { mustNotExist: true }), 'VERSION_CONFLICT');
    await expectCode(matches.patch('nope', { $set: { a: 1 } }), 'NOT_FOUND');
    await expectCode(matches.put('bad', { ...match, roundsTotal: -1 }), 'INVALID_INPUT');
    await expectCode(matches.put('bad', { ...match, status: '' }), 'INVALID_INPUT');
  });

  it('keeps rounds, closes one with its winner atomically, and only once', async () => {
    const { matches } = await setup();
    await matches.put('m', match);
    for (const index of [10, 2, 1]) {
      const { record, created } = await matches.putRound('m', index, {
        promptText: `draw ${index}`,
        startTs: 5,
      });
      expect(created).toBe(true);
      expect(record).toMatchObject({
        index,
        closed: false,
        winnerUser: null,
        referenceImages: [],
        endTs: null,
      });
    }
    expect((await matches.listRounds('m')).map((round) => round.index)).toEqual([1, 2, 10]);
    const closed = await matches.closeRound('m', 2, {
      winnerUser: 'alice',
      winnerCommentId: 't1_c',
      points: 5,
    });
    expect(closed.round).toMatchObject({ closed: true, winnerUser: 'alice', winnerCommentId: 't1_c' });
    expect(closed.score).toEqual({ user: 'alice', points: 5, wins: 1 });
    await matches.closeRound('m', 1, { winnerUser: 'alice' });
    await expectCode(matches.closeRound('m', 2, { winnerUser: 'bob' }), 'ALREADY_CLOSED');
    await expectCode(matches.putRound('m', 2, { promptText: 'again' }), 'ALREADY_CLOSED');
    await expectCode(matches.closeRound('m', 3, { winnerUser: 'bob' }), 'NOT_FOUND');
    await expectCode(matches.closeRound('none', 3, { winnerUser: 'bob' }), 'NOT_FOUND');
    await expectCode(matches.putRound('none', 1, { promptText: 'x' }), 'NOT_FOUND');
    await expectCode(matches.putRound('m', -1, { promptText: 'x' }), 'INVALID_INPUT');
    expect(await matches.scores('m')).toEqual([{ rank: 1, user: 'alice', points: 6, wins: 2 }]);
  });

  it('closes a round once when many close it at once', async () => {
    const { matches } = await setup();
    await matches.put('m', match);
    await matches.putRound('m', 1, { promptText: 'p' });
    const outcomes = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) => matches.closeRound('m', 1, { winnerUser: `u${i}` })),
    );
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    for (const o of outcomes)
      if (o.status === 'rejected') expect(o.reason).toMatchObject({ code: 'ALREADY_CLOSED' });
    const scores = await matches.scores('m');
    expect(scores).toHaveLength(1);
    expect(scores[0]).toMatchObject({ points: 1, wins: 1 });
  });

  it('counts 500 concurrent increments from 20 clients exactly, and ranks by points', async () => {
    const { matches } = await setup();
    await matches.put('m', match);
    await Promise.all(
      Array.from({ length: 20 }, async (_, client) => {
        for (let i = 0; i < 25; i++) {
          await matches.addScore('m', 'hot', { points: 2, wins: 1 });
          if (i % 5 === 0) await matches.addScore('m', `c${client}`, { points: client });
        }
      }),
    );
    expect(await matches.addScore('m', 'hot')).toEqual({ user: 'hot', points: 1000, wins: 500 });
    const scores = await matches.scores('m', { limit: 3 });
    expect(scores).toEqual([
      { rank: 1, user: 'hot', points: 1000, wins: 500 },
      { rank: 2, user: 'c19', points: 95, wins: 0 },
      { rank: 3, user: 'c18', points: 90, wins: 0 },
    ]);
    await expectCode(matches.addScore('none', 'u', { points: 1 }), 'NOT_FOUND');
    await expectCode(matches.addScore('m', 'u', { wins: 0.5 }), 'INVALID_INPUT');
    await expectCode(matches.scores('none'), 'NOT_FOUND');
  });

  it('appends 100 concurrent trophies, each exactly once', async () => {
    const { matches } = await setup();
    expect(await matches.lifetimes.get('nobody')).toEqual({
      user: 'nobody',
      totalWins: 0,
      matchesPlayed: 0,
      trophies: [],
    });
    await Promise.all(Array.from({ length: 100 }, (_, i) => matches.lifetimes.addTrophy('p', `t${i}`)));
    const { trophies } = await matches.lifetimes.get('p');
    expect([...trophies].sort()).toEqual(Array.from({ length: 100 }, (_, i) => `t${i}`).sort());
    await expectCode(matches.lifetimes.addTrophy('p', ''), 'INVALID_INPUT');
  });

  it('completes a match once when 10 clients complete it at once', async () => {
    const { matches, leaderboards } = await setup();
    await matches.put('m', match);
    await matches.putRound('m', 1, { promptText: 'p' });
    await matches.closeRound('m', 1, { winnerUser: 'alice', points: 3 });
    await matches.addScore('m', 'bob', { points: 1 });
    await matches.lifetimes.addTrophy('alice', 'early');
    const results = await Promise.all(
      Array.from({ length: 10 }, () =>
        matches.complete('m', { trophies: { alice: ['gold'], bob: ['bronze'], carol: ['fan'] } }),
      ),
    );
    expect(results.filter((r) => !r.alreadyCompleted)).toHaveLength(1);
    expect(results.filter((r) => r.alreadyCompleted)).toHaveLength(9);
    for (const result of results)
      expect(result).toMatchObject({ matchId: 'm', participants: ['alice', 'bob'] });
    expect(await matches.lifetimes.get('alice')).toEqual({
      user: 'alice',
      totalWins: 1,
      matchesPlayed: 1,
      trophies: ['early', 'gold'],
    });
    expect(await matches.lifetimes.get('bob')).toMatchObject({
      totalWins: 0,
      matchesPlayed: 1,
      trophies: ['bronze'],
    });
    expect(await matches.lifetimes.get('carol')).toMatchObject({
      totalWins: 0,
      matchesPlayed: 0,
      trophies: ['fan'],
    });
    const wins = await leaderboards.top('lifetime-wins');
    expect(wins.entries.map((e) => [e.rank, e.member, e.score])).toEqual([
      [1, 'alice', 1],
      [2, 'bob', 0],
    ]);
    const record = await matches.get('m');
    expect(record).toMatchObject({ status: 'completed' });
    expect(record?.expiresAt).not.toBeNull();
    // A completed match is final.
    await expectCode(matches.addScore('m', 'bob', { points: 1 }), 'ALREADY_CLOSED');
    await expectCode(matches.putRound('m', 2, { promptText: 'late' }), 'ALREADY_CLOSED');
    await expectCode(matches.put('m', match), 'ALREADY_CLOSED');
    await expectCode(matches.patch('m', { $set: { status: 'active' } }), 'ALREADY_CLOSED');
    expect(await matches.complete('m')).toMatchObject({ alreadyCompleted: true });
    expect((await matches.lifetimes.get('alice')).matchesPlayed).toBe(1);
    await expectCode(matches.complete('none'), 'NOT_FOUND');
  });

  it('counts every score that lands before completion, and refuses the rest', async () => {
    const { matches } = await setup();
    await matches.put('m', match);
    // Writes spread over 20 ms, with the completion in the middle of them.
    const writes = Array.from({ length: 200 }, async (_, i) => {
      await new Promise((resolve) => setTimeout(resolve, i % 20));
      return matches.addScore('m', `u${i % 7}`, { points: 1, wins: 1 }).then(
        () => 1,
        (error: { code?: string }) => {
          expect(error.code).toBe('ALREADY_CLOSED');
          return 0;
        },
      );
    });
    await new Promise((resolve) => setTimeout(resolve, 8));
    const completion = matches.complete('m');
    const landed = (await Promise.all(writes)).reduce((sum: number, n) => sum + n, 0);
    await completion;
    let counted = 0;
    for (let u = 0; u < 7; u++) counted += (await matches.lifetimes.get(`u${u}`)).totalWins;
    expect(counted).toBe(landed);
  });

  it('keeps matches whose ids contain ":" apart', async () => {
    const { matches } = await setup();
    await matches.put('a', match);
    await matches.put('a:b', match);
    await matches.addScore('a', 'b:c', { points: 1 });
    await matches.addScore('a:b', 'c', { points: 2 });
    await matches.putRound('a:b', 1, { promptText: 'other match' });
    expect(await matches.listRounds('a')).toEqual([]);
    expect((await matches.scores('a')).map((s) => [s.user, s.points])).toEqual([['b:c', 1]]);
    expect(await matches.complete('a')).toMatchObject({ participants: ['b:c'] });
    expect(await matches.complete('a:b')).toMatchObject({ participants: ['c'] });
  });

  it('expires completed matches, rounds, scores and analytics; lifetime records stay', async () => {
    const { matches, store, clock } = await setup({ matchTtlMs: DAY, analyticsTtlMs: 2 * DAY });
    await matches.put('m', match);
    await matches.putRound('m', 1, { promptText: 'p' });
    await matches.closeRound('m', 1, { winnerUser: 'alice' });
    await matches.analytics.record('m', { solveTime: 4 });
    await matches.complete('m');
    clock.advance(DAY - 1);
    expect(await matches.getRound('m', 1)).toBeDefined();
    expect(await matches.sweepBoards()).toBe(0);
    clock.advance(1);
    const swept = await store.sweepExpired();
    expect(swept.documents).toMatchObject({ match: 1, round: 1, score: 1 });
    expect(await matches.get('m')).toBeUndefined();
    expect(await matches.getRound('m', 1)).toBeUndefined();
    expect(await matches.sweepBoards()).toBe(1);
    expect(await store.boardInfo('match-scores:m')).toBeUndefined();
    expect(await matches.analytics.get('m')).toBeDefined();
    clock.advance(DAY);
    expect((await store.sweepExpired()).documents).toMatchObject({ analytics: 1 });
    expect(await matches.analytics.get('m')).toBeUndefined();
    expect(await matches.lifetimes.get('alice')).toMatchObject({ totalWins: 1, matchesPlayed: 1 });
    // The id can be used again, from a clean slate.
    await matches.put('m', match);
    expect(await matches.scores('m')).toEqual([]);
  });

  it('re-creating an expired match clears the old board even before the sweep', async () => {
    const { matches, clock } = await setup({ matchTtlMs: 1000 });
    await matches.put('m', match);
    await matches.addScore('m', 'old', { points: 9 });
    await matches.complete('m');
    clock.advance(1000);
    await matches.put('m', match);
    expect(await matches.scores('m')).toEqual([]);
    expect(await matches.sweepBoards()).toBe(0);
  });

  it('keeps running analytics per metric', async () => {
    const { matches, clock } = await setup();
    await matches.analytics.record('m', { solveTime: 10, invalidRate: 0.5 });
    clock.advance(1000);
    const view = await matches.analytics.record('m', { solveTime: 20 });
    expect(view).toEqual({
      matchId: 'm',
      metrics: {
        solveTime: { count: 2, mean: 15, min: 10, max: 20 },
        invalidRate: { count: 1, mean: 0.5, min: 0.5, max: 0.5 },
      },
      updatedAt: new Date(clock.now()).toISOString(),
    });
    expect(await matches.analytics.get('m')).toEqual(view);
    expect(await matches.analytics.get('other')).toBeUndefined();
    await expectCode(matches.analytics.record('m', { 'a.b': 1 }), 'INVALID_INPUT');
    await expectCode(matches.analytics.record('m', { a: Number.NaN }), 'INVALID_INPUT');
    await expectCode(matches.analytics.record('m', {}), 'INVALID_INPUT');
    await Promise.all(Array.from({ length: 50 }, (_, i) => matches.analytics.record('c', { n: i })));
    expect((await matches.analytics.get('c'))?.metrics.n).toEqual({ count: 50, mean: 24.5, min: 0, max: 49 });
  });
});
