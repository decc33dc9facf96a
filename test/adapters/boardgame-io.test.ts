/** Every `StorageAPI.Async` method of the boardgame.io storage, on memory, SQLite and PostgreSQL. */
import type { LogEntry, Server, State } from 'boardgame.io';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SavepointStorage } from '../../src/adapters/boardgame-io/index.js';
import { openSavepoint, type Savepoint } from '../../src/index.js';
import { uniqueName } from '../support/services.js';
import { testStorages } from '../support/storages.js';

const { storages, sqliteUrl, cleanup } = await testStorages('sp_bgio');
afterAll(cleanup);

/** One store per storage, shared by that storage's tests. */
const drivers = storages.map((storage) => ({
  name: storage.name,
  url: storage.url(),
  skip: !storage.enabled,
}));

/** A tic-tac-toe state shaped as boardgame.io builds it (fields the storage never looks into). */
function stateAt(stateID: number, cells: ReadonlyArray<string | null>, gameover?: unknown): State {
  return {
    G: { cells: [...cells] },
    ctx: {
      numPlayers: 2,
      playOrder: ['0', '1'],
      playOrderPos: stateID % 2,
      activePlayers: null,
      currentPlayer: String(stateID % 2),
      turn: stateID + 1,
      phase: 'default',
      ...(gameover === undefined ? {} : { gameover }),
    },
    plugins: {},
    _undo: [],
    _redo: [],
    _stateID: stateID,
  } as unknown as State;
}

function move(stateID: number, cell: number): LogEntry {
  return {
    action: {
      type: 'MAKE_MOVE',
      payload: { type: 'clickCell', args: [cell], playerID: String(stateID % 2) },
    },
    _stateID: stateID,
    turn: stateID + 1,
    phase: 'default',
  } as LogEntry;
}

function metadataOf(gameName: string, updatedAt: number, gameover?: unknown): Server.MatchData {
  return {
    gameName,
    players: { 0: { id: 0 }, 1: { id: 1 } },
    createdAt: 1000,
    updatedAt,
    ...(gameover === undefined ? {} : { gameover }),
  };
}

const empty = Array<string | null>(9).fill(null);

