/**
 * Two real `savepoint serve` processes on one PostgreSQL schema and one Redis prefix (README.md,
 * "Outgrowing one machine"), driven over HTTP:
 * 1. a write acknowledged by one instance is read through the other at once, never stale;
 * 2. conditional read-modify-write from both at once loses no update;
 * 3. a game's SSE stream on B carries the events appended on A in order, without gaps;
 * 4. SIGKILL of A in the middle of a burst of writes: B keeps serving, every acknowledged write is there;
 * 5. a lease contended through both never has two holders; once its holder's instance is killed,
 *    the other takes it within the TTL.
 *
 * The suite owns its schema and Redis prefix and removes both at the end. It passes the prefix as
 * SAVEPOINT_REDIS_PREFIX; a build that ignores that setting uses `savepoint`, so every collection,
 * key, game and lease here also carries the run's name, and the clean-up removes those keys too.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, type SavepointClient, SavepointHttpError } from '../../src/client/index.js';
import { ensureBuilt, openSse, type ServeProcess, startServe } from '../support/processes.js';
import { postgresAvailable, postgresUrl, redisAvailable, redisUrl, uniqueName } from '../support/services.js';

const pgUp = await postgresAvailable();
const redisUp = await redisAvailable();

/** The schema and the Redis prefix. */
const run = uniqueName('sp_e2e_two');
/** The run's name as it may appear in ids (which allow no underscore). */
const tag = run.replaceAll('_', '-');
const apiKey = `e2e-${randomBytes(16).toString('hex')}`;
const databaseUrl = `${postgresUrl}${postgresUrl.includes('?') ? '&' : '?'}schema=${run}`;
/** Makes each value a few hundred bytes, like a real record. */
const pad = 'x'.repeat(200);

const LEASE_TTL_MS = 2_000;
const TAKEOVER_MARGIN_MS = 1_500;

const processes: ServeProcess[] = [];

function startInstance(name: string): Promise<ServeProcess> {
  return startServe({
    name,
    args: ['--database', databaseUrl, '--redis', redisUrl],
    env: {
      SAVEPOINT_API_KEY: apiKey,
      SAVEPOINT_REDIS_PREFIX: run,
      SAVEPOINT_SWEEP_INTERVAL: '0',
      SAVEPOINT_BACKUP_INTERVAL: '0',
      SAVEPOINT_LOG_LEVEL: 'warn',
    },
  }).then((started) => {
    processes.push(started);
    return started;
  });
}

const clientOf = (instance: ServeProcess): SavepointClient =>
  createClient({ baseUrl: instance.url, apiKey, timeoutMs: 10_000 });

const isProblem = (error: unknown, status: number, code: string): error is SavepointHttpError =>
  error instanceof SavepointHttpError && error.status === status && error.code === code;

/** Runs `task` over `items` with at most `limit` at a time. */
async function forEachLimit<T>(items: readonly T[], limit: number, task: (item: T) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await task(items[next++] as T);
    }),
  );
}

