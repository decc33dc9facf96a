/** The documents API (docs/api.md#documents and docs/api.md#versions) through `app.inject()`. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/engine/clock.js';
import { expectProblem, json, startTestServer, type TestServer } from '../support/http.js';

interface Record_ {
  collection: string;
  key: string;
  value: unknown;
  version: number;
  createdAt: string;
  updatedAt: string;
  expiresAt: string | null;
}

let server: TestServer;
let clock: ManualClock;
beforeEach(async () => {
  clock = new ManualClock(Date.UTC(2030, 0, 1));
  server = await startTestServer({ savepoint: { url: 'memory:', clock: clock.now } });
});
afterEach(() => server.close());

const put = (key: string, payload: unknown, headers: Record<string, string> = {}) =>
  server.request({ method: 'PUT', url: `/v1/docs/things/${key}`, payload: payload as object, headers });
const patch = (key: string, payload: unknown, headers: Record<string, string> = {}) =>
  server.request({ method: 'PATCH', url: `/v1/docs/things/${key}`, payload: payload as object, headers });
const get = (key: string, headers: Record<string, string> = {}) =>
  server.request({ method: 'GET', url: `/v1/docs/things/${key}`, headers });
const versionOf = async (key: string) => (await server.savepoint.store.get('things', key))?.version;

describe('single documents', () => {
  it('creates (201), reads with an ETag, replaces (200) and deletes (204)', async () => {
    const created = await put('a', { value: { name: 'Ada', level: 1 } });
    expect(created.statusCode).toBe(201);
    expect(created.headers.etag).toBe('"1"');
    expect(created.headers.location).toBe('/v1/docs/things/a');
    expect(json<Record_>(created)).toEqual({
      collection: 'things',
      key: 'a',
      value: { name: 'Ada', level: 1 },
      version: 1,
      createdAt: '2030-01-01T00:00:00.000Z',
      updatedAt: '2030-01-01T00:00:00.000Z',
      expiresAt: null,
    });

    clock.advance(1000);
    const replaced = await put('a', { value: [1, 'two', null] });
    expect(replaced.statusCode).toBe(200);
    expect(json<Record_>(replaced)).toMatchObject({
      version: 2,
      value: [1, 'two', null],
      updatedAt: '2030-01-01T00:00:01.000Z',
    });

    const read = await get('a');
    expect(read.statusCode).toBe(200);
    expect(read.headers.etag).toBe('"2"');
    expect(json<Record_>(read).createdAt).toBe('2030-01-01T00:00:00.000Z');

    expect((await server.request({ method: 'DELETE', url: '/v1/docs/things/a' })).statusCode).toBe(204);
    expectProblem(await get('a'), 404, 'NOT_FOUND');
    expectProblem(await server.request({ method: 'DELETE', url: '/v1/docs/things/a' }), 404, 'NOT_FOUND');
  });

  it('a DELETE sent with a JSON content type and no body works', async () => {
    await put('a', { value: 1 });
    const response = await server.request({
      method: 'DELETE',
      url: '/v1/docs/things/a',
      headers: { 'content-type': 'application/json' },
    });
    expect(response.statusCode).toBe(204);
  });

  it('stores any JSON value, null included', async () => {
    for (const [key, value] of [
      ['n', null],
      ['s', 'text ✓ 𝄞'],
      ['f', 1.25],
      ['b', false],
      ['o', { nested: { deep: [1, { x: 'y' }] } }],
    ] as const) {
      expect((await put(key, { value })).statusCode).toBe(201);
      expect(json<Record_>(await get(key)).value).toEqual(value);
    }
  });

  it('answers 304 to If-None-Match with the current ETag', async () => {
    await put('a', { value: 1 });
    const same = await get('a', { 'if-none-match': '"1"' });
    expect(same.statusCode).toBe(304);
    expect(same.headers.etag).toBe('"1"');
    expect(same.body).toBe('');
    expect((await get('a', { 'if-none-match': 'W/"1"' })).statusCode).toBe(304);
    expect((await get('a', { 'if-none-match': '"7", "1"' })).statusCode).toBe(304);
    expect((await get('a', { 'if-none-match': '"2"' })).statusCode).toBe(200);
  });

  it('expires a document after its ttl', async () => {
    const created = json<Record_>(await put('a', { value: 1, ttl: '30s' }));
    expect(created.expiresAt).toBe('2030-01-01T00:00:30.000Z');
    clock.advance(29_999);
    expect((await get('a')).statusCode).toBe(200);
    clock.advance(1);
    expectProblem(await get('a'), 404, 'NOT_FOUND');
  });

  it('patch keeps the expiry unless given; null clears it', async () => {
    await put('a', { value: {}, ttl: '1h' });
    expect(json<Record_>(await patch('a', { $set: { x: 1 } })).expiresAt).toBe('2030-01-01T01:00:00.000Z');
    expect(json<Record_>(await patch('a', { $set: { x: 2 }, ttl: '2h' })).expiresAt).toBe(
      '2030-01-01T02:00:00.000Z',
    );
    expect(json<Record_>(await patch('a', { $set: { x: 3 }, ttl: null })).expiresAt).toBeNull();
  });
});

describe('patch', () => {
  it('applies every operator atomically with dot paths', async () => {
    await put('p', { value: { stats: { wins: 1, best: 10, worst: 5 }, tags: ['a'], gone: true } });
    const response = await patch('p', {
      $set: { 'profile.name': 'Ada' },
      $unset: { gone: true },
      $inc: { 'stats.wins': 2 },
      $max: { 'stats.best': 12 },
      $min: { 'stats.worst': 7 },
      $push: { tags: { $each: ['b', 'c'] } },
    });
    expect(response.statusCode).toBe(200);
    expect(json<Record_>(response)).toMatchObject({
      version: 2,
      value: { stats: { wins: 3, best: 12, worst: 5 }, tags: ['a', 'b', 'c'], profile: { name: 'Ada' } },
    });
    expect(json<Record_>(response).value).not.toHaveProperty('gone');
  });

  it('a missing document answers 404 unless upsert, which creates it (201)', async () => {
    expectProblem(await patch('new', { $inc: { n: 1 } }), 404, 'NOT_FOUND');
    const created = await patch('new', { $inc: { n: 1 }, upsert: true });
    expect(created.statusCode).toBe(201);
    expect(json<Record_>(created)).toMatchObject({ version: 1, value: { n: 1 } });
  });

  it('an operator meeting the wrong type answers 400 and changes nothing', async () => {
    await put('p', { value: { n: 'text' } });
    expectProblem(await patch('p', { $inc: { n: 1 } }), 400, 'INVALID_INPUT');
    expect(await versionOf('p')).toBe(1);
  });

  it('concurrent $inc lose no update', async () => {
    await put('counter', { value: { n: 0 } });
    await Promise.all(Array.from({ length: 50 }, () => patch('counter', { $inc: { n: 1 } })));
    expect(json<Record_>(await get('counter'))).toMatchObject({ value: { n: 50 }, version: 51 });
  });
});

describe('versions and conditions', () => {
  it('If-Match writes only at that version, else 412', async () => {
    await put('a', { value: { n: 1 } });
    expect((await put('a', { value: { n: 2 } }, { 'if-match': '"1"' })).statusCode).toBe(200);
    const stale = await put('a', { value: { n: 3 } }, { 'if-match': '"1"' });
    expect(expectProblem(stale, 412, 'VERSION_CONFLICT').detail).toMatch(/expected version 1, found 2/);
    expect(json<Record_>(await get('a')).value).toEqual({ n: 2 });
    expect((await patch('a', { $set: {} }, { 'if-match': '"2"' })).statusCode).toBe(200);
    expectProblem(await patch('a', { $set: {} }, { 'if-match': '"2"' }), 412, 'VERSION_CONFLICT');
  });

  it('If-Match on a missing document answers 412', async () => {
    expectProblem(await put('none', { value: 1 }, { 'if-match': '"1"' }), 412, 'VERSION_CONFLICT');
    expectProblem(await put('none', { value: 1 }, { 'if-match': '*' }), 412, 'VERSION_CONFLICT');
    expectProblem(await patch('none', { $set: {} }, { 'if-match': '"1"' }), 412, 'VERSION_CONFLICT');
    expect(await versionOf('none')).toBeUndefined();
  });

  it('If-Match: * and tag lists match any listed current version', async () => {
    await put('a', { value: 1 });
    expect((await put('a', { value: 2 }, { 'if-match': '*' })).statusCode).toBe(200);
    expect((await put('a', { value: 3 }, { 'if-match': '"9", "2"' })).statusCode).toBe(200);
    expectProblem(await put('a', { value: 4 }, { 'if-match': '"9", "2"' }), 412, 'VERSION_CONFLICT');
  });

  it('a weak or foreign tag never matches If-Match', async () => {
    await put('a', { value: 1 });
    expectProblem(await put('a', { value: 2 }, { 'if-match': 'W/"1"' }), 412, 'VERSION_CONFLICT');
    expectProblem(await put('a', { value: 2 }, { 'if-match': '"abc"' }), 412, 'VERSION_CONFLICT');
    expect(await versionOf('a')).toBe(1);
  });

  it('If-None-Match: * creates only, else 412', async () => {
    expect((await put('a', { value: 1 }, { 'if-none-match': '*' })).statusCode).toBe(201);
    expectProblem(await put('a', { value: 2 }, { 'if-none-match': '*' }), 412, 'VERSION_CONFLICT');
    expect(json<Record_>(await get('a')).value).toBe(1);
    // On a patch it creates from {} (upsert implied).
    expect((await patch('b', { $set: { x: 1 } }, { 'if-none-match': '*' })).statusCode).toBe(201);
    expectProblem(await patch('b', { $set: { x: 2 } }, { 'if-none-match': '*' }), 412, 'VERSION_CONFLICT');
  });

  it('a body expectedVersion answers 409 on mismatch', async () => {
    await put('a', { value: 1 });
    expect((await put('a', { value: 2, expectedVersion: 1 })).statusCode).toBe(200);
    const conflict = await put('a', { value: 3, expectedVersion: 1 });
    expect(expectProblem(conflict, 409, 'VERSION_CONFLICT')).toMatchObject({ expected: 1, actual: 2 });
    expectProblem(await patch('a', { $inc: { n: 1 }, expectedVersion: 1 }), 409, 'VERSION_CONFLICT');
    expectProblem(await put('missing', { value: 1, expectedVersion: 1 }), 409, 'VERSION_CONFLICT');
  });

  it('header and body conditions must agree', async () => {
    await put('a', { value: 1 });
    expect((await put('a', { value: 2, expectedVersion: 1 }, { 'if-match': '"1"' })).statusCode).toBe(200);
    expectProblem(
      await put('a', { value: 3, expectedVersion: 1 }, { 'if-match': '"2"' }),
      400,
      'INVALID_INPUT',
    );
    expectProblem(
      await put('a', { value: 3 }, { 'if-match': '"2"', 'if-none-match': '*' }),
      400,
      'INVALID_INPUT',
    );
    expectProblem(await put('a', { value: 3 }, { 'if-none-match': '"2"' }), 400, 'INVALID_INPUT');
  });

  it('deletes honour If-Match (412) and ?expectedVersion (409)', async () => {
    await put('a', { value: 1 });
    await put('a', { value: 2 });
    const url = '/v1/docs/things/a';
    expectProblem(
      await server.request({ method: 'DELETE', url, headers: { 'if-match': '"1"' } }),
      412,
      'VERSION_CONFLICT',
    );
    expectProblem(
      await server.request({ method: 'DELETE', url: `${url}?expectedVersion=1` }),
      409,
      'VERSION_CONFLICT',
    );
    expectProblem(
      await server.request({ method: 'DELETE', url, headers: { 'if-none-match': '*' } }),
      400,
      'INVALID_INPUT',
    );
    expect(await versionOf('a')).toBe(2);
    expect((await server.request({ method: 'DELETE', url, headers: { 'if-match': '"2"' } })).statusCode).toBe(
      204,
    );
  });

  it('of concurrent writers at one version, exactly one wins', async () => {
    await put('race', { value: 0 });
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, i) => put('race', { value: i }, { 'if-match': '"1"' })),
    );
    const statuses = answers.map((answer) => answer.statusCode).sort();
    expect(statuses.filter((status) => status === 200)).toHaveLength(1);
    expect(statuses.filter((status) => status === 412)).toHaveLength(9);
  });
});

describe('listing', () => {
  beforeEach(async () => {
    for (const key of ['a1', 'a2', 'a3', 'b1', 'b2']) await put(key, { value: key });
  });

  it('pages through a collection with cursors', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = cursor === null ? 'limit=2' : `limit=2&cursor=${cursor}`;
      const page = json<{ items: Record_[]; nextCursor: string | null }>(
        await server.request({ method: 'GET', url: `/v1/docs/things?${query}` }),
      );
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((item) => item.key));
      cursor = page.nextCursor;
      pages++;
    } while (cursor !== null && pages < 10);
    expect(seen).toEqual(['a1', 'a2', 'a3', 'b1', 'b2']);
  });

  it('filters by prefix', async () => {
    const page = json<{ items: Record_[] }>(
      await server.request({ method: 'GET', url: '/v1/docs/things?prefix=b' }),
    );
    expect(page.items.map((item) => item.key)).toEqual(['b1', 'b2']);
  });

  it('reads several keys in one call, leaving missing ones out', async () => {
    const page = json<{ items: Record_[]; nextCursor: null }>(
      await server.request({ method: 'GET', url: '/v1/docs/things?keys=b2,zz,a1' }),
    );
    expect(page.items.map((item) => item.key)).toEqual(['b2', 'a1']);
    expect(page.nextCursor).toBeNull();
  });

  it('an empty collection lists as empty', async () => {
    expect(json(await server.request({ method: 'GET', url: '/v1/docs/empty' }))).toEqual({
      items: [],
      nextCursor: null,
    });
  });
});

describe('commit', () => {
  it('applies put, patch and delete together and answers each result', async () => {
    await put('gone', { value: 1 });
    const response = await server.request({
      method: 'POST',
      url: '/v1/commit',
      payload: {
        ops: [
          { op: 'put', collection: 'things', key: 'x', value: { n: 1 }, ttl: '1h' },
          { op: 'patch', collection: 'things', key: 'y', patch: { $inc: { n: 5 } }, upsert: true },
          { op: 'delete', collection: 'things', key: 'gone' },
          { op: 'delete', collection: 'things', key: 'never' },
        ],
      },
    });
    expect(response.statusCode).toBe(200);
    const answer = json<{ at: string; results: Array<Record<string, unknown>> }>(response);
    expect(answer.at).toBe('2030-01-01T00:00:00.000Z');
    expect(answer.results).toEqual([
      {
        op: 'put',
        created: true,
        document: expect.objectContaining({ key: 'x', expiresAt: '2030-01-01T01:00:00.000Z' }),
      },
      { op: 'patch', created: true, document: expect.objectContaining({ key: 'y', value: { n: 5 } }) },
      { op: 'delete', deleted: true },
      { op: 'delete', deleted: false },
    ]);
  });

  it('is all-or-nothing: a failed condition applies nothing and names the op', async () => {
    await put('a', { value: 1 });
    const response = await server.request({
      method: 'POST',
      url: '/v1/commit',
      payload: {
        ops: [
          { op: 'put', collection: 'things', key: 'new', value: 1 },
          { op: 'patch', collection: 'things', key: 'a', patch: { $set: { x: 1 } }, expectedVersion: 7 },
          { op: 'delete', collection: 'things', key: 'a' },
        ],
      },
    });
    expect(expectProblem(response, 409, 'VERSION_CONFLICT').opIndex).toBe(1);
    expect(await versionOf('new')).toBeUndefined();
    expect(await versionOf('a')).toBe(1);
  });

  it('mustNotExist conflicts with 409', async () => {
    await put('a', { value: 1 });
    const response = await server.request({
      method: 'POST',
      url: '/v1/commit',
      payload: { ops: [{ op: 'put', collection: 'things', key: 'a', value: 2, mustNotExist: true }] },
    });
    expectProblem(response, 409, 'VERSION_CONFLICT');
  });

  it('a patch of a missing document without upsert fails the whole commit with 404', async () => {
    const response = await server.request({
      method: 'POST',
      url: '/v1/commit',
      payload: {
        ops: [
          { op: 'put', collection: 'things', key: 'new', value: 1 },
          { op: 'patch', collection: 'things', key: 'missing', patch: { $inc: { n: 1 } } },
        ],
      },
    });
    expectProblem(response, 404, 'NOT_FOUND');
    expect(await versionOf('new')).toBeUndefined();
  });
});

describe('module-owned collections', () => {
  it('are read-only: writes answer 403, reads work', async () => {
    await server.savepoint.store.commit([
      { op: 'put', collection: 'match', key: 'm1', value: { status: 'open' } },
    ]);
    expectProblem(
      await server.request({ method: 'PUT', url: '/v1/docs/match/m1', payload: { value: {} } }),
      403,
      'FORBIDDEN',
    );
    expectProblem(
      await server.request({ method: 'PATCH', url: '/v1/docs/match/m1', payload: { $set: { status: 'x' } } }),
      403,
      'FORBIDDEN',
    );
    expectProblem(await server.request({ method: 'DELETE', url: '/v1/docs/match/m1' }), 403, 'FORBIDDEN');
    const commit = await server.request({
      method: 'POST',
      url: '/v1/commit',
      payload: {
        ops: [
          { op: 'put', collection: 'things', key: 'a', value: 1 },
          { op: 'delete', collection: 'lifetime', key: 'u1' },
        ],
      },
    });
    expect(expectProblem(commit, 403, 'FORBIDDEN').detail).toMatch(/^op 1: /);
    expect(await versionOf('a')).toBeUndefined();
    expect(json<Record_>(await server.request({ method: 'GET', url: '/v1/docs/match/m1' })).value).toEqual({
      status: 'open',
    });
  });

  it('hidden collections cannot be read either', async () => {
    server.savepoint.reservedCollections.reserve(['test-secrets'], {
      owner: 'the test module',
      hidden: true,
    });
    expectProblem(await server.request({ method: 'GET', url: '/v1/docs/test-secrets/a' }), 403, 'FORBIDDEN');
    expectProblem(await server.request({ method: 'GET', url: '/v1/docs/test-secrets' }), 403, 'FORBIDDEN');
  });
});
