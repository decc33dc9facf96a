/**
 * Bad input of every kind answers 4xx with the right code, writes nothing and leaves the server
 * serving (docs/api.md#conventions: ids, problem+json, limits).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { expectProblem, json, startTestServer, type TestServer } from '../support/http.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ env: { SAVEPOINT_MAX_BODY: '64kb' } });
});
afterAll(() => server.close());

/** After each case: nothing was written, and the server still answers. */
afterEach(async () => {
  for (const collection of ['things', 'other']) {
    const page = await server.savepoint.store.list(collection);
    expect(page.items.map((doc) => doc.key)).toEqual([]);
  }
  expect((await server.request({ method: 'GET', url: '/health' })).statusCode).toBe(200);
});

const put = (url: string, payload: unknown) =>
  server.request({
    method: 'PUT',
    url,
    payload: JSON.stringify(payload),
    headers: { 'content-type': 'application/json' },
  });

describe('bodies', () => {
  it.each([
    ['truncated', '{"value": 1'],
    ['trailing garbage', '{"value": 1} x'],
    ['single quotes', "{'value': 1}"],
    ['a bare word', 'hello'],
    ['NaN', '{"value": NaN}'],
  ])('malformed JSON (%s) answers 400 INVALID_INPUT', async (_name, payload) => {
    const response = await server.request({
      method: 'PUT',
      url: '/v1/docs/things/a',
      payload,
      headers: { 'content-type': 'application/json' },
    });
    expectProblem(response, 400, 'INVALID_INPUT');
  });

  it('a prototype-poisoning key answers 400', async () => {
    const response = await server.request({
      method: 'PUT',
      url: '/v1/docs/things/a',
      payload: '{"value": {"__proto__": {"admin": true}}}',
      headers: { 'content-type': 'application/json' },
    });
    expectProblem(response, 400, 'INVALID_INPUT');
  });

  it.each([
    ['text/plain', '{"value": 1}'],
    ['application/x-www-form-urlencoded', 'value=1'],
    ['multipart/form-data; boundary=x', '--x--'],
    ['application/xml', '<value>1</value>'],
  ])('content type %s answers 400 INVALID_INPUT', async (type, payload) => {
    const response = await server.request({
      method: 'PUT',
      url: '/v1/docs/things/a',
      payload,
      headers: { 'content-type': type },
    });
    expect(expectProblem(response, 400, 'INVALID_INPUT').detail).toMatch(/application\/json/);
  });

  it('a body with no content type answers 400', async () => {
    const response = await server.request({
      method: 'PUT',
      url: '/v1/docs/things/a',
      payload: '{"value": 1}',
      headers: { 'content-type': undefined },
    });
    expectProblem(response, 400, 'INVALID_INPUT');
  });

  it('a missing body answers 400 naming the body', async () => {
    const response = await server.request({ method: 'PUT', url: '/v1/docs/things/a' });
    expect(expectProblem(response, 400, 'INVALID_INPUT').detail).toMatch(/request body/);
  });

  it('a body over SAVEPOINT_MAX_BODY answers 413 PAYLOAD_TOO_LARGE', async () => {
    const response = await put('/v1/docs/things/a', { value: 'x'.repeat(70 * 1024) });
    expectProblem(response, 413, 'PAYLOAD_TOO_LARGE');
  });

  it('a body just under the limit is accepted', async () => {
    const response = await put('/v1/docs/other/a', { value: 'x'.repeat(60 * 1024) });
    expect(response.statusCode).toBe(201);
    await server.savepoint.store.commit([{ op: 'delete', collection: 'other', key: 'a' }]);
  });

  it('JSON nested 64 levels is accepted, 65 levels answers 400', async () => {
    const nest = (levels: number): unknown => (levels === 0 ? 1 : [nest(levels - 1)]);
    // The body object is one level, so the value may take 63 more.
    expect((await put('/v1/docs/other/deep', { value: nest(63) })).statusCode).toBe(201);
    await server.savepoint.store.commit([{ op: 'delete', collection: 'other', key: 'deep' }]);
    const refused = await put('/v1/docs/things/deep', { value: nest(64) });
    expect(expectProblem(refused, 400, 'INVALID_INPUT').detail).toMatch(/64 levels/);
  });

  it('a hostile 60 000-level body is refused without parsing', async () => {
    const payload = `{"value":${'['.repeat(30_000)}${']'.repeat(30_000)}}`;
    const response = await server.request({
      method: 'PUT',
      url: '/v1/docs/things/a',
      payload,
      headers: { 'content-type': 'application/json' },
    });
    expectProblem(response, 400, 'INVALID_INPUT');
  });

  it('brackets inside strings do not count as nesting', async () => {
    const response = await put('/v1/docs/other/brackets', {
      value: `${'['.repeat(100)}"\\${'{'.repeat(100)}`,
    });
    expect(response.statusCode).toBe(201);
    await server.savepoint.store.commit([{ op: 'delete', collection: 'other', key: 'brackets' }]);
  });

  it('a number too large for a double answers 400', async () => {
    const response = await server.request({
      method: 'PUT',
      url: '/v1/docs/things/a',
      payload: '{"value": {"n": 1e400}}',
      headers: { 'content-type': 'application/json' },
    });
    expectProblem(response, 400, 'INVALID_INPUT');
  });
});

