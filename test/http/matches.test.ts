/**
 * The matches HTTP API (docs/api.md#matches) through `buildServer` and `inject()`: each route's happy
 * path, its statuses and headers, and the main errors.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ConfigEnv } from '../../src/config.js';
import { documentsModule } from '../../src/domains/documents/documents.module.js';
import { leaderboardsModule } from '../../src/domains/leaderboards/leaderboards.module.js';
import { matchesModule } from '../../src/domains/matches/matches.module.js';
import { ManualClock } from '../../src/engine/clock.js';
import { expectProblem, startTestServer, type TestServer } from '../support/http.js';

type Harness = TestServer & {
  readonly clock: ManualClock;
  /** `request` under the name these tests use. */
  readonly call: TestServer['request'];
};

async function start(env: ConfigEnv = {}): Promise<Harness> {
  const clock = new ManualClock(Date.UTC(2026, 0, 13, 12));
  const server = await startTestServer({
    env,
    savepoint: { url: 'memory:', clock: clock.now },
    modules: [documentsModule, matchesModule, leaderboardsModule],
  });
  return { ...server, clock, call: server.request };
}

const match = { status: 'active', roundsTotal: 3, createdBy: 'mod', subreddit: 'pictact', theme: 'cats' };

describe('matches over HTTP', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await start();
  });
  afterEach(async () => {
    await h.close();
  });

  it('creates, replaces, reads and patches a match, with versions and conditions', async () => {
    const created = await h.call({
      method: 'PUT',
      url: '/v1/matches/t3_abc',
      payload: { ...match, custom: [1] },
    });
    expect(created.statusCode).toBe(201);
    expect(created.headers).toMatchObject({ etag: '"1"', location: '/v1/matches/t3_abc' });
    expect(created.json()).toMatchObject({
      matchId: 't3_abc',
      ...match,
      custom: [1],
      version: 1,
      expiresAt: null,
    });
    const replaced = await h.call({
      method: 'PUT',
      url: '/v1/matches/t3_abc',
      payload: { ...created.json<Record<string, unknown>>(), currentRound: 1 },
    });
    expect(replaced.statusCode).toBe(200);
    expect(replaced.json()).toMatchObject({ version: 2, currentRound: 1 });
    const read = await h.call({ method: 'GET', url: '/v1/matches/t3_abc' });
    expect(read.statusCode).toBe(200);
    expect(read.headers.etag).toBe('"2"');
    expect(
      (await h.call({ method: 'GET', url: '/v1/matches/t3_abc', headers: { 'if-none-match': '"2"' } }))
        .statusCode,
    ).toBe(304);
    const patched = await h.call({
      method: 'PATCH',
      url: '/v1/matches/t3_abc',
      payload: { $inc: { currentRound: 1 }, $set: { 'settings.hard': true } },
    });
    expect(patched.statusCode).toBe(200);
    expect(patched.json()).toMatchObject({ version: 3, currentRound: 2, settings: { hard: true } });
    expectProblem(
      await h.call({
        method: 'PATCH',
        url: '/v1/matches/t3_abc',
        payload: { $inc: { currentRound: 1 } },
        headers: { 'if-match': '"2"' },
      }),
      412,
      'VERSION_CONFLICT',
    );
    expectProblem(
      await h.call({ method: 'PUT', url: '/v1/matches/t3_abc', payload: { ...match, expectedVersion: 1 } }),
      409,
      'VERSION_CONFLICT',
    );
    expectProblem(
      await h.call({
        method: 'PUT',
        url: '/v1/matches/t3_abc',
        payload: match,
        headers: { 'if-none-match': '*' },
      }),
      412,
      'VERSION_CONFLICT',
    );
    expectProblem(await h.call({ method: 'GET', url: '/v1/matches/nope' }), 404, 'NOT_FOUND');
    expectProblem(
      await h.call({ method: 'PATCH', url: '/v1/matches/nope', payload: { $set: { a: 1 } } }),
      404,
      'NOT_FOUND',
    );
    expectProblem(
      await h.call({ method: 'PUT', url: '/v1/matches/x', payload: { status: 'active' } }),
      400,
      'INVALID_INPUT',
    );
    expectProblem(
      await h.call({ method: 'PUT', url: '/v1/matches/bad%20id', payload: match }),
      400,
      'INVALID_INPUT',
    );
    expectProblem(
      await h.call({ method: 'PATCH', url: '/v1/matches/t3_abc', payload: { $bump: {} } }),
      400,
      'INVALID_INPUT',
    );
    expectProblem(
      await h.call({ method: 'GET', url: '/v1/matches/t3_abc', anonymous: true }),
      401,
      'UNAUTHORIZED',
    );
  });

  it('keeps rounds and closes one with its winner, once', async () => {
    await h.call({ method: 'PUT', url: '/v1/matches/m', payload: match });
    for (const index of [2, 1]) {
      const round = await h.call({
        method: 'PUT',
        url: `/v1/matches/m/rounds/${index}`,
        payload: { promptText: `draw ${index}`, referenceImages: ['a.png'], startTs: '2026-01-13T12:00:00Z' },
      });
      expect(round.statusCode).toBe(201);
      expect(round.json()).toMatchObject({
        matchId: 'm',
        index,
        closed: false,
        winnerUser: null,
        referenceImages: ['a.png'],
      });
    }
    const list = await h.call({ method: 'GET', url: '/v1/matches/m/rounds' });
    expect(list.json().map((round: { index: number }) => round.index)).toEqual([1, 2]);
    expect((await h.call({ method: 'GET', url: '/v1/matches/m/rounds/2' })).json()).toMatchObject({
      promptText: 'draw 2',
    });
    expectProblem(await h.call({ method: 'GET', url: '/v1/matches/m/rounds/9' }), 404, 'NOT_FOUND');
    expectProblem(await h.call({ method: 'GET', url: '/v1/matches/m/rounds/x' }), 400, 'INVALID_INPUT');
    const winner = await h.call({
      method: 'POST',
      url: '/v1/matches/m/rounds/1/winner',
      payload: { winnerUser: 'alice', winnerCommentId: 't1_c', points: 3 },
    });
    expect(winner.statusCode).toBe(200);
    expect(winner.json()).toMatchObject({
      round: { closed: true, winnerUser: 'alice', winnerCommentId: 't1_c' },
      score: { user: 'alice', points: 3, wins: 1 },
    });
    expectProblem(
      await h.call({ method: 'POST', url: '/v1/matches/m/rounds/1/winner', payload: { winnerUser: 'bob' } }),
      409,
      'ALREADY_CLOSED',
    );
    expectProblem(
      await h.call({ method: 'PUT', url: '/v1/matches/m/rounds/1', payload: { promptText: 'again' } }),
      409,
      'ALREADY_CLOSED',
    );
    expectProblem(
      await h.call({ method: 'PUT', url: '/v1/matches/none/rounds/1', payload: { promptText: 'x' } }),
      404,
      'NOT_FOUND',
    );
  });

  it('increments and ranks scores, with limit bounds', async () => {
    await h.call({ method: 'PUT', url: '/v1/matches/m', payload: match });
    const first = await h.call({
      method: 'POST',
      url: '/v1/matches/m/scores/alice',
      payload: { points: 5, wins: 1 },
    });
    expect(first.statusCode).toBe(200);
    expect(first.json()).toEqual({ user: 'alice', points: 5, wins: 1 });
    await h.call({ method: 'POST', url: '/v1/matches/m/scores/bob', payload: { points: 7 } });
    const none = await h.call({ method: 'POST', url: '/v1/matches/m/scores/carol' });
    expect(none.json()).toEqual({ user: 'carol', points: 0, wins: 0 });
    const scores = await h.call({ method: 'GET', url: '/v1/matches/m/scores?limit=2' });
    expect(scores.json()).toEqual({
      entries: [
        { rank: 1, user: 'bob', points: 7, wins: 0 },
        { rank: 2, user: 'alice', points: 5, wins: 1 },
      ],
    });
    expectProblem(await h.call({ method: 'GET', url: '/v1/matches/m/scores?limit=0' }), 400, 'INVALID_INPUT');
    expectProblem(
      await h.call({ method: 'GET', url: '/v1/matches/m/scores?limit=1001' }),
      400,
      'INVALID_INPUT',
    );
    expectProblem(
      await h.call({ method: 'POST', url: '/v1/matches/m/scores/a', payload: { wins: 1.5 } }),
      400,
      'INVALID_INPUT',
    );
    expectProblem(
      await h.call({ method: 'POST', url: '/v1/matches/none/scores/a', payload: { points: 1 } }),
      404,
      'NOT_FOUND',
    );
  });

  it('completes a match once, feeds lifetime stats and lifetime-wins, and refuses later writes', async () => {
    await h.call({ method: 'PUT', url: '/v1/matches/m', payload: match });
    await h.call({ method: 'PUT', url: '/v1/matches/m/rounds/1', payload: { promptText: 'p' } });
    await h.call({ method: 'POST', url: '/v1/matches/m/rounds/1/winner', payload: { winnerUser: 'alice' } });
    await h.call({ method: 'POST', url: '/v1/matches/m/scores/bob', payload: { points: 1 } });
    const done = await h.call({
      method: 'POST',
      url: '/v1/matches/m/complete',
      payload: { trophies: { alice: ['gold'] } },
    });
    expect(done.statusCode).toBe(200);
    expect(done.json()).toEqual({ matchId: 'm', participants: ['alice', 'bob'], alreadyCompleted: false });
    const again = await h.call({ method: 'POST', url: '/v1/matches/m/complete' });
    expect(again.json()).toEqual({ matchId: 'm', participants: ['alice', 'bob'], alreadyCompleted: true });
    expect((await h.call({ method: 'GET', url: '/v1/players/alice/lifetime' })).json()).toEqual({
      user: 'alice',
      totalWins: 1,
      matchesPlayed: 1,
      trophies: ['gold'],
    });
    const wins = await h.call({ method: 'GET', url: '/v1/leaderboards/lifetime-wins', anonymous: true });
    expect(wins.json()).toMatchObject({
      board: 'lifetime-wins',
      total: 2,
      entries: [
        { rank: 1, member: 'alice', score: 1, metadata: null },
        { rank: 2, member: 'bob', score: 0, metadata: null },
      ],
    });
    const completed = (await h.call({ method: 'GET', url: '/v1/matches/m' })).json();
    expect(completed).toMatchObject({ status: 'completed', expiresAt: '2026-01-20T12:00:00.000Z' });
    expectProblem(
      await h.call({ method: 'POST', url: '/v1/matches/m/scores/bob', payload: { points: 1 } }),
      409,
      'ALREADY_CLOSED',
    );
    expectProblem(
      await h.call({ method: 'PATCH', url: '/v1/matches/m', payload: { $set: { x: 1 } } }),
      409,
      'ALREADY_CLOSED',
    );
    expectProblem(await h.call({ method: 'POST', url: '/v1/matches/none/complete' }), 404, 'NOT_FOUND');
    expectProblem(
      await h.call({
        method: 'POST',
        url: '/v1/matches/m/complete',
        payload: { trophies: { alice: 'gold' } },
      }),
      400,
      'INVALID_INPUT',
    );
  });

  it('answers lifetime zeros for unknown players and appends trophies', async () => {
    expect((await h.call({ method: 'GET', url: '/v1/players/newbie/lifetime' })).json()).toEqual({
      user: 'newbie',
      totalWins: 0,
      matchesPlayed: 0,
      trophies: [],
    });
    const awarded = await h.call({
      method: 'POST',
      url: '/v1/players/newbie/trophies',
      payload: { trophy: 'first-login' },
    });
    expect(awarded.statusCode).toBe(200);
    expect(awarded.json()).toMatchObject({ trophies: ['first-login'] });
    expectProblem(
      await h.call({ method: 'POST', url: '/v1/players/newbie/trophies', payload: { trophy: '' } }),
      400,
      'INVALID_INPUT',
    );
  });

  it('keeps running analytics per metric', async () => {
    await h.call({
      method: 'POST',
      url: '/v1/matches/m/analytics',
      payload: { metrics: { avgSolveTime: 10, invalidRate: 0.1 } },
    });
    const second = await h.call({
      method: 'POST',
      url: '/v1/matches/m/analytics',
      payload: { metrics: { avgSolveTime: 30 } },
    });
    expect(second.statusCode).toBe(200);
    expect(second.json()).toEqual({
      matchId: 'm',
      metrics: {
        avgSolveTime: { count: 2, mean: 20, min: 10, max: 30 },
        invalidRate: { count: 1, mean: 0.1, min: 0.1, max: 0.1 },
      },
      updatedAt: '2026-01-13T12:00:00.000Z',
    });
    expect((await h.call({ method: 'GET', url: '/v1/matches/m/analytics' })).json()).toEqual(second.json());
    expectProblem(await h.call({ method: 'GET', url: '/v1/matches/other/analytics' }), 404, 'NOT_FOUND');
    expectProblem(
      await h.call({ method: 'POST', url: '/v1/matches/m/analytics', payload: { metrics: { 'a.b': 1 } } }),
      400,
      'INVALID_INPUT',
    );
    expectProblem(
      await h.call({ method: 'POST', url: '/v1/matches/m/analytics', payload: { metrics: {} } }),
      400,
      'INVALID_INPUT',
    );
  });

  it("keeps the module's collections read-only through the documents API", async () => {
    for (const collection of ['match', 'match-open', 'lifetime', 'leaderboard-def']) {
      expectProblem(
        await h.call({ method: 'PUT', url: `/v1/docs/${collection}/x`, payload: { value: {} } }),
        403,
        'FORBIDDEN',
      );
    }
  });
});

