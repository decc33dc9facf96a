import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { savesModule } from '../../src/domains/saves/saves.module.js';
import { TEST_AUTH as auth, expectProblem, json, startTestServer, type TestServer } from '../support/http.js';

let server: TestServer;
let app: FastifyInstance;

beforeAll(async () => {
  server = await startTestServer({ env: { SAVEPOINT_SAVE_SLOTS: '4' }, modules: [savesModule] });
  app = server.app;
});
afterAll(() => server.close());

describe('save slots over HTTP', () => {
  it('writes, lists, reads with ETags, and deletes', async () => {
    const base = '/v1/players/hero@realm/saves';
    expect(json(await app.inject({ method: 'GET', url: base, headers: auth }))).toEqual({
      slots: [],
      maxSlots: 4,
    });
    const created = await app.inject({
      method: 'PUT',
      url: `${base}/4`,
      headers: auth,
      payload: { state: { floor: 2 } },
    });
    expect(created.statusCode).toBe(201);
    expect(created.headers.etag).toBe('"1"');
    expect(json(created)).toMatchObject({ user: 'hero@realm', slot: 4, state: { floor: 2 }, version: 1 });
    const replaced = await app.inject({
      method: 'PUT',
      url: `${base}/4`,
      headers: auth,
      payload: { state: { floor: 3 } },
    });
    expect(replaced.statusCode).toBe(200);
    expect(json(replaced)).toMatchObject({ version: 2, state: { floor: 3 } });

    const list = json<{ slots: Array<{ slot: number; version: number; updatedAt: string }> }>(
      await app.inject({ method: 'GET', url: base, headers: auth }),
    );
    expect(list.slots).toEqual([
      { slot: 4, version: 2, updatedAt: json<{ updatedAt: string }>(replaced).updatedAt },
    ]);

    const read = await app.inject({ method: 'GET', url: `${base}/4`, headers: auth });
    expect(read.headers.etag).toBe('"2"');
    expect(json(read)).toMatchObject({ state: { floor: 3 } });
    expect(
      (await app.inject({ method: 'GET', url: `${base}/4`, headers: { ...auth, 'if-none-match': '"2"' } }))
        .statusCode,
    ).toBe(304);
    expectProblem(await app.inject({ method: 'GET', url: `${base}/1`, headers: auth }), 404, 'NOT_FOUND');

    expect((await app.inject({ method: 'DELETE', url: `${base}/4`, headers: auth })).statusCode).toBe(204);
    expectProblem(await app.inject({ method: 'DELETE', url: `${base}/4`, headers: auth }), 404, 'NOT_FOUND');
  });

  it('answers OUT_OF_BOUNDS for any slot outside 1..SAVEPOINT_SAVE_SLOTS', async () => {
    for (const slot of ['0', '5', '-1', '1.5', 'abc', '99999999999']) {
      const url = `/v1/players/p/saves/${slot}`;
      expectProblem(await app.inject({ method: 'GET', url, headers: auth }), 400, 'OUT_OF_BOUNDS');
      expectProblem(
        await app.inject({ method: 'PUT', url, headers: auth, payload: { state: {} } }),
        400,
        'OUT_OF_BOUNDS',
      );
      expectProblem(await app.inject({ method: 'DELETE', url, headers: auth }), 400, 'OUT_OF_BOUNDS');
    }
    expectProblem(
      await app.inject({ method: 'GET', url: '/v1/players/bad%20user/saves', headers: auth }),
      400,
      'INVALID_INPUT',
    );
    expectProblem(
      await app.inject({ method: 'PUT', url: '/v1/players/p/saves/1', headers: auth, payload: { state: 1 } }),
      400,
      'INVALID_INPUT',
    );
    expectProblem(await app.inject({ method: 'GET', url: '/v1/players/p/saves' }), 401, 'UNAUTHORIZED');
  });

  it('honours If-Match, If-None-Match and expectedVersion', async () => {
    const url = '/v1/players/cond/saves/1';
    const put = (headers: Record<string, string>, payload: object) =>
      app.inject({ method: 'PUT', url, headers: { ...auth, ...headers }, payload });
    expect((await put({ 'if-none-match': '*' }, { state: { n: 1 } })).statusCode).toBe(201);
    expectProblem(await put({ 'if-none-match': '*' }, { state: { n: 2 } }), 412, 'VERSION_CONFLICT');
    expectProblem(await put({ 'if-match': '"7"' }, { state: { n: 2 } }), 412, 'VERSION_CONFLICT');
    expectProblem(await put({}, { state: { n: 2 }, expectedVersion: 7 }), 409, 'VERSION_CONFLICT');
    const matched = await put({ 'if-match': '"1"' }, { state: { n: 2 } });
    expect(matched.statusCode).toBe(200);
    expect(json(matched)).toMatchObject({ version: 2, state: { n: 2 } });
    expect((await put({}, { state: { n: 3 }, expectedVersion: 2 })).statusCode).toBe(200);
    expectProblem(
      await app.inject({ method: 'DELETE', url, headers: { ...auth, 'if-match': '"2"' } }),
      412,
      'VERSION_CONFLICT',
    );
    expectProblem(
      await app.inject({ method: 'DELETE', url: `${url}?expectedVersion=2`, headers: auth }),
      409,
      'VERSION_CONFLICT',
    );
    expect(
      (await app.inject({ method: 'DELETE', url, headers: { ...auth, 'if-match': '"3"' } })).statusCode,
    ).toBe(204);
    expectProblem(await put({ 'if-match': '"3"' }, { state: {} }), 412, 'VERSION_CONFLICT');
  });
});
