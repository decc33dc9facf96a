/**
 * Cached document reads (L1, then Redis, then the inner driver) and the Redis side of invalidation.
 *
 * Rules:
 * - Never serve an expired document: every entry carries `expiresAt`, checked against the read's `now`.
 * - Never let a slow reader put back a value older than a write: Redis fills are guarded by the
 *   key's epoch and the cache generation (see lua-scripts.ts), L1 fills by the L1's read tokens.
 * - Never fail a read because Redis is down: any Redis error sends the read to the inner driver,
 *   and Redis is skipped for `pauseMs` afterwards (or until the connection is ready again).
 * - Never serve what this instance knows is stale: when an invalidation fails, its keys are
 *   "dirty" and this instance reads them from the inner driver until a retry deletes them in Redis.
 *   When too many keys are dirty, the instance owes a generation bump instead and skips Redis
 *   entirely until it succeeds.
 */
import type { Redis } from 'ioredis';
import type { Driver } from '../../engine/driver.js';
import type { StoredDocument } from '../../engine/types.js';
import { type CachedLookup, cacheTtlMs, decodeEntry, documentOf, encodeEntry } from './cache-entry.js';
import type { TierResolver } from './cache-tiers.js';
import type { L1Cache } from './l1-cache.js';
import { FILL_SCRIPT, INVALIDATE_SCRIPT, PROBE_SCRIPT } from './lua-scripts.js';
import { asError } from './redis-connections.js';
import type { RedisKeys } from './redis-keys.js';

export interface DocumentCacheSettings {
  readonly redis: Redis;
  readonly keys: RedisKeys;
  readonly l1: L1Cache;
  /** Whether the L1 may be filled now (the change bus is live, so invalidations reach it). */
  readonly l1Fillable: () => boolean;
  /** Whether the L1 may be served now (its lease holds; see heartbeats.ts). Asked at serve time. */
  readonly l1Servable: () => boolean;
  readonly tierOf: TierResolver;
  /** How long an epoch outlives its key's last write or miss, in ms. */
  readonly epochTtlMs: number;
  /** How long Redis is skipped by reads after an error, in ms. */
  readonly pauseMs: number;
  /** Most dirty keys remembered before the instance falls back to a generation bump. */
  readonly maxDirtyKeys: number;
  readonly report: (error: Error, context: string) => void;
}

/** Counters of document lookups (one per key asked for). */
export interface DocumentCacheCounters {
  reads: number;
  l1Hits: number;
  l1Misses: number;
  /** Lookups that skipped the L1 because this instance's lease on it had lapsed (it lagged the bus). */
  l1Lapsed: number;
  redisHits: number;
  redisMisses: number;
  /** Lookups answered by the inner driver: Redis misses plus lookups that skipped Redis. */
  innerReads: number;
  /** Lookups that skipped Redis: the key was dirty, or Redis was down, paused or owed a generation bump. */
  redisSkipped: number;
  redisErrors: number;
  /** Fills Redis refused because a write (or a generation bump) overtook the read. */
  fillsRefused: number;
  invalidationFailures: number;
}

interface Pending {
  readonly key: string;
  readonly cacheKey: string;
  /** The epoch read with the miss, `undefined` when the lookup skipped Redis. */
  readonly epoch: string | undefined;
}

const RANDOM_START = 2 ** 40;

/** A random epoch start: an epoch lost and recreated must not come back with the value a reader expects. */
const randomEpoch = (): string => String(Math.floor(Math.random() * RANDOM_START));

export class DocumentCache {
  readonly #s: DocumentCacheSettings;
  readonly #dirty = new Set<string>();
  /**
   * Keys whose invalidation is on its way (count per key: invalidations may overlap). A commit is
   * visible in the storage before its invalidation lands, and a concurrent batch can learn that
   * (a keyed commit that lost the race reads the winner's record next): until the invalidation is
   * done, reads of these keys go to the storage and fill nothing.
   */
  readonly #announcing = new Map<string, number>();
  #generationOwed = false;
  #generationBumps = 0;
  #pausedUntil = 0;
  readonly counters: DocumentCacheCounters = {
    reads: 0,
    l1Hits: 0,
    l1Misses: 0,
    l1Lapsed: 0,
    redisHits: 0,
    redisMisses: 0,
    innerReads: 0,
    redisSkipped: 0,
    redisErrors: 0,
    fillsRefused: 0,
    invalidationFailures: 0,
  };

  constructor(settings: DocumentCacheSettings) {
    this.#s = settings;
  }

  /** Keys whose invalidation this instance still owes Redis. */
  get dirtyKeys(): number {
    return this.#dirty.size + (this.#generationOwed ? 1 : 0);
  }

  /** Makes sure `<prefix>:gen` exists, with a random start so a lost key cannot revive old entries. */
  async initGeneration(): Promise<void> {
    const { redis, keys } = this.#s;
    if (redis.status !== 'ready') return;
    try {
      await redis.set(keys.generation, randomEpoch(), 'NX');
    } catch (error) {
      this.#redisFailed(error, 'redis generation');
    }
  }

