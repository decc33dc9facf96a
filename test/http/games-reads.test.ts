/**
 * A game write reads the game once: conditional persists (`If-Match` as one tag, `*` or a list)
 * check the condition on the domain's own read of the game instead of reading it first, and an
 * events call reads it once whatever headers it carries. The conditions answer as before.
 */
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GAME_COLLECTION } from '../../src/domains/games/game-record.js';
import { gamesModule } from '../../src/domains/games/games.module.js';
import { openMemoryDriver } from '../../src/drivers/memory/memory-driver.js';
import { Store } from '../../src/engine/store.js';
import { Savepoint } from '../../src/savepoint.js';
import { countingDriver, type ReadCounts } from '../support/counting-driver.js';
import { TEST_AUTH as auth, expectProblem, startTestServer, type TestServer } from '../support/http.js';

describe('game writes over HTTP read the game once', () => {
  let server: TestServer;
  let app: FastifyInstance;
  let savepoint: Savepoint;
  let reads: ReadCounts;

  const persist = (payload: object, headers: Record<string, string> = {}) =>
    app.inject({ method: 'POST', url: '/api/game/g1/persist', headers: { ...auth, ...headers }, payload });
  const append = (payload: object, headers: Record<string, string> = {}) =>
    app.inject({ method: 'POST', url: '/api/game/g1/events', headers: { ...auth, ...headers }, payload });
  /** Reads of the game's document by `call` alone. */
  const gameReadsOf = async <T>(call: () => Promise<T>): Promise<{ answer: T; reads: number }> => {
    reads.reset();
    const answer = await call();
    return { answer, reads: reads.of(GAME_COLLECTION, 'g1') };
  };

  beforeEach(async () => {
    const counting = countingDriver(await openMemoryDriver());
    reads = counting.reads;
    savepoint = new Savepoint(new Store(counting.driver));
    server = await startTestServer({ savepoint, modules: [gamesModule] });
    app = server.app;
    expect((await persist({ state: { round: 0 }, players: ['ann', 'ben'] })).statusCode).toBe(200);
  });

  afterEach(async () => {
    await server.close();
    await savepoint.close();
  });

  it.each([
    ['one tag', '"1"'],
    ['*', '*'],
    ['a list of tags', '"7", "1"'],
  ])('persist with If-Match (%s) reads the game once and writes', async (_name, ifMatch) => {
    const { answer, reads } = await gameReadsOf(() =>
      persist({ state: { round: 1 } }, { 'if-match': ifMatch }),
    );
    expect(answer.statusCode).toBe(200);
    expect(answer.headers.etag).toBe('"2"');
    expect(reads).toBe(1);
  });

  it('persist with a failing If-Match list answers 412 after one read, and writes nothing', async () => {
    const { answer, reads } = await gameReadsOf(() =>
      persist({ state: { round: 1 } }, { 'if-match': '"5", W/"1"' }),
    );
    expectProblem(answer, 412, 'VERSION_CONFLICT');
    expect(answer.json().detail).toBe('If-Match failed: game/g1 is at version 1');
    expect(reads).toBe(1);
    const restored = await app.inject({ url: '/api/game/g1/restore', headers: auth });
    expect(restored.json()).toMatchObject({ version: 1, state: { round: 0 } });
  });

  it('If-Match: * on a game that does not exist answers 412; disagreeing with expectedVersion answers 400', async () => {
    const missing = await app.inject({
      method: 'POST',
      url: '/api/game/g2/persist',
      headers: { ...auth, 'if-match': '*' },
      payload: { state: {} },
    });
    expectProblem(missing, 412, 'VERSION_CONFLICT');
    expect(missing.json().detail).toBe('If-Match failed: game/g2 does not exist');
    expect((await app.inject({ url: '/api/game/g2/restore', headers: auth })).statusCode).toBe(404);
    expectProblem(
      await persist({ state: {}, expectedVersion: 3 }, { 'if-match': '*' }),
      400,
      'INVALID_INPUT',
    );
    expectProblem(
      await persist({ state: {}, expectedVersion: 3 }, { 'if-match': '"1", "2"' }),
      400,
      'INVALID_INPUT',
    );
    expect((await persist({ state: { round: 9 }, expectedVersion: 1 }, { 'if-match': '*' })).statusCode).toBe(
      200,
    );
  });

  it('an events call reads the game once, with or without If-Match', async () => {
    const plain = await gameReadsOf(() =>
      append({ events: [{ type: 'bet', data: { chips: 5 } }], state: { round: 1 } }),
    );
    expect(plain.answer.statusCode).toBe(200);
    expect(plain.reads).toBe(1);
    const conditional = await gameReadsOf(() =>
      append({ events: [{ type: 'call' }], state: { round: 2 } }, { 'if-match': '*' }),
    );
    expect(conditional.answer.statusCode).toBe(200);
    expect(conditional.answer.json()).toEqual({ firstSeq: 2, lastSeq: 2, version: 3 });
    expect(conditional.reads).toBe(1);
  });
});
