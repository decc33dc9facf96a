/**
 * The PostgreSQL driver's one-round-trip path: a batch on rows this instance saw last is planned
 * against what it saw and sent as one pipeline behind a check that the rows did not change. These
 * tests count round trips on the wire (a counting proxy in front of PostgreSQL) and make the rows
 * change behind an instance's back, to show the check catches every way they can.
 */
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WireCounter, type WireCounts } from '../../bench/postgres/wire-count.js';
import { openPostgresDriver } from '../../src/drivers/postgres/postgres-driver.js';
import type { Change } from '../../src/engine/driver.js';
import { Store } from '../../src/engine/store.js';
import type { CommitOp } from '../../src/engine/types.js';
import { SavepointError } from '../../src/errors.js';
import { postgresAvailable, postgresUrl, uniqueName } from '../support/services.js';

const available = await postgresAvailable();

async function expectCode(promise: Promise<unknown>, code: string): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(SavepointError);
  expect((error as SavepointError).code).toBe(code);
}

/** Retries `check` until it passes or `timeoutMs` runs out (for asynchronous deliveries). */
async function eventually(check: () => void | Promise<void>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
}

/** A store whose PostgreSQL traffic goes through its own counting proxy. */
interface CountedStore {
  readonly store: Store;
  /** The round trips and statements `run` sent (the store's own traffic only). */
  counted(run: () => Promise<unknown>): Promise<WireCounts>;
}

