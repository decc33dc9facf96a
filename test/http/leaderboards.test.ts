/**
 * The leaderboards HTTP API (docs/api.md#leaderboards) through `buildServer` and `inject()`: each
 * route's happy path, public reads, periods and the main errors.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ConfigEnv } from '../../src/config.js';
import { leaderboardsModule } from '../../src/domains/leaderboards/leaderboards.module.js';
import { ManualClock } from '../../src/engine/clock.js';
import { expectProblem, startTestServer, type TestServer } from '../support/http.js';

const DAY = 86_400_000;

type Harness = TestServer & {
  readonly clock: ManualClock;
  /** `request` under the name these tests use. */
  readonly call: TestServer['request'];
};

async function start(env: ConfigEnv = {}): Promise<Harness> {
  const clock = new ManualClock(Date.parse('2026-12-31T22:00:00Z'));
  const server = await startTestServer({
    env,
    savepoint: { url: 'memory:', clock: clock.now },
    modules: [leaderboardsModule],
  });
  return { ...server, clock, call: server.request };
}

describe('leaderboards over HTTP', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await start();
  });
  afterEach(async () => {
    await h.close();
  });

  const submit = (board: string, member: string, score: number, metadata?: object) =>
    h.call({ method: 'POST', url: `/v1/leaderboards/${board}/scores`, payload: { member, score, metadata } });

  it('defines a board idempotently and refuses to change its rules', async () => {
    const definition = { order: 'asc', operator: 'best', period: 'none' };
    const first = await h.call({ method: 'PUT', url: '/v1/leaderboards/speedrun', payload: definition });
    expect(first.statusCode).toBe(200);
    expect(first.json()).toEqual({ board: 'speedrun', ...definition, keepPeriods: null });
    expect(
      (await h.call({ method: 'PUT', url: '/v1/leaderboards/speedrun', payload: definition })).statusCode,
    ).toBe(200);
    expectProblem(
      await h.call({
        method: 'PUT',
        url: '/v1/leaderboards/speedrun',
        payload: { ...definition, order: 'desc' },
      }),
      409,
      'VERSION_CONFLICT',
    );
    expectProblem(
      await h.call({
        method: 'PUT',
        url: '/v1/leaderboards/speedrun',
        payload: { ...definition, order: 'up' },
      }),
      400,
      'INVALID_INPUT',
    );
    expectProblem(
      await h.call({ method: 'PUT', url: '/v1/leaderboards/speedrun', payload: definition, anonymous: true }),
      401,
      'UNAUTHORIZED',
    );
  });

  it('submits scores, reads pages publicly, and bounds limit', async () => {
    const first = await submit('global', 'alice', 50, { country: 'NO' });
    expect(first.statusCode).toBe(200);
    expect(first.json()).toEqual({ member: 'alice', score: 50, rank: 1, period: null, changed: true });
    await submit('global', 'bob', 70);
    await submit('global', 'carol', 50);
    expect((await submit('global', 'bob', 10)).json()).toMatchObject({ score: 70, rank: 1, changed: false });
    const page = await h.call({
      method: 'GET',
      url: '/v1/leaderboards/global?limit=2&offset=1',
      anonymous: true,
    });
    expect(page.statusCode).toBe(200);
    expect(page.json()).toEqual({
      board: 'global',
      period: null,
      total: 3,
      entries: [
        { rank: 2, member: 'alice', score: 50, metadata: { country: 'NO' } },
        { rank: 3, member: 'carol', score: 50, metadata: null },
      ],
    });
    expect(
      (await h.call({ method: 'GET', url: '/v1/leaderboards/global', anonymous: true })).json().entries,
    ).toHaveLength(3);
    for (const limit of ['0', '1001', 'x']) {
      expectProblem(
        await h.call({ method: 'GET', url: `/v1/leaderboards/global?limit=${limit}` }),
        400,
        'INVALID_INPUT',
      );
    }
    expectProblem(
      await h.call({ method: 'GET', url: '/v1/leaderboards/global?offset=-1' }),
      400,
      'INVALID_INPUT',
    );
    expectProblem(await h.call({ method: 'GET', url: '/v1/leaderboards/unknown' }), 404, 'NOT_FOUND');
    expectProblem(
      await h.call({
        method: 'POST',
        url: '/v1/leaderboards/global/scores',
        payload: { member: 'x', score: '1' },
      }),
      400,
      'INVALID_INPUT',
    );
    expectProblem(await submit('global', 'bad id', 1), 400, 'INVALID_INPUT');
    expectProblem(
      await h.call({
        method: 'POST',
        url: '/v1/leaderboards/global/scores',
        payload: { member: 'x', score: 1 },
        anonymous: true,
      }),
      401,
      'UNAUTHORIZED',
    );
  });

  it('answers a member with the entries around it, 404 when absent, and removes members', async () => {
    for (let i = 1; i <= 5; i++) await submit('global', `p${i}`, i * 10);
    const standing = await h.call({
      method: 'GET',
      url: '/v1/leaderboards/global/members/p3?around=1',
      anonymous: true,
    });
    expect(standing.json()).toEqual({
      member: 'p3',
      score: 30,
      rank: 3,
      metadata: null,
      period: null,
      around: [
        { rank: 2, member: 'p4', score: 40, metadata: null },
        { rank: 3, member: 'p3', score: 30, metadata: null },
        { rank: 4, member: 'p2', score: 20, metadata: null },
      ],
    });
    expectProblem(
      await h.call({ method: 'GET', url: '/v1/leaderboards/global/members/nobody' }),
      404,
      'NOT_FOUND',
    );
    expectProblem(
      await h.call({ method: 'GET', url: '/v1/leaderboards/global/members/p3?around=501' }),
      400,
      'INVALID_INPUT',
    );
    expectProblem(
      await h.call({ method: 'DELETE', url: '/v1/leaderboards/global/members/p3', anonymous: true }),
      401,
      'UNAUTHORIZED',
    );
    expect((await h.call({ method: 'DELETE', url: '/v1/leaderboards/global/members/p3' })).statusCode).toBe(
      204,
    );
    expect((await h.call({ method: 'DELETE', url: '/v1/leaderboards/global/members/p3' })).statusCode).toBe(
      204,
    );
    expectProblem(
      await h.call({ method: 'GET', url: '/v1/leaderboards/global/members/p3' }),
      404,
      'NOT_FOUND',
    );
    expect((await h.call({ method: 'GET', url: '/v1/leaderboards/global/members/p2' })).json()).toMatchObject(
      { rank: 3 },
    );
    expectProblem(
      await h.call({ method: 'DELETE', url: '/v1/leaderboards/unknown/members/p3' }),
      404,
      'NOT_FOUND',
    );
  });

  it('writes into the current UTC period, reads old ones, and refuses malformed periods', async () => {
    await h.call({
      method: 'PUT',
      url: '/v1/leaderboards/weekly',
      payload: { order: 'desc', operator: 'incr', period: 'weekly' },
    });
    await h.call({
      method: 'PUT',
      url: '/v1/leaderboards/daily',
      payload: { order: 'desc', operator: 'best', period: 'daily', keepPeriods: 2 },
    });
    expect((await submit('weekly', 'a', 5)).json()).toMatchObject({ period: '2026-W53' });
    expect((await submit('daily', 'a', 5)).json()).toMatchObject({ period: '2026-12-31' });
    h.clock.advance(DAY);
    // 2027-01-01 is a Friday: still ISO week 53 of 2026.
    expect((await submit('weekly', 'a', 5)).json()).toMatchObject({ period: '2026-W53', score: 10 });
    expect((await submit('daily', 'b', 7)).json()).toMatchObject({ period: '2027-01-01', rank: 1 });
    const old = await h.call({
      method: 'GET',
      url: '/v1/leaderboards/daily?period=2026-12-31',
      anonymous: true,
    });
    expect(old.json()).toMatchObject({
      period: '2026-12-31',
      total: 1,
      entries: [{ member: 'a', score: 5 }],
    });
    expect((await h.call({ method: 'GET', url: '/v1/leaderboards/daily/members/b' })).json()).toMatchObject({
      period: '2027-01-01',
      rank: 1,
    });
    for (const period of ['2026-13-01', '2026-W01', 'yesterday']) {
      expectProblem(
        await h.call({ method: 'GET', url: `/v1/leaderboards/daily?period=${period}` }),
        400,
        'INVALID_INPUT',
      );
    }
    expectProblem(
      await h.call({ method: 'GET', url: '/v1/leaderboards/weekly?period=2025-W53' }),
      400,
      'INVALID_INPUT',
    );
    h.clock.advance(DAY);
    await submit('daily', 'c', 1);
    // keepPeriods 2: 2026-12-31 is gone now that 2027-01-02 started.
    const pruned = await h.call({ method: 'GET', url: '/v1/leaderboards/daily?period=2026-12-31' });
    expect(pruned.json()).toMatchObject({ total: 0, entries: [] });
  });
});

describe('the API description', () => {
  it('documents the leaderboards routes', async () => {
    const h = await start();
    try {
      const openapi = await h.call({ method: 'GET', url: '/openapi.json', anonymous: true });
      expect(openapi.statusCode).toBe(200);
      expect(Object.keys(openapi.json<{ paths: object }>().paths)).toEqual(
        expect.arrayContaining(['/v1/leaderboards/{board}', '/v1/leaderboards/{board}/members/{member}']),
      );
    } finally {
      await h.close();
    }
  });
});

describe('leaderboards with SAVEPOINT_PUBLIC_READS=false', () => {
  it('needs the key to read', async () => {
    const h = await start({ SAVEPOINT_PUBLIC_READS: 'false' });
    try {
      await h.call({ method: 'POST', url: '/v1/leaderboards/g/scores', payload: { member: 'a', score: 1 } });
      expectProblem(
        await h.call({ method: 'GET', url: '/v1/leaderboards/g', anonymous: true }),
        401,
        'UNAUTHORIZED',
      );
      expect((await h.call({ method: 'GET', url: '/v1/leaderboards/g' })).statusCode).toBe(200);
    } finally {
      await h.close();
    }
  });
});
