/**
 * A game's live feed across instances (docs/api.md#games: the stream carries events written through
 * any instance): two Savepoint instances on one PostgreSQL schema, with and without the Redis
 * layer. B follows the game while A appends 100 events in several commits, some of them
 * concurrent; B must hear all of them, in seq order, with no gap and no duplicate. Without Redis
 * the PostgreSQL driver's LISTEN/NOTIFY carries the changes; with it, Redis pub/sub does as well.
 */
import postgres from 'postgres';
import { afterAll, describe, expect, it } from 'vitest';
import type { GameEvent } from '../../src/domains/games/game-record.js';
import { openSavepoint, type Savepoint } from '../../src/savepoint.js';
import { deletePrefix } from '../cache/redis-test-support.js';
import { postgresAvailable, postgresUrl, redisAvailable, redisUrl, uniqueName } from '../support/services.js';

const postgresUp = await postgresAvailable();
const redisUp = postgresUp && (await redisAvailable());

/** How long B may take to hear everything before the test gives up (a generous bound, not a target). */
const DEADLINE_MS = 10_000;

interface Variant {
  readonly name: string;
  readonly redis: boolean;
  readonly available: boolean;
}

const variants: readonly Variant[] = [
  { name: 'postgres+redis', redis: true, available: redisUp },
  { name: 'postgres only (LISTEN/NOTIFY)', redis: false, available: postgresUp },
];

function withSchema(url: string, schema: string): string {
  return `${url}${url.includes('?') ? '&' : '?'}schema=${schema}`;
}

describe.each(variants)('a game feed across two instances on $name', (variant) => {
  const schema = uniqueName('sp_games_cross');
  const prefix = uniqueName('sp_test_games_cross');
  const opened: Savepoint[] = [];

  afterAll(async () => {
    if (!variant.available) return;
    for (const savepoint of opened) await savepoint.close();
    const sql = postgres(postgresUrl, { max: 1, onnotice: () => {} });
    try {
      await sql`DROP SCHEMA IF EXISTS ${sql(schema)} CASCADE`;
    } finally {
      await sql.end();
    }
    if (variant.redis) await deletePrefix(prefix);
  });

  async function open(): Promise<Savepoint> {
    const savepoint = await openSavepoint({
      url: withSchema(postgresUrl, schema),
      ...(variant.redis ? { redisUrl, redisPrefix: prefix } : {}),
    });
    opened.push(savepoint);
    return savepoint;
  }

  it.skipIf(!variant.available)('B hears all 100 events A appends, in order, once each', async () => {
    const a = await open();
    const b = await open();
    await a.games.persist('cross-1', { state: { pot: 0 }, players: ['ann', 'ben'] });
    await a.games.appendEvents('cross-1', { events: [{ type: 'deal' }, { type: 'deal' }, { type: 'deal' }] });

    // B's store listens for other instances asynchronously (LISTEN, SUBSCRIBE). Wait until it hears
    // A, so the test measures delivery rather than racing the listener's start-up. The probe stays
    // subscribed, so the listener stays up.
    let heardA = false;
    const stopProbe = b.store.subscribe((batch) => {
      if (batch.origin === 'external') heardA = true;
    });
    try {
      for (let attempt = 0; !heardA; attempt++) {
        if (attempt > 250) throw new Error('instance B never heard instance A');
        await a.store.commit([{ op: 'put', collection: 'probe', key: 'cross', value: { attempt } }]);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }

      const abort = new AbortController();
      const feed = b.games.subscribe('cross-1', { after: 3, signal: abort.signal });
      const deadline = setTimeout(() => abort.abort(), DEADLINE_MS);
      const received: GameEvent[] = [];
      const listening = (async () => {
        for await (const event of feed) {
          received.push(event);
          // Keep reading a moment after the 100th, so a late duplicate would be caught.
          if (received.length === 100) setTimeout(() => abort.abort(), 300);
        }
      })();

      // 100 events: 40 in sequential commits of 1 to 7, then 60 in concurrent commits of 10.
      const sizes = [1, 2, 3, 4, 5, 6, 7, 7, 5];
      let n = 0;
      const batch = (size: number) =>
        Array.from({ length: size }, () => ({ type: 'move', data: { n: ++n } }));
      for (const size of sizes) await a.games.appendEvents('cross-1', { events: batch(size) });
      await Promise.all(
        Array.from({ length: 6 }, () => a.games.appendEvents('cross-1', { events: batch(10) })),
      );
      expect(n).toBe(100);

      await listening;
      clearTimeout(deadline);
      expect(received.map((event) => event.seq)).toEqual(Array.from({ length: 100 }, (_, i) => i + 4));
      // Exactly the log as A wrote it: every event once, in seq order.
      const log = await a.games.readEvents('cross-1', { after: 3, limit: 1000 });
      expect(received).toEqual(log);
      expect(new Set(received.map((event) => (event.data as { n: number }).n)).size).toBe(100);
    } finally {
      stopProbe();
    }
  });
});
