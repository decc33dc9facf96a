/**
 * Game history on every driver: listing, point-in-time reads, rollback and forks, retention and
 * pruning, removal with the game, and a property test over random sequences of writes.
 */
import fc from 'fast-check';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { HISTORY_COLLECTION } from '../../src/domains/games/game-history.js';
import { type GameRecord, Games, type GamesOptions } from '../../src/domains/games/games.js';
import { ManualClock } from '../../src/engine/clock.js';
import type { Store } from '../../src/engine/store.js';
import type { JsonObject } from '../../src/engine/types.js';
import { type ErrorCode, isSavepointError } from '../../src/errors.js';
import { openSavepoint } from '../../src/savepoint.js';
import { testStorages } from '../support/storages.js';

const { storages, cleanup } = await testStorages('sp_history');
afterAll(cleanup);
let gameCounter = 0;

async function rejection(promise: Promise<unknown>, code: ErrorCode): Promise<Error> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  if (!isSavepointError(error)) throw new Error(`expected ${code}, got ${String(error)}`);
  expect(error.code).toBe(code);
  return error;
}

/** The pages history documents belong to: `{gameId}/{page}` and its entries' `{gameId}/{page}.{position}`. */
/** Keys of game g1's history after 32 versions: page 0 sealed, then page 1's 16 entries each on its own. */
const SEALED_PAGE_THEN_SIXTEEN_ENTRIES = [
  'g1/0000000000000000',
  ...Array.from({ length: 16 }, (_, position) => `g1/0000000000000001.${String(position).padStart(2, '0')}`),
];

const pagesOf = (documents: ReadonlyArray<{ readonly key: string }>): Set<number> =>
  new Set(documents.map((document) => Number(document.key.split('/')[1]?.slice(0, 16))));

const state = (round: number, extra: JsonObject = {}): JsonObject => ({
  round,
  pot: round * 10,
  deck: Array.from({ length: 20 }, (_, i) => `card-${i}`),
  seats: { ada: { chips: 100 - round }, grace: { chips: 100 + round } },
  ...extra,
});

