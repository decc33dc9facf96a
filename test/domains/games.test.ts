/**
 * The games domain on every driver of the one list: persist, events, restore, tokens, reconnect,
 * delete, completion and corruption. The live feed and the tracker have their own file.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GAME_COLLECTION, streamOf, TOKEN_COLLECTION } from '../../src/domains/games/game-record.js';
import { Games, type GamesOptions } from '../../src/domains/games/games.js';
import { openSqliteDriver } from '../../src/drivers/sqlite/sqlite-driver.js';
import { ManualClock } from '../../src/engine/clock.js';
import { Store } from '../../src/engine/store.js';
import type { JsonObject } from '../../src/engine/types.js';
import { type ErrorCode, isSavepointError } from '../../src/errors.js';
import { type BaseDriverName, testStorages } from '../support/storages.js';

const MINUTE = 60_000;
const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'savepoint-games-'));
afterAll(() => fs.rmSync(directory, { recursive: true, force: true }));

const { storages, cleanup } = await testStorages('sp_games');
afterAll(cleanup);

interface Target {
  readonly name: BaseDriverName;
  open(clock: ManualClock): Promise<Store>;
}

const targets: readonly Target[] = storages
  .filter((storage) => storage.enabled)
  .map((storage) => ({ name: storage.name, open: (clock) => storage.openStore({ clock: clock.now }) }));

/** Awaits `promise` and asserts it rejects with a catalog error of `code`; answers the error. */
async function rejection(promise: Promise<unknown>, code: ErrorCode) {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  if (!isSavepointError(error)) throw new Error(`expected ${code}, got ${String(error)}`);
  expect(error.code).toBe(code);
  return error;
}

