/**
 * The Redis layer: a Driver that wraps another (usually PostgreSQL) and adds
 * - a read-through document cache in two levels: an in-process LRU (L1) and Redis, with TTL tiers;
 * - invalidation on commit, in Redis and in every instance's L1, before the commit resolves;
 * - a cross-instance change feed over Redis pub/sub, so that every instance's Store (and its SSE
 *   subscribers) hears every commit, with `origin: 'external'`.
 *
 * Only documents are cached; lists, streams and boards pass through to the inner driver.
 *
 * How a commit goes: the inner driver applies the batch; then one Lua script deletes the written
 * documents' entries, bumps their epochs (which refuses any fill by a read that started earlier)
 * and publishes the batch's changes on `<prefix>:changes`; then this instance drops them from its
 * L1; then it waits until every instance that may be serving its L1 has acknowledged the message,
 * that is, dropped the keys from its own L1. Each instance serves its L1 only under a short lease
 * (`ackTimeoutMs`) that its own heartbeats on the bus renew, and a commit waits for an instance no
 * longer than that lease: so once a commit resolves, no instance serves what it replaced, and an
 * instance that stalls (a long GC pause, a blocked event loop, SIGSTOP) costs the others' commits
 * one lease at most, once. heartbeats.ts has the argument.
 *
 * Redis outages degrade to the inner driver, never to errors or stale reads; see document-cache.ts
 * for the rules, and {@link RedisLayerOptions} for every default.
 *
 * Feeds: changes from other instances arrive on the bus. When the inner driver has its own feed
 * (PostgreSQL `LISTEN/NOTIFY`, SQLite's `data_version`), the layer listens to it too (it also
 * covers writers that bypass Redis) and uses its notices to invalidate, in its L1 and in Redis; a
 * change both feeds carry is delivered once (change-dedupe.ts). When every writer goes through the
 * layer, the PostgreSQL driver's `notify: false` spares each instance that second invalidation.
 * An inner `unknown` (SQLite reports every foreign commit so) bumps the cache generation, which
 * empties the Redis cache for all instances: correct, but it makes Redis worth little for several
 * processes writing one SQLite file.
 *
 * Deployment notes: a standalone Redis (scripts touch keys of many slots, so not Redis Cluster);
 * no persistence needed; any `maxmemory-policy` (entries and epochs carry TTLs; epochs and the
 * generation start at random values, so an evicted one cannot come back matching a stale fill).
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type {
  Change,
  Driver,
  DriverCapabilities,
  ExternalChangeListener,
  ImportCounts,
  ImportOptions,
  PreparedCommit,
  RecordDump,
} from '../../engine/driver.js';
import type {
  BoardEntry,
  BoardInfo,
  CommitResult,
  DocumentPage,
  StoredDocument,
  StreamEvent,
  SweepResult,
} from '../../engine/types.js';
import { invalidInput, isSavepointError, type SavepointError } from '../../errors.js';
import { encodeBusMessage, MAX_LEASE_MS } from './bus-message.js';
import { type CacheTier, DEFAULT_TIER, tierResolver } from './cache-tiers.js';
import { type AckOutcome, ChangeBus } from './change-bus.js';
import { ChangeDeduper, type FeedSource } from './change-dedupe.js';
import { batchEffects, documentAddressesOf } from './commit-changes.js';
import { DocumentCache, type DocumentCacheCounters } from './document-cache.js';
import { L1Cache } from './l1-cache.js';
import { asError, closeRedis, connectRedis, whenReady } from './redis-connections.js';
import { type RedisKeys, redisKeys } from './redis-keys.js';

export type { CacheTier } from './cache-tiers.js';

/** Reports a Redis problem the layer recovered from; it never throws into a read or a commit. */
export type RedisErrorHandler = (error: Error, context: string) => void;

