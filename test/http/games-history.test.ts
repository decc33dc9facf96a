/**
 * Game history over HTTP: the listing, `restore?version=`, rollback and fork, their ETags and
 * statuses, bad input, and the rollback event reaching an open event stream over a real socket.
 */
import http from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { gamesModule } from '../../src/domains/games/games.module.js';
import { expectProblem, json, startTestServer, type TestServer } from '../support/http.js';

describe('game history over HTTP', () => {
  let h: TestServer;
  beforeEach(async () => {
    h = await startTestServer({ modules: [gamesModule], env: { SAVEPOINT_GAME_HISTORY: '4' } });
  });
  afterEach(async () => {
    await h.close();
  });

  const persist = (gameId: string, body: Record<string, unknown>) =>
    h.request({ method: 'POST', url: `/api/game/${gameId}/persist`, payload: body });

  it('lists, reads at a version with its own ETag, rolls back and forks', async () => {
    expect(
      (await persist('t42', { state: { pot: 10 }, players: ['ada', 'grace'], phase: 'deal' })).statusCode,
    ).toBe(200);
    const first = json(await h.request({ method: 'GET', url: '/api/game/t42/restore' }));
    await h.request({
      method: 'POST',
      url: '/api/game/t42/events',
      payload: { events: [{ type: 'bet', data: { chips: 30 } }], state: { pot: 40 } },
    });
    await persist('t42', { state: { pot: 0, griefed: true } });

    const history = await h.request({ method: 'GET', url: '/api/game/t42/history' });
    expect(history.statusCode).toBe(200);
    expect(json(history)).toMatchObject({
      gameId: 't42',
      versions: [
        { version: 3, lastSeq: 1, phase: 'deal', status: 'active' },
        { version: 2, lastSeq: 1 },
        { version: 1, lastSeq: 0, persistedAt: first.persistedAt },
      ],
    });

    const atOne = await h.request({ method: 'GET', url: '/api/game/t42/restore?version=1' });
    expect(atOne.statusCode).toBe(200);
    expect(atOne.headers.etag).toBe('"1"');
    expect(json(atOne)).toEqual(first);
    const cached = await h.request({
      method: 'GET',
      url: '/api/game/t42/restore?version=1',
      headers: { 'if-none-match': '"1"' },
    });
    expect(cached.statusCode).toBe(304);

    const rollback = await h.request({
      method: 'POST',
      url: '/api/game/t42/rollback',
      payload: { toVersion: 2, reason: 'griefing', expectedVersion: 3 },
    });
    expect(rollback.statusCode).toBe(200);
    expect(json(rollback)).toMatchObject({ success: true, version: 4, restoredFrom: 2, lastSeq: 2 });
    expect(json(await h.request({ method: 'GET', url: '/api/game/t42/restore' }))).toMatchObject({
      state: { pot: 40 },
      version: 4,
      lastSeq: 2,
    });
    const events = json(await h.request({ method: 'GET', url: '/api/game/t42/events' }));
    expect(events.events).toMatchObject([
      { seq: 1, type: 'bet' },
      { seq: 2, type: 'rollback', data: { fromVersion: 3, toVersion: 2, reason: 'griefing' } },
    ]);

    const fork = await h.request({
      method: 'POST',
      url: '/api/game/t42/fork',
      payload: { newGameId: 't42-bug', atVersion: 2 },
    });
    expect(fork.statusCode).toBe(201);
    expect(json(fork)).toEqual({
      gameId: 't42-bug',
      version: 1,
      forkedFrom: { gameId: 't42', version: 2, lastSeq: 1 },
    });
    expect(json(await h.request({ method: 'GET', url: '/api/game/t42-bug/restore' }))).toMatchObject({
      state: { pot: 40 },
      players: ['ada', 'grace'],
      lastSeq: 1,
      version: 1,
    });
    expect(json(await h.request({ method: 'GET', url: '/api/game/t42-bug/events' })).events).toMatchObject([
      { seq: 1, type: 'bet', data: { chips: 30 } },
    ]);
  });

  it('answers catalog errors for bad history calls and changes nothing', async () => {
    for (let pot = 1; pot <= 6; pot++) await persist('g', { state: { pot } });
    const before = json(await h.request({ method: 'GET', url: '/api/game/g/restore' }));

    const pruned = expectProblem(
      await h.request({ method: 'GET', url: '/api/game/g/restore?version=1' }),
      404,
      'NOT_FOUND',
    );
    expect(pruned.detail).toMatch(/pruned/);
    const future = expectProblem(
      await h.request({ method: 'GET', url: '/api/game/g/restore?version=9' }),
      404,
      'NOT_FOUND',
    );
    expect(future.detail).toMatch(/never stored/);
    expectProblem(
      await h.request({ method: 'GET', url: '/api/game/g/restore?version=0' }),
      400,
      'INVALID_INPUT',
    );
    expectProblem(
      await h.request({ method: 'GET', url: '/api/game/g/restore?version=9007199254740992' }),
      400,
      'INVALID_INPUT',
    );
    expectProblem(await h.request({ method: 'GET', url: '/api/game/nope/history' }), 404, 'NOT_FOUND');
    expectProblem(
      await h.request({ method: 'GET', url: '/api/game/g/history?limit=0' }),
      400,
      'INVALID_INPUT',
    );

    const rollback = (payload: unknown) =>
      h.request({ method: 'POST', url: '/api/game/g/rollback', payload: payload as object });
    expectProblem(await rollback({ toVersion: 1 }), 404, 'NOT_FOUND');
    expectProblem(await rollback({ toVersion: 5, expectedVersion: 2 }), 409, 'VERSION_CONFLICT');
    expectProblem(await rollback({ toVersion: 'five' }), 400, 'INVALID_INPUT');
    expectProblem(await rollback({}), 400, 'INVALID_INPUT');
    expectProblem(await rollback({ toVersion: 5, reason: 'x'.repeat(1001) }), 400, 'INVALID_INPUT');
    // The current version: a documented no-op.
    const same = await rollback({ toVersion: 6 });
    expect(same.statusCode).toBe(200);
    expect(json(same)).toMatchObject({ version: 6, restoredFrom: 6 });

    const fork = (payload: unknown) =>
      h.request({ method: 'POST', url: '/api/game/g/fork', payload: payload as object });
    expectProblem(await fork({ newGameId: 'bad id' }), 400, 'INVALID_INPUT');
    expectProblem(await fork({ newGameId: 'g' }), 400, 'INVALID_INPUT');
    expectProblem(await fork({ newGameId: 'h', atVersion: 2 }), 404, 'NOT_FOUND');
    await persist('taken', { state: {} });
    expectProblem(await fork({ newGameId: 'taken' }), 409, 'VERSION_CONFLICT');
    expectProblem(
      await h.request({
        method: 'POST',
        url: '/api/game/g/fork',
        payload: { newGameId: 'x' },
        anonymous: true,
      }),
      401,
      'UNAUTHORIZED',
    );

    expect(json(await h.request({ method: 'GET', url: '/api/game/g/restore' }))).toEqual(before);
    expect(json(await h.request({ method: 'GET', url: '/api/game/g/events' })).events).toEqual([]);
    expect((await h.request({ method: 'GET', url: '/api/game/h/restore' })).statusCode).toBe(404);
  });

  it('delivers the rollback event to an open event stream', async () => {
    await persist('live', { state: { n: 1 } });
    await persist('live', { state: { n: 2 } });
    const base = await h.listen();
    const frames: string[] = [];
    const request = http.get(`${base}/api/game/live/stream`, { headers: h.auth });
    const received = new Promise<string>((resolve, reject) => {
      request.on('response', (response) => {
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          frames.push(chunk);
          const text = frames.join('');
          if (text.includes('event: rollback')) resolve(text);
        });
      });
      request.on('error', reject);
    });
    // The stream is open once the server has answered its headers; then roll back.
    await new Promise<void>((resolve) => request.once('response', () => resolve()));
    await h.request({ method: 'POST', url: '/api/game/live/rollback', payload: { toVersion: 1 } });
    const text = await received;
    expect(text).toContain('id: 1\nevent: rollback\ndata: {"fromVersion":2,"toVersion":1,"reason":null}');
    request.destroy();
  });
});