describe.each(targets)('games on $name', (target) => {
  let clock: ManualClock;
  let store: Store;
  let games: Games;
  const options: GamesOptions = {
    tokenTtlMs: 30 * MINUTE,
    gameTtlMs: 60 * MINUTE,
    expiredTokenRetentionMs: 10 * MINUTE,
    maxReconnectFailures: 5,
    failureWindowMs: MINUTE,
    seatRaceWindowMs: 2000,
  };

  beforeEach(async () => {
    clock = new ManualClock(Date.UTC(2030, 0, 1));
    store = await target.open(clock);
    games = new Games(store, options);
  });
  afterEach(async () => {
    await store.close();
  });

  const seatGame = async (gameId = 'g1', players = ['alice', 'bob']) =>
    games.persist(gameId, { state: { pot: 0 }, players, phase: 'lobby' });

  describe('persist and restore', () => {
    it('stores the values as they were at the call: later changes by the caller do not leak in', async () => {
      const state: JsonObject = { pot: 10, hands: { alice: ['As', 'Kd'] } };
      const written = games.persist('copy', { state, players: ['alice'] });
      const event = { chips: 5 };
      state.pot = 99;
      (state.hands as { alice: string[] }).alice.push('Qh');
      await written;
      const appended = games.appendEvents('copy', { events: [{ type: 'bet', data: event }], state });
      event.chips = 500;
      state.pot = 1000;
      await appended;
      expect((await games.restore('copy')).state).toEqual({ pot: 99, hands: { alice: ['As', 'Kd', 'Qh'] } });
      expect((await games.readEvents('copy'))[0]?.data).toEqual({ chips: 5 });
    });

    it('keeps a "__proto__" key as a plain field, as JSON has it', async () => {
      const state = JSON.parse('{"__proto__": {"admin": true}, "pot": 1}') as JsonObject;
      await games.persist('proto', { state });
      const restored = (await games.restore('proto')).state;
      expect(Object.getPrototypeOf(restored)).toBe(Object.prototype);
      expect(Object.keys(restored).sort()).toEqual(['__proto__', 'pot']);
      expect(JSON.stringify(restored)).toBe('{"__proto__":{"admin":true},"pot":1}');
    });

    it('creates a game, and restore answers every field', async () => {
      const persisted = await games.persist('g1', { state: { deck: [1, 2] }, players: ['alice'] });
      expect(persisted).toEqual({
        success: true,
        persistedAt: new Date(clock.now()).toISOString(),
        version: 1,
      });
      expect(await games.restore('g1')).toEqual({
        gameId: 'g1',
        state: { deck: [1, 2] },
        players: ['alice'],
        phase: null,
        status: 'active',
        version: 1,
        persistedAt: persisted.persistedAt,
        lastSeq: 0,
      });
    });

    it('keeps players, phase and lastSeq unless given, and counts versions', async () => {
      await seatGame();
      await games.appendEvents('g1', { events: [{ type: 'deal' }, { type: 'bet', data: { chips: 5 } }] });
      clock.advance(1000);
      const second = await games.persist('g1', { state: { pot: 5 } });
      expect(second.version).toBe(3);
      const game = await games.restore('g1');
      expect(game).toMatchObject({
        state: { pot: 5 },
        players: ['alice', 'bob'],
        phase: 'lobby',
        lastSeq: 2,
      });
      expect(game.persistedAt).toBe(new Date(clock.now()).toISOString());
    });

    it('refuses a stale expectedVersion unless forceOverwrite, and writes nothing', async () => {
      await seatGame();
      await games.persist('g1', { state: { pot: 1 }, expectedVersion: 1 });
      await rejection(games.persist('g1', { state: { pot: 99 }, expectedVersion: 1 }), 'VERSION_CONFLICT');
      expect((await games.restore('g1')).state).toEqual({ pot: 1 });
      await games.persist('g1', { state: { pot: 2 }, expectedVersion: 1, forceOverwrite: true });
      expect(await games.restore('g1')).toMatchObject({ state: { pot: 2 }, version: 3 });
      // 0 means "create only".
      await rejection(games.persist('g1', { state: {}, expectedVersion: 0 }), 'VERSION_CONFLICT');
      await rejection(games.persist('new', { state: {}, expectedVersion: 4 }), 'VERSION_CONFLICT');
      expect((await games.persist('new', { state: {}, expectedVersion: 0 })).version).toBe(1);
    });

    it('concurrent persists without expectedVersion all land, one version each', async () => {
      await seatGame();
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => games.persist('g1', { state: { pot: i } })),
      );
      expect(new Set(results.map((r) => r.version)).size).toBe(20);
      expect((await games.restore('g1')).version).toBe(21);
    });

    it('rejects bad input with INVALID_INPUT', async () => {
      await rejection(games.persist('bad/id', { state: {} }), 'INVALID_INPUT');
      await rejection(games.persist('x'.repeat(201), { state: {} }), 'INVALID_INPUT');
      await rejection(games.persist('g1', { state: [] as never }), 'INVALID_INPUT');
      await rejection(games.persist('g1', { state: { n: Number.NaN } }), 'INVALID_INPUT');
      await rejection(games.persist('g1', { state: {}, players: ['a', 'a'] }), 'INVALID_INPUT');
      await rejection(games.persist('g1', { state: {}, players: ['a b'] }), 'INVALID_INPUT');
      await rejection(games.persist('g1', { state: {}, status: 'paused' as never }), 'INVALID_INPUT');
      await rejection(games.persist('g1', { state: {}, expectedVersion: -1 }), 'INVALID_INPUT');
      await rejection(games.restore('g1'), 'NOT_FOUND');
    });
  });

  describe('events', () => {
    it('appends events with the snapshot in one commit', async () => {
      await seatGame();
      const first = await games.appendEvents('g1', {
        events: [{ type: 'deal', data: { n: 2 } }, { type: 'bet' }],
        state: { pot: 10 },
        phase: 'preflop',
      });
      expect(first).toEqual({ firstSeq: 1, lastSeq: 2, version: 2 });
      const second = await games.appendEvents('g1', { events: [{ type: 'fold' }], expectedSeq: 2 });
      expect(second).toEqual({ firstSeq: 3, lastSeq: 3, version: 3 });
      expect(await games.restore('g1')).toMatchObject({ state: { pot: 10 }, phase: 'preflop', lastSeq: 3 });
      const events = await games.readEvents('g1', { after: 1, limit: 10 });
      expect(events.map((e) => [e.seq, e.type, e.data])).toEqual([
        [2, 'bet', null],
        [3, 'fold', null],
      ]);
      expect(events[0]?.at).toBe(new Date(clock.now()).toISOString());
      expect(await games.readEvents('g1', { after: 3 })).toEqual([]);
    });

    it('a stale expectedSeq is a conflict and writes neither events nor snapshot', async () => {
      await seatGame();
      await games.appendEvents('g1', { events: [{ type: 'a' }] });
      const error = await rejection(
        games.appendEvents('g1', { events: [{ type: 'b' }], state: { pot: 7 }, expectedSeq: 0 }),
        'VERSION_CONFLICT',
      );
      expect(error.details).toMatchObject({ expectedSeq: 0, lastSeq: 1 });
      expect(await store.streamHead(streamOf('g1'))).toBe(1);
      expect(await games.restore('g1')).toMatchObject({ state: { pot: 0 }, lastSeq: 1, version: 2 });
    });

    it('concurrent appends get distinct, gap-free seqs and the snapshot follows the head', async () => {
      await seatGame();
      const results = await Promise.all(
        Array.from({ length: 25 }, (_, i) =>
          games.appendEvents('g1', { events: [{ type: 'tick', data: i }] }),
        ),
      );
      expect(results.map((r) => r.firstSeq).sort((a, b) => a - b)).toEqual(
        Array.from({ length: 25 }, (_, i) => i + 1),
      );
      expect((await games.restore('g1')).lastSeq).toBe(25);
      expect(await store.streamHead(streamOf('g1'))).toBe(25);
    });

    it('answers NOT_FOUND for a missing game and INVALID_INPUT for bad events', async () => {
      await rejection(games.appendEvents('nope', { events: [{ type: 'a' }] }), 'NOT_FOUND');
      await rejection(games.readEvents('nope'), 'NOT_FOUND');
      await seatGame();
      await rejection(games.appendEvents('g1', { events: [] }), 'INVALID_INPUT');
      await rejection(games.appendEvents('g1', { events: [{ type: '' }] }), 'INVALID_INPUT');
      await rejection(
        games.appendEvents('g1', { events: [{ type: 'a' }], expectedSeq: -1 }),
        'INVALID_INPUT',
      );
      await rejection(games.readEvents('g1', { limit: 0 }), 'INVALID_INPUT');
    });
  });

  describe('tokens and reconnect', () => {
    it('issues tokens only to seated players of an active game, and stores only a hash', async () => {
      await rejection(games.issueToken('g1', 'alice'), 'NOT_FOUND');
      await seatGame();
      await rejection(games.issueToken('g1', 'mallory'), 'FORBIDDEN');
      const issued = await games.issueToken('g1', 'alice');
      expect(issued.playerId).toBe('alice');
      expect(issued.token).toMatch(/^[A-Za-z0-9_-]{43,}$/);
      expect(Buffer.from(issued.token, 'base64url').length).toBeGreaterThanOrEqual(16);
      expect(issued.expiresAt).toBe(new Date(clock.now() + 30 * MINUTE).toISOString());
      const stored = await store.get(TOKEN_COLLECTION, 'g1/alice');
      expect(JSON.stringify(stored?.value)).not.toContain(issued.token);
      expect((await games.issueToken('g1', 'bob')).token).not.toBe(issued.token);
    });

    it('reconnect rotates the token and answers the state with the missed events', async () => {
      await seatGame();
      await games.appendEvents('g1', {
        events: [{ type: 'a' }, { type: 'b' }, { type: 'c' }],
        state: { pot: 3 },
      });
      const { token } = await games.issueToken('g1', 'alice');
      clock.advance(1000);
      const result = await games.reconnect('g1', {
        playerId: 'alice',
        reconnectToken: token,
        lastEventSeq: 1,
      });
      expect(result.success).toBe(true);
      expect(result.gameState).toMatchObject({
        gameId: 'g1',
        state: { pot: 3 },
        lastSeq: 3,
        status: 'active',
      });
      expect(result.missedEvents.map((e) => e.seq)).toEqual([2, 3]);
      expect(result.reconnectedAt).toBe(new Date(clock.now()).toISOString());
      expect(result.reconnectToken).not.toBe(token);
      expect(result.tokenExpiresAt).toBe(new Date(clock.now() + 30 * MINUTE).toISOString());

      // Once the race window has passed the old token is spent; the new one works once, and all
      // events come without lastEventSeq.
      clock.advance(2000);
      await rejection(games.reconnect('g1', { playerId: 'alice', reconnectToken: token }), 'TOKEN_INVALID');
      const again = await games.reconnect('g1', { playerId: 'alice', reconnectToken: result.reconnectToken });
      expect(again.missedEvents.map((e) => e.seq)).toEqual([1, 2, 3]);
      const upToDate = await games.reconnect('g1', {
        playerId: 'alice',
        reconnectToken: again.reconnectToken,
        lastEventSeq: 3,
      });
      expect(upToDate.missedEvents).toEqual([]);
    });

    it('refuses wrong tokens and tokens of another game or player', async () => {
      await seatGame('g1');
      await seatGame('g2');
      const alice1 = await games.issueToken('g1', 'alice');
      const alice2 = await games.issueToken('g2', 'alice');
      await games.issueToken('g1', 'bob');
      await rejection(
        games.reconnect('g1', { playerId: 'alice', reconnectToken: 'garbage' }),
        'TOKEN_INVALID',
      );
      await rejection(
        games.reconnect('g1', { playerId: 'alice', reconnectToken: alice2.token }),
        'TOKEN_INVALID',
      );
      await rejection(
        games.reconnect('g1', { playerId: 'bob', reconnectToken: alice1.token }),
        'TOKEN_INVALID',
      );
      await rejection(
        games.reconnect('g1', { playerId: 'carol', reconnectToken: alice1.token }),
        'TOKEN_INVALID',
      );
      await rejection(
        games.reconnect('g9', { playerId: 'alice', reconnectToken: alice1.token }),
        'TOKEN_INVALID',
      );
      await rejection(
        games.reconnect('g1', { playerId: 'alice', reconnectToken: 42 as unknown as string }),
        'TOKEN_INVALID',
      );
      // None of that spent the real tokens.
      await games.reconnect('g1', { playerId: 'alice', reconnectToken: alice1.token });
      await games.reconnect('g2', { playerId: 'alice', reconnectToken: alice2.token });
    });

    it('tells an expired token from an unknown one, until its record is swept', async () => {
      await seatGame();
      const { token } = await games.issueToken('g1', 'alice');
      clock.advance(30 * MINUTE);
      const error = await rejection(
        games.reconnect('g1', { playerId: 'alice', reconnectToken: token }),
        'TOKEN_EXPIRED',
      );
      expect(error.message).toContain('expired');
      clock.advance(10 * MINUTE);
      await store.sweepExpired();
      await rejection(games.reconnect('g1', { playerId: 'alice', reconnectToken: token }), 'TOKEN_INVALID');
    });

    it('checks lastEventSeq before spending the token', async () => {
      await seatGame();
      await games.appendEvents('g1', { events: [{ type: 'a' }] });
      const { token } = await games.issueToken('g1', 'alice');
      const beyond = await rejection(
        games.reconnect('g1', { playerId: 'alice', reconnectToken: token, lastEventSeq: 2 }),
        'INVALID_INPUT',
      );
      expect(beyond.message).toContain('beyond the last event');
      await rejection(
        games.reconnect('g1', { playerId: 'alice', reconnectToken: token, lastEventSeq: -1 }),
        'INVALID_INPUT',
      );
      await rejection(
        games.reconnect('g1', { playerId: 'alice', reconnectToken: token, lastEventSeq: 1.5 }),
        'INVALID_INPUT',
      );
      const ok = await games.reconnect('g1', { playerId: 'alice', reconnectToken: token, lastEventSeq: 1 });
      expect(ok.missedEvents).toEqual([]);
    });

    it('of 100 concurrent reconnects for one seat exactly one wins; the rest get SEAT_TAKEN', async () => {
      await seatGame();
      const { token } = await games.issueToken('g1', 'alice');
      const outcomes = await Promise.allSettled(
        Array.from({ length: 100 }, () =>
          games.reconnect('g1', { playerId: 'alice', reconnectToken: token }),
        ),
      );
      const winners = outcomes.filter((o) => o.status === 'fulfilled');
      const codes = outcomes.flatMap((o) =>
        o.status === 'rejected' ? [(o.reason as { code: string }).code] : [],
      );
      expect(winners).toHaveLength(1);
      expect(codes).toEqual(Array.from({ length: 99 }, () => 'SEAT_TAKEN'));
      // Losers of a race are not guesses: they did not count towards the rate limit.
      expect(await store.get('game-reconnect-failures', 'g1/alice')).toBeUndefined();
    });

    it('the replaced token is SEAT_TAKEN within the race window and TOKEN_INVALID after it', async () => {
      await seatGame();
      const { token } = await games.issueToken('g1', 'alice');
      const won = await games.reconnect('g1', { playerId: 'alice', reconnectToken: token });
      const stored = await store.get(TOKEN_COLLECTION, 'g1/alice');
      expect(stored?.value).toMatchObject({ rotatedAt: clock.now() });
      expect(stored?.value).toHaveProperty('previousHash', expect.any(String));
      // Arriving after the winner's commit but within the window: a concurrent claim that lost.
      clock.advance(1999);
      await rejection(games.reconnect('g1', { playerId: 'alice', reconnectToken: token }), 'SEAT_TAKEN');
      // Another instance on the same store applies the same rule: it lives in the token's record.
      await rejection(
        new Games(store, options).reconnect('g1', { playerId: 'alice', reconnectToken: token }),
        'SEAT_TAKEN',
      );
      // Reading with it is no claim on the seat: the token is spent for that.
      await rejection(games.verifyToken('g1', 'alice', token), 'TOKEN_INVALID');
      clock.advance(1);
      await rejection(games.reconnect('g1', { playerId: 'alice', reconnectToken: token }), 'TOKEN_INVALID');
      // The winner's token works, and its rotation makes the first token unknown, not racing.
      const next = await games.reconnect('g1', { playerId: 'alice', reconnectToken: won.reconnectToken });
      await rejection(games.reconnect('g1', { playerId: 'alice', reconnectToken: token }), 'TOKEN_INVALID');
      await rejection(
        games.reconnect('g1', { playerId: 'alice', reconnectToken: won.reconnectToken }),
        'SEAT_TAKEN',
      );
      // A freshly issued token ends the window for the replaced ones.
      await games.issueToken('g1', 'alice');
      await rejection(
        games.reconnect('g1', { playerId: 'alice', reconnectToken: next.reconnectToken }),
        'TOKEN_INVALID',
      );
    });

    it('seatRaceWindowMs 0: only losers of the commit itself get SEAT_TAKEN', async () => {
      const strict = new Games(store, { ...options, seatRaceWindowMs: 0 });
      await seatGame();
      const { token } = await strict.issueToken('g1', 'alice');
      await strict.reconnect('g1', { playerId: 'alice', reconnectToken: token });
      await rejection(strict.reconnect('g1', { playerId: 'alice', reconnectToken: token }), 'TOKEN_INVALID');
      expect(() => new Games(store, { seatRaceWindowMs: -1 })).toThrow(/seatRaceWindowMs/);
    });

    // Only an in-process driver settles a call without a turn of the event loop (memory in
    // microtasks, better-sqlite3 synchronously); PostgreSQL's network round trips let any timer fire.
    it.skipIf(target.name === 'postgres')('answers the winner at once: no timer holds it', async () => {
      await seatGame();
      const { token } = await games.issueToken('g1', 'alice');
      // So a reconnect that waited on any timer lets this one fire.
      let timerFired = false;
      const timer = setTimeout(() => {
        timerFired = true;
      }, 0);
      const won = await games.reconnect('g1', { playerId: 'alice', reconnectToken: token });
      clearTimeout(timer);
      expect(won.success).toBe(true);
      expect(timerFired).toBe(false);
    });

    it('rate-limits repeated failures per seat, storage-backed, and forgives after the window', async () => {
      await seatGame();
      const { token } = await games.issueToken('g1', 'alice');
      for (let i = 0; i < 5; i++) {
        await rejection(
          games.reconnect('g1', { playerId: 'alice', reconnectToken: `guess-${i}` }),
          'TOKEN_INVALID',
        );
      }
      const limited = await rejection(
        games.reconnect('g1', { playerId: 'alice', reconnectToken: token }),
        'RATE_LIMITED',
      );
      expect(limited.details.retryAfterSeconds).toBeGreaterThan(0);
      // Another seat is unaffected, and a second instance on the same store sees the same counter.
      const bob = await games.issueToken('g1', 'bob');
      await games.reconnect('g1', { playerId: 'bob', reconnectToken: bob.token });
      await rejection(
        new Games(store, options).reconnect('g1', { playerId: 'alice', reconnectToken: token }),
        'RATE_LIMITED',
      );
      clock.advance(MINUTE);
      await games.reconnect('g1', { playerId: 'alice', reconnectToken: token });
    });

    it('verifyToken checks without rotating', async () => {
      await seatGame();
      const { token } = await games.issueToken('g1', 'alice');
      expect((await games.verifyToken('g1', 'alice', token)).gameId).toBe('g1');
      expect((await games.verifyToken('g1', 'alice', token)).gameId).toBe('g1');
      await rejection(games.verifyToken('g1', 'alice', 'nope'), 'TOKEN_INVALID');
      await games.reconnect('g1', { playerId: 'alice', reconnectToken: token });
    });
  });

  describe('completion', () => {
    it('completes in one commit: 410 for tokens, reconnects and events; everything swept after the TTL', async () => {
      await seatGame();
      await games.appendEvents('g1', { events: [{ type: 'a' }] });
      const { token } = await games.issueToken('g1', 'alice');
      await games.persist('g1', { state: { winner: 'alice' }, status: 'completed' });
      expect((await store.get(GAME_COLLECTION, 'g1'))?.expiresAt).toBe(clock.now() + 60 * MINUTE);
      expect((await store.get(TOKEN_COLLECTION, 'g1/alice'))?.expiresAt).toBeLessThanOrEqual(
        clock.now() + 60 * MINUTE,
      );

      await rejection(games.issueToken('g1', 'alice'), 'GAME_COMPLETED');
      await rejection(games.reconnect('g1', { playerId: 'alice', reconnectToken: token }), 'GAME_COMPLETED');
      await rejection(games.appendEvents('g1', { events: [{ type: 'late' }] }), 'GAME_COMPLETED');
      await rejection(games.persist('g1', { state: {}, status: 'active' }), 'GAME_COMPLETED');
      // Updating the final state keeps it completed and does not push the expiry back.
      clock.advance(MINUTE);
      await games.persist('g1', { state: { winner: 'alice', final: true } });
      expect(await games.restore('g1')).toMatchObject({ status: 'completed', state: { final: true } });
      expect((await store.get(GAME_COLLECTION, 'g1'))?.expiresAt).toBe(clock.now() - MINUTE + 60 * MINUTE);

      clock.advance(60 * MINUTE);
      await rejection(games.restore('g1'), 'NOT_FOUND');
      expect(await store.readStream(streamOf('g1'))).toEqual([]);
      expect(await store.get(TOKEN_COLLECTION, 'g1/alice')).toBeUndefined();
      const swept = await store.sweepExpired();
      expect(swept.streams).toBe(1);
      expect(swept.documents[GAME_COLLECTION]).toBe(1);
    });

    it('forceOverwrite reopens a completed game and clears its expiry', async () => {
      await seatGame();
      await games.appendEvents('g1', { events: [{ type: 'a' }] });
      await games.persist('g1', { state: {}, status: 'completed' });
      await games.persist('g1', { state: { again: true }, status: 'active', forceOverwrite: true });
      expect((await store.get(GAME_COLLECTION, 'g1'))?.expiresAt).toBeNull();
      clock.advance(2 * 60 * MINUTE);
      expect(await games.restore('g1')).toMatchObject({ status: 'active', lastSeq: 1 });
      expect(await store.streamHead(streamOf('g1'))).toBe(1);
    });
  });

  describe('delete', () => {
    it('removes state, events and tokens, and only this game', async () => {
      await seatGame('a');
      await seatGame('a:b');
      await games.appendEvents('a', { events: [{ type: 'x' }] });
      const { token } = await games.issueToken('a', 'alice');
      await games.issueToken('a:b', 'alice');
      await rejection(games.reconnect('a', { playerId: 'bob', reconnectToken: 'wrong' }), 'TOKEN_INVALID');
      await games.delete('a');
      await rejection(games.restore('a'), 'NOT_FOUND');
      expect(await store.streamHead(streamOf('a'))).toBe(0);
      expect((await store.list(TOKEN_COLLECTION)).items.map((d) => d.key)).toEqual(['a:b/alice']);
      expect((await store.list('game-reconnect-failures')).items).toEqual([]);
      await rejection(games.delete('a'), 'NOT_FOUND');
      // A game created again under the same id starts a fresh log, and the old token means nothing.
      await seatGame('a');
      expect((await games.appendEvents('a', { events: [{ type: 'y' }] })).firstSeq).toBe(1);
      await rejection(games.reconnect('a', { playerId: 'alice', reconnectToken: token }), 'TOKEN_INVALID');
    });
  });

  describe('damaged records', () => {
    it('a game record without state answers CORRUPT_DATA, and can be deleted or overwritten', async () => {
      await store.commit([
        { op: 'put', collection: GAME_COLLECTION, key: 'broken', value: { players: [], status: 'active' } },
      ]);
      const error = await rejection(games.restore('broken'), 'CORRUPT_DATA');
      expect(error.message).toContain('"state"');
      expect(error.message).toContain('broken');
      await rejection(games.issueToken('broken', 'alice'), 'CORRUPT_DATA');
      await rejection(games.persist('broken', { state: {} }), 'CORRUPT_DATA');
      await games.persist('broken', { state: { ok: true }, forceOverwrite: true });
      expect((await games.restore('broken')).state).toEqual({ ok: true });
      await games.delete('broken');
    });
  });
});

