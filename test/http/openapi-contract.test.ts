/**
 * The API description (`/openapi.json`) is exact: it is a valid OpenAPI 3 document, the answers
 * the test servers send match it (see test/support/response-contract.ts, on for every HTTP test),
 * and each rule the server enforces is stated in it.
 */

import { Validator } from '@seriousme/openapi-schema-validator';
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gamesModule } from '../../src/domains/games/games.module.js';
import { problemResponses } from '../../src/http-kit/schemas.js';
import { expectProblem, json, routesOnly, startTestServer, type TestServer } from '../support/http.js';
import { checkAnswer } from '../support/response-contract.js';

const MAX_SAFE = '9007199254740991';
const ABOVE_MAX_SAFE = '9007199254740992';

type Schema = Record<string, unknown> & { properties?: Record<string, Schema>; pattern?: string };
interface Parameter {
  readonly in: string;
  readonly name: string;
  readonly schema: Schema;
}
interface Operation {
  readonly parameters?: readonly Parameter[];
  readonly requestBody?: { required?: boolean; content: Record<string, { schema: Schema }> };
  readonly responses: Record<string, { content?: Record<string, unknown> }>;
}
interface OpenApiDocument {
  readonly paths: Record<string, Record<string, Operation>>;
}

function operation(document: OpenApiDocument, method: string, path: string): Operation {
  const found = document.paths[path]?.[method];
  if (found === undefined) throw new Error(`${method} ${path} is not described`);
  return found;
}

function parameter(document: OpenApiDocument, method: string, path: string, name: string): Schema {
  const found = operation(document, method, path).parameters?.find((p) => p.name === name);
  if (found === undefined) throw new Error(`${method} ${path} has no parameter ${name}`);
  return found.schema;
}

function bodySchema(document: OpenApiDocument, method: string, path: string): Schema {
  const schema = operation(document, method, path).requestBody?.content['application/json']?.schema;
  if (schema === undefined) throw new Error(`${method} ${path} has no JSON body`);
  return schema;
}

function property(schema: Schema, ...path: string[]): Schema {
  let node = schema;
  for (const name of path) {
    const next = node.properties?.[name];
    if (next === undefined) throw new Error(`no property ${name} in ${JSON.stringify(node)}`);
    node = next;
  }
  return node;
}

/** A schema pattern as a JavaScript validator reads it (JSON Schema patterns are ECMA-262, with `u`). */
const matches = (pattern: string | undefined, text: string): boolean =>
  new RegExp(pattern ?? '', 'u').test(text);