describe('the API description', () => {
  it('documents the matches routes', async () => {
    const h = await start();
    try {
      const openapi = await h.call({ method: 'GET', url: '/openapi.json', anonymous: true });
      expect(openapi.statusCode).toBe(200);
      expect(Object.keys(openapi.json<{ paths: object }>().paths)).toEqual(
        expect.arrayContaining([
          '/v1/matches/{matchId}',
          '/v1/matches/{matchId}/rounds/{index}/winner',
          '/v1/matches/{matchId}/complete',
          '/v1/players/{user}/lifetime',
        ]),
      );
    } finally {
      await h.close();
    }
  });
});

describe('match expiry over HTTP', () => {
  it('removes a completed match, its rounds and scores after SAVEPOINT_MATCH_TTL; lifetime stays', async () => {
    const h = await start({ SAVEPOINT_MATCH_TTL: '1h' });
    try {
      await h.call({ method: 'PUT', url: '/v1/matches/m', payload: match });
      await h.call({ method: 'PUT', url: '/v1/matches/m/rounds/1', payload: { promptText: 'p' } });
      await h.call({
        method: 'POST',
        url: '/v1/matches/m/rounds/1/winner',
        payload: { winnerUser: 'alice' },
      });
      await h.call({ method: 'POST', url: '/v1/matches/m/complete' });
      h.clock.advance(3_600_000);
      const swept = await h.call({ method: 'POST', url: '/v1/admin/sweep' });
      expect(swept.json()).toMatchObject({ documents: { match: 1, round: 1, score: 1 } });
      expectProblem(await h.call({ method: 'GET', url: '/v1/matches/m' }), 404, 'NOT_FOUND');
      expectProblem(await h.call({ method: 'GET', url: '/v1/matches/m/rounds/1' }), 404, 'NOT_FOUND');
      expect((await h.call({ method: 'GET', url: '/v1/players/alice/lifetime' })).json()).toMatchObject({
        totalWins: 1,
      });
    } finally {
      await h.close();
    }
  });
});
