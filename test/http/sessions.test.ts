import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sessionsModule } from '../../src/domains/sessions/sessions.module.js';
import { statsModule } from '../../src/domains/stats/stats.module.js';
import { TEST_AUTH as auth, expectProblem, json, startTestServer, type TestServer } from '../support/http.js';

let server: TestServer;
let app: FastifyInstance;

beforeAll(async () => {
  server = await startTestServer({
    env: { SAVEPOINT_EMA_ALPHA: '0.5' },
    modules: [sessionsModule, statsModule],
  });
  app = server.app;
});
afterAll(() => server.close());

interface SessionBody {
  sessionId: string;
  state: Record<string, unknown>;
  options: Record<string, unknown>;
  status: string;
  version: number;
  createdAt: string;
  updatedAt: string;
}

type SessionPage = { items: SessionBody[]; nextCursor: string | null };

const create = async (payload: object = {}) => {
  const response = await app.inject({ method: 'POST', url: '/v1/sessions', headers: auth, payload });
  expect(response.statusCode).toBe(201);
  return json<SessionBody>(response);
};

describe('sessions over HTTP', () => {
  it('creates, reads, replaces and deletes a session', async () => {
    const session = await create({ state: { board: [0, 0, 0] }, options: { difficulty: 'hard' } });
    expect(session).toMatchObject({
      state: { board: [0, 0, 0] },
      options: { difficulty: 'hard' },
      status: 'active',
      version: 1,
    });
    expect(session.sessionId).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    expect(Date.parse(session.createdAt)).not.toBeNaN();
    expect(session.createdAt.endsWith('Z')).toBe(true);
    const url = `/v1/sessions/${session.sessionId}`;

    const read = await app.inject({ method: 'GET', url, headers: auth });
    expect(read.statusCode).toBe(200);
    expect(read.headers.etag).toBe('"1"');
    expect(json(read)).toEqual(session);
    expect(
      (await app.inject({ method: 'GET', url, headers: { ...auth, 'if-none-match': '"1"' } })).statusCode,
    ).toBe(304);

    const put = await app.inject({
      method: 'PUT',
      url,
      headers: auth,
      payload: { state: { board: [1, 0, 0] } },
    });
    expect(put.statusCode).toBe(200);
    expect(json(put)).toMatchObject({
      version: 2,
      status: 'active',
      state: { board: [1, 0, 0] },
      options: { difficulty: 'hard' },
    });

    const stale = await app.inject({
      method: 'PUT',
      url,
      headers: { ...auth, 'if-match': '"1"' },
      payload: { state: {} },
    });
    expectProblem(stale, 412, 'VERSION_CONFLICT');
    const staleBody = await app.inject({
      method: 'PUT',
      url,
      headers: auth,
      payload: { state: {}, expectedVersion: 1 },
    });
    expectProblem(staleBody, 409, 'VERSION_CONFLICT');
    expectProblem(
      await app.inject({
        method: 'PUT',
        url,
        headers: { ...auth, 'if-none-match': '*' },
        payload: { state: {} },
      }),
      412,
      'VERSION_CONFLICT',
    );
    const done = await app.inject({
      method: 'PUT',
      url,
      headers: { ...auth, 'if-match': '"2"' },
      payload: { state: { board: [1, 1, 1] }, status: 'completed' },
    });
    expect(json(done)).toMatchObject({ version: 3, status: 'completed' });

    expectProblem(
      await app.inject({ method: 'DELETE', url: `${url}?expectedVersion=2`, headers: auth }),
      409,
      'VERSION_CONFLICT',
    );
    expect((await app.inject({ method: 'DELETE', url, headers: auth })).statusCode).toBe(204);
    expectProblem(await app.inject({ method: 'DELETE', url, headers: auth }), 404, 'NOT_FOUND');
    expectProblem(await app.inject({ method: 'GET', url, headers: auth }), 404, 'NOT_FOUND');
    expectProblem(
      await app.inject({ method: 'PUT', url, headers: auth, payload: { state: {} } }),
      404,
      'NOT_FOUND',
    );
  });

  it('refuses bad input and missing keys', async () => {
    expectProblem(
      await app.inject({ method: 'POST', url: '/v1/sessions', payload: {} }),
      401,
      'UNAUTHORIZED',
    );
    expectProblem(
      await app.inject({ method: 'POST', url: '/v1/sessions', headers: auth, payload: { state: [1] } }),
      400,
      'INVALID_INPUT',
    );
    expectProblem(
      await app.inject({ method: 'POST', url: '/v1/sessions', headers: auth, payload: { extra: 1 } }),
      400,
      'INVALID_INPUT',
    );
    const { sessionId } = await create();
    const url = `/v1/sessions/${sessionId}`;
    expectProblem(
      await app.inject({ method: 'PUT', url, headers: auth, payload: { status: 'completed' } }),
      400,
      'INVALID_INPUT',
    );
    expectProblem(
      await app.inject({ method: 'PUT', url, headers: auth, payload: { state: {}, status: 'won' } }),
      400,
      'INVALID_INPUT',
    );
    expectProblem(
      await app.inject({ method: 'GET', url: '/v1/sessions/bad%20id', headers: auth }),
      400,
      'INVALID_INPUT',
    );
    expectProblem(
      await app.inject({ method: 'GET', url: '/v1/sessions?limit=0', headers: auth }),
      400,
      'INVALID_INPUT',
    );
    // A POST without a body creates an empty session.
    const bare = await app.inject({ method: 'POST', url: '/v1/sessions', headers: auth });
    expect(bare.statusCode).toBe(201);
    expect(json(bare)).toMatchObject({ state: {}, options: {} });
  });

  it('lists sessions by status with a cursor', async () => {
    const completed = new Set<string>();
    for (let i = 0; i < 7; i++) {
      const { sessionId } = await create();
      if (i % 2 === 0) {
        await app.inject({
          method: 'PUT',
          url: `/v1/sessions/${sessionId}`,
          headers: auth,
          payload: { state: {}, status: 'completed' },
        });
        completed.add(sessionId);
      }
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const url: string = `/v1/sessions?status=completed&limit=2${cursor ? `&cursor=${cursor}` : ''}`;
      const response = await app.inject({
        method: 'GET',
        url,
        headers: auth,
      });
      expect(response.statusCode).toBe(200);
      const page: SessionPage = json<SessionPage>(response);
      seen.push(...page.items.map((item) => item.sessionId));
      cursor = page.nextCursor;
    } while (cursor !== null);
    for (const id of completed) expect(seen).toContain(id);
    expect(new Set(seen).size).toBe(seen.length);
  });
});