describe('the API description', () => {
  let server: TestServer;
  let document: OpenApiDocument;
  beforeAll(async () => {
    server = await startTestServer({
      env: { SAVEPOINT_SAVE_SLOTS: '5', SAVEPOINT_RANKING_MIN: '-10', SAVEPOINT_RANKING_MAX: '250' },
    });
    document = json<OpenApiDocument>(await server.request({ method: 'GET', url: '/openapi.json' }));
  });
  afterAll(async () => {
    await server.close();
  });

  it('is a valid OpenAPI 3 document', async () => {
    // A copy: the validator resolves references in place.
    const result = await new Validator().validate(JSON.parse(JSON.stringify(document)));
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it('holds no {"type":"undefined"}, and the optional bodies of scores and complete are not required', () => {
    expect(JSON.stringify(document)).not.toContain('"undefined"');
    for (const path of ['/v1/matches/{matchId}/scores/{user}', '/v1/matches/{matchId}/complete']) {
      const post = operation(document, 'post', path);
      expect(post.requestBody?.required).toBe(false);
      expect(bodySchema(document, 'post', path)).toMatchObject({ type: 'object', nullable: true });
    }
  });

  it('describes the event stream as text/event-stream', () => {
    const ok = operation(document, 'get', '/api/game/{gameId}/stream').responses['200'];
    expect(Object.keys(ok?.content ?? {})).toEqual(['text/event-stream']);
  });

  it('declares 2^53 - 1 as the maximum of versions, seqs and their kin', () => {
    const integers: Schema[] = [
      parameter(document, 'delete', '/v1/docs/{collection}/{key}', 'expectedVersion'),
      property(bodySchema(document, 'put', '/v1/docs/{collection}/{key}'), 'expectedVersion'),
      property(bodySchema(document, 'post', '/api/game/{gameId}/persist'), 'expectedVersion'),
      property(bodySchema(document, 'post', '/api/game/{gameId}/events'), 'expectedSeq'),
      parameter(document, 'get', '/api/game/{gameId}/events', 'after'),
      property(bodySchema(document, 'post', '/api/game/{gameId}/reconnect'), 'lastEventSeq'),
      parameter(document, 'get', '/api/game/{gameId}/stream', 'lastEventId'),
      parameter(document, 'get', '/api/game/{gameId}/stream', 'last-event-id'),
      parameter(document, 'get', '/v1/admin/audit', 'after'),
      parameter(document, 'delete', '/v1/leases/{name}', 'fence'),
      property(bodySchema(document, 'put', '/v1/leases/{name}'), 'fence'),
      parameter(document, 'delete', '/v1/sessions/{id}', 'expectedVersion'),
      parameter(document, 'delete', '/v1/players/{user}/saves/{slot}', 'expectedVersion'),
      property(bodySchema(document, 'put', '/v1/matches/{matchId}'), 'roundsTotal'),
    ];
    for (const schema of integers)
      expect(schema).toMatchObject({ type: 'integer', maximum: Number(MAX_SAFE) });
  });

  it('states the save slot range with the configured slot count', () => {
    expect(parameter(document, 'get', '/v1/players/{user}/saves/{slot}', 'slot')).toMatchObject({
      type: 'integer',
      minimum: 1,
      maximum: 5,
    });
  });

  it('states the configured ranking bounds', () => {
    const put = bodySchema(document, 'put', '/v1/rankings/{stateKey}/{move}');
    expect(property(put, 'value')).toMatchObject({ type: 'number', minimum: -10, maximum: 250 });
    const batch = bodySchema(document, 'post', '/v1/rankings/batch') as Schema & {
      properties: { entries: { items: Schema } };
    };
    expect(property(batch.properties.entries.items, 'value')).toMatchObject({ minimum: -10, maximum: 250 });
  });

  it('states that subreddit is non-empty and that round times are ISO-8601 or epoch ms', () => {
    const match = bodySchema(document, 'put', '/v1/matches/{matchId}');
    expect(property(match, 'subreddit')).toMatchObject({ type: 'string', minLength: 1 });
    const endTs = JSON.stringify(
      property(bodySchema(document, 'put', '/v1/matches/{matchId}/rounds/{index}'), 'endTs'),
    );
    expect(endTs).toContain('"format":"date-time"');
    expect(endTs).toContain('"type":"number"');
  });

  it('states document and lease TTLs as durations above zero, with their upper bounds', () => {
    const documentTtl = property(bodySchema(document, 'put', '/v1/docs/{collection}/{key}'), 'ttl');
    const leaseTtl = property(bodySchema(document, 'post', '/v1/leases/{name}'), 'ttl');
    expect(documentTtl.description).toContain('at most 100 years');
    expect(leaseTtl.description).toContain('from 1ms to 60s');
    for (const ttl of [documentTtl, leaseTtl]) {
      for (const good of ['1ms', '30s', '0.5s', '1h30m', '0s1ms'])
        expect(matches(ttl.pattern, good)).toBe(true);
      for (const bad of ['0', '0s', '0.0m', '0h0m', '5', '-1s', '1x', ''])
        expect(matches(ttl.pattern, bad)).toBe(false);
    }
  });

  it('states that names and event types refuse control characters and lone surrogates', () => {
    const type = bodySchema(document, 'post', '/api/game/{gameId}/events') as Schema & {
      properties: { events: { items: Schema } };
    };
    const patterns = [
      property(type.properties.events.items, 'type').pattern,
      property(bodySchema(document, 'post', '/v1/stats/games'), 'outcome').pattern,
    ];
    for (const pattern of patterns) {
      expect(pattern).toBeDefined();
      for (const good of ['bet', 'été', '🎲 roll', 'a b']) expect(matches(pattern, good)).toBe(true);
      for (const bad of ['a\u0000b', 'line\nbreak', 'tab\t', '\u007f', 'x\ud800', '\udc00y']) {
        expect(matches(pattern, bad)).toBe(false);
      }
    }
  });
});

describe('lengths and large integers as the description states them', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server.close();
  });

  it('counts characters, not UTF-16 units: 11 emoji pass the 20-character limit of ?period=', async () => {
    const period = '😀'.repeat(11);
    expect(period.length).toBe(22);
    await server.request({
      method: 'PUT',
      url: '/v1/leaderboards/lengths',
      payload: { order: 'desc', operator: 'set', period: 'daily' },
    });
    const answer = await server.request({
      method: 'GET',
      url: `/v1/leaderboards/lengths?period=${encodeURIComponent(period)}`,
    });
    // Past the schema, the board's own rule answers: the text is no daily period.
    const problem = expectProblem(answer, 400, 'INVALID_INPUT');
    expect(problem.errors).toBeUndefined();
    expect(problem.detail).toContain('is not a daily period');
    const tooLong = await server.request({
      method: 'GET',
      url: `/v1/leaderboards/lengths?period=${encodeURIComponent('😀'.repeat(21))}`,
    });
    expect(expectProblem(tooLong, 400, 'INVALID_INPUT').detail).toContain('at most 20 characters, got 21');
  });

  it('takes 200 emoji as an event type (400 UTF-16 units) and refuses 201', async () => {
    await server.request({ method: 'POST', url: '/api/game/g1/persist', payload: { state: {} } });
    const ok = await server.request({
      method: 'POST',
      url: '/api/game/g1/events',
      payload: { events: [{ type: '🎲'.repeat(200) }] },
    });
    expect(ok.statusCode).toBe(200);
    const tooLong = await server.request({
      method: 'POST',
      url: '/api/game/g1/events',
      payload: { events: [{ type: '🎲'.repeat(201) }] },
    });
    expectProblem(tooLong, 400, 'INVALID_INPUT');
  });

  it('refuses integers above 2^53 - 1 naming the maximum: query, body and header', async () => {
    const answers = [
      await server.request({ method: 'DELETE', url: `/v1/docs/c/k?expectedVersion=${ABOVE_MAX_SAFE}` }),
      await server.request({
        method: 'PUT',
        url: '/v1/docs/c/k',
        payload: `{"value":1,"expectedVersion":${ABOVE_MAX_SAFE}}`,
        headers: { 'content-type': 'application/json' },
      }),
      await server.request({ method: 'GET', url: `/api/game/g1/events?after=${ABOVE_MAX_SAFE}` }),
      await server.request({
        method: 'POST',
        url: '/api/game/g1/events',
        payload: `{"events":[{"type":"a"}],"expectedSeq":${ABOVE_MAX_SAFE}}`,
        headers: { 'content-type': 'application/json' },
      }),
      await server.request({
        method: 'GET',
        url: '/api/game/g1/stream',
        headers: { 'last-event-id': ABOVE_MAX_SAFE },
      }),
    ];
    for (const answer of answers) {
      const problem = expectProblem(answer, 400, 'INVALID_INPUT');
      expect(problem.detail).toContain(MAX_SAFE);
    }
  });

  it('keeps 400 OUT_OF_BOUNDS for the documented ranges the modules check', async () => {
    const answers = [
      await server.request({ method: 'POST', url: '/v1/leases/l1', payload: { holder: 'a', ttl: '0s' } }),
      await server.request({ method: 'POST', url: '/v1/leases/l1', payload: { holder: 'a', ttl: '61s' } }),
      await server.request({ method: 'GET', url: '/v1/players/p1/saves/abc' }),
      await server.request({ method: 'GET', url: '/v1/players/p1/saves/4' }),
      await server.request({ method: 'PUT', url: '/v1/rankings/s1/0', payload: { value: 1e7 } }),
    ];
    for (const answer of answers) expectProblem(answer, 400, 'OUT_OF_BOUNDS');
  });

  it('takes 2^53 - 1 itself', async () => {
    const answer = await server.request({ method: 'GET', url: `/api/game/g1/events?after=${MAX_SAFE}` });
    expect(answer.statusCode).toBe(200);
  });
});