describe('ids', () => {
  it.each([
    ['a path escape', '..%2Fx'],
    ['a slash', 'a%2Fb'],
    ['10 kB', 'k'.repeat(10_000)],
    ['201 characters', 'k'.repeat(201)],
    ['a NUL', 'a%00b'],
    ['a newline', 'a%0Ab'],
    ['a DEL', 'a%7Fb'],
    ['a space', 'a%20b'],
    ['non-ASCII', '%C3%A9t%C3%A9'],
    ['a percent sign', '100%25'],
    ['a question mark', 'a%3Fb'],
    ['a hash', 'a%23b'],
    ['a quote', '%22x%22'],
  ])('a key with %s answers 400 naming the key', async (_name, key) => {
    const response = await server.request({ method: 'GET', url: `/v1/docs/things/${key}` });
    const problem = expectProblem(response, 400, 'INVALID_INPUT');
    expect(problem.detail).toMatch(/"key"/);
    expect(problem.errors).toEqual([expect.objectContaining({ in: 'params', path: '/key' })]);
  });

  it.each(['..%2Fx', 'c'.repeat(10_000), 'a%00b', 'sp%20ace'])(
    'a collection %s answers 400 on writes too',
    async (collection) => {
      const response = await put(`/v1/docs/${collection}/a`, { value: 1 });
      expect(expectProblem(response, 400, 'INVALID_INPUT').detail).toMatch(/"collection"/);
    },
  );

  it('an empty key is not a document route', async () => {
    const response = await server.request({ method: 'GET', url: '/v1/docs/things/' });
    expect(response.statusCode).toBeGreaterThanOrEqual(400);
    expect(response.statusCode).toBeLessThan(500);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  });

  it('an undecodable URL answers 400', async () => {
    expectProblem(
      await server.request({ method: 'GET', url: '/v1/docs/things/%E0%A4%A' }),
      400,
      'INVALID_INPUT',
    );
  });

  it('ids in commit ops are checked the same way', async () => {
    const response = await server.request({
      method: 'POST',
      url: '/v1/commit',
      payload: { ops: [{ op: 'put', collection: 'things', key: '../x', value: 1 }] },
    });
    expect(expectProblem(response, 400, 'INVALID_INPUT').errors).toEqual([
      expect.objectContaining({ in: 'body', path: '/ops/0/key' }),
    ]);
  });

  it('every valid id character works', async () => {
    const key = 'Az09._:@-';
    expect((await put(`/v1/docs/other/${key}`, { value: 1 })).statusCode).toBe(201);
    expect(json(await server.request({ method: 'GET', url: `/v1/docs/other/${key}` })).key).toBe(key);
    await server.savepoint.store.commit([{ op: 'delete', collection: 'other', key }]);
  });
});