export interface RedisLayerOptions {
  /** `redis://[[user]:password@]host[:port][/db]`, or `rediss://` for TLS. */
  readonly url: string;
  /** Prefix of every key and channel; instances sharing one prefix share one cache and one bus. Default `savepoint`. */
  readonly prefix?: string;
  /**
   * Redis TTL per collection: `hot` (1 h), `warm` (24 h), `computed` (5 min) or a number of ms.
   * A document that expires sooner is cached only until it expires.
   */
  readonly tiers?: Readonly<Record<string, CacheTier>>;
  /** The tier of collections `tiers` does not list. Default `hot` (1 h). */
  readonly defaultTier?: CacheTier;
  readonly l1?: {
    /** Most documents kept in process; 0 turns the L1 off. Default 10,000. */
    readonly maxEntries?: number;
    /** Longest an L1 entry is served even without an invalidation (a safety net), in ms. Default 60,000. */
    readonly maxAgeMs?: number;
    /** Documents larger than this (JSON characters) stay out of the L1 (Redis still caches them). Default 262,144. */
    readonly maxEntryChars?: number;
  };
  /**
   * The L1 lease, in ms: the longest a commit waits for another instance to acknowledge that it
   * dropped the commit's documents from its L1, and how long an instance serves its L1 after the
   * newest heartbeat it heard back (it sends one every quarter of this). Default 40. Use the same
   * value on every instance of a prefix. An instance whose event loop lags more than this reads
   * Redis instead of its L1 until it catches up. 0 sends no heartbeats and does not wait: other
   * instances may then serve the old value for the pub/sub delay (typically under a millisecond)
   * after a commit resolves, or for as long as one of them is stalled. Only commits that write
   * documents wait. A foreign subscriber of `<prefix>:changes` (`redis-cli SUBSCRIBE`) sends no
   * heartbeats, so no commit waits for it.
   */
  readonly ackTimeoutMs?: number;
  /** A Redis command with no answer after this long fails, and the read goes to the inner driver. Default 500. */
  readonly commandTimeoutMs?: number;
  /** How long `openRedisLayer` waits for Redis before it carries on degraded. Default 2,000 ms. */
  readonly startTimeoutMs?: number;
  /** Reconnect backoff, doubling from `minDelayMs` (default 50) to `maxDelayMs` (default 2,000), forever. */
  readonly reconnect?: { readonly minDelayMs?: number; readonly maxDelayMs?: number };
  /** Largest bus message, in characters; changes beyond it are published as `unknown`. Default 131,072. */
  readonly maxMessageChars?: number;
  /** Called for every Redis problem the layer works around. Default: one `console.warn` line. */
  readonly onError?: RedisErrorHandler;
  /** This instance's name on the bus and in `CLIENT LIST`. Default: 12 random hex digits. */
  readonly instanceId?: string;
}

/** Counters since the layer opened. The share of lookups that reached the inner driver is `innerReads / reads`. */
export interface RedisLayerStats extends Readonly<DocumentCacheCounters> {
  readonly l1Entries: number;
  /** Invalidations this instance still owes Redis (keys, plus one for an owed generation bump). */
  readonly dirtyKeys: number;
  readonly redisReady: boolean;
  /** Whether the change bus subscription is confirmed (the L1 is used only while it is). */
  readonly busLive: boolean;
  /** Bus messages published (one per batch with changes) and received from other instances. */
  readonly published: number;
  readonly received: number;
  /**
   * Commits that went on without an instance's acknowledgement once that instance's lease ran out
   * (it then serves no L1 until it has caught up with the bus).
   */
  readonly ackTimeouts: number;
  /** Other instances heard on the bus within their lease (the ones a commit waits for). */
  readonly peers: number;
  /** Batches of changes the inner driver reported. */
  readonly innerNotices: number;
}

/** The driver `openRedisLayer` returns. */
export interface RedisLayer extends Driver {
  /** This instance's id on the bus. */
  readonly instanceId: string;
  stats(): RedisLayerStats;
}

const DEFAULTS = {
  prefix: 'savepoint',
  l1MaxEntries: 10_000,
  l1MaxAgeMs: 60_000,
  l1MaxEntryChars: 256 * 1024,
  ackTimeoutMs: 40,
  commandTimeoutMs: 500,
  startTimeoutMs: 2_000,
  minDelayMs: 50,
  maxDelayMs: 2_000,
  maxMessageChars: 128 * 1024,
  /** A read slower than this cannot fill Redis (its epoch is gone): far beyond any sane read. */
  epochTtlMs: 60_000,
  pauseMs: 1_000,
  maxDirtyKeys: 100_000,
  repairIntervalMs: 1_000,
  ackReportIntervalMs: 10_000,
} as const;

const UNKNOWN: readonly Change[] = [{ kind: 'unknown' }];