describe('the event stream over a socket', () => {
  it('answers text/event-stream, as described', async () => {
    const server = await startTestServer({ modules: [gamesModule] });
    try {
      await server.request({ method: 'POST', url: '/api/game/s1/persist', payload: { state: {} } });
      const base = await server.listen();
      const abort = new AbortController();
      const answer = await fetch(`${base}/api/game/s1/stream`, {
        headers: server.auth,
        signal: abort.signal,
      });
      expect(answer.status).toBe(200);
      expect(answer.headers.get('content-type')).toMatch(/^text\/event-stream/);
      abort.abort();
      await answer.body?.cancel().catch(() => undefined);
    } finally {
      await server.close();
    }
  });
});

describe('the response check', () => {
  /** A route whose answer drifts from its declaration: `count` is declared an integer of at least 10. */
  const drifting: FastifyPluginAsync = async (app) => {
    app.get(
      '/v1/drift/:kind',
      {
        schema: {
          params: Type.Object({ kind: Type.String() }),
          response: { 200: Type.Object({ count: Type.Integer({ minimum: 10 }) }), ...problemResponses(400) },
        },
      },
      async (request, reply) => {
        const { kind } = request.params as { kind: string };
        if (kind === 'too-small') return { count: 3 };
        if (kind === 'undeclared-status') return (reply as FastifyReply).code(418).send({ count: 10 });
        if (kind === 'wrong-content-type') return reply.type('text/plain').send('{"count":10}');
        return { count: 10 };
      },
    );
  };

  it('reports a body, a status and a content type that differ from the declaration', async () => {
    const server = await startTestServer({ modules: [routesOnly('drift', drifting)], checkResponses: false });
    try {
      for (const kind of ['fine', 'too-small', 'undeclared-status', 'wrong-content-type']) {
        await server.request({ method: 'GET', url: `/v1/drift/${kind}` });
      }
      expect(server.responseViolations.map((v) => [v.route, v.status])).toEqual([
        ['GET /v1/drift/:kind', 200],
        ['GET /v1/drift/:kind', 418],
        ['GET /v1/drift/:kind', 200],
      ]);
      const [type, status, contentType] = server.responseViolations.map((v) => v.problem);
      expect(type).toContain('body/count must be >= 10');
      expect(status).toContain('status 418 is not declared');
      expect(contentType).toContain('content type text/plain');
    } finally {
      await server.close();
    }
  });

  it('fails the request (and the close) when the check is on', async () => {
    const server = await startTestServer({ modules: [routesOnly('drift', drifting)] });
    await expect(server.request({ method: 'GET', url: '/v1/drift/too-small' })).rejects.toThrow(
      /does not match its declared response/,
    );
    await expect(server.close()).rejects.toThrow(/did not match their declared responses/);
  });

  it('accepts problem documents, empty 204s and declared media types', () => {
    const responses = {
      200: { content: { 'text/event-stream': { schema: { type: 'string' } } } },
      204: { type: 'null' },
      ...problemResponses(400),
    };
    expect(checkAnswer(responses, 200, 'text/event-stream; charset=utf-8', undefined)).toBeUndefined();
    expect(checkAnswer(responses, 200, 'application/json', '"x"')).toContain('content type application/json');
    expect(checkAnswer(responses, 204, undefined, '')).toBeUndefined();
    const problem = JSON.stringify({
      type: 'urn:x',
      title: 't',
      status: 400,
      code: 'INVALID_INPUT',
      detail: 'd',
    });
    expect(checkAnswer(responses, 400, 'application/problem+json', problem)).toBeUndefined();
    expect(checkAnswer(responses, 400, 'application/problem+json', '{"code":"NOPE"}')).toBeDefined();
  });
});