  async get(
    inner: Driver,
    collection: string,
    key: string,
    now: number,
  ): Promise<StoredDocument | undefined> {
    return (await this.#lookup(inner, collection, [key], now, true)).get(key);
  }

  async getMany(
    inner: Driver,
    collection: string,
    keys: readonly string[],
    now: number,
  ): Promise<StoredDocument[]> {
    const unique = [...new Set(keys)];
    const found = await this.#lookup(inner, collection, unique, now, false);
    const documents: StoredDocument[] = [];
    for (const key of unique) {
      const document = found.get(key);
      if (document !== undefined) documents.push(document);
    }
    return documents;
  }

  /**
   * Deletes `cacheKeys` in Redis, bumps their epochs and publishes `message` (if any), in one
   * script, then drops them from the L1. Resolves how many subscribers received the message, or
   * `undefined` when Redis could not be told (the keys are then dirty, and retried by {@link repair}).
   */
  async invalidate(cacheKeys: readonly string[], message: string | undefined): Promise<number | undefined> {
    const { redis, keys, l1 } = this.#s;
    // Before the first await: the commit is already visible to other batches of this process.
    for (const key of cacheKeys) this.#announcing.set(key, (this.#announcing.get(key) ?? 0) + 1);
    try {
      if (cacheKeys.length === 0 && message === undefined) return 0;
      if (redis.status !== 'ready') throw new Error('redis is not connected');
      const count = await INVALIDATE_SCRIPT.run(redis, this.#withEpochs(cacheKeys), [
        this.#s.epochTtlMs,
        message === undefined ? '' : keys.changes,
        message ?? '',
      ]);
      return Number(count);
    } catch (error) {
      this.counters.invalidationFailures++;
      this.#redisFailed(error, 'redis invalidation');
      this.#markDirty(cacheKeys);
      return undefined;
    } finally {
      // After Redis, not before: a read that found the old value in Redis meanwhile holds an older
      // L1 token, so its fill is refused.
      l1.invalidate(cacheKeys);
      for (const key of cacheKeys) {
        const count = (this.#announcing.get(key) ?? 1) - 1;
        if (count === 0) this.#announcing.delete(key);
        else this.#announcing.set(key, count);
      }
    }
  }

  /**
   * Bumps the cache generation, so that every Redis entry stops being served (the inner driver
   * reported a change it cannot name). Redis is skipped until the bump is done; a failed bump is owed.
   */
  async bumpGeneration(): Promise<void> {
    this.#generationBumps++;
    try {
      await this.#s.redis.incr(this.#s.keys.generation);
    } catch (error) {
      this.#redisFailed(error, 'redis generation bump');
      this.#generationOwed = true;
    } finally {
      this.#generationBumps--;
      this.#s.l1.clear();
    }
  }

  /**
   * Pays what failed invalidations owe Redis: deletes the dirty keys (or bumps the generation) and
   * publishes `message(keys)` so that other instances drop them too (`null`: drop everything).
   * `notify` publishes even when no key is dirty. Resolves whether it succeeded (keys that became
   * dirty meanwhile stay owed).
   */
  async repair(message: (keys: readonly string[] | null) => string, notify: boolean): Promise<boolean> {
    const { redis, keys } = this.#s;
    if (this.dirtyKeys === 0 && !notify) return true;
    if (redis.status !== 'ready') return false;
    const owed = [...this.#dirty];
    try {
      if (this.#generationOwed) {
        await redis.incr(keys.generation);
        this.#generationOwed = false;
        await redis.publish(keys.changes, message(null));
      } else {
        const epochTtl = this.#s.epochTtlMs;
        await INVALIDATE_SCRIPT.run(redis, this.#withEpochs(owed), [epochTtl, keys.changes, message(owed)]);
      }
    } catch (error) {
      this.#redisFailed(error, 'redis repair');
      return false;
    }
    for (const key of owed) this.#dirty.delete(key);
    return true;
  }

  #withEpochs(cacheKeys: readonly string[]): string[] {
    const pairs: string[] = [];
    for (const cacheKey of cacheKeys) pairs.push(cacheKey, this.#s.keys.epochOf(cacheKey));
    return pairs;
  }

  #markDirty(cacheKeys: readonly string[]): void {
    if (this.#generationOwed) return;
    for (const key of cacheKeys) this.#dirty.add(key);
    if (this.#dirty.size > this.#s.maxDirtyKeys) {
      this.#dirty.clear();
      this.#generationOwed = true;
    }
  }

  #redisUsable(): boolean {
    return (
      this.#s.redis.status === 'ready' &&
      !this.#generationOwed &&
      this.#generationBumps === 0 &&
      performance.now() >= this.#pausedUntil
    );
  }

  #redisFailed(error: unknown, context: string): void {
    this.counters.redisErrors++;
    this.#pausedUntil = performance.now() + this.#s.pauseMs;
    // While disconnected, the connection has already reported the outage once.
    if (this.#s.redis.status === 'ready') this.#s.report(asError(error), context);
  }

  async #lookup(
    inner: Driver,
    collection: string,
    keys: readonly string[],
    now: number,
    single: boolean,
  ): Promise<Map<string, StoredDocument | undefined>> {
    const { l1, redis, tierOf } = this.#s;
    const counters = this.counters;
    const found = new Map<string, StoredDocument | undefined>();
    const token = l1.readToken();
    const trusted = l1.enabled && this.#s.l1Fillable();
    // Decided here, synchronously before the hits below: no bus message can be handled in between.
    const servable = trusted && this.#s.l1Servable();
    const tierMs = tierOf(collection);
    const useRedis = this.#redisUsable();

    const toRedis: Pending[] = [];
    const toInner: Pending[] = [];
    for (const key of keys) {
      counters.reads++;
      const cacheKey = this.#s.keys.document(collection, key);
      if (trusted && !servable) counters.l1Lapsed++;
      if (this.#announcing.has(cacheKey)) {
        counters.redisSkipped++;
        toInner.push({ key, cacheKey, epoch: undefined });
        continue;
      }
      if (servable) {
        const entry = l1.get(cacheKey);
        if (entry !== undefined) {
          counters.l1Hits++;
          found.set(key, documentOf(entry, now));
          continue;
        }
        counters.l1Misses++;
      }
      if (useRedis && !this.#dirty.has(cacheKey)) toRedis.push({ key, cacheKey, epoch: undefined });
      else {
        counters.redisSkipped++;
        toInner.push({ key, cacheKey, epoch: undefined });
      }
    }

    let generation: string | null = null;
    if (toRedis.length > 0) {
      let values: (string | null)[] | undefined;
      try {
        values = await this.#probe(toRedis);
      } catch (error) {
        this.#redisFailed(error, 'redis read');
      }
      if (values === undefined) toInner.push(...toRedis);
      else {
        generation = values[0] ?? null;
        if (generation === null) void this.initGeneration();
        toRedis.forEach((pending, index) => {
          const raw = values[1 + 2 * index] ?? null;
          const lookup =
            generation === null || raw === null
              ? undefined
              : this.#decode(raw, generation, collection, pending.key);
          if (lookup === undefined) {
            counters.redisMisses++;
            toInner.push({ ...pending, epoch: values[2 + 2 * index] ?? '' });
            return;
          }
          counters.redisHits++;
          found.set(pending.key, documentOf(lookup, now));
          if (trusted) l1.fill(pending.cacheKey, lookup.json, lookup.expiresAt, tierMs, token);
        });
      }
    }

    if (toInner.length === 0) return found;
    counters.innerReads += toInner.length;
    const fromInner = new Map<string, StoredDocument>();
    if (single) {
      const pending = toInner[0] as Pending;
      const document = await inner.getDocument(collection, pending.key, now);
      if (document !== undefined) fromInner.set(pending.key, document);
    } else {
      const documents = await inner.getDocuments(
        collection,
        toInner.map((pending) => pending.key),
        now,
      );
      for (const document of documents) fromInner.set(document.key, document);
    }

    const fillKeys: string[] = [];
    const fillArgs: (string | number)[] = [generation ?? ''];
    const mayFillRedis = generation !== null;
    for (const pending of toInner) {
      const document = fromInner.get(pending.key);
      found.set(pending.key, document);
      if (this.#dirty.has(pending.cacheKey) || this.#announcing.has(pending.cacheKey)) continue;
      const expiresAt = document?.expiresAt ?? null;
      const ttlMs = cacheTtlMs(tierMs, expiresAt, now);
      if (ttlMs <= 0) continue;
      const json = document === undefined ? null : JSON.stringify(document);
      if (trusted) l1.fill(pending.cacheKey, json, expiresAt, ttlMs, token);
      if (mayFillRedis && pending.epoch !== undefined) {
        fillKeys.push(pending.cacheKey, this.#s.keys.epochOf(pending.cacheKey));
        fillArgs.push(pending.epoch, ttlMs, encodeEntry(generation as string, json));
      }
    }
    if (fillKeys.length > 0) {
      try {
        const stored = Number(await FILL_SCRIPT.run(redis, [this.#s.keys.generation, ...fillKeys], fillArgs));
        counters.fillsRefused += fillKeys.length / 2 - stored;
      } catch (error) {
        this.#redisFailed(error, 'redis fill');
      }
    }
    return found;
  }

  /** `[generation, doc1, epoch1, doc2, epoch2, ...]` for the pending lookups (see PROBE_SCRIPT). */
  async #probe(pending: readonly Pending[]): Promise<(string | null)[]> {
    const keys = [this.#s.keys.generation];
    for (const { cacheKey } of pending) keys.push(cacheKey, this.#s.keys.epochOf(cacheKey));
    const reply = await PROBE_SCRIPT.run(this.#s.redis, keys, [randomEpoch(), this.#s.epochTtlMs]);
    return reply as (string | null)[];
  }

  #decode(raw: string, generation: string, collection: string, key: string): CachedLookup | undefined {
    try {
      return decodeEntry(raw, generation, collection, key);
    } catch (error) {
      this.#s.report(asError(error), `redis entry ${this.#s.keys.document(collection, key)}`);
      return undefined;
    }
  }
}
