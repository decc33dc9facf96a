/**
 * The games HTTP API (docs/api.md#games) through `buildServer`: statuses, codes, headers, bad input and
 * abuse, with `inject()`, plus the SSE stream over a real socket.
 */
import { once } from 'node:events';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { gamesModule } from '../../src/domains/games/games.module.js';
import { ManualClock } from '../../src/engine/clock.js';
import { TEST_AUTH as auth, startTestServer, type TestServer } from '../support/http.js';

/** For the SQLite file of the corrupt-data case. */
const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'savepoint-games-http-'));
afterAll(() => fs.rmSync(directory, { recursive: true, force: true }));

type Harness = TestServer & { readonly clock: ManualClock };

async function start(url = 'memory:'): Promise<Harness> {
  const clock = new ManualClock(Date.UTC(2030, 0, 1));
  const server = await startTestServer({ savepoint: { url, clock: clock.now }, modules: [gamesModule] });
  return { ...server, clock };
}

const json = (response: LightMyRequestResponse) => response.json() as Record<string, unknown>;

function expectProblem(
  response: LightMyRequestResponse,
  status: number,
  code: string,
): Record<string, unknown> {
  expect({ status: response.statusCode, body: response.body }).toMatchObject({ status });
  expect(response.headers['content-type']).toContain('application/problem+json');
  const problem = json(response);
  expect(problem).toMatchObject({ status, code });
  expect(typeof problem.detail).toBe('string');
  return problem;
}