describe.skipIf(!available)('postgres driver: one round trip per batch on rows seen last', () => {
  const schemas: string[] = [];
  const stores: Store[] = [];
  const proxies: WireCounter[] = [];
  let admin: postgres.Sql;

  /**
   * One pooled connection by default, so that counts are steady: postgres.js prepares each
   * statement on each connection the first time it runs there, which costs a round trip of its own.
   * Each test therefore runs every kind of batch it counts once before counting it.
   */
  const open = async (schema: string, poolSize = 1): Promise<CountedStore> => {
    const target = new URL(postgresUrl);
    const proxy = await WireCounter.start({ host: target.hostname, port: Number(target.port || 5432) });
    proxies.push(proxy);
    const store = new Store(await openPostgresDriver({ url: proxy.urlFor(postgresUrl), schema, poolSize }));
    stores.push(store);
    return {
      store,
      counted: async (run) => {
        const before = proxy.snapshot();
        await run();
        return proxy.since(before);
      },
    };
  };
  const freshSchema = (): string => {
    const schema = uniqueName('sp_pg1rt');
    schemas.push(schema);
    return schema;
  };

  beforeAll(() => {
    admin = postgres(postgresUrl, { max: 2, onnotice: () => {} });
  });

  afterAll(async () => {
    await Promise.all(stores.map((store) => store.close()));
    await Promise.all(proxies.map((proxy) => proxy.close()));
    for (const schema of schemas) await admin`DROP SCHEMA IF EXISTS ${admin(schema)} CASCADE`;
    await admin.end();
  });

  const gameAction = (move: number, version: number, head: number, history = 'g'): CommitOp[] => [
    { op: 'append', stream: 'game', events: [{ type: 'move', data: { move } }], expectedHead: head },
    { op: 'put', collection: 'games', key: 'g', value: { move }, expectedVersion: version },
    { op: 'patch', collection: 'history', key: history, patch: { $push: { moves: move } }, upsert: true },
  ];

  it('a game action (events, a conditional put and a patch) takes one round trip once its rows were seen', async () => {
    const { store, counted } = await open(freshSchema());
    await store.commit([{ op: 'put', collection: 'games', key: 'g', value: { move: 0 } }]);
    await store.commit([{ op: 'append', stream: 'game', events: [{ type: 'start' }] }]);
    // Never seen the history page: loaded first (two round trips). Then guessed (one).
    await store.commit(gameAction(1, 1, 1));
    await store.commit(gameAction(2, 2, 2));
    for (let move = 3; move <= 5; move++) {
      const wire = await counted(() => store.commit(gameAction(move, move, move)));
      expect(wire.roundTrips).toBe(1);
    }
    const unseen = await counted(() => store.commit(gameAction(6, 6, 6, 'other')));
    expect(unseen.roundTrips).toBe(2);
    expect((await store.get('games', 'g'))?.version).toBe(7);
    expect((await store.get('history', 'g'))?.value).toEqual({ moves: [1, 2, 3, 4, 5] });
    expect((await store.get('history', 'other'))?.value).toEqual({ moves: [6] });
    const events = await store.readStream('game');
    expect(events.map((event) => event.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(events.at(-1)).toMatchObject({ type: 'move', data: { move: 6 } });
  });

  it('a new key written by a put is guessed absent: one round trip, and a row another instance made is found', async () => {
    const schema = freshSchema();
    const { store, counted } = await open(schema);
    await store.commit([{ op: 'put', collection: 'games', key: 'g', value: { move: 0 } }]);
    await store.commit([{ op: 'append', stream: 'game', events: [{ type: 'start' }] }]);
    const withEntry = (move: number, entryKey: string): CommitOp[] => [
      { op: 'append', stream: 'game', events: [{ type: 'move', data: { move } }], expectedHead: move },
      { op: 'put', collection: 'games', key: 'g', value: { move }, expectedVersion: move },
      { op: 'put', collection: 'entries', key: entryKey, value: { move }, mustNotExist: true },
    ];
    // The first one prepares the statement on this connection.
    await store.commit(withEntry(1, 'e1'));
    for (let move = 2; move <= 4; move++) {
      const wire = await counted(() => store.commit(withEntry(move, `e${move}`)));
      expect(wire.roundTrips).toBe(1);
    }
    // Another instance writes the next entry's key first: the guess is caught, nothing is written
    // twice, and the condition fails as on the usual path.
    const other = await open(schema);
    await other.store.commit([{ op: 'put', collection: 'entries', key: 'e5', value: { by: 'other' } }]);
    await expectCode(store.commit(withEntry(5, 'e5')), 'VERSION_CONFLICT');
    expect((await store.get('entries', 'e5'))?.value).toEqual({ by: 'other' });
    expect((await store.get('games', 'g'))?.version).toBe(5);
    // An unconditional put onto that row answers the version the row really has.
    const replaced = await store.commit([
      { op: 'put', collection: 'entries', key: 'e5', value: { by: 'me' } },
    ]);
    expect(replaced.results[0]).toMatchObject({ document: { version: 2 } });
    expect((await store.readStream('game')).map((event) => event.seq)).toEqual([1, 2, 3, 4, 5]);
  });

  it('a batch that drops a stream it saw goes in one pipelined transaction (one round trip)', async () => {
    const { store, counted } = await open(freshSchema());
    const seen = async (stream: string) => {
      await store.commit([{ op: 'append', stream, events: [{ type: 'a' }] }]);
      await store.commit([{ op: 'append', stream, events: [{ type: 'b' }], expectedHead: 1 }]);
    };
    await seen('first');
    await seen('second');
    // The first one prepares the pipeline's statements on this connection.
    await store.commit([{ op: 'deleteStream', stream: 'first' }]);
    let dropped: Awaited<ReturnType<Store['commit']>> | undefined;
    const wire = await counted(async () => {
      dropped = await store.commit([{ op: 'deleteStream', stream: 'second' }]);
    });
    expect(dropped?.results[0]).toEqual({ op: 'deleteStream', deleted: true });
    expect(await store.readStream('second')).toEqual([]);
    expect(await store.streamHead('second')).toBe(0);
    const again = await store.commit([{ op: 'append', stream: 'second', events: [{ type: 'c' }] }]);
    expect(again.results[0]).toMatchObject({ firstSeq: 1, lastSeq: 1 });
    expect(wire.roundTrips).toBe(1);
  });

  it('a failed condition fails with the same code and writes nothing, while its neighbours apply, in one round trip', async () => {
    const { store, counted } = await open(freshSchema());
    await store.commit([{ op: 'put', collection: 'games', key: 'g', value: { move: 0 } }]);
    await store.commit([{ op: 'append', stream: 'game', events: [{ type: 'start' }] }]);
    await store.commit(gameAction(1, 1, 1));
    await store.commit(gameAction(2, 2, 2));
    let batch: Array<Promise<unknown>> = [];
    const wire = await counted(async () => {
      // Issued in one tick: one group, one batch.
      batch = [
        store.commit(gameAction(3, 2, 3)), // stale version
        store.commit(gameAction(3, 3, 2)), // stale head
        store.commit(gameAction(3, 3, 3)),
      ];
      await Promise.allSettled(batch);
    });
    expect(wire.roundTrips).toBe(1);
    const [staleVersion, staleHead, good] = batch as [Promise<unknown>, Promise<unknown>, Promise<unknown>];
    await expectCode(staleVersion, 'VERSION_CONFLICT');
    await expectCode(staleHead, 'VERSION_CONFLICT');
    await expect(good).resolves.toMatchObject({
      results: [{ firstSeq: 4 }, { document: { version: 4 } }, {}],
    });
    expect((await store.get('games', 'g'))?.version).toBe(4);
    expect((await store.get('history', 'g'))?.value).toEqual({ moves: [1, 2, 3] });
    expect((await store.readStream('game')).map((event) => event.seq)).toEqual([1, 2, 3, 4]);
    // A lone failing commit: nothing written, same code, still one round trip (once its statement,
    // which has no writes, is prepared).
    await expectCode(store.commit(gameAction(4, 98, 4)), 'VERSION_CONFLICT');
    const lone = await counted(() => expectCode(store.commit(gameAction(4, 99, 4)), 'VERSION_CONFLICT'));
    expect(lone.roundTrips).toBe(1);
    expect((await store.get('games', 'g'))?.version).toBe(4);
    expect((await store.get('history', 'g'))?.value).toEqual({ moves: [1, 2, 3] });
    expect(await store.streamHead('game')).toBe(4);
  });

  it('rows another instance changed meanwhile are caught: conditions judge the real rows, patches apply to the real values', async () => {
    const schema = freshSchema();
    const { store: mine, counted } = await open(schema);
    const { store: theirs } = await open(schema);
    const patch = (n: number): CommitOp[] => [
      { op: 'patch', collection: 'c', key: 'doc', patch: { $inc: { n } } },
    ];
    await mine.commit([
      { op: 'put', collection: 'c', key: 'doc', value: { n: 1 } },
      { op: 'append', stream: 's', events: [{ type: 'a' }] },
    ]);
    await mine.commit(patch(1));
    expect((await counted(() => mine.commit(patch(1)))).roundTrips).toBe(1);
    // Nobody listens, so `mine` is not told: it still sees version 3, { n: 3 }. The guess fails its
    // check (one round trip, nothing written), then the batch runs the usual way (two more). Twice:
    // the first time prepares the usual path's UPDATE on this connection.
    await theirs.commit(patch(5));
    expect((await mine.commit(patch(1))).results[0]).toMatchObject({
      document: { value: { n: 9 }, version: 5 },
    });
    await theirs.commit(patch(5));
    let patched: Awaited<ReturnType<Store['commit']>> | undefined;
    const caught = await counted(async () => {
      patched = await mine.commit(patch(1));
    });
    expect(caught.roundTrips).toBe(3);
    expect(patched?.results[0]).toMatchObject({ document: { value: { n: 15 }, version: 7 } });

    await theirs.commit([
      { op: 'put', collection: 'c', key: 'doc', value: { n: 10 }, expectedVersion: 7 },
      { op: 'append', stream: 's', events: [{ type: 'b' }], expectedHead: 1 },
    ]);
    await expectCode(
      mine.commit([{ op: 'put', collection: 'c', key: 'doc', value: 'old', expectedVersion: 7 }]),
      'VERSION_CONFLICT',
    );
    await theirs.commit([{ op: 'append', stream: 's', events: [{ type: 'c' }] }]);
    await expectCode(
      mine.commit([{ op: 'append', stream: 's', events: [{ type: 'x' }], expectedHead: 1 }]),
      'VERSION_CONFLICT',
    );
    // Deleted behind its back ...
    await theirs.commit([{ op: 'delete', collection: 'c', key: 'doc' }]);
    await expectCode(
      mine.commit([{ op: 'put', collection: 'c', key: 'doc', value: 'x', expectedVersion: 8 }]),
      'VERSION_CONFLICT',
    );
    // ... and created again where it last saw nothing.
    await theirs.commit([{ op: 'put', collection: 'c', key: 'doc', value: 'again' }]);
    const recreated = await mine.commit([
      { op: 'put', collection: 'c', key: 'doc', value: 'mine', expectedVersion: 1 },
    ]);
    expect(recreated.results[0]).toMatchObject({ document: { version: 2, value: 'mine' }, created: false });
    await mine.commit([{ op: 'delete', collection: 'c', key: 'fresh' }]);
    await theirs.commit([{ op: 'put', collection: 'c', key: 'fresh', value: 1 }]);
    await expectCode(
      mine.commit([{ op: 'put', collection: 'c', key: 'fresh', value: 2, mustNotExist: true }]),
      'VERSION_CONFLICT',
    );
    expect((await theirs.get('c', 'fresh'))?.value).toBe(1);
    const appended = await mine.commit([{ op: 'append', stream: 's', events: [{ type: 'd' }] }]);
    expect(appended.results[0]).toMatchObject({ firstSeq: 4, lastSeq: 4 });
    expect((await mine.readStream('s')).map((event) => event.type)).toEqual(['a', 'b', 'c', 'd']);
  });

  it('group commit still works: concurrent game actions on many games and concurrent $inc on one key across instances', async () => {
    const schema = freshSchema();
    const a = (await open(schema, 10)).store;
    const b = (await open(schema, 10)).store;
    const games = Array.from({ length: 20 }, (_, i) => `g${i}`);
    for (const game of games) {
      await a.commit([
        { op: 'put', collection: 'games', key: game, value: { move: 0 } },
        { op: 'append', stream: game, events: [{ type: 'start' }] },
      ]);
    }
    const moves = 10;
    await Promise.all(
      games.map(async (game) => {
        for (let move = 1; move <= moves; move++) {
          await a.commit([
            { op: 'append', stream: game, events: [{ type: 'move', data: { move } }], expectedHead: move },
            { op: 'put', collection: 'games', key: game, value: { move }, expectedVersion: move },
          ]);
        }
      }),
    );
    for (const game of games) {
      expect(await a.streamHead(game)).toBe(moves + 1);
      expect(await a.get('games', game)).toMatchObject({ version: moves + 1, value: { move: moves } });
    }
    await a.commit([{ op: 'put', collection: 'c', key: 'total', value: { n: 0 } }]);
    await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        (i % 2 === 0 ? a : b).commit([
          { op: 'patch', collection: 'c', key: 'total', patch: { $inc: { n: 1 } } },
        ]),
      ),
    );
    expect((await b.get('c', 'total'))?.value).toEqual({ n: 200 });
  });

  it('another instance hears a one-round-trip batch, and an instance that hears a change forgets what it saw', async () => {
    const schema = freshSchema();
    const { store: writer, counted: countWriter } = await open(schema);
    const { store: reader, counted: countReader } = await open(schema);
    const heard: Change[] = [];
    reader.subscribe((batch) => {
      if (batch.origin === 'external') heard.push(...batch.changes);
    });
    await eventually(async () => {
      await writer.commit([{ op: 'put', collection: 'ping', key: 'p', value: 1 }]);
      expect(heard.length).toBeGreaterThan(0);
    });
    const action = (version: number, type: string): CommitOp[] => [
      { op: 'put', collection: 'c', key: 'k', value: version + 1, expectedVersion: version },
      { op: 'append', stream: 's', events: [{ type }], expectedHead: version },
    ];
    await writer.commit([
      { op: 'put', collection: 'c', key: 'k', value: 1 },
      { op: 'append', stream: 's', events: [{ type: 'a' }] },
    ]);
    await writer.commit(action(1, 'b'));
    await eventually(() => expect(heard).toContainEqual(expect.objectContaining({ kind: 'stream' })));
    heard.length = 0;
    const wire = await countWriter(() => writer.commit(action(2, 'c')));
    expect(wire.roundTrips).toBe(1);
    await eventually(() => {
      expect(heard).toContainEqual(
        expect.objectContaining({
          kind: 'document',
          collection: 'c',
          key: 'k',
          document: expect.objectContaining({ version: 3, value: 3 }),
        }),
      );
      expect(heard).toContainEqual({
        kind: 'stream',
        stream: 's',
        events: [expect.objectContaining({ seq: 3, type: 'c' })],
      });
    });
    // The reader appends (loaded, then guessed: its connection prepares both kinds), so it has seen
    // the stream last. Then it hears the writer append and forgets the stream: its next append
    // loads it (two round trips) instead of guessing wrong first (three).
    await reader.commit([{ op: 'append', stream: 's', events: [{ type: 'd' }] }]);
    await reader.commit([{ op: 'append', stream: 's', events: [{ type: 'd' }] }]);
    expect(
      (await countReader(() => reader.commit([{ op: 'append', stream: 's', events: [{ type: 'e' }] }])))
        .roundTrips,
    ).toBe(1);
    heard.length = 0;
    await writer.commit([{ op: 'append', stream: 's', events: [{ type: 'f' }] }]);
    await eventually(() => expect(heard).toHaveLength(1));
    const afterHearing = await countReader(() =>
      reader.commit([{ op: 'append', stream: 's', events: [{ type: 'g' }] }]),
    );
    expect(afterHearing.roundTrips).toBe(2);
    expect((await reader.readStream('s')).map((event) => event.type)).toEqual([
      'a',
      'b',
      'c',
      'd',
      'd',
      'e',
      'f',
      'g',
    ]);
  });
});
