import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { GameEvent } from '../../src/domains/games/game-record.js';
import { Games } from '../../src/domains/games/games.js';
import type { Driver, ExternalChangeListener } from '../../src/engine/driver.js';
import { Store } from '../../src/engine/store.js';
import type { JsonObject } from '../../src/engine/types.js';
import { SavepointError } from '../../src/errors.js';
import { testStorages } from '../support/storages.js';

/** A driver whose external change feed the test drives, and whose writes it can make fail. */
interface Harness {
  readonly driver: Driver;
  fireExternal(changes: Parameters<ExternalChangeListener>[0]): void;
  failing: boolean;
}

function harness(inner: Driver): Harness {
  const listeners = new Set<ExternalChangeListener>();
  const state: Harness = {
    failing: false,
    fireExternal: (changes) => {
      for (const listener of listeners) listener(changes);
    },
    driver: new Proxy(inner, {
      get(target, property) {
        if (property === 'onExternalChange') {
          return (listener: ExternalChangeListener) => {
            listeners.add(listener);
            return () => listeners.delete(listener);
          };
        }
        if (property === 'applyBatch' && state.failing) {
          return async () => {
            throw new SavepointError('STORAGE_UNAVAILABLE', 'storage is down (test)');
          };
        }
        const value = Reflect.get(target, property, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    }),
  };
  return state;
}

const { storages, cleanup } = await testStorages('sp_games_feed');
afterAll(cleanup);
const targets = storages
  .filter((storage) => storage.enabled)
  .map((storage) => ({ name: storage.name, open: storage.openDriver }));

/** Takes `count` events from a feed. */
async function take(feed: AsyncIterator<GameEvent>, count: number): Promise<GameEvent[]> {
  const events: GameEvent[] = [];
  while (events.length < count) {
    const next = await feed.next();
    if (next.done) break;
    events.push(next.value);
  }
  return events;
}

const seqs = (events: readonly GameEvent[]): number[] => events.map((e) => e.seq);
const range = (from: number, to: number): number[] =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe.each(targets)('game feed and tracker on $name', (target) => {
  let h: Harness;
  let store: Store;
  let games: Games;

  beforeEach(async () => {
    h = harness(await target.open());
    store = new Store(h.driver);
    games = new Games(store);
    await games.persist('g1', { state: {}, players: ['alice'] });
  });
  afterEach(async () => {
    h.failing = false;
    await store.close();
  });

  const append = (count: number, from = 0) =>
    games.appendEvents('g1', {
      events: Array.from({ length: count }, (_, i) => ({ type: 'e', data: from + i })),
    });

  it('replays after the given seq, then streams live events; break unsubscribes', async () => {
    await append(5);
    const seen: number[] = [];
    const feed = games.subscribe('g1', { after: 2 });
    for await (const event of feed) {
      seen.push(event.seq);
      if (event.seq === 5) await append(3);
      if (event.seq === 8) break;
    }
    expect(seen).toEqual([3, 4, 5, 6, 7, 8]);
    expect(feed.lastSeq).toBe(8);
    // Ended: later events are not delivered.
    await append(1);
    expect(await feed.next()).toEqual({ value: undefined, done: true });
  });

  it('loses and repeats nothing when appends race the replay', async () => {
    await append(50);
    const writer = (async () => {
      for (let i = 0; i < 30; i++) await append(2);
    })();
    const feed = games.subscribe('g1');
    const events = await take(feed, 110);
    await writer;
    await feed.return();
    expect(seqs(events)).toEqual(range(1, 110));
  });

  it('fills a gap in the live feed and re-reads on an unknown external change', async () => {
    const feed = games.subscribe('g1');
    await append(1);
    expect(seqs(await take(feed, 1))).toEqual([1]);
    // Another instance writes 2..4 through its own store: this store hears nothing...
    const other = new Games(new Store(h.driver));
    await other.appendEvents('g1', { events: [{ type: 'x' }, { type: 'y' }, { type: 'z' }] });
    // ...until a vague "something changed", as the SQLite watcher or a lost Redis message reports.
    h.fireExternal([{ kind: 'unknown' }]);
    expect(seqs(await take(feed, 3))).toEqual([2, 3, 4]);
    // A live event whose seq jumps ahead makes the feed read the events in between.
    await other.appendEvents('g1', { events: [{ type: 'p' }, { type: 'q' }] });
    const six = (await store.readStream('game:g1', { after: 5 }))[0];
    h.fireExternal([{ kind: 'stream', stream: 'game:g1', events: six === undefined ? [] : [six] }]);
    expect(seqs(await take(feed, 2))).toEqual([5, 6]);
    await feed.return();
  });

  it('return() ends a waiting next(), and an aborted signal ends the feed', async () => {
    const feed = games.subscribe('g1');
    const pending = feed.next();
    await feed.return();
    expect(await pending).toEqual({ value: undefined, done: true });

    const controller = new AbortController();
    const aborted = games.subscribe('g1', { signal: controller.signal });
    const waiting = aborted.next();
    controller.abort();
    expect(await waiting).toEqual({ value: undefined, done: true });
  });

  it('ends when the game is deleted', async () => {
    await append(1);
    const feed = games.subscribe('g1');
    expect(seqs(await take(feed, 1))).toEqual([1]);
    const waiting = feed.next();
    await games.delete('g1');
    expect(await waiting).toEqual({ value: undefined, done: true });
  });

  it('openFeed checks the game, the token and Last-Event-ID', async () => {
    await append(2);
    await expect(games.openFeed('nope')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(games.openFeed('g1', { after: 3 })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(games.openFeed('g1', { playerId: 'alice', token: 'bad' })).rejects.toMatchObject({
      code: 'TOKEN_INVALID',
    });
    const { token } = await games.issueToken('g1', 'alice');
    const feed = await games.openFeed('g1', { playerId: 'alice', token, after: 1 });
    expect(seqs(await take(feed, 1))).toEqual([2]);
    await feed.return();
    // The stream does not spend the token.
    await games.reconnect('g1', { playerId: 'alice', reconnectToken: token });
  });

  describe('tracker', () => {
    interface Table extends JsonObject {
      pot: number;
      turn: number;
    }

    it('writes each action with the snapshot taken right after it, in order', async () => {
      const table: Table = { pot: 0, turn: 0 };
      let phase = 'preflop';
      const tracker = games.track('t1', {
        getState: () => table,
        getPhase: () => phase,
        getPlayers: () => ['alice', 'bob'],
      });
      // Not awaited one by one: the tracker queues and batches, yet keeps order and per-action snapshots.
      const acks = [];
      for (let i = 1; i <= 10; i++) {
        table.pot += i;
        table.turn = i;
        acks.push(tracker.action('bet', { chips: i }));
      }
      phase = 'flop';
      acks.push(tracker.phaseChanged());
      const results = await Promise.all(acks);
      expect(results.map((r) => r.firstSeq)).toEqual(range(1, 11));
      await tracker.flush();
      expect(tracker.lastSeq).toBe(11);
      const restored = await games.restore('t1');
      expect(restored).toMatchObject({ state: { pot: 55, turn: 10 }, phase: 'flop', lastSeq: 11 });
      expect(restored.players).toEqual(['alice', 'bob']);
      const events = await games.readEvents('t1');
      expect(events.at(-1)).toMatchObject({ type: 'phase', data: { phase: 'flop' } });
      expect(events[2]).toMatchObject({ type: 'bet', data: { chips: 3 } });
      await tracker.checkpoint({ status: 'completed' });
      expect((await games.restore('t1')).status).toBe('completed');
    });

    it('refuses a state that is not JSON, as persist would', async () => {
      const tracker = games.track('t-bad', { getState: () => ({ pot: Number.NaN }) });
      await expect(tracker.action('bet')).rejects.toMatchObject({ code: 'INVALID_INPUT' });
      const cyclic: JsonObject = { pot: 1 };
      (cyclic as Record<string, unknown>).self = cyclic;
      const looping = games.track('t-cycle', { getState: () => cyclic });
      await expect(looping.checkpoint()).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    });

    it('keeps writes queued through a storage outage and lands them in order', async () => {
      const table: Table = { pot: 0, turn: 0 };
      const errors: string[] = [];
      const tracker = games.track(
        'g1',
        { getState: () => table, onError: (error, willRetry) => errors.push(`${error.code}:${willRetry}`) },
        { maxRetryDelayMs: 20 },
      );
      await tracker.action('start');
      h.failing = true;
      const acks = [1, 2, 3].map((i) => {
        table.pot = i;
        return tracker.action('bet', { chips: i });
      });
      await new Promise((resolve) => setTimeout(resolve, 80));
      expect(tracker.pending).toBe(3);
      h.failing = false;
      expect((await Promise.all(acks)).map((r) => r.firstSeq)).toEqual([2, 3, 4]);
      expect(errors[0]).toBe('STORAGE_UNAVAILABLE:true');
      expect(await games.restore('g1')).toMatchObject({ state: { pot: 3 }, lastSeq: 4 });
    });

    it('a second writer makes the owner fail with VERSION_CONFLICT instead of interleaving', async () => {
      const tracker = games.track('g1', { getState: () => ({}) });
      await tracker.action('a');
      await games.appendEvents('g1', { events: [{ type: 'intruder' }] });
      await expect(tracker.action('b')).rejects.toMatchObject({ code: 'VERSION_CONFLICT' });
      // It then continues from the stored head.
      expect((await tracker.action('c')).firstSeq).toBe(3);
    });
  });
});