describe.each(storages.filter((storage) => storage.enabled))('game history on $name', (storage) => {
  let clock: ManualClock;
  let store: Store;
  const open = async (options: GamesOptions = {}): Promise<Games> => new Games(store, options);

  /** Persists round `round`'s state to g1 five ms after the last, and keeps each version as restored. */
  const recorder = (games: Games) => {
    const seen = new Map<number, GameRecord>();
    const write = async (round: number): Promise<void> => {
      clock.advance(5);
      await games.persist('g1', { state: state(round) });
      const record = await games.restore('g1');
      seen.set(record.version, record);
    };
    return { seen, write };
  };

  beforeEach(async (context) => {
    clock = new ManualClock(Date.UTC(2026, 0, 1));
    const savepoint = await openSavepoint({ url: storage.url(), clock: clock.now });
    store = savepoint.store;
    context.onTestFinished(async () => {
      await savepoint.close();
    });
  });

  it('lists the versions a state write made, reads each back, and keeps no version for a bare append', async () => {
    const games = await open();
    await games.persist('g1', { state: state(1), players: ['ada', 'grace'], phase: 'deal' });
    const v1 = await games.restore('g1');
    clock.advance(1000);
    await games.appendEvents('g1', { events: [{ type: 'bet', data: { chips: 5 } }], state: state(2) });
    const v2 = await games.restore('g1');
    clock.advance(1000);
    await games.appendEvents('g1', { events: [{ type: 'chat' }] });
    clock.advance(1000);
    await games.persist('g1', { state: state(3, { winner: 'ada' }), phase: 'showdown', status: 'completed' });
    const v4 = await games.restore('g1');

    const page = await games.history('g1');
    expect(page.versions.map((v) => v.version)).toEqual([4, 2, 1]);
    expect(page.versions[0]).toEqual({
      version: 4,
      persistedAt: v4.persistedAt,
      lastSeq: 2,
      phase: 'showdown',
      status: 'completed',
    });
    expect(page.nextBefore).toBeUndefined();
    expect(await games.restoreVersion('g1', 1)).toEqual(v1);
    expect(await games.restoreVersion('g1', 2)).toEqual(v2);
    expect(await games.restoreVersion('g1', 4)).toEqual(v4);
    const bare = await rejection(games.restoreVersion('g1', 3), 'NOT_FOUND');
    expect(bare.message).toMatch(/event append without a state/);
    expect((await rejection(games.restoreVersion('g1', 9), 'NOT_FOUND')).message).toMatch(/never stored/);

    const paged = await games.history('g1', { limit: 2 });
    expect(paged.versions.map((v) => v.version)).toEqual([4, 2]);
    expect(paged.nextBefore).toBe(2);
    expect((await games.history('g1', { before: 2 })).versions.map((v) => v.version)).toEqual([1]);
  });

  it('keeps the last N versions: older ones answer NOT_FOUND, and whole pages of them are deleted', async () => {
    const games = await open({ historyVersions: 5 });
    for (let round = 1; round <= 40; round++) {
      await games.persist('g1', { state: state(round) });
      clock.advance(10);
    }
    const page = await games.history('g1');
    expect(page.versions.map((v) => v.version)).toEqual([40, 39, 38, 37, 36]);
    expect((await games.restoreVersion('g1', 36)).state).toEqual(state(36));
    expect((await rejection(games.restoreVersion('g1', 35), 'NOT_FOUND')).message).toMatch(/pruned/);
    // 40 entries in pages of 16: the first page (1-16) and second (17-32) hold only pruned entries.
    const stored = await store.list(HISTORY_COLLECTION, { prefix: 'g1/' });
    const pages = pagesOf(stored.items);
    expect(pages.size).toBeLessThanOrEqual(2);
    expect(pages.has(0)).toBe(false);
    expect(pages.has(1)).toBe(false);
  });

  it('rolls back as a new version, with the rollback event in the same commit', async () => {
    const games = await open();
    await games.persist('g1', { state: state(1), players: ['ada'], phase: 'deal' });
    await games.appendEvents('g1', { events: [{ type: 'bet' }], state: state(2), phase: 'flop' });
    const griefed = await games.appendEvents('g1', { events: [{ type: 'grief' }], state: state(99) });
    const { token } = await games.issueToken('g1', 'ada');

    const result = await games.rollback('g1', {
      toVersion: 2,
      reason: 'griefing',
      expectedVersion: griefed.version,
    });
    expect(result).toMatchObject({
      success: true,
      version: griefed.version + 1,
      restoredFrom: 2,
      lastSeq: 3,
    });
    const now = await games.restore('g1');
    expect(now).toMatchObject({ state: state(2), phase: 'flop', version: result.version, lastSeq: 3 });
    const events = await games.readEvents('g1');
    expect(events[2]).toMatchObject({
      seq: 3,
      type: 'rollback',
      data: { fromVersion: griefed.version, toVersion: 2, reason: 'griefing' },
    });
    // A reconnecting player gets it among the missed events.
    const reconnect = await games.reconnect('g1', {
      playerId: 'ada',
      reconnectToken: token,
      lastEventSeq: 2,
    });
    expect(reconnect.missedEvents.map((e) => e.type)).toEqual(['rollback']);
    // Nothing in the history was rewritten: the griefed version is still there.
    expect((await games.restoreVersion('g1', griefed.version)).state).toEqual(state(99));
    expect((await games.history('g1')).versions.map((v) => v.version)).toEqual([result.version, 3, 2, 1]);
  });

  it('tells subscribers of the rollback live', async () => {
    const games = await open();
    await games.persist('g1', { state: state(1) });
    await games.persist('g1', { state: state(2) });
    const feed = games.subscribe('g1');
    const first = feed[Symbol.asyncIterator]().next();
    await games.rollback('g1', { toVersion: 1 });
    const received = await first;
    expect(received.value).toMatchObject({
      seq: 1,
      type: 'rollback',
      data: { fromVersion: 2, toVersion: 1 },
    });
    await feed.return();
  });

  it('refuses bad rollbacks and changes nothing', async () => {
    const games = await open({ historyVersions: 3 });
    for (let round = 1; round <= 6; round++) await games.persist('g1', { state: state(round) });
    const before = await games.restore('g1');
    await rejection(games.rollback('g1', { toVersion: 2 }), 'NOT_FOUND');
    await rejection(games.rollback('g1', { toVersion: 5, expectedVersion: 3 }), 'VERSION_CONFLICT');
    await rejection(games.rollback('g1', { toVersion: 0 }), 'INVALID_INPUT');
    await rejection(games.rollback('g1', { toVersion: 2 ** 53 }), 'INVALID_INPUT');
    await rejection(games.rollback('missing', { toVersion: 1 }), 'NOT_FOUND');
    expect(await games.restore('g1')).toEqual(before);
    expect(await games.readEvents('g1')).toEqual([]);
    // To the current version: a no-op answering that version.
    const same = await games.rollback('g1', { toVersion: 6 });
    expect(same).toMatchObject({ version: 6, restoredFrom: 6, lastSeq: 0 });
    expect(await games.restore('g1')).toEqual(before);
  });

  it('forks a version with its events and seqs, and no tokens', async () => {
    const games = await open();
    await games.persist('g1', { state: state(1), players: ['ada', 'grace'], phase: 'deal' });
    await games.appendEvents('g1', {
      events: [
        { type: 'bet', data: 1 },
        { type: 'bet', data: 2 },
      ],
      state: state(2),
    });
    const atVersion = (await games.restore('g1')).version;
    await games.appendEvents('g1', { events: [{ type: 'fold' }], state: state(3) });
    await games.issueToken('g1', 'ada');

    const fork = await games.fork('g1', { newGameId: 'g1-copy', atVersion });
    expect(fork).toEqual({
      gameId: 'g1-copy',
      version: 1,
      forkedFrom: { gameId: 'g1', version: atVersion, lastSeq: 2 },
    });
    const copy = await games.restore('g1-copy');
    expect(copy).toMatchObject({
      state: state(2),
      players: ['ada', 'grace'],
      phase: 'deal',
      version: 1,
      lastSeq: 2,
    });
    const events = await games.readEvents('g1-copy');
    expect(events.map(({ seq, type, data }) => ({ seq, type, data }))).toEqual([
      { seq: 1, type: 'bet', data: 1 },
      { seq: 2, type: 'bet', data: 2 },
    ]);
    expect(await store.list('game-token', { prefix: 'g1-copy/' })).toMatchObject({ items: [] });
    await rejection(
      games.reconnect('g1-copy', { playerId: 'ada', reconnectToken: 'x'.repeat(43) }),
      'TOKEN_INVALID',
    );
    // The fork goes on from there, with its own history.
    await games.appendEvents('g1-copy', { events: [{ type: 'replay' }], expectedSeq: 2 });
    expect((await games.history('g1-copy')).versions.map((v) => v.version)).toEqual([1]);

    await rejection(games.fork('g1', { newGameId: 'g1-copy' }), 'VERSION_CONFLICT');
    await rejection(games.fork('g1', { newGameId: 'bad id!' }), 'INVALID_INPUT');
    await rejection(games.fork('g1', { newGameId: 'g2', atVersion: 77 }), 'NOT_FOUND');
    expect(await games.restore('g1-copy')).toMatchObject({ version: 2, lastSeq: 3 });
    const players = await games.fork('g1', { newGameId: 'g3', players: ['linus'] });
    expect(players.forkedFrom.version).toBe(3);
    expect((await games.restore('g3')).players).toEqual(['linus']);
  });

  it('removes the history with the game, and lets it expire with a completed game', async () => {
    const games = await open({ gameTtlMs: 60_000 });
    for (let round = 1; round <= 32; round++) await games.persist('g1', { state: state(round) });
    // The first 16 entries sealed into their page (by one of the next 16 writes), the other 16 each
    // in its own document.
    const stored = (await store.list(HISTORY_COLLECTION, { prefix: 'g1/' })).items;
    expect(pagesOf(stored)).toEqual(new Set([0, 1]));
    expect(stored.map((document) => document.key)).toEqual(SEALED_PAGE_THEN_SIXTEEN_ENTRIES);
    await games.delete('g1');
    expect((await store.list(HISTORY_COLLECTION, { prefix: 'g1/' })).items).toEqual([]);

    for (let round = 1; round <= 20; round++) await games.persist('g2', { state: state(round) });
    await games.persist('g2', { state: state(21), status: 'completed' });
    clock.advance(61_000);
    await store.sweepExpired();
    expect((await store.list(HISTORY_COLLECTION, { prefix: 'g2/' })).items).toEqual([]);
    await rejection(games.history('g2'), 'NOT_FOUND');
  });

  it('reads and seals an open page stored by earlier versions (entries in the page document)', async () => {
    const games = await open();
    const { seen, write } = recorder(games);
    for (let round = 1; round <= 3; round++) await write(round);
    // As earlier versions stored it: the open page's entries in `e`, no entry documents.
    const entries = (await store.list(HISTORY_COLLECTION, { prefix: 'g1/' })).items;
    expect(entries.map((document) => document.key)).toEqual([
      'g1/0000000000000000.00',
      'g1/0000000000000000.01',
      'g1/0000000000000000.02',
    ]);
    await store.commit([
      ...entries.map((document) => ({
        op: 'delete' as const,
        collection: HISTORY_COLLECTION,
        key: document.key,
      })),
      {
        op: 'put',
        collection: HISTORY_COLLECTION,
        key: 'g1/0000000000000000',
        value: { e: entries.map((document) => document.value) },
      },
    ]);
    for (const [version, record] of seen) expect(await games.restoreVersion('g1', version)).toEqual(record);
    for (let round = 4; round <= 32; round++) await write(round);
    expect((await store.list(HISTORY_COLLECTION, { prefix: 'g1/' })).items.map((d) => d.key)).toEqual(
      SEALED_PAGE_THEN_SIXTEEN_ENTRIES,
    );
    expect((await games.history('g1')).versions.length).toBe(32);
    for (const [version, record] of seen) expect(await games.restoreVersion('g1', version)).toEqual(record);
  });

  it('seals a page that an instance of an earlier version already sealed without its entry documents', async () => {
    const games = await open();
    const { seen, write } = recorder(games);
    for (let round = 1; round <= 14; round++) await write(round);
    // An earlier instance seals page 0 from what it knew (entries 1-10 in its page), during a rolling upgrade.
    const rows = (await store.list(HISTORY_COLLECTION, { prefix: 'g1/' })).items;
    const { deflateRawSync } = await import('node:zlib');
    const known = JSON.stringify(rows.slice(0, 10).map((document) => document.value));
    await store.commit([
      ...rows
        .slice(0, 10)
        .map((d) => ({ op: 'delete' as const, collection: HISTORY_COLLECTION, key: d.key })),
      {
        op: 'put',
        collection: HISTORY_COLLECTION,
        key: 'g1/0000000000000000',
        value: { z: deflateRawSync(known).toString('base64') },
      },
    ]);
    for (let round = 15; round <= 40; round++) await write(round);
    expect((await games.history('g1', { limit: 1000 })).versions.length).toBe(40);
    for (const [version, record] of seen) expect(await games.restoreVersion('g1', version)).toEqual(record);
    const keys = (await store.list(HISTORY_COLLECTION, { prefix: 'g1/' })).items.map((d) => d.key);
    expect(keys.filter((key) => key.startsWith('g1/0000000000000000'))).toEqual(['g1/0000000000000000']);
  });

  it('stays exact when two instances write one game in turns, and when the other one deletes and remakes it', async () => {
    // Entries and seals from either instance, across page boundaries, and a game remade by the other
    // instance up to as many entries as the first one last saw: every version reads back exactly.
    const [a, b] = [await open(), await open()];
    const seen = new Map<number, GameRecord>();
    const write = async (games: Games, round: number) => {
      clock.advance(5);
      await games.appendEvents('g1', { events: [{ type: 'move' }], state: state(round, { by: round }) });
      const record = await games.restore('g1');
      seen.set(record.version, record);
    };
    await a.persist('g1', { state: state(0) });
    seen.set(1, await a.restore('g1'));
    // Runs of one writer, then the other, across page boundaries (16 entries a page) and seals.
    const writers = [a, a, a, b, a, b, b, b, b, a, a, a, a, a, a, a, a, a, b, a, a, a, a, a, a, a];
    for (const [round, games] of writers.entries()) await write(games, round + 1);
    for (const [version, record] of seen) expect(await b.restoreVersion('g1', version)).toEqual(record);

    // b deletes and remakes the game until it has as many entries as a last saw.
    await a.persist('g2', { state: state(0) });
    for (let round = 1; round <= 3; round++)
      await a.appendEvents('g2', { events: [{ type: 'move' }], state: state(round) });
    await b.delete('g2');
    clock.advance(5);
    await b.persist('g2', { state: state(100) });
    for (let round = 101; round <= 103; round++)
      await b.appendEvents('g2', { events: [{ type: 'move' }], state: state(round) });
    clock.advance(5);
    await a.appendEvents('g2', { events: [{ type: 'move' }], state: state(104) });
    const versions = (await a.history('g2')).versions.map((v) => v.version);
    expect(versions).toEqual([5, 4, 3, 2, 1]);
    for (const version of versions)
      expect((await b.restoreVersion('g2', version)).state).toEqual(state(99 + version));
  });

  it('reads back exactly the state current at every retained version (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.oneof(
            fc.record({ kind: fc.constant('persist' as const), value: fc.integer({ min: 0, max: 5 }) }),
            fc.record({ kind: fc.constant('events' as const), value: fc.integer({ min: 0, max: 5 }) }),
            fc.record({ kind: fc.constant('bare' as const), value: fc.constant(0) }),
            fc.record({ kind: fc.constant('rollback' as const), value: fc.nat() }),
          ),
          { minLength: 1, maxLength: 40 },
        ),
        fc.integer({ min: 1, max: 20 }),
        async (steps, retention) => {
          const games = new Games(store, { historyVersions: retention });
          const gameId = `prop-${++gameCounter}`;
          const seen = new Map<number, GameRecord>();
          const made: number[] = [];
          await games.persist(gameId, { state: { step: -1 } });
          made.push(1);
          seen.set(1, await games.restore(gameId));
          for (const [index, step] of steps.entries()) {
            clock.advance(7);
            if (step.kind === 'persist') {
              await games.persist(gameId, {
                state: { step: index, value: step.value },
                phase: `p${step.value}`,
              });
            } else if (step.kind === 'events') {
              await games.appendEvents(gameId, {
                events: [{ type: 'e' }],
                state: { step: index, nested: { v: step.value } },
              });
            } else if (step.kind === 'bare') {
              await games.appendEvents(gameId, { events: [{ type: 'bare' }] });
            } else {
              const retained = (await games.history(gameId)).versions.map((v) => v.version);
              const toVersion = retained[step.value % retained.length] as number;
              await games.rollback(gameId, { toVersion });
            }
            const record = await games.restore(gameId);
            if (step.kind !== 'bare' && !seen.has(record.version)) made.push(record.version);
            seen.set(record.version, record);
          }
          const retained = made.slice(-retention).reverse();
          expect((await games.history(gameId, { limit: 1000 })).versions.map((v) => v.version)).toEqual(
            retained,
          );
          for (const version of retained)
            expect(await games.restoreVersion(gameId, version)).toEqual(seen.get(version));
          const at = retained[retained.length - 1] as number;
          const fork = await games.fork(gameId, { newGameId: `${gameId}-fork`, atVersion: at });
          const source = seen.get(at) as GameRecord;
          expect(await games.restore(fork.gameId)).toMatchObject({
            state: source.state,
            lastSeq: source.lastSeq,
            version: 1,
          });
          const forkEvents = await games.readEvents(fork.gameId, { limit: 1000 });
          const sourceEvents = (await games.readEvents(gameId, { limit: 1000 })).slice(0, source.lastSeq);
          expect(forkEvents.map(({ seq, type, data }) => ({ seq, type, data }))).toEqual(
            sourceEvents.map(({ seq, type, data }) => ({ seq, type, data })),
          );
        },
      ),
      { numRuns: storage.name === 'memory' ? 60 : 15 },
    );
  });
});
