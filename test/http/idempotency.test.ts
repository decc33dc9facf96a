/** `Idempotency-Key` on writes (docs/http-idempotency.md) through `app.inject()`. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createClient } from '../../src/client/index.js';
import { ManualClock } from '../../src/engine/clock.js';
import { fingerprintOf, IDEMPOTENCY_COLLECTION, recordKeyOf } from '../../src/engine/idempotency.js';
import { CLAIM_MS } from '../../src/http/idempotency.js';
import { expectProblem, json, startTestServer, type TestServer } from '../support/http.js';

let server: TestServer;
let clock: ManualClock;
beforeEach(async () => {
  clock = new ManualClock(Date.UTC(2030, 0, 1));
  server = await startTestServer({ savepoint: { url: 'memory:', clock: clock.now } });
});
afterEach(() => server.close());

const keyed = (key: string | undefined, headers: Record<string, string> = {}) =>
  key === undefined ? headers : { ...headers, 'idempotency-key': key };
const put = (docKey: string, payload: object, key?: string, headers: Record<string, string> = {}) =>
  server.request({ method: 'PUT', url: `/v1/docs/things/${docKey}`, payload, headers: keyed(key, headers) });
const inc = (docKey: string, key?: string, by = 1) =>
  server.request({
    method: 'PATCH',
    url: `/v1/docs/things/${docKey}`,
    payload: { $inc: { n: by } },
    headers: keyed(key),
  });
const storedValue = async (docKey: string) => (await server.savepoint.store.get('things', docKey))?.value;
const replaysMetric = async () => {
  const text = (await server.request({ method: 'GET', url: '/metrics' })).body;
  const line = text.split('\n').find((row) => row.startsWith('savepoint_idempotent_replays_total'));
  return Number(line?.split(' ')[1] ?? Number.NaN);
};

describe('Idempotency-Key', () => {
  it('a repeat gets the same status, body and ETag, marked as replayed, and changes nothing', async () => {
    const first = await put('a', { value: { name: 'Ada' } }, 'k-1');
    expect(first.statusCode).toBe(201);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    const again = await put('a', { value: { name: 'Ada' } }, 'k-1');
    expect(again.statusCode).toBe(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body).toBe(first.body);
    expect(again.headers.etag).toBe(first.headers.etag);
    expect(again.headers.location).toBe(first.headers.location);
    expect(again.headers['content-type']).toBe(first.headers['content-type']);
    expect((await server.savepoint.store.get('things', 'a'))?.version).toBe(1);
  });

  it('a retried $inc is applied once', async () => {
    await put('c', { value: { n: 0 } });
    const first = await inc('c', 'inc-1', 5);
    const retried = await inc('c', 'inc-1', 5);
    expect(retried.statusCode).toBe(200);
    expect(retried.body).toBe(first.body);
    expect(await storedValue('c')).toEqual({ n: 5 });
    // Without a key, or with another key, it applies again.
    await inc('c', undefined, 5);
    await inc('c', 'inc-2', 5);
    expect(await storedValue('c')).toEqual({ n: 15 });
  });

  it('the same key with another body, path or method is 422 IDEMPOTENCY_KEY_REUSED and applies nothing', async () => {
    await put('c', { value: { n: 0 } });
    await inc('c', 'reuse', 1);
    expectProblem(await inc('c', 'reuse', 2), 422, 'IDEMPOTENCY_KEY_REUSED');
    expectProblem(await inc('other', 'reuse', 1), 422, 'IDEMPOTENCY_KEY_REUSED');
    expectProblem(await put('c', { value: { n: 9 } }, 'reuse'), 422, 'IDEMPOTENCY_KEY_REUSED');
    expect(await storedValue('c')).toEqual({ n: 1 });
  });

  it('a malformed key is 400 INVALID_INPUT and applies nothing', async () => {
    for (const bad of ['', 'has space', 'x'.repeat(201), 'é', 'a/b']) {
      const response = await put('m', { value: 1 }, bad);
      expectProblem(response, 400, 'INVALID_INPUT');
    }
    expect(await storedValue('m')).toBeUndefined();
  });

  it('a failed request stores nothing: a retry with the same key runs again', async () => {
    const failed = await put('f', { value: 2 }, 'fail-1', { 'if-match': '"1"' });
    expectProblem(failed, 412, 'VERSION_CONFLICT');
    await put('f', { value: 1 });
    const retried = await put('f', { value: 2 }, 'fail-1', { 'if-match': '"1"' });
    expect(retried.statusCode).toBe(200);
    expect(retried.headers['idempotent-replayed']).toBeUndefined();
    expect(await storedValue('f')).toBe(2);
  });

  it('20 concurrent requests with one key apply once, with no server error', async () => {
    await put('race', { value: { n: 0 } });
    const answers = await Promise.all(Array.from({ length: 20 }, () => inc('race', 'race-1', 1)));
    expect(await storedValue('race')).toEqual({ n: 1 });
    const statuses = answers.map((answer) => answer.statusCode);
    expect(statuses.every((status) => status === 200 || status === 409)).toBe(true);
    for (const answer of answers) {
      if (answer.statusCode === 409) expectProblem(answer, 409, 'IDEMPOTENCY_IN_FLIGHT');
      else expect(json(answer)).toMatchObject({ value: { n: 1 }, version: 2 });
    }
    // Once the first finished, every repeat replays it.
    const later = await inc('race', 'race-1', 1);
    expect(later.headers['idempotent-replayed']).toBe('true');
    expect(await storedValue('race')).toEqual({ n: 1 });
  });

  it('after a crash between the effect and the stored answer, the retry rebuilds the answer without applying again', async () => {
    await put('crash', { value: { n: 0 } });
    const first = await inc('crash', 'crash-1', 3);
    // Simulate the crash: the answer's record is lost (and the claim with it); the commit's record stays.
    const store = server.savepoint.store;
    const page = await store.list(IDEMPOTENCY_COLLECTION, { limit: 1000 });
    const answers = page.items.filter((doc) => (doc.value as { kind?: string }).kind === 'request');
    expect(answers).toHaveLength(1);
    await store.commit(
      answers.map((doc) => ({ op: 'delete' as const, collection: IDEMPOTENCY_COLLECTION, key: doc.key })),
    );
    const retried = await inc('crash', 'crash-1', 3);
    expect(retried.statusCode).toBe(200);
    expect(retried.body).toBe(first.body);
    expect(await storedValue('crash')).toEqual({ n: 3 });
  });

  it('a claim left by a dead process answers 409 IDEMPOTENCY_IN_FLIGHT until it expires; then the retry runs', async () => {
    const body = { value: 1 };
    // What a process that died while running the request leaves behind: the claim, no effect.
    await server.savepoint.store.commit([
      {
        op: 'put',
        collection: IDEMPOTENCY_COLLECTION,
        key: recordKeyOf('request', 'dead-1'),
        value: {
          kind: 'request',
          state: 'running',
          fingerprint: fingerprintOf('PUT', '/v1/docs/things/dead', body),
        },
        ttlMs: CLAIM_MS,
      },
    ]);
    const busy = await put('dead', body, 'dead-1');
    expectProblem(busy, 409, 'IDEMPOTENCY_IN_FLIGHT');
    expect(busy.headers['retry-after']).toBeDefined();
    expect(await storedValue('dead')).toBeUndefined();
    clock.advance(CLAIM_MS + 1);
    const retried = await put('dead', body, 'dead-1');
    expect(retried.statusCode).toBe(201);
    expect(await storedValue('dead')).toBe(1);
  });

  it('keys expire after SAVEPOINT_IDEMPOTENCY_TTL and are swept', async () => {
    await put('ttl', { value: { n: 0 } });
    await inc('ttl', 'ttl-1', 1);
    clock.advance(24 * 60 * 60 * 1000 + 1);
    const swept = await server.request({ method: 'POST', url: '/v1/admin/sweep' });
    expect(swept.statusCode).toBe(200);
    expect((await server.savepoint.store.list(IDEMPOTENCY_COLLECTION)).items).toHaveLength(0);
    const after = await inc('ttl', 'ttl-1', 1);
    expect(after.headers['idempotent-replayed']).toBeUndefined();
    expect(await storedValue('ttl')).toEqual({ n: 2 });
  });

  it('replays are counted in /metrics', async () => {
    const before = await replaysMetric();
    await put('metric', { value: 1 }, 'metric-1');
    await put('metric', { value: 1 }, 'metric-1');
    await put('metric', { value: 1 }, 'metric-1');
    expect(await replaysMetric()).toBe(before + 2);
  });

  it('a key without a header changes nothing about a request, and reads ignore it', async () => {
    const created = await put('plain', { value: 1 });
    expect(created.headers['idempotent-replayed']).toBeUndefined();
    const read = await server.request({
      method: 'GET',
      url: '/v1/docs/things/plain',
      headers: { 'idempotency-key': 'has space' },
    });
    expect(read.statusCode).toBe(200);
  });
});

describe('Idempotency-Key on games', () => {
  const persist = (gameId: string, body: object, key?: string) =>
    server.request({
      method: 'POST',
      url: `/api/game/${gameId}/persist`,
      payload: body,
      headers: keyed(key),
    });
  const reconnect = (gameId: string, body: object, key?: string) =>
    server.request({
      method: 'POST',
      url: `/api/game/${gameId}/reconnect`,
      payload: body,
      headers: keyed(key),
      anonymous: true,
    });
  const tokenFor = async (gameId: string, playerId: string) =>
    json<{ token: string }>(
      await server.request({
        method: 'GET',
        url: `/api/game/${gameId}/connection-token?playerId=${playerId}`,
      }),
    ).token;

  it('a retried reconnect gets the same new token, and the seat is kept', async () => {
    await persist('g1', { state: { pot: 1 }, players: ['ada'] });
    const token = await tokenFor('g1', 'ada');
    const body = { gameId: 'g1', playerId: 'ada', reconnectToken: token };
    const first = await reconnect('g1', body, 'rc-1');
    expect(first.statusCode).toBe(200);
    const retried = await reconnect('g1', body, 'rc-1');
    expect(retried.statusCode).toBe(200);
    expect(retried.headers['idempotent-replayed']).toBe('true');
    const newToken = json<{ reconnectToken: string }>(first).reconnectToken;
    expect(json<{ reconnectToken: string }>(retried).reconnectToken).toBe(newToken);
    // The seat is kept: the new token works; the old one is spent.
    const next = await reconnect('g1', { gameId: 'g1', playerId: 'ada', reconnectToken: newToken });
    expect(next.statusCode).toBe(200);
  });

  it('a reconnect retried after its answer record was lost still gets the same token', async () => {
    await persist('g2', { state: {}, players: ['ada'] });
    const token = await tokenFor('g2', 'ada');
    const body = { gameId: 'g2', playerId: 'ada', reconnectToken: token };
    const first = json<{ reconnectToken: string }>(await reconnect('g2', body, 'rc-2'));
    const store = server.savepoint.store;
    const page = await store.list(IDEMPOTENCY_COLLECTION, { limit: 1000 });
    const answers = page.items.filter((doc) => (doc.value as { kind?: string }).kind === 'request');
    await store.commit(
      answers.map((doc) => ({ op: 'delete' as const, collection: IDEMPOTENCY_COLLECTION, key: doc.key })),
    );
    const retried = await reconnect('g2', body, 'rc-2');
    expect(retried.statusCode).toBe(200);
    expect(json<{ reconnectToken: string }>(retried).reconnectToken).toBe(first.reconnectToken);
  });

  it('a reconnect key is scoped to the seat: another player may use the same key', async () => {
    await persist('g3', { state: {}, players: ['ada', 'bob'] });
    const ada = await reconnect(
      'g3',
      { gameId: 'g3', playerId: 'ada', reconnectToken: await tokenFor('g3', 'ada') },
      'same',
    );
    const bob = await reconnect(
      'g3',
      { gameId: 'g3', playerId: 'bob', reconnectToken: await tokenFor('g3', 'bob') },
      'same',
    );
    expect(ada.statusCode).toBe(200);
    expect(bob.statusCode).toBe(200);
    expect(bob.headers['idempotent-replayed']).toBeUndefined();
  });

  it('a game delete retried after its answer record was lost answers 204 again, not 404', async () => {
    await persist('g5', { state: {} });
    const del = () =>
      server.request({ method: 'DELETE', url: '/api/game/g5/persist', headers: keyed('del-g5') });
    expect((await del()).statusCode).toBe(204);
    const store = server.savepoint.store;
    const page = await store.list(IDEMPOTENCY_COLLECTION, { limit: 1000 });
    const answers = page.items.filter((doc) => (doc.value as { kind?: string }).kind === 'request');
    await store.commit(
      answers.map((doc) => ({ op: 'delete' as const, collection: IDEMPOTENCY_COLLECTION, key: doc.key })),
    );
    expect((await del()).statusCode).toBe(204);
    // Without the key, the game is gone.
    expect((await server.request({ method: 'DELETE', url: '/api/game/g5/persist' })).statusCode).toBe(404);
  });

  it('a retried persist keeps its version', async () => {
    const first = await persist('g4', { state: { a: 1 }, expectedVersion: undefined }, 'p-1');
    const again = await persist('g4', { state: { a: 1 } }, 'p-1');
    expect(first.statusCode).toBe(200);
    expect(again.statusCode).toBe(200);
    expect((await server.savepoint.store.get('game', 'g4'))?.version).toBe(1);
  });
});

describe('the library', () => {
  it('games.persist, appendEvents and reconnect take an idempotencyKey', async () => {
    const games = server.savepoint.games;
    const first = await games.persist('lib', { state: { a: 1 }, players: ['ada'] }, { idempotencyKey: 'lp' });
    const again = await games.persist('lib', { state: { a: 1 }, players: ['ada'] }, { idempotencyKey: 'lp' });
    expect(again).toEqual(first);
    const events = { events: [{ type: 'bet', data: 1 }] };
    const appended = await games.appendEvents('lib', events, { idempotencyKey: 'la' });
    expect(await games.appendEvents('lib', events, { idempotencyKey: 'la' })).toEqual(appended);
    expect(await server.savepoint.store.streamHead('game:lib')).toBe(1);
    const { token } = await games.issueToken('lib', 'ada');
    const input = { playerId: 'ada', reconnectToken: token };
    const seat = await games.reconnect('lib', input, { idempotencyKey: 'lr' });
    expect(await games.reconnect('lib', input, { idempotencyKey: 'lr' })).toEqual(seat);
    await expect(games.persist('lib', { state: { a: 2 } }, { idempotencyKey: 'lp' })).rejects.toMatchObject({
      code: 'IDEMPOTENCY_KEY_REUSED',
    });
  });
});

describe('the OpenAPI description', () => {
  it('declares Idempotency-Key on writes and Idempotent-Replayed on their 2xx answers, not on reads', async () => {
    interface Operation {
      parameters?: Array<{ name: string; in: string; schema?: { pattern?: string } }>;
      responses: Record<string, { headers?: Record<string, unknown> }>;
    }
    const spec = json<{ paths: Record<string, Record<string, Operation>> }>(
      await server.request({ method: 'GET', url: '/openapi.json' }),
    );
    const put = spec.paths['/v1/docs/{collection}/{key}']?.put as Operation;
    const keyParameter = put.parameters?.find((parameter) => parameter.name === 'Idempotency-Key');
    expect(keyParameter).toMatchObject({ in: 'header', required: false });
    expect(new RegExp(keyParameter?.schema?.pattern ?? '').test('a:b@c.d-e_f')).toBe(true);
    expect(put.responses['200']?.headers).toHaveProperty('Idempotent-Replayed');
    expect(Object.keys(put.responses)).toEqual(expect.arrayContaining(['409', '422']));
    const reconnect = spec.paths['/api/game/{gameId}/reconnect']?.post as Operation;
    expect(reconnect.parameters?.some((parameter) => parameter.name === 'Idempotency-Key')).toBe(true);
    const read = spec.paths['/v1/docs/{collection}/{key}']?.get as Operation;
    expect(read.parameters?.some((parameter) => parameter.name === 'Idempotency-Key')).toBe(false);
  });
});

describe('answers without a body, and multi-op commits', () => {
  it('a repeated DELETE replays its 204 instead of answering 404', async () => {
    await put('gone', { value: 1 });
    const first = await server.request({
      method: 'DELETE',
      url: '/v1/docs/things/gone',
      headers: keyed('del-1'),
    });
    expect(first.statusCode).toBe(204);
    const again = await server.request({
      method: 'DELETE',
      url: '/v1/docs/things/gone',
      headers: keyed('del-1'),
    });
    expect(again.statusCode).toBe(204);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body).toBe('');
  });

  it('a repeated /v1/commit applies its ops once', async () => {
    const payload = {
      ops: [
        { op: 'patch', collection: 'things', key: 'multi', patch: { $inc: { n: 1 } }, upsert: true },
        { op: 'put', collection: 'things', key: 'multi-2', value: { at: 1 } },
      ],
    };
    const first = await server.request({
      method: 'POST',
      url: '/v1/commit',
      payload,
      headers: keyed('commit-1'),
    });
    expect(first.statusCode).toBe(200);
    const again = await server.request({
      method: 'POST',
      url: '/v1/commit',
      payload,
      headers: keyed('commit-1'),
    });
    expect(again.body).toBe(first.body);
    expect(await storedValue('multi')).toEqual({ n: 1 });
    expect((await server.savepoint.store.get('things', 'multi-2'))?.version).toBe(1);
  });
});

describe('the typed client', () => {
  it('sends idempotencyKey as Idempotency-Key', async () => {
    const client = createClient({ baseUrl: await server.listen(), apiKey: server.apiKey });
    await client.putDocument('things', 'client', { n: 0 });
    const first = await client.patchDocument(
      'things',
      'client',
      { $inc: { n: 1 } },
      { idempotencyKey: 'cl-1' },
    );
    const again = await client.patchDocument(
      'things',
      'client',
      { $inc: { n: 1 } },
      { idempotencyKey: 'cl-1' },
    );
    expect(again).toEqual(first);
    expect(await storedValue('client')).toEqual({ n: 1 });
  });
});