describe('wrong types and unknown fields', () => {
  const doc = '/v1/docs/things/a';

  it.each([
    ['PUT', doc, { value: 1, ttl: 5 }, '/ttl'],
    ['PUT', doc, { value: 1, ttl: 'soon' }, '/ttl'],
    ['PUT', doc, { value: 1, ttl: '' }, '/ttl'],
    ['PUT', doc, { value: 1, expectedVersion: '1' }, '/expectedVersion'],
    ['PUT', doc, { value: 1, expectedVersion: 0 }, '/expectedVersion'],
    ['PUT', doc, { value: 1, expectedVersion: 1.5 }, '/expectedVersion'],
    ['PUT', doc, { value: 1, expectedVersion: null }, '/expectedVersion'],
    ['PUT', doc, { ttl: '5m' }, '/value'],
    ['PUT', doc, { value: 1, extra: true }, '/extra'],
    ['PUT', doc, { value: 1, Value: 2 }, '/Value'],
    ['PUT', doc, [1, 2], ''],
    ['PUT', doc, 'value', ''],
    ['PUT', doc, null, ''],
    ['PATCH', doc, { $set: 'x' }, '/$set'],
    ['PATCH', doc, { $inc: { n: 'one' } }, '/$inc/n'],
    ['PATCH', doc, { $inc: [1] }, '/$inc'],
    ['PATCH', doc, { $max: { n: true } }, '/$max/n'],
    ['PATCH', doc, { $min: { n: null } }, '/$min/n'],
    ['PATCH', doc, { $unset: { n: 'yes' } }, '/$unset/n'],
    ['PATCH', doc, { $push: 'x' }, '/$push'],
    ['PATCH', doc, { $rename: { a: 'b' } }, '/$rename'],
    ['PATCH', doc, { upsert: 'true' }, '/upsert'],
    ['PATCH', doc, { upsert: 1 }, '/upsert'],
    ['PATCH', doc, { ttl: 60 }, '/ttl'],
    ['PATCH', doc, { expectedVersion: 'x' }, '/expectedVersion'],
    ['PATCH', doc, { set: { a: 1 } }, '/set'],
    ['POST', '/v1/commit', {}, '/ops'],
    ['POST', '/v1/commit', { ops: [] }, '/ops'],
    ['POST', '/v1/commit', { ops: 'put' }, '/ops'],
    ['POST', '/v1/commit', { ops: [1] }, '/ops/0'],
    ['POST', '/v1/commit', { ops: [{ op: 'upsert', collection: 'things', key: 'a' }] }, '/ops/0'],
    ['POST', '/v1/commit', { ops: [{ op: 'put', collection: 'things', key: 'a' }] }, '/ops/0/value'],
    ['POST', '/v1/commit', { ops: [{ op: 'put', collection: 1, key: 'a', value: 1 }] }, '/ops/0/collection'],
    [
      'POST',
      '/v1/commit',
      { ops: [{ op: 'put', collection: 'things', key: 'a', value: 1, ttl: 3 }] },
      '/ops/0/ttl',
    ],
    [
      'POST',
      '/v1/commit',
      { ops: [{ op: 'put', collection: 'things', key: 'a', value: 1, mustNotExist: 'yes' }] },
      '/ops/0/mustNotExist',
    ],
    [
      'POST',
      '/v1/commit',
      { ops: [{ op: 'patch', collection: 'things', key: 'a', patch: { $inc: { n: 'x' } } }] },
      '/ops/0/patch/$inc/n',
    ],
    ['POST', '/v1/commit', { ops: [{ op: 'patch', collection: 'things', key: 'a' }] }, '/ops/0/patch'],
    [
      'POST',
      '/v1/commit',
      { ops: [{ op: 'delete', collection: 'things', key: 'a', value: 1 }] },
      '/ops/0/value',
    ],
    [
      'POST',
      '/v1/commit',
      { ops: [{ op: 'delete', collection: 'things', key: 'a', expectedVersion: -1 }] },
      '/ops/0/expectedVersion',
    ],
    [
      'POST',
      '/v1/commit',
      { ops: [{ op: 'put', collection: 'things', key: 'a', value: 1 }], atomic: true },
      '/atomic',
    ],
    ['POST', '/v1/admin/sweep', { batchSize: 'all' }, ''],
  ])('%s %s %j answers 400 naming %s', async (method, url, payload, path) => {
    const response = await server.request({
      method: method as 'PUT',
      url,
      payload: JSON.stringify(payload),
      headers: { 'content-type': 'application/json' },
    });
    const problem = expectProblem(response, 400, 'INVALID_INPUT');
    const paths = (problem.errors as Array<{ path: string }> | undefined)?.map((issue) => issue.path) ?? [];
    if (path === '') expect(paths.length).toBeGreaterThan(0);
    else expect(paths).toContain(path);
  });

  it.each([
    ['/v1/docs/things?limit=abc', '/limit'],
    ['/v1/docs/things?limit=0', '/limit'],
    ['/v1/docs/things?limit=1001', '/limit'],
    ['/v1/docs/things?limit=1.5', '/limit'],
    ['/v1/docs/things?prefix=a%2Fb', '/prefix'],
    ['/v1/docs/things?cursor=', '/cursor'],
    ['/v1/docs/things?keys=a,,b', '/keys'],
    ['/v1/docs/things?keys=', '/keys'],
    ['/v1/docs/things?keys=a&keys=b', '/keys'],
    ['/v1/docs/things?unknown=1', '/unknown'],
  ])('GET %s answers 400 naming %s', async (url, path) => {
    const problem = expectProblem(await server.request({ method: 'GET', url }), 400, 'INVALID_INPUT');
    expect((problem.errors as Array<{ path: string }>).map((issue) => issue.path)).toContain(path);
  });

  it('keys cannot be combined with a listing, nor exceed 1000', async () => {
    expectProblem(
      await server.request({ method: 'GET', url: '/v1/docs/things?keys=a&limit=5' }),
      400,
      'INVALID_INPUT',
    );
    const keys = Array.from({ length: 1001 }, (_, i) => `k${i}`).join(',');
    const response = await server.request({ method: 'GET', url: `/v1/docs/things?keys=${keys}` });
    expect(expectProblem(response, 400, 'INVALID_INPUT').detail).toMatch(/1000/);
  });

  it('a bad patch path or operand the schema cannot see is still 400', async () => {
    for (const payload of [
      { $set: { '': 1 }, upsert: true },
      { $set: { 'a..b': 1 }, upsert: true },
      { $set: { '__proto__.x': 1 }, upsert: true },
      { $set: { a: 1 }, $inc: { a: 1 }, upsert: true },
    ]) {
      expectProblem(
        await server.request({ method: 'PATCH', url: '/v1/docs/things/a', payload }),
        400,
        'INVALID_INPUT',
      );
    }
  });

  it('a ttl over 100 years answers 400', async () => {
    expectProblem(await put('/v1/docs/things/a', { value: 1, ttl: '40000d' }), 400, 'INVALID_INPUT');
  });

  it('a malformed If-Match answers 400', async () => {
    const response = await server.request({
      method: 'PUT',
      url: '/v1/docs/things/a',
      payload: { value: 1 },
      headers: { 'if-match': 'version-1' },
    });
    expectProblem(response, 400, 'INVALID_INPUT');
  });

  it('an invalid op in the middle of a commit writes nothing', async () => {
    const response = await server.request({
      method: 'POST',
      url: '/v1/commit',
      payload: {
        ops: [
          { op: 'put', collection: 'things', key: 'a', value: 1 },
          { op: 'patch', collection: 'things', key: 'b', patch: { $set: { 'x..y': 1 } }, upsert: true },
          { op: 'put', collection: 'other', key: 'c', value: 1 },
        ],
      },
    });
    const problem = expectProblem(response, 400, 'INVALID_INPUT');
    expect(problem.opIndex).toBe(1);
  });
});

describe('unknown routes and methods', () => {
  it.each([
    ['GET', '/nope'],
    ['GET', '/v1'],
    ['POST', '/v1/docs/things/a'],
    ['GET', '/v1/docs'],
    ['DELETE', '/v1/commit'],
  ])('%s %s answers 404 NOT_FOUND as a problem', async (method, url) => {
    expectProblem(await server.request({ method: method as 'GET', url, anonymous: true }), 404, 'NOT_FOUND');
  });
});