async function dropSchema(): Promise<void> {
  const sql = postgres(postgresUrl, { max: 1, onnotice: () => {} });
  try {
    await sql.unsafe(`DROP SCHEMA IF EXISTS "${run}" CASCADE`);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/**
 * Removes the run's Redis keys: everything under its own prefix, and its names under the default
 * prefix (used when the build ignores SAVEPOINT_REDIS_PREFIX). Answers how many each pattern removed.
 */
async function removeRedisKeys(): Promise<{ own: number; fallback: number }> {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  const unlinkAll = async (match: string): Promise<number> => {
    let removed = 0;
    let cursor = '0';
    do {
      const [nextCursor, keys] = await redis.scan(cursor, 'MATCH', match, 'COUNT', 1000);
      cursor = nextCursor;
      if (keys.length > 0) removed += await redis.unlink(...keys);
    } while (cursor !== '0');
    return removed;
  };
  try {
    return { own: await unlinkAll(`${run}:*`), fallback: await unlinkAll(`savepoint:*${tag}*`) };
  } finally {
    redis.disconnect();
  }
}

describe.skipIf(!pgUp || !redisUp)(
  'two savepoint serve instances on one PostgreSQL schema + Redis prefix',
  () => {
    let a: ServeProcess;
    let b: ServeProcess;
    let ca: SavepointClient;
    let cb: SavepointClient;

    beforeAll(async () => {
      ensureBuilt();
      // Both at once: the migrations' advisory lock must let exactly one apply them.
      [a, b] = await Promise.all([startInstance('A'), startInstance('B')]);
      ca = clientOf(a);
      cb = clientOf(b);
    }, 120_000);

    afterAll(async () => {
      await Promise.all(processes.map((instance) => instance.stop()));
      for (const instance of processes) {
        const warnings = instance.run.stderr().trim();
        if (warnings.length > 0)
          console.log(
            `[two-instances] ${instance.name} stderr:\n${warnings.split('\n').slice(0, 8).join('\n')}`,
          );
      }
      await dropSchema();
      const removed = await removeRedisKeys();
      if (removed.own === 0 && removed.fallback > 0)
        console.warn(
          `[two-instances] savepoint serve ignored SAVEPOINT_REDIS_PREFIX: both instances used the default prefix "savepoint" (${removed.fallback} keys of this run removed from it)`,
        );
    }, 30_000);

    it('1. a write acknowledged through A is read through B at once, never stale', async () => {
      const collection = `fresh-${tag}`;
      const keys = Array.from({ length: 150 }, (_, i) => `k${i}`);
      const rounds = 4;
      const stale: string[] = [];
      type Value = { key: string; round: number; pad: string };
      const describeRead = (read: { version: number; value: Value } | undefined): string =>
        read === undefined ? 'nothing' : `v${read.version} round ${read.value.round}`;
      await forEachLimit(keys, 16, async (key) => {
        // Fill B's caches with the key's absence first: the write must replace that too.
        const before = await cb.getDocument<Value>(collection, key);
        if (before !== undefined) stale.push(`${key}: exists before any write (${describeRead(before)})`);
        for (let round = 1; round <= rounds; round++) {
          // Odd rounds write through A and read through B, even rounds the other way round.
          const [writer, reader] = round % 2 === 1 ? [ca, cb] : [cb, ca];
          const cached = await reader.getDocument<Value>(collection, key);
          if (round > 1 && cached?.value.round !== round - 1)
            stale.push(`${key} before round ${round}: read ${describeRead(cached)}`);
          const written = await writer.putDocument(collection, key, { key, round, pad });
          const read = await reader.getDocument<Value>(collection, key);
          if (read?.version !== written.version || read.value.round !== round)
            stale.push(`${key} round ${round}: wrote v${written.version}, then read ${describeRead(read)}`);
        }
      });
      expect(stale).toEqual([]);
      // The batch read path (getDocuments) agrees on both instances.
      for (const client of [ca, cb]) {
        const all = await client.getDocuments<Value>(collection, keys);
        expect(all.map((doc) => [doc.key, doc.version, doc.value.round])).toEqual(
          keys.map((key) => [key, rounds, rounds]),
        );
      }
    }, 30_000);

    it('2. 50 concurrent read-modify-writes with expectedVersion through both lose no update', async () => {
      const collection = `rmw-${tag}`;
      type Tally = { items: number[]; n: number };
      await ca.putDocument(collection, 'tally', { items: [], n: 0 });
      const writers = 50;
      let conflicts = 0;
      await Promise.all(
        Array.from({ length: writers }, async (_, id) => {
          const client = id % 2 === 0 ? ca : cb;
          for (let attempt = 1; attempt <= 1000; attempt++) {
            const current = await client.getDocument<Tally>(collection, 'tally');
            if (current === undefined) throw new Error('the tally disappeared');
            const next = { items: [...current.value.items, id], n: current.value.n + 1 };
            try {
              await client.putDocument(collection, 'tally', next, { expectedVersion: current.version });
              return;
            } catch (error) {
              if (!isProblem(error, 409, 'VERSION_CONFLICT')) throw error;
              conflicts++;
              await sleep(Math.random() * Math.min(20, attempt * 2));
            }
          }
          throw new Error(`writer ${id} gave up after 1000 conflicts`);
        }),
      );
      for (const client of [ca, cb]) {
        const final = await client.getDocument<Tally>(collection, 'tally');
        expect(final?.version).toBe(writers + 1);
        expect(final?.value.n).toBe(writers);
        expect([...(final?.value.items ?? [])].sort((x, y) => x - y)).toEqual(
          Array.from({ length: writers }, (_, i) => i),
        );
      }
      console.log(`[two-instances] ${writers} conditional writers: ${conflicts} conflicts retried`);
    }, 30_000);

    it('3. a game stream on B carries the events appended on A, in order, without gaps', async () => {
      const gameId = `game-${tag}`;
      await ca.request('POST', `/api/game/${gameId}/persist`, {
        body: { state: { turn: 0 }, players: ['p1', 'p2'] },
      });
      const stream = await openSse(`${b.url}/api/game/${gameId}/stream`, {
        authorization: `Bearer ${apiKey}`,
      });
      try {
        await stream.until(() => stream.comments.includes('stream open'), 5_000, 'the stream to open');
        type Sent = { type: string; data: { writer: string; call: number; index: number } };
        const append = async (client: SavepointClient, events: readonly Sent[], expectedSeq?: number) =>
          (
            await client.request<{ firstSeq: number; lastSeq: number }>(
              'POST',
              `/api/game/${gameId}/events`,
              {
                body: { events, ...(expectedSeq === undefined ? {} : { expectedSeq }) },
              },
            )
          ).body;
        const batch = (writer: string, call: number): Sent[] =>
          Array.from({ length: (call % 3) + 1 }, (_, index) => ({
            type: index % 2 === 0 ? 'bet' : 'fold',
            data: { writer, call, index },
          }));

        // Phase 1: A alone, each append conditional on the last seq.
        const phase1: Sent[] = [];
        let lastSeq = 0;
        for (let call = 0; call < 30; call++) {
          const events = batch('A', call);
          const answer = await append(ca, events, lastSeq);
          expect(answer.firstSeq).toBe(lastSeq + 1);
          lastSeq = answer.lastSeq;
          phase1.push(...events);
        }
        // Phase 2: A and B append at once; B's stream must interleave both without a gap.
        const phase2: Record<string, Sent[]> = { A2: [], B2: [] };
        await Promise.all(
          (['A2', 'B2'] as const).map(async (writer) => {
            for (let call = 0; call < 15; call++) {
              const events = batch(writer, call);
              await append(writer === 'A2' ? ca : cb, events);
              phase2[writer]?.push(...events);
            }
          }),
        );
        const total = phase1.length + (phase2.A2?.length ?? 0) + (phase2.B2?.length ?? 0);
        await stream.until(() => stream.events.length >= total, 10_000, `${total} events`);
        await sleep(200); // anything extra (a duplicate) would arrive now
        const received = stream.events.map((event) => ({
          id: event.id,
          type: event.event,
          data: JSON.parse(event.data) as Sent['data'],
        }));
        expect(received.map((event) => Number(event.id))).toEqual(
          Array.from({ length: total }, (_, i) => i + 1),
        );
        expect(received.slice(0, phase1.length).map(({ type, data }) => ({ type, data }))).toEqual(phase1);
        for (const writer of ['A2', 'B2']) {
          expect(
            received
              .filter((event) => event.data.writer === writer)
              .map(({ type, data }) => ({ type, data })),
          ).toEqual(phase2[writer]);
        }
        // The log as A reads it is the stream B sent.
        const log = await ca.request<{ events: { seq: number; type: string; data: unknown }[] }>(
          'GET',
          `/api/game/${gameId}/events`,
          { query: { after: 0, limit: 1000 } },
        );
        expect(log.body.events.map(({ seq, type, data }) => ({ id: String(seq), type, data }))).toEqual(
          received,
        );
      } finally {
        stream.close();
      }
    }, 30_000);

    it('4. SIGKILL of A mid-write: B keeps serving and has every write A acknowledged', async () => {
      const collection = `crash-${tag}`;
      const writers = 4;
      const keysPerWriter = 5;
      const keyOf = (writer: number, n: number) => `w${writer}-k${n % keysPerWriter}`;
      const allKeys = Array.from({ length: writers * keysPerWriter }, (_, i) =>
        keyOf(Math.floor(i / keysPerWriter), i),
      );
      type Value = { writer: number; n: number; pad: string };
      const acked = new Map<string, { version: number; n: number }>();
      const inFlight = new Map<number, { key: string; n: number }>();
      const errorsBeforeKill: unknown[] = [];
      let acks = 0;
      let killedAt: number | undefined;
      let stopReading = false;

      const writing = Array.from({ length: writers }, async (_, writer) => {
        for (let n = 1; ; n++) {
          const key = keyOf(writer, n);
          inFlight.set(writer, { key, n });
          try {
            const written = await ca.putDocument(collection, key, { writer, n, pad });
            acked.set(key, { version: written.version, n });
            inFlight.delete(writer);
            acks++;
          } catch (error) {
            if (killedAt === undefined) errorsBeforeKill.push(error);
            return;
          }
        }
      });
      // B reads the same keys meanwhile, so its caches hold values the writes keep replacing.
      let readsOnB = 0;
      const reading = (async () => {
        while (!stopReading) {
          await cb.getDocuments(collection, allKeys);
          readsOnB++;
        }
      })();

      const deadline = Date.now() + 10_000;
      while (acks < 200 && errorsBeforeKill.length === 0 && Date.now() < deadline) await sleep(5);
      killedAt = Date.now();
      await a.kill('SIGKILL');
      await Promise.all(writing);
      stopReading = true;
      await reading;
      expect(errorsBeforeKill).toEqual([]);
      expect(acks).toBeGreaterThanOrEqual(200);

      // B answers at once, and every acknowledged write is there (or the one write in flight after it).
      expect((await cb.health()).status).toBe('ok');
      const problems: string[] = [];
      const checkAgainstAcks = async (): Promise<Map<string, number>> => {
        const versions = new Map<string, number>();
        for (const key of allKeys) {
          const ack = acked.get(key);
          const doc = await cb.getDocument<Value>(collection, key);
          if (doc !== undefined) versions.set(key, doc.version);
          if (ack === undefined) continue;
          const writer = Number(key.slice(1, key.indexOf('-')));
          const pending = inFlight.get(writer);
          if (doc === undefined) problems.push(`${key}: acknowledged v${ack.version}, B has nothing`);
          else if (doc.version === ack.version && doc.value.n !== ack.n)
            problems.push(`${key}: acknowledged v${ack.version} n=${ack.n}, B has n=${doc.value.n}`);
          else if (doc.version === ack.version + 1 && !(pending?.key === key && doc.value.n === pending.n))
            problems.push(`${key}: B has v${doc.version} n=${doc.value.n}, which nobody wrote`);
          else if (doc.version < ack.version || doc.version > ack.version + 1)
            problems.push(`${key}: acknowledged v${ack.version}, B has v${doc.version}`);
        }
        return versions;
      };
      await checkAgainstAcks();
      expect(problems).toEqual([]);

      // Once the dust settles, B serves exactly what PostgreSQL holds (no stale entry survives the crash).
      const sql = postgres(postgresUrl, { max: 1, onnotice: () => {} });
      try {
        const table = sql(`${run}.documents`);
        const rows = await sql<{ key: string; version: number }[]>`
        SELECT key, version::int AS version FROM ${table} WHERE collection = ${collection}`;
        const truth = new Map(rows.map((row) => [row.key, row.version]));
        let mismatched: string[] = [];
        for (const settle = Date.now() + 3_000; ; ) {
          const served = await checkAgainstAcks();
          mismatched = allKeys.filter((key) => served.get(key) !== truth.get(key));
          if (mismatched.length === 0 || Date.now() > settle) break;
          await sleep(100);
        }
        expect(mismatched).toEqual([]);
      } finally {
        await sql.end({ timeout: 5 });
      }
      expect(problems).toEqual([]);

      // B still takes writes.
      const after = await cb.putDocument(collection, 'after-the-crash', { ok: true });
      expect((await cb.getDocument(collection, 'after-the-crash'))?.version).toBe(after.version);
      console.log(
        `[two-instances] kill -9 after ${acks} acknowledged writes (${inFlight.size} in flight), ${readsOnB} batch reads on B meanwhile`,
      );
    }, 30_000);

    it('5. one lease contended through both instances: never two holders; after kill -9 the other takes it within the TTL', async () => {
      if (a.exited) {
        a = await startInstance('A2');
        ca = clientOf(a);
      }
      const name = `lease-${tag}`;
      const path = `/v1/leases/${name}`;
      type LeaseBody = { name: string; holder: string; fence: number; expiresAt: string };
      interface Tenure {
        readonly holder: string;
        readonly fence: number;
        readonly grantReceivedAt: number;
        lastExpiresAt: number;
        /** When the release was sent; undefined while held. */
        releaseSentAt: number | undefined;
        /** Send times of renewals that succeeded. */
        readonly renewalsSentAt: number[];
      }
      const tenures: Tenure[] = [];
      const observed: { from: string; holder: string; fence: number }[] = [];
      let refusals = 0;
      const ttl = `${LEASE_TTL_MS}ms`;

      const acquire = async (client: SavepointClient, holder: string): Promise<Tenure | undefined> => {
        try {
          const lease = (await client.request<LeaseBody>('POST', path, { body: { holder, ttl, wait: '0s' } }))
            .body;
          const tenure: Tenure = {
            holder,
            fence: lease.fence,
            grantReceivedAt: Date.now(),
            lastExpiresAt: Date.parse(lease.expiresAt),
            releaseSentAt: undefined,
            renewalsSentAt: [],
          };
          tenures.push(tenure);
          return tenure;
        } catch (error) {
          if (!isProblem(error, 409, 'LEASE_HELD')) throw error;
          refusals++;
          return undefined;
        }
      };
      const renew = async (client: SavepointClient, tenure: Tenure): Promise<void> => {
        const sentAt = Date.now();
        const lease = (
          await client.request<LeaseBody>('PUT', path, {
            body: { holder: tenure.holder, fence: tenure.fence, ttl },
          })
        ).body;
        tenure.renewalsSentAt.push(sentAt);
        tenure.lastExpiresAt = Date.parse(lease.expiresAt);
      };

      // Contention: each holder, through its own instance, takes the lease, holds it a while
      // (renewing), releases it, and tries again; both instances are polled throughout.
      const contendUntil = Date.now() + 3_500;
      const contender = async (client: SavepointClient, holder: string) => {
        while (Date.now() < contendUntil) {
          const tenure = await acquire(client, holder);
          if (tenure === undefined) {
            await sleep(10 + Math.random() * 30);
            continue;
          }
          const holdUntil = Date.now() + 100 + Math.random() * 300;
          while (Date.now() < holdUntil) {
            await sleep(60);
            await renew(client, tenure);
          }
          tenure.releaseSentAt = Date.now();
          await client.request('DELETE', path, { query: { holder, fence: tenure.fence } });
          await sleep(30 + Math.random() * 60);
        }
      };
      const poller = async (client: SavepointClient, from: string) => {
        while (Date.now() < contendUntil) {
          try {
            const lease = (await client.request<LeaseBody>('GET', path)).body;
            observed.push({ from, holder: lease.holder, fence: lease.fence });
          } catch (error) {
            if (!isProblem(error, 404, 'NOT_FOUND')) throw error;
          }
          await sleep(5);
        }
      };
      await Promise.all([contender(ca, 'a'), contender(cb, 'b'), poller(ca, 'A'), poller(cb, 'B')]);

      const overlaps: string[] = [];
      const byFence = [...tenures].sort((x, y) => x.fence - y.fence);
      for (const [index, later] of byFence.entries()) {
        const earlier = byFence[index - 1];
        if (earlier === undefined) continue;
        if (later.fence === earlier.fence)
          overlaps.push(`fence ${later.fence} granted twice (${earlier.holder}, ${later.holder})`);
        // Granted (answered) before the earlier tenure was released or expired: two holders at once.
        const earlierEnd = Math.min(earlier.releaseSentAt ?? Number.POSITIVE_INFINITY, earlier.lastExpiresAt);
        if (later.grantReceivedAt < earlierEnd)
          overlaps.push(
            `${later.holder} got fence ${later.fence} while ${earlier.holder} held fence ${earlier.fence}`,
          );
        // A renewal the server accepted after the next grant had been answered.
        if (earlier.renewalsSentAt.some((sentAt) => sentAt > later.grantReceivedAt))
          overlaps.push(
            `${earlier.holder} renewed fence ${earlier.fence} after ${later.holder} got ${later.fence}`,
          );
      }
      const holderOfFence = new Map(tenures.map((tenure) => [tenure.fence, tenure.holder]));
      for (const seen of observed) {
        const holder = holderOfFence.get(seen.fence);
        if (holder !== seen.holder)
          overlaps.push(
            `${seen.from} showed ${seen.holder} at fence ${seen.fence}, granted to ${holder ?? 'nobody'}`,
          );
      }
      expect(overlaps).toEqual([]);
      expect(tenures.some((tenure) => tenure.holder === 'a')).toBe(true);
      expect(tenures.some((tenure) => tenure.holder === 'b')).toBe(true);
      expect(observed.length).toBeGreaterThan(0);
      const contendedGrants = tenures.length;

      // Takeover: a holds the lease through A and keeps renewing; b keeps asking through B; A dies.
      const held = await acquireWaiting(ca, 'a');
      let renewing = true;
      const renewals = (async () => {
        while (renewing) {
          await sleep(400);
          if (!renewing) break;
          try {
            await renew(ca, held);
          } catch {
            return; // A is gone
          }
        }
      })();
      let taken: Tenure | undefined;
      let attemptsByB = 0;
      const taking = (async () => {
        const giveUpAt = Date.now() + 15_000;
        while (taken === undefined && Date.now() < giveUpAt) {
          attemptsByB++;
          const tenure = await acquire(cb, 'b');
          if (tenure !== undefined) taken = tenure;
          else await sleep(25);
        }
      })();
      await sleep(1_000);
      expect(taken).toBeUndefined();
      const killedAt = Date.now();
      await a.kill('SIGKILL');
      renewing = false;
      await renewals;
      await taking;
      expect(taken, 'b never acquired the lease after A was killed').toBeDefined();
      const takeoverMs = (taken?.grantReceivedAt ?? Number.NaN) - killedAt;
      // Never before a's last acknowledged expiry, and within the TTL (+ margin) of the kill.
      expect(taken?.grantReceivedAt).toBeGreaterThanOrEqual(held.lastExpiresAt);
      expect(takeoverMs).toBeLessThanOrEqual(LEASE_TTL_MS + TAKEOVER_MARGIN_MS);
      expect(taken?.fence).toBeGreaterThan(held.fence);
      console.log(
        `[two-instances] lease: ${contendedGrants} grants and ${refusals} refusals under contention, ${observed.length} polls; ` +
          `after kill -9 b took it in ${takeoverMs} ms (ttl ${LEASE_TTL_MS} ms, ${attemptsByB} tries)`,
      );

      async function acquireWaiting(client: SavepointClient, holder: string): Promise<Tenure> {
        for (let attempt = 0; attempt < 100; attempt++) {
          const tenure = await acquire(client, holder);
          if (tenure !== undefined) return tenure;
          await sleep(50);
        }
        throw new Error(`${holder} could not acquire ${name}`);
      }
    }, 40_000);
  },
);