const defaultOnError: RedisErrorHandler = (error, context) =>
  console.warn(`[savepoint] redis layer: ${context}: ${error.message}`);

function wholeNumber(value: number | undefined, fallback: number, what: string, min = 0): number {
  const resolved = value ?? fallback;
  if (!Number.isSafeInteger(resolved) || resolved < min)
    throw invalidInput(`${what} must be a whole number >= ${min}`);
  return resolved;
}

class RedisLayerDriver implements RedisLayer {
  readonly name: string;
  readonly capabilities: DriverCapabilities;
  readonly instanceId: string;
  readonly #inner: Driver;
  readonly #keys: RedisKeys;
  readonly #commands: Redis;
  readonly #subscriber: Redis;
  readonly #l1: L1Cache;
  readonly #documents: DocumentCache;
  readonly #bus: ChangeBus;
  readonly #deduper: ChangeDeduper | undefined;
  readonly #listeners = new Set<ExternalChangeListener>();
  readonly #unsubscribeInner: (() => void) | undefined;
  readonly #report: RedisErrorHandler;
  readonly #ackTimeoutMs: number;
  readonly #maxMessageChars: number;
  #noticeOwed = false;
  #repairing = false;
  #repairTimer: NodeJS.Timeout | undefined;
  #lastAckReport = Number.NEGATIVE_INFINITY;
  #closing: Promise<void> | undefined;
  #published = 0;
  #received = 0;
  #ackTimeouts = 0;
  #innerNotices = 0;