describe('stats over HTTP', () => {
  it('records games, summarizes them with session counts, and resets', async () => {
    expect((await app.inject({ method: 'DELETE', url: '/v1/stats', headers: auth })).statusCode).toBe(204);
    const before = json<{ sessions: { active: number; completed: number } }>(
      await app.inject({ method: 'GET', url: '/v1/stats/summary', headers: auth }),
    );
    await create();
    const first = await app.inject({
      method: 'POST',
      url: '/v1/stats/games',
      headers: auth,
      payload: { outcome: 'win', moves: 7, durationMs: 4000, metrics: { reward: 1 } },
    });
    expect(first.statusCode).toBe(201);
    expect(json(first)).toMatchObject({ outcome: 'win', metrics: { moves: 7, durationMs: 4000, reward: 1 } });
    await app.inject({
      method: 'POST',
      url: '/v1/stats/games',
      headers: auth,
      payload: { outcome: 'loss', moves: 3 },
    });
    const summary = json(await app.inject({ method: 'GET', url: '/v1/stats/summary', headers: auth }));
    expect(summary).toEqual({
      gamesRecorded: 2,
      outcomes: { win: 1, loss: 1 },
      metrics: {
        moves: { count: 2, mean: 5, min: 3, max: 7, ema: 5 }, // alpha 0.5 from SAVEPOINT_EMA_ALPHA
        durationMs: { count: 1, mean: 4000, min: 4000, max: 4000, ema: 4000 },
        reward: { count: 1, mean: 1, min: 1, max: 1, ema: 1 },
      },
      sessions: { created: 1, active: before.sessions.active + 1, completed: before.sessions.completed },
    });
    for (const payload of [
      {},
      { outcome: 'win', moves: -1 },
      { outcome: 'win', metrics: { x: 'y' } },
      { outcome: 'win', other: 1 },
    ]) {
      expectProblem(
        await app.inject({ method: 'POST', url: '/v1/stats/games', headers: auth, payload }),
        400,
        'INVALID_INPUT',
      );
    }
    expectProblem(await app.inject({ method: 'GET', url: '/v1/stats/summary' }), 401, 'UNAUTHORIZED');
    expect((await app.inject({ method: 'DELETE', url: '/v1/stats', headers: auth })).statusCode).toBe(204);
    expect(json(await app.inject({ method: 'GET', url: '/v1/stats/summary', headers: auth }))).toMatchObject({
      gamesRecorded: 0,
      outcomes: {},
      metrics: {},
      sessions: { created: 0 },
    });
  });
});
