/** The typed client's games methods against a server on a real socket (docs/api.md#games). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, type SavepointClient, SavepointHttpError } from '../../src/client/index.js';
import { startTestServer, TEST_API_KEY, type TestServer } from '../support/http.js';

let server: TestServer;
let client: SavepointClient;
/** A player's client: no API key, the reconnect token is its credential. */
let player: SavepointClient;
beforeAll(async () => {
  server = await startTestServer();
  const baseUrl = await server.listen();
  client = createClient({ baseUrl, apiKey: TEST_API_KEY });
  player = createClient({ baseUrl });
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

interface Table {
  [key: string]: number | string[];
  pot: number;
  deck: string[];
}

describe('the client: games', () => {
  it('persist -> token -> events -> reconnect answers exactly the missed events', async () => {
    const persisted = await client.persistGame<Table>(
      'table-1',
      { state: { pot: 0, deck: ['As', 'Kd'] }, players: ['ann', 'ben'], phase: 'lobby' },
      { createOnly: true },
    );
    expect(persisted).toMatchObject({ success: true, version: 1 });
    const { token, playerId, expiresAt } = await client.connectionToken('table-1', 'ann');
    expect(playerId).toBe('ann');
    expect(Date.parse(expiresAt)).toBeGreaterThan(Date.now());

    const first = await client.appendGameEvents('table-1', {
      events: [
        { type: 'deal', data: { to: 'ann' } },
        { type: 'deal', data: { to: 'ben' } },
      ],
      expectedSeq: 0,
    });
    expect(first).toEqual({ firstSeq: 1, lastSeq: 2, version: 2 });
    const second = await client.appendGameEvents<Table>('table-1', {
      events: [{ type: 'bet', data: { player: 'ann', chips: 5 } }],
      state: { pot: 5, deck: [] },
      phase: 'betting',
      expectedSeq: 2,
    });
    expect(second).toMatchObject({ firstSeq: 3, lastSeq: 3 });

    // Ann saw event 1, then lost her connection.
    const back = await player.reconnect<Table>('table-1', {
      playerId: 'ann',
      reconnectToken: token,
      lastEventSeq: 1,
    });
    expect(back.success).toBe(true);
    expect(back.gameState).toMatchObject({
      gameId: 'table-1',
      state: { pot: 5, deck: [] },
      phase: 'betting',
      status: 'active',
      lastSeq: 3,
    });
    expect(back.missedEvents.map(({ seq, type, data }) => ({ seq, type, data }))).toEqual([
      { seq: 2, type: 'deal', data: { to: 'ben' } },
      { seq: 3, type: 'bet', data: { player: 'ann', chips: 5 } },
    ]);
    expect(back.reconnectToken).not.toBe(token);

    // The rotated token works next time; the spent one does not.
    const again = await player.reconnect('table-1', {
      playerId: 'ann',
      reconnectToken: back.reconnectToken,
      lastEventSeq: 3,
    });
    expect(again.missedEvents).toEqual([]);
    const spent = await rejection(player.reconnect('table-1', { playerId: 'ann', reconnectToken: token }));
    // SEAT_TAKEN within the race window after its rotation (2 s), TOKEN_INVALID after it.
    expect([
      [409, 'SEAT_TAKEN'],
      [401, 'TOKEN_INVALID'],
    ]).toContainEqual([spent.status, spent.code]);

    const { events } = await client.readGameEvents('table-1', { after: 1, limit: 1 });
    expect(events.map((event) => event.seq)).toEqual([2]);
    expect(await client.restoreGame<Table>('table-1')).toMatchObject({
      state: { pot: 5 },
      players: ['ann', 'ben'],
      version: 3,
      lastSeq: 3,
    });
  });

  it('throws the contract codes, and answers undefined / false for a missing game', async () => {
    await client.persistGame('table-2', { state: {}, players: ['ann'] });
    const stale = await rejection(client.persistGame('table-2', { state: {}, expectedVersion: 5 }));
    expect(stale).toMatchObject({ code: 'VERSION_CONFLICT', status: 409 });
    const preconditioned = await rejection(client.persistGame('table-2', { state: {} }, { ifMatch: 5 }));
    expect(preconditioned).toMatchObject({ code: 'VERSION_CONFLICT', status: 412 });
    const seq = await rejection(
      client.appendGameEvents('table-2', { events: [{ type: 'x' }], expectedSeq: 3 }),
    );
    expect(seq).toMatchObject({ code: 'VERSION_CONFLICT', status: 409 });
    expect(await rejection(client.connectionToken('table-2', 'zed'))).toMatchObject({
      code: 'FORBIDDEN',
      status: 403,
    });
    expect(
      await rejection(player.reconnect('table-2', { playerId: 'ann', reconnectToken: 'not-a-token' })),
    ).toMatchObject({ code: 'TOKEN_INVALID', status: 401 });
    expect(await rejection(player.connectionToken('table-2', 'ann'))).toMatchObject({
      code: 'UNAUTHORIZED',
      status: 401,
    });

    expect(await client.deleteGame('table-2')).toBe(true);
    expect(await client.deleteGame('table-2')).toBe(false);
    expect(await client.restoreGame('table-2')).toBeUndefined();
  });

  it('of concurrent reconnects with one token, one wins and the others throw SEAT_TAKEN', async () => {
    await client.persistGame('table-3', { state: {}, players: ['ann'] });
    const { token } = await client.connectionToken('table-3', 'ann');
    const outcomes = await Promise.allSettled(
      Array.from({ length: 10 }, () =>
        player.reconnect('table-3', { playerId: 'ann', reconnectToken: token }),
      ),
    );
    expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(1);
    const codes = outcomes.flatMap((outcome) =>
      outcome.status === 'rejected' ? [(outcome.reason as SavepointHttpError).code] : [],
    );
    expect(codes).toEqual(Array.from({ length: 9 }, () => 'SEAT_TAKEN'));
  });
});
