/** The typed client (`savepoint/client`) against a server on a real socket. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, type SavepointClient, SavepointHttpError } from '../../src/client/index.js';
import { startTestServer, TEST_API_KEY, type TestServer } from '../support/http.js';

let server: TestServer;
let client: SavepointClient;
let baseUrl: string;
beforeAll(async () => {
  server = await startTestServer();
  baseUrl = await server.listen();
  client = createClient({ baseUrl, apiKey: TEST_API_KEY });
});
afterAll(() => server.close());

async function rejection(promise: Promise<unknown>): Promise<SavepointHttpError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof SavepointHttpError) return error;
    throw error;
  }
  throw new Error('expected a SavepointHttpError');
}

describe('the client', () => {
  it('reads health without a key', async () => {
    const anonymous = createClient({ baseUrl: `${baseUrl}/` });
    expect(await anonymous.health()).toMatchObject({ status: 'ok', driver: 'memory', storage: { ok: true } });
  });

  it('puts, reads, patches and deletes a document', async () => {
    const created = await client.putDocument('profiles', 'p1', { name: 'Ada', logins: 0 }, { ttl: '1h' });
    expect(created).toMatchObject({
      collection: 'profiles',
      key: 'p1',
      version: 1,
      value: { name: 'Ada', logins: 0 },
    });
    expect(created.expiresAt).not.toBeNull();
    const patched = await client.patchDocument(
      'profiles',
      'p1',
      { $inc: { logins: 1 } },
      { ifMatch: created.version },
    );
    expect(patched).toMatchObject({ version: 2, value: { name: 'Ada', logins: 1 } });
    expect(await client.getDocument('profiles', 'p1')).toMatchObject({ version: 2 });
    expect(await client.deleteDocument('profiles', 'p1', { ifMatch: 2 })).toBe(true);
    expect(await client.deleteDocument('profiles', 'p1')).toBe(false);
    expect(await client.getDocument('profiles', 'p1')).toBeUndefined();
  });

  it('throws SavepointHttpError with the code, status and detail', async () => {
    await client.putDocument('profiles', 'p2', { n: 1 });
    const stale = await rejection(client.putDocument('profiles', 'p2', { n: 2 }, { ifMatch: 7 }));
    expect(stale).toMatchObject({ code: 'VERSION_CONFLICT', status: 412 });
    expect(stale.detail).toMatch(/expected version 7/);
    const conflict = await rejection(client.putDocument('profiles', 'p2', { n: 2 }, { expectedVersion: 7 }));
    expect(conflict).toMatchObject({ code: 'VERSION_CONFLICT', status: 409 });
    const exists = await rejection(client.putDocument('profiles', 'p2', { n: 2 }, { createOnly: true }));
    expect(exists.status).toBe(412);
    const invalid = await rejection(client.putDocument('profiles', '../etc', { n: 2 }));
    expect(invalid).toMatchObject({ code: 'INVALID_INPUT', status: 400 });
    expect(invalid.problem.errors?.[0]).toMatchObject({ in: 'params', path: '/key' });
    const forbidden = await rejection(client.putDocument('match', 'm1', {}));
    expect(forbidden).toMatchObject({ code: 'FORBIDDEN', status: 403 });
    const unauthorized = await rejection(
      createClient({ baseUrl, apiKey: 'wrong' }).getDocument('profiles', 'p2'),
    );
    expect(unauthorized).toMatchObject({ code: 'UNAUTHORIZED', status: 401 });
  });

  it('lists with cursors and reads several keys', async () => {
    for (const key of ['l1', 'l2', 'l3']) await client.putDocument('lists', key, { key });
    const first = await client.listDocuments('lists', { limit: 2 });
    expect(first.items.map((item) => item.key)).toEqual(['l1', 'l2']);
    const second = await client.listDocuments('lists', { limit: 2, cursor: first.nextCursor ?? '' });
    expect(second.items.map((item) => item.key)).toEqual(['l3']);
    expect(second.nextCursor).toBeNull();
    const some = await client.getDocuments('lists', ['l3', 'missing', 'l1']);
    expect(some.map((item) => item.key)).toEqual(['l3', 'l1']);
    expect(await client.getDocuments('lists', [])).toEqual([]);
  });

  it('commits atomically over the wire', async () => {
    await client.putDocument('bank', 'alice', { balance: 100 });
    await client.putDocument('bank', 'bob', { balance: 0 });
    const transfer = await client.commit([
      {
        op: 'patch',
        collection: 'bank',
        key: 'alice',
        patch: { $inc: { balance: -30 } },
        expectedVersion: 1,
      },
      { op: 'patch', collection: 'bank', key: 'bob', patch: { $inc: { balance: 30 } } },
    ]);
    expect(transfer.results.map((result) => result.op)).toEqual(['patch', 'patch']);
    // Replaying the same transfer conflicts on alice's version, and bob is not credited twice.
    const replay = await rejection(
      client.commit([
        {
          op: 'patch',
          collection: 'bank',
          key: 'alice',
          patch: { $inc: { balance: -30 } },
          expectedVersion: 1,
        },
        { op: 'patch', collection: 'bank', key: 'bob', patch: { $inc: { balance: 30 } } },
      ]),
    );
    expect(replay).toMatchObject({ code: 'VERSION_CONFLICT', status: 409 });
    expect((await client.getDocument('bank', 'alice'))?.value).toEqual({ balance: 70 });
    expect((await client.getDocument('bank', 'bob'))?.value).toEqual({ balance: 30 });
  });

  it('makes any other call through request()', async () => {
    const answer = await client.request<{ total: number }>('POST', '/v1/admin/sweep', { body: {} });
    expect(answer.status).toBe(200);
    expect(answer.body.total).toBe(0);
    const missing = await rejection(client.request('GET', '/v1/nothing'));
    expect(missing).toMatchObject({ code: 'NOT_FOUND', status: 404 });
  });

  it('reports a non-problem error answer as INTERNAL with its text', async () => {
    const fakeFetch: typeof fetch = async () => new Response('<html>Bad Gateway</html>', { status: 502 });
    const behindProxy = createClient({ baseUrl, fetch: fakeFetch });
    const error = await rejection(behindProxy.health());
    expect(error).toMatchObject({ code: 'INTERNAL', status: 502 });
    expect(error.detail).toContain('Bad Gateway');
  });
});