describe('games on sqlite with damaged bytes', () => {
  it('garbage in the value column answers CORRUPT_DATA; the rest keeps working', async () => {
    const clock = new ManualClock(Date.UTC(2030, 0, 1));
    const file = path.join(directory, 'garbage.db');
    const store = new Store(await openSqliteDriver({ path: file }), { clock: clock.now });
    try {
      const games = new Games(store);
      await games.persist('g1', { state: { pot: 1 }, players: ['alice'] });
      const raw = new Database(file);
      try {
        raw
          .prepare("UPDATE documents SET value = '{not json' WHERE collection = 'game' AND key = 'g1'")
          .run();
      } finally {
        raw.close();
      }
      const error = await rejection(games.restore('g1'), 'CORRUPT_DATA');
      expect(error.message).toContain('"g1"');
      await rejection(games.reconnect('g1', { playerId: 'alice', reconnectToken: 'x' }), 'CORRUPT_DATA');
      // The store still serves everything else, and the damaged game can be replaced or removed.
      await games.persist('g2', { state: {} });
      expect((await games.restore('g2')).gameId).toBe('g2');
      await games.persist('g1', { state: { pot: 2 }, forceOverwrite: true });
      expect((await games.restore('g1')).state).toEqual({ pot: 2 });
      await games.delete('g1');
      await rejection(games.restore('g1'), 'NOT_FOUND');
    } finally {
      await store.close();
    }
  });
});