describe('games over HTTP', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await start();
  });
  afterEach(async () => {
    await h.close();
  });

  const persist = (gameId: string, body: object, headers: Record<string, string> = {}) =>
    h.app.inject({
      method: 'POST',
      url: `/api/game/${gameId}/persist`,
      headers: { ...auth, ...headers },
      payload: body,
    });
  const append = (gameId: string, body: object) =>
    h.app.inject({ method: 'POST', url: `/api/game/${gameId}/events`, headers: auth, payload: body });
  const tokenFor = async (gameId: string, playerId: string): Promise<string> => {
    const response = await h.app.inject({
      url: `/api/game/${gameId}/connection-token?playerId=${playerId}`,
      headers: auth,
    });
    expect(response.statusCode).toBe(200);
    return json(response).token as string;
  };
  const reconnect = (gameId: string, body: object) =>
    h.app.inject({ method: 'POST', url: `/api/game/${gameId}/reconnect`, payload: body });
  const seat = () => persist('g1', { state: { pot: 0 }, players: ['alice', 'bob'], phase: 'lobby' });

  it('persist, events, restore and events listing answer the contract', async () => {
    const created = await persist('g1', { gameId: 'g1', state: { pot: 0 }, players: ['alice', 'bob'] });
    expect(created.statusCode).toBe(200);
    expect(created.headers.etag).toBe('"1"');
    expect(json(created)).toEqual({ success: true, persistedAt: expect.any(String), version: 1 });

    const appended = await append('g1', {
      events: [{ type: 'deal', data: { cards: 2 } }, { type: 'bet' }],
      state: { pot: 5 },
      phase: 'preflop',
      expectedSeq: 0,
    });
    expect(json(appended)).toEqual({ firstSeq: 1, lastSeq: 2, version: 2 });

    const restored = await h.app.inject({ url: '/api/game/g1/restore', headers: auth });
    expect(restored.statusCode).toBe(200);
    expect(restored.headers.etag).toBe('"2"');
    expect(json(restored)).toEqual({
      gameId: 'g1',
      state: { pot: 5 },
      players: ['alice', 'bob'],
      phase: 'preflop',
      status: 'active',
      version: 2,
      persistedAt: new Date(h.clock.now()).toISOString(),
      lastSeq: 2,
    });
    const cached = await h.app.inject({
      url: '/api/game/g1/restore',
      headers: { ...auth, 'if-none-match': '"2"' },
    });
    expect(cached.statusCode).toBe(304);

    const listed = await h.app.inject({ url: '/api/game/g1/events?after=1&limit=5', headers: auth });
    expect(json(listed)).toEqual({
      events: [{ seq: 2, type: 'bet', data: null, at: new Date(h.clock.now()).toISOString() }],
    });
  });

  it('refuses stale versions and seqs: 409 for body fields, 412 for If-Match', async () => {
    await seat();
    await persist('g1', { state: { pot: 1 } });
    expectProblem(await persist('g1', { state: {}, expectedVersion: 1 }), 409, 'VERSION_CONFLICT');
    expectProblem(await persist('g1', { state: {} }, { 'if-match': '"1"' }), 412, 'VERSION_CONFLICT');
    expectProblem(await persist('g1', { state: {} }, { 'if-none-match': '*' }), 412, 'VERSION_CONFLICT');
    expect((await persist('g1', { state: {} }, { 'if-match': '"2"' })).statusCode).toBe(200);
    expect((await persist('g1', { state: {}, expectedVersion: 1, forceOverwrite: true })).statusCode).toBe(
      200,
    );
    await append('g1', { events: [{ type: 'a' }] });
    expectProblem(await append('g1', { events: [{ type: 'b' }], expectedSeq: 0 }), 409, 'VERSION_CONFLICT');
    const events = await h.app.inject({ url: '/api/game/g1/events', headers: auth });
    expect((json(events).events as unknown[]).length).toBe(1);
  });

  it('answers 400 for malformed input and 401 without the key', async () => {
    expectProblem(await persist('bad%20id', { state: {} }), 400, 'INVALID_INPUT');
    expectProblem(await persist('g1', { state: [] }), 400, 'INVALID_INPUT');
    expectProblem(await persist('g1', { state: {}, stat: 'completed' }), 400, 'INVALID_INPUT');
    expectProblem(await persist('g1', { gameId: 'g2', state: {} }), 400, 'INVALID_INPUT');
    expectProblem(await persist('g1', { state: {}, players: ['a', 'a'] }), 400, 'INVALID_INPUT');
    expectProblem(await append('g1', { events: [] }), 400, 'INVALID_INPUT');
    expectProblem(
      await h.app.inject({ method: 'POST', url: '/api/game/g1/persist', payload: { state: {} } }),
      401,
      'UNAUTHORIZED',
    );
    expectProblem(await h.app.inject({ url: '/api/game/g1/restore' }), 401, 'UNAUTHORIZED');
    expectProblem(await h.app.inject({ url: '/api/game/g1/restore', headers: auth }), 404, 'NOT_FOUND');
  });

  it('issues tokens: 404, 403 and 410 as the contract says', async () => {
    expectProblem(
      await h.app.inject({ url: '/api/game/g1/connection-token?playerId=alice', headers: auth }),
      404,
      'NOT_FOUND',
    );
    await seat();
    expectProblem(
      await h.app.inject({ url: '/api/game/g1/connection-token?playerId=mallory', headers: auth }),
      403,
      'FORBIDDEN',
    );
    const issued = await h.app.inject({ url: '/api/game/g1/connection-token?playerId=alice', headers: auth });
    expect(issued.headers['cache-control']).toBe('no-store');
    expect(json(issued)).toEqual({
      token: expect.any(String),
      expiresAt: expect.any(String),
      playerId: 'alice',
    });
    await persist('g1', { state: {}, status: 'completed' });
    expectProblem(
      await h.app.inject({ url: '/api/game/g1/connection-token?playerId=alice', headers: auth }),
      410,
      'GAME_COMPLETED',
    );
  });

  it('reconnect: success rotates; wrong, reused, foreign and expired tokens are refused', async () => {
    await seat();
    await persist('g2', { state: {}, players: ['alice', 'bob'] });
    await append('g1', { events: [{ type: 'a' }, { type: 'b' }, { type: 'c' }] });
    const token = await tokenFor('g1', 'alice');
    const otherGame = await tokenFor('g2', 'alice');
    const bobToken = await tokenFor('g1', 'bob');

    expectProblem(
      await reconnect('g1', { playerId: 'alice', reconnectToken: 'wrong' }),
      401,
      'TOKEN_INVALID',
    );
    expectProblem(
      await reconnect('g1', { playerId: 'alice', reconnectToken: otherGame }),
      401,
      'TOKEN_INVALID',
    );
    expectProblem(
      await reconnect('g1', { playerId: 'alice', reconnectToken: bobToken }),
      401,
      'TOKEN_INVALID',
    );
    expectProblem(
      await reconnect('g1', { gameId: 'g2', playerId: 'alice', reconnectToken: token }),
      400,
      'INVALID_INPUT',
    );
    expectProblem(
      await reconnect('g1', { playerId: 'alice', reconnectToken: token, lastEventSeq: 4 }),
      400,
      'INVALID_INPUT',
    );
    expectProblem(
      await reconnect('g1', { playerId: 'alice', reconnectToken: token, lastEventSeq: -1 }),
      400,
      'INVALID_INPUT',
    );

    const ok = await reconnect('g1', {
      gameId: 'g1',
      playerId: 'alice',
      reconnectToken: token,
      lastEventSeq: 1,
    });
    expect(ok.statusCode).toBe(200);
    const body = json(ok);
    expect(body).toMatchObject({ success: true, gameState: { gameId: 'g1', lastSeq: 3 } });
    expect((body.missedEvents as Array<{ seq: number }>).map((e) => e.seq)).toEqual([2, 3]);
    expect(body.reconnectToken).not.toBe(token);
    // Within the race window the replaced token is a lost claim; after it, a reuse.
    expectProblem(await reconnect('g1', { playerId: 'alice', reconnectToken: token }), 409, 'SEAT_TAKEN');
    h.clock.advance(2000);
    expectProblem(await reconnect('g1', { playerId: 'alice', reconnectToken: token }), 401, 'TOKEN_INVALID');

    h.clock.advance(30 * 60_000);
    expectProblem(
      await reconnect('g1', { playerId: 'alice', reconnectToken: body.reconnectToken as string }),
      401,
      'TOKEN_EXPIRED',
    );
    const fresh = await tokenFor('g1', 'alice');
    await persist('g1', { state: {}, status: 'completed' });
    expectProblem(await reconnect('g1', { playerId: 'alice', reconnectToken: fresh }), 410, 'GAME_COMPLETED');
  });

  it('100 concurrent reconnects for one seat: exactly one 200, the rest 409 SEAT_TAKEN', async () => {
    await seat();
    const token = await tokenFor('g1', 'alice');
    const answers = await Promise.all(
      Array.from({ length: 100 }, () => reconnect('g1', { playerId: 'alice', reconnectToken: token })),
    );
    expect(answers.filter((a) => a.statusCode === 200)).toHaveLength(1);
    const losers = answers.filter((a) => a.statusCode !== 200);
    expect(losers.map((a) => [a.statusCode, json(a).code])).toEqual(
      Array.from({ length: 99 }, () => [409, 'SEAT_TAKEN']),
    );
  });

  it('rate-limits repeated failures for a seat with 429 and Retry-After', async () => {
    await seat();
    const token = await tokenFor('g1', 'alice');
    for (let i = 0; i < 10; i++) {
      expectProblem(
        await reconnect('g1', { playerId: 'alice', reconnectToken: `guess${i}` }),
        401,
        'TOKEN_INVALID',
      );
    }
    const limited = await reconnect('g1', { playerId: 'alice', reconnectToken: token });
    expectProblem(limited, 429, 'RATE_LIMITED');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('a damaged record answers 422 CORRUPT_DATA and the server keeps serving', async () => {
    await h.savepoint.store.commit([
      {
        op: 'put',
        collection: 'game',
        key: 'broken',
        value: { players: ['a'], status: 'active', lastSeq: 0 },
      },
    ]);
    const problem = expectProblem(
      await h.app.inject({ url: '/api/game/broken/restore', headers: auth }),
      422,
      'CORRUPT_DATA',
    );
    expect(problem.detail).toContain('"state"');
    await seat();
    expect((await h.app.inject({ url: '/api/game/g1/restore', headers: auth })).statusCode).toBe(200);
    expect(
      (await h.app.inject({ method: 'DELETE', url: '/api/game/broken/persist', headers: auth })).statusCode,
    ).toBe(204);
  });

  it('delete removes everything; a second delete is 404', async () => {
    await seat();
    await append('g1', { events: [{ type: 'a' }] });
    const token = await tokenFor('g1', 'alice');
    const deleted = await h.app.inject({ method: 'DELETE', url: '/api/game/g1/persist', headers: auth });
    expect(deleted.statusCode).toBe(204);
    expectProblem(await h.app.inject({ url: '/api/game/g1/restore', headers: auth }), 404, 'NOT_FOUND');
    expect(await h.savepoint.store.get('game-token', 'g1/alice')).toBeUndefined();
    expect(await h.savepoint.store.streamHead('game:g1')).toBe(0);
    expectProblem(await reconnect('g1', { playerId: 'alice', reconnectToken: token }), 401, 'TOKEN_INVALID');
    expectProblem(
      await h.app.inject({ method: 'DELETE', url: '/api/game/g1/persist', headers: auth }),
      404,
      'NOT_FOUND',
    );
  });

  describe('the event stream', () => {
    let base: string;
    beforeEach(async () => {
      base = await h.app.listen({ host: '127.0.0.1', port: 0 });
    });

    interface SseEvent {
      id: string;
      event: string;
      data: unknown;
    }

    /** Opens the stream and collects `count` events, then disconnects. */
    /** Opens the stream on its own connection, collects `count` events, then disconnects. */
    async function collect(
      url: string,
      headers: Record<string, string>,
      count: number,
      whileOpen?: () => Promise<void>,
    ): Promise<{ status: number; events: SseEvent[] }> {
      const response = await new Promise<http.IncomingMessage>((resolve, reject) => {
        http.get(`${base}${url}`, { headers, agent: false }, resolve).on('error', reject);
      });
      if (response.statusCode !== 200) {
        response.resume();
        return { status: response.statusCode ?? 0, events: [] };
      }
      expect(response.headers['content-type']).toContain('text/event-stream');
      const events: SseEvent[] = [];
      const started = whileOpen?.();
      let buffer = '';
      response.setEncoding('utf8');
      for await (const chunk of response) {
        buffer += chunk as string;
        for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const fields = new Map(
            frame
              .split('\n')
              .filter((line) => !line.startsWith(':'))
              .map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 2)] as const),
          );
          const id = fields.get('id');
          if (id !== undefined)
            events.push({
              id,
              event: fields.get('event') ?? '',
              data: JSON.parse(fields.get('data') ?? 'null'),
            });
        }
        if (events.length >= count) break;
      }
      response.destroy();
      await started;
      return { status: 200, events };
    }

    it('replays after Last-Event-ID, then streams live events', async () => {
      await seat();
      await append('g1', { events: [1, 2, 3].map((n) => ({ type: 'n', data: { n } })) });
      const { status, events } = await collect(
        '/api/game/g1/stream',
        { ...auth, 'last-event-id': '1' },
        4,
        async () => {
          await new Promise((resolve) => setTimeout(resolve, 30));
          await append('g1', {
            events: [
              { type: 'live', data: { n: 4 } },
              { type: 'live', data: { n: 5 } },
            ],
          });
        },
      );
      expect(status).toBe(200);
      expect(events).toEqual([
        { id: '2', event: 'n', data: { n: 2 } },
        { id: '3', event: 'n', data: { n: 3 } },
        { id: '4', event: 'live', data: { n: 4 } },
        { id: '5', event: 'live', data: { n: 5 } },
      ]);
    });

    it('takes a player token instead of the key, without spending it', async () => {
      await seat();
      await append('g1', { events: [{ type: 'a' }, { type: 'b' }] });
      const token = await tokenFor('g1', 'alice');
      const { events } = await collect(
        `/api/game/g1/stream?playerId=alice&token=${token}&lastEventId=1`,
        {},
        1,
      );
      expect(events.map((e) => e.id)).toEqual(['2']);
      expect((await reconnect('g1', { playerId: 'alice', reconnectToken: token })).statusCode).toBe(200);
      expect((await collect(`/api/game/g1/stream?playerId=alice&token=${token}`, {}, 1)).status).toBe(401);
    });

    it('100 concurrent reconnects over real sockets: one winner, the rest SEAT_TAKEN', async () => {
      await seat();
      const token = await tokenFor('g1', 'alice');
      const statuses = await Promise.all(
        Array.from({ length: 100 }, async () => {
          const response = await fetch(`${base}/api/game/g1/reconnect`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ playerId: 'alice', reconnectToken: token }),
          });
          const body = (await response.json()) as { code?: string };
          return `${response.status} ${body.code ?? ''}`.trim();
        }),
      );
      const counts: Record<string, number> = {};
      for (const status of statuses) counts[status] = (counts[status] ?? 0) + 1;
      expect(counts).toEqual({ '200': 1, '409 SEAT_TAKEN': 99 });
      // Sent after the race window: a reuse.
      h.clock.advance(2000);
      const reuse = await fetch(`${base}/api/game/g1/reconnect`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ playerId: 'alice', reconnectToken: token }),
      });
      expect([reuse.status, ((await reuse.json()) as { code: string }).code]).toEqual([401, 'TOKEN_INVALID']);
    });

    it('a reuse over a real connection is SEAT_TAKEN within the race window, TOKEN_INVALID after', async () => {
      await seat();
      const token = await tokenFor('g1', 'alice');
      const post = async (reconnectToken: string) => {
        const response = await fetch(`${base}/api/game/g1/reconnect`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ playerId: 'alice', reconnectToken }),
        });
        return [response.status, ((await response.json()) as { code?: string }).code];
      };
      expect(await post(token)).toEqual([200, undefined]);
      expect(await post(token)).toEqual([409, 'SEAT_TAKEN']);
      h.clock.advance(2000);
      expect(await post(token)).toEqual([401, 'TOKEN_INVALID']);
    });

    it('closing the server ends open streams instead of waiting for them', async () => {
      await seat();
      const response = await new Promise<http.IncomingMessage>((resolve, reject) => {
        http.get(`${base}/api/game/g1/stream`, { headers: auth, agent: false }, resolve).on('error', reject);
      });
      expect(response.statusCode).toBe(200);
      response.resume();
      const ended = once(response, 'end');
      const started = performance.now();
      await h.app.close();
      await ended;
      expect(performance.now() - started).toBeLessThan(2000);
    });

    it('refuses a missing key, an unknown game and a Last-Event-ID beyond the log', async () => {
      await seat();
      expect((await collect('/api/game/g1/stream', {}, 1)).status).toBe(401);
      expect((await collect('/api/game/g1/stream', { authorization: 'Bearer wrong' }, 1)).status).toBe(401);
      expect((await collect('/api/game/nope/stream', auth, 1)).status).toBe(404);
      expect((await collect('/api/game/g1/stream', { ...auth, 'last-event-id': '9' }, 1)).status).toBe(400);
      expect((await collect('/api/game/g1/stream', { ...auth, 'last-event-id': 'x' }, 1)).status).toBe(400);
    });
  });
});

describe('games over HTTP on SQLite', () => {
  it('garbage bytes in a stored game answer 422 CORRUPT_DATA; the server stays up', async () => {
    const file = path.join(directory, 'corrupt.db');
    const h = await start(`sqlite:${file}`);
    try {
      const persisted = await h.app.inject({
        method: 'POST',
        url: '/api/game/g1/persist',
        headers: auth,
        payload: { state: { pot: 1 }, players: ['alice'] },
      });
      expect(persisted.statusCode).toBe(200);
      const raw = new Database(file);
      raw.prepare("UPDATE documents SET value = 'garbage{' WHERE collection = 'game' AND key = 'g1'").run();
      raw.close();
      const answer = await h.app.inject({ url: '/api/game/g1/restore', headers: auth });
      expectProblem(answer, 422, 'CORRUPT_DATA');
      expect(json(answer).detail).toContain('g1');
      const again = await h.app.inject({
        method: 'POST',
        url: '/api/game/g2/persist',
        headers: auth,
        payload: { state: {} },
      });
      expect(again.statusCode).toBe(200);
    } finally {
      await h.close();
    }
  });
});