  constructor(inner: Driver, options: RedisLayerOptions) {
    const prefix = options.prefix ?? DEFAULTS.prefix;
    if (prefix.length === 0 || prefix.endsWith(':'))
      throw invalidInput('The Redis prefix must be non-empty and not end with ":"');
    const tierOf = tierResolver(options.tiers, options.defaultTier ?? DEFAULT_TIER);
    const commandTimeoutMs = wholeNumber(
      options.commandTimeoutMs,
      DEFAULTS.commandTimeoutMs,
      'commandTimeoutMs',
      1,
    );
    const reconnect = {
      minDelayMs: wholeNumber(options.reconnect?.minDelayMs, DEFAULTS.minDelayMs, 'reconnect.minDelayMs', 1),
      maxDelayMs: wholeNumber(options.reconnect?.maxDelayMs, DEFAULTS.maxDelayMs, 'reconnect.maxDelayMs', 1),
    };
    this.#l1 = new L1Cache({
      maxEntries: wholeNumber(options.l1?.maxEntries, DEFAULTS.l1MaxEntries, 'l1.maxEntries'),
      maxAgeMs: wholeNumber(options.l1?.maxAgeMs, DEFAULTS.l1MaxAgeMs, 'l1.maxAgeMs', 1),
      maxEntryChars: wholeNumber(options.l1?.maxEntryChars, DEFAULTS.l1MaxEntryChars, 'l1.maxEntryChars'),
    });
    this.#ackTimeoutMs = wholeNumber(options.ackTimeoutMs, DEFAULTS.ackTimeoutMs, 'ackTimeoutMs');
    if (this.#ackTimeoutMs > MAX_LEASE_MS) throw invalidInput(`ackTimeoutMs must be at most ${MAX_LEASE_MS}`);
    this.#maxMessageChars = wholeNumber(
      options.maxMessageChars,
      DEFAULTS.maxMessageChars,
      'maxMessageChars',
      1024,
    );
    this.instanceId = options.instanceId ?? randomBytes(6).toString('hex');
    this.#report = options.onError ?? defaultOnError;
    this.#inner = inner;
    this.name = `${inner.name}+redis`;
    this.capabilities = { ...inner.capabilities, sharedAcrossProcesses: true };
    this.#keys = redisKeys(prefix);

    const report = (error: Error, context: string): void => this.#safeReport(error, context);
    const connection = (role: string) => ({
      url: options.url,
      connectionName: `${prefix}:${role}:${this.instanceId}`,
      commandTimeoutMs,
      reconnect,
      report,
    });
    this.#commands = connectRedis(connection('cmd'));
    this.#subscriber = connectRedis(connection('sub'));
    this.#commands.on('ready', () => this.#repairSoon());

    this.#documents = new DocumentCache({
      redis: this.#commands,
      keys: this.#keys,
      l1: this.#l1,
      l1Fillable: () => this.#bus.live,
      l1Servable: () => this.#bus.current(),
      tierOf,
      epochTtlMs: DEFAULTS.epochTtlMs,
      pauseMs: DEFAULTS.pauseMs,
      maxDirtyKeys: DEFAULTS.maxDirtyKeys,
      report,
    });
    this.#bus = new ChangeBus(
      this.#subscriber,
      this.#commands,
      this.#keys,
      this.instanceId,
      this.#ackTimeoutMs,
      {
        onMessage: (message) => {
          this.#received++;
          if (message.keys === null) this.#l1.clear();
          else this.#l1.invalidate(message.keys);
          this.#deliver('bus', message.changes);
        },
        onLive: (resumed) => {
          // Messages may have been missed while the bus was down: forget everything, tell listeners.
          this.#l1.clear();
          if (resumed) this.#deliver(undefined, UNKNOWN);
        },
        onLost: () => this.#l1.clear(),
        report,
      },
    );
    this.#deduper = inner.onExternalChange === undefined ? undefined : new ChangeDeduper();
    this.#unsubscribeInner = inner.onExternalChange?.((changes) => this.#onInnerChanges(changes));
  }

  /** Waits (up to `timeoutMs`) for both connections and the bus subscription; never fails. */
  async start(timeoutMs: number): Promise<void> {
    await Promise.all([whenReady(this.#commands, timeoutMs), this.#bus.started(timeoutMs)]);
    await this.#documents.initGeneration();
  }

  stats(): RedisLayerStats {
    return {
      ...this.#documents.counters,
      l1Entries: this.#l1.size,
      dirtyKeys: this.#documents.dirtyKeys,
      redisReady: this.#commands.status === 'ready',
      busLive: this.#bus.live,
      published: this.#published,
      received: this.#received,
      ackTimeouts: this.#ackTimeouts,
      peers: this.#bus.peers,
      innerNotices: this.#innerNotices,
    };
  }

  // ---- cached reads ----

  getDocument(collection: string, key: string, now: number): Promise<StoredDocument | undefined> {
    return this.#documents.get(this.#inner, collection, key, now);
  }

  getDocuments(collection: string, keys: readonly string[], now: number): Promise<StoredDocument[]> {
    return this.#documents.getMany(this.#inner, collection, keys, now);
  }

  // ---- reads that pass through ----

  listDocuments(
    collection: string,
    options: { readonly prefix: string; readonly after: string | null; readonly limit: number },
    now: number,
  ): Promise<DocumentPage> {
    return this.#inner.listDocuments(collection, options, now);
  }

  readStream(stream: string, after: number, limit: number, now: number): Promise<StreamEvent[]> {
    return this.#inner.readStream(stream, after, limit, now);
  }

  streamHead(stream: string, now: number): Promise<number> {
    return this.#inner.streamHead(stream, now);
  }

  boardInfo(board: string): Promise<BoardInfo | undefined> {
    return this.#inner.boardInfo(board);
  }

  boardRange(board: string, offset: number, limit: number): Promise<BoardEntry[]> {
    return this.#inner.boardRange(board, offset, limit);
  }

  boardMember(board: string, member: string): Promise<BoardEntry | undefined> {
    return this.#inner.boardMember(board, member);
  }

  listBoards(prefix: string): Promise<BoardInfo[]> {
    return this.#inner.listBoards(prefix);
  }

  /** Expired documents are never served from the cache, so removing them needs no invalidation. */
  sweepExpired(now: number, limit: number): Promise<SweepResult> {
    return this.#inner.sweepExpired(now, limit);
  }

  // ---- the write path ----

  async applyBatch(batch: readonly PreparedCommit[]): Promise<Array<CommitResult | SavepointError>> {
    let outcomes: Array<CommitResult | SavepointError>;
    try {
      outcomes = await this.#inner.applyBatch(batch);
    } catch (error) {
      // The batch may or may not have committed (a connection lost at COMMIT): invalidate all it could touch.
      const addresses = batch.flatMap(documentAddressesOf);
      await this.#announce(this.#cacheKeysOf(addresses), UNKNOWN);
      throw error;
    }
    const { written, changes } = batchEffects(batch, outcomes);
    await this.#announce(this.#cacheKeysOf(written), changes);
    return outcomes;
  }

  /** Invalidates `cacheKeys` everywhere and publishes `changes`; resolves once other instances acknowledged. */
  async #announce(cacheKeys: readonly string[], changes: readonly Change[]): Promise<void> {
    if (cacheKeys.length === 0 && changes.length === 0) return;
    const ack = cacheKeys.length > 0 && this.#ackTimeoutMs > 0;
    const id = ack ? this.#bus.openMessage() : this.#bus.nextId();
    const message = encodeBusMessage(
      { from: this.instanceId, id, ack, keys: cacheKeys, changes },
      this.#maxMessageChars,
    );
    const receivers = await this.#documents.invalidate(cacheKeys, message);
    const repliedAt = performance.now();
    if (receivers === undefined) {
      this.#bus.dropMessage(id);
      // Other instances missed this commit; the repair tells them to drop the keys and re-read.
      this.#noticeOwed = true;
      this.#repairSoon();
      return;
    }
    this.#published++;
    if (ack) this.#noteAcks(await this.#bus.awaitAcks(id, repliedAt));
  }

  /** Counts and reports (at most once per interval) instances that lagged, and a bus that did not echo. */
  #noteAcks(outcome: AckOutcome): void {
    if (outcome.late.length === 0 && outcome.echoed) return;
    if (outcome.late.length > 0) this.#ackTimeouts++;
    const now = performance.now();
    if (now - this.#lastAckReport < DEFAULTS.ackReportIntervalMs) return;
    this.#lastAckReport = now;
    this.#safeReport(
      new Error(
        outcome.late.length > 0
          ? `instance ${outcome.late.join(', ')} did not acknowledge a commit within its lease; commits stop waiting for it, and it reads Redis instead of its L1 until it catches up`
          : `this instance's own bus message did not come back within ${this.#ackTimeoutMs} ms; its subscription lags`,
      ),
      'redis bus ack',
    );
  }

  #cacheKeysOf(addresses: readonly { readonly collection: string; readonly key: string }[]): string[] {
    return [...new Set(addresses.map(({ collection, key }) => this.#keys.document(collection, key)))];
  }

  /** Starts the repair loop if anything is owed; it stops itself once nothing is. */
  #repairSoon(): void {
    if (this.#closing !== undefined || this.#repairTimer !== undefined) return;
    if (this.#documents.dirtyKeys === 0 && !this.#noticeOwed) return;
    this.#repairTimer = setInterval(() => void this.#repair(), DEFAULTS.repairIntervalMs);
    // A process with nothing else to do must be able to exit, repair or not.
    this.#repairTimer.unref();
    void this.#repair();
  }

  async #repair(): Promise<void> {
    if (this.#repairing) return;
    this.#repairing = true;
    // Taken now: a commit failing while the repair runs owes its own notice.
    const notify = this.#noticeOwed;
    this.#noticeOwed = false;
    try {
      const changes = notify ? UNKNOWN : [];
      const repaired = await this.#documents.repair(
        (keys) =>
          encodeBusMessage(
            { from: this.instanceId, id: this.#bus.nextId(), ack: false, keys, changes },
            this.#maxMessageChars,
          ),
        notify,
      );
      if (!repaired) this.#noticeOwed ||= notify;
      else if (this.#documents.dirtyKeys === 0 && !this.#noticeOwed) {
        clearInterval(this.#repairTimer);
        this.#repairTimer = undefined;
      }
    } finally {
      this.#repairing = false;
    }
  }

  // ---- dump and load ----

  /** Straight from the inner driver's snapshot: the cache may lag it, never lead it. */
  exportRecords(now: number): AsyncIterable<readonly RecordDump[]> {
    return this.#inner.exportRecords(now);
  }

  countRecords(now: number): Promise<ImportCounts> {
    return this.#inner.countRecords(now);
  }

  /**
   * The inner driver imports; then every cache forgets everything: this L1, the Redis entries of
   * every instance (a generation bump) and, through the bus, every other instance's L1, whose
   * listeners hear `unknown`. Done after a failed import too, unless it failed on the dump or the
   * target (which change nothing): a connection lost at COMMIT leaves the outcome unknown.
   */
  async importRecords(
    pages: AsyncIterable<readonly RecordDump[]>,
    now: number,
    options?: ImportOptions,
  ): Promise<ImportCounts> {
    let counts: ImportCounts;
    try {
      counts = await this.#inner.importRecords(pages, now, options);
    } catch (error) {
      const refused =
        isSavepointError(error) &&
        (error.code === 'VERSION_CONFLICT' ||
          error.code === 'INVALID_INPUT' ||
          error.code === 'CORRUPT_DATA');
      if (!refused) await this.#forgetEverything();
      throw error;
    }
    await this.#forgetEverything();
    return counts;
  }

  async #forgetEverything(): Promise<void> {
    this.#l1.clear();
    // On failure the bump is owed, and Redis is bypassed until the repair pays it.
    await this.#documents.bumpGeneration();
    const ack = this.#ackTimeoutMs > 0;
    const id = ack ? this.#bus.openMessage() : this.#bus.nextId();
    const message = encodeBusMessage(
      { from: this.instanceId, id, ack, keys: null, changes: UNKNOWN },
      this.#maxMessageChars,
    );
    const receivers = await this.#documents.invalidate([], message);
    const repliedAt = performance.now();
    if (receivers === undefined) {
      this.#bus.dropMessage(id);
      this.#noticeOwed = true;
      this.#repairSoon();
      return;
    }
    this.#published++;
    if (ack) this.#noteAcks(await this.#bus.awaitAcks(id, repliedAt));
  }

  // ---- the change feed ----

  onExternalChange(listener: ExternalChangeListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #onInnerChanges(changes: readonly Change[]): void {
    this.#innerNotices++;
    if (changes.some((change) => change.kind === 'unknown')) {
      this.#l1.clear();
      void this.#documents.bumpGeneration().then(() => this.#repairSoon());
    } else {
      const keys: string[] = [];
      for (const change of changes) {
        if (change.kind === 'document') keys.push(this.#keys.document(change.collection, change.key));
      }
      if (keys.length > 0) {
        this.#l1.invalidate(keys);
        // The writer may have bypassed Redis (a tool on plain PostgreSQL), so delete the entries here too.
        void this.#documents.invalidate(keys, undefined).then(() => this.#repairSoon());
      }
    }
    this.#deliver('inner', changes);
  }

  /** Hands changes to the listeners, once each; `source` undefined skips deduplication. */
  #deliver(source: FeedSource | undefined, changes: readonly Change[]): void {
    const fresh =
      source === undefined || this.#deduper === undefined ? changes : this.#deduper.accept(source, changes);
    if (fresh.length === 0) return;
    for (const listener of this.#listeners) {
      try {
        listener(fresh);
      } catch (error) {
        this.#safeReport(asError(error), 'external change listener');
      }
    }
  }

  #safeReport(error: Error, context: string): void {
    try {
      this.#report(error, context);
    } catch {
      // A broken logger must not break a read or a commit.
    }
  }

  // ---- lifecycle ----

  /** Closes both Redis connections and then the inner driver. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    clearInterval(this.#repairTimer);
    this.#repairTimer = undefined;
    // One last try to pay what failed invalidations owe, so other instances do not keep stale entries.
    if (this.#documents.dirtyKeys > 0 || this.#noticeOwed) await this.#repair();
    this.#bus.close();
    this.#unsubscribeInner?.();
    this.#listeners.clear();
    await Promise.all([closeRedis(this.#commands), closeRedis(this.#subscriber)]);
    await this.#inner.close();
  }
}

/**
 * Wraps `inner` in the Redis layer; the layer owns `inner` from then on and closes it on `close()`.
 * Resolves once Redis is connected and subscribed, or after `startTimeoutMs` when it is not (the
 * layer then works degraded on the inner driver and connects in the background). Throws
 * `INVALID_INPUT` for bad options (after closing `inner`).
 */
export async function openRedisLayer(inner: Driver, options: RedisLayerOptions): Promise<RedisLayer> {
  let layer: RedisLayerDriver;
  let startTimeoutMs: number;
  try {
    startTimeoutMs = wholeNumber(options.startTimeoutMs, DEFAULTS.startTimeoutMs, 'startTimeoutMs');
    layer = new RedisLayerDriver(inner, options);
  } catch (error) {
    await inner.close();
    throw error;
  }
  await layer.start(startTimeoutMs);
  return layer;
}