for (const driver of drivers) {
  describe.skipIf(driver.skip)(`SavepointStorage on ${driver.name}`, () => {
    let savepoint: Savepoint;
    let db: SavepointStorage;
    beforeAll(async () => {
      savepoint = await openSavepoint({ url: driver.url });
      db = new SavepointStorage(savepoint, { prefix: uniqueName('bgio') });
      await db.connect();
    });
    afterAll(async () => {
      await db?.close();
      await savepoint?.close();
    });

    it('is an async storage for boardgame.io', () => {
      expect(db.type()).toBe(1);
    });

    it('createMatch stores state, initial state and metadata; fetch returns only what is asked', async () => {
      const initial = stateAt(0, empty);
      await db.createMatch('m1', { initialState: initial, metadata: metadataOf('tic-tac-toe', 1000) });
      expect(await db.fetch('m1', { state: true })).toEqual({ state: initial });
      expect(await db.fetch('m1', { metadata: true })).toEqual({ metadata: metadataOf('tic-tac-toe', 1000) });
      expect(await db.fetch('m1', { initialState: true, log: true })).toEqual({
        initialState: initial,
        log: [],
      });
      expect(await db.fetch('m1', {})).toEqual({});
    });

    it('a second createMatch of the same ID leaves the match in play untouched', async () => {
      await db.createMatch('m-twice', { initialState: stateAt(0, empty), metadata: metadataOf('g', 1) });
      await db.setState('m-twice', stateAt(1, ['0', ...empty.slice(1)]), [move(0, 0)]);
      await db.createMatch('m-twice', { initialState: stateAt(0, empty), metadata: metadataOf('g', 2) });
      const { state, log, metadata } = await db.fetch('m-twice', { state: true, log: true, metadata: true });
      expect(state._stateID).toBe(1);
      expect(log).toEqual([move(0, 0)]);
      expect(metadata.updatedAt).toBe(1);
    });

    it('setState appends the deltalog to the log and the log reads back in order', async () => {
      await db.createMatch('m2', {
        initialState: stateAt(0, empty),
        metadata: metadataOf('tic-tac-toe', 1000),
      });
      const s1 = stateAt(1, ['0', null, null, null, null, null, null, null, null]);
      await db.setState('m2', s1, [move(0, 0)]);
      const s2 = stateAt(2, ['0', '1', null, null, null, null, null, null, null]);
      await db.setState('m2', s2, [move(1, 1)]);
      // A rejected move rewrites the same state without log entries, as boardgame.io's master does.
      await db.setState('m2', s2, []);
      const { state, log, initialState } = await db.fetch('m2', {
        state: true,
        log: true,
        initialState: true,
      });
      expect(state).toEqual(s2);
      expect(log).toEqual([move(0, 0), move(1, 1)]);
      expect(initialState).toEqual(stateAt(0, empty));
      expect(await savepoint.store.streamHead(`${db.prefix}.log/m2`)).toBe(2);
    });

    it('setState rejects an older _stateID, and a same _stateID bringing log entries, and changes nothing', async () => {
      await db.createMatch('m3', { initialState: stateAt(0, empty), metadata: metadataOf('g', 1) });
      await db.setState('m3', stateAt(1, ['0', ...empty.slice(1)]), [move(0, 0)]);
      await db.setState('m3', stateAt(2, ['0', '1', ...empty.slice(2)]), [move(1, 1)]);
      await expect(
        db.setState('m3', stateAt(1, ['0', ...empty.slice(1)]), [move(0, 0)]),
      ).rejects.toMatchObject({
        code: 'VERSION_CONFLICT',
        details: { storedStateID: 2, stateID: 1 },
      });
      await expect(
        db.setState('m3', stateAt(2, ['0', null, '1', ...empty.slice(3)]), [move(1, 2)]),
      ).rejects.toMatchObject({ code: 'VERSION_CONFLICT' });
      const { state, log } = await db.fetch('m3', { state: true, log: true });
      expect(state._stateID).toBe(2);
      expect((state.G as { cells: unknown[] }).cells[1]).toBe('1');
      expect(log).toEqual([move(0, 0), move(1, 1)]);
    });

    it('of racing writers from the same base exactly one wins, and the log holds only its entries', async () => {
      await db.createMatch('m-race', { initialState: stateAt(0, empty), metadata: metadataOf('g', 1) });
      const writers = [0, 1, 2, 3, 4, 5, 6, 7].map((cell) =>
        db.setState(
          'm-race',
          stateAt(
            1,
            empty.map((_, i) => (i === cell ? '0' : null)),
          ),
          [move(0, cell)],
        ),
      );
      const outcomes = await Promise.allSettled(writers);
      const won = outcomes.flatMap((outcome, cell) => (outcome.status === 'fulfilled' ? [cell] : []));
      expect(won).toHaveLength(1);
      for (const outcome of outcomes) {
        if (outcome.status === 'rejected') expect(outcome.reason).toMatchObject({ code: 'VERSION_CONFLICT' });
      }
      const { state, log } = await db.fetch('m-race', { state: true, log: true });
      expect((state.G as { cells: unknown[] }).cells[won[0] as number]).toBe('0');
      expect(log).toEqual([move(0, won[0] as number)]);
    });

    it('setMetadata replaces the metadata', async () => {
      await db.createMatch('m4', { initialState: stateAt(0, empty), metadata: metadataOf('g', 1) });
      await db.setMetadata('m4', metadataOf('g', 5, { winner: '0' }));
      expect((await db.fetch('m4', { metadata: true })).metadata).toEqual(
        metadataOf('g', 5, { winner: '0' }),
      );
    });

    it('fetch of an unknown match gives undefined fields and an empty log', async () => {
      expect(await db.fetch('nope', { state: true, metadata: true, initialState: true, log: true })).toEqual({
        state: undefined,
        metadata: undefined,
        initialState: undefined,
        log: [],
      });
    });

    it('wipe removes state, metadata, initial state and log; a new match of that ID starts clean', async () => {
      await db.createMatch('m5', { initialState: stateAt(0, empty), metadata: metadataOf('g', 1) });
      await db.setState('m5', stateAt(1, ['0', ...empty.slice(1)]), [move(0, 0)]);
      await db.wipe('m5');
      expect(await db.fetch('m5', { state: true, metadata: true, initialState: true, log: true })).toEqual({
        state: undefined,
        metadata: undefined,
        initialState: undefined,
        log: [],
      });
      expect(await db.listMatches()).not.toContain('m5');
      await db.createMatch('m5', { initialState: stateAt(0, empty), metadata: metadataOf('g', 1) });
      expect((await db.fetch('m5', { log: true })).log).toEqual([]);
    });

    it('listMatches filters by gameName, isGameover, updatedBefore and updatedAfter', async () => {
      const listed = new SavepointStorage(savepoint, { prefix: uniqueName('list') });
      const create = (id: string, metadata: Server.MatchData) =>
        listed.createMatch(id, { initialState: stateAt(0, empty), metadata });
      await create('a', metadataOf('chess', 100));
      await create('b', metadataOf('chess', 200, { winner: '1' }));
      await create('c', metadataOf('tic-tac-toe', 300));
      await create('d', metadataOf('tic-tac-toe', 400, { draw: true }));
      expect(await listed.listMatches()).toEqual(['a', 'b', 'c', 'd']);
      expect(await listed.listMatches({ gameName: 'chess' })).toEqual(['a', 'b']);
      expect(await listed.listMatches({ where: { isGameover: true } })).toEqual(['b', 'd']);
      expect(await listed.listMatches({ where: { isGameover: false } })).toEqual(['a', 'c']);
      expect(await listed.listMatches({ where: { updatedBefore: 300 } })).toEqual(['a', 'b']);
      expect(await listed.listMatches({ where: { updatedAfter: 200 } })).toEqual(['c', 'd']);
      expect(
        await listed.listMatches({
          gameName: 'tic-tac-toe',
          where: { isGameover: false, updatedAfter: 100, updatedBefore: 400 },
        }),
      ).toEqual(['c']);
    });
  });
}

describe('SavepointStorage({ url })', () => {
  it('opens its store on connect, keeps matches across instances and closes it on close', async () => {
    const url = sqliteUrl();
    const first = new SavepointStorage({ url });
    await first.connect();
    await first.createMatch('m', { initialState: stateAt(0, empty), metadata: metadataOf('g', 1) });
    await first.setState('m', stateAt(1, ['0', ...empty.slice(1)]), [move(0, 0)]);
    await first.close();

    const second = new SavepointStorage({ url });
    const { state, log } = await second.fetch('m', { state: true, log: true });
    expect(state._stateID).toBe(1);
    expect(log).toEqual([move(0, 0)]);
    await second.close();
  });

  it('rejects every call with the reason when the store cannot open', async () => {
    const db = new SavepointStorage({ url: 'nosuch:x' });
    await expect(db.connect()).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(db.fetch('m', { state: true })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });
});
