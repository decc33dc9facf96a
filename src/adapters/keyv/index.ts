/**
 * `savepoint/keyv`: a Keyv storage adapter. Every Keyv key is one document of a collection
 * (default `keyv`), so a cache written through Keyv survives `kill -9` like any other Savepoint
 * record and expires through the documents' own expiry. See docs/keyv.md.
 */
import { EventEmitter } from 'node:events';
import type { KeyvStoreAdapter, StoredData } from 'keyv';
import {
  type CommitOp,
  type JsonValue,
  openSavepoint,
  type Savepoint,
  type SavepointOptions,
} from '../../index.js';

export interface KeyvSavepointOptions {
  /** The collection that holds the entries; default `keyv`. */
  readonly collection?: string;
}

/** Opens a store of its own: `memory:`, `sqlite:<path>` or `postgres://…`, plus any Savepoint option. */
export interface KeyvSavepointUrlOptions extends SavepointOptions, KeyvSavepointOptions {
  readonly url: string;
}

/** What Keyv reads from `store.opts`. */
export interface KeyvSavepointOpts {
  readonly url: string | undefined;
  readonly collection: string;
  /**
   * Keyv enables `keyv.iterator()` only for stores whose `opts.dialect` is on its list of known
   * adapters. The iterator here works the same on every driver, so it names the driver family
   * (memory is the in-process engine and reports `sqlite`).
   */
  readonly dialect: 'sqlite' | 'postgres';
  /** Keyv's own value tests set a custom deserializer here; the adapter never reads it. */
  deserialize?: unknown;
  [option: string]: unknown;
}

export const DEFAULT_KEYV_COLLECTION = 'keyv';

/** Keys per read or write; the engine's `getMany` takes at most 1,000. */
const BATCH = 1000;

export class KeyvSavepoint extends EventEmitter implements KeyvStoreAdapter {
  readonly opts: KeyvSavepointOpts;
  /** Set by Keyv: every key it hands over starts with `<namespace>:`, and `clear` keeps to them. */
  namespace?: string | undefined;
  readonly #savepoint: Promise<Savepoint>;
  readonly #owned: boolean;

  constructor(options: KeyvSavepointUrlOptions);
  constructor(savepoint: Savepoint, options?: KeyvSavepointOptions);
  constructor(source: Savepoint | KeyvSavepointUrlOptions, options: KeyvSavepointOptions = {}) {
    super();
    const opened = isSavepoint(source);
    const collection = (opened ? options.collection : source.collection) ?? DEFAULT_KEYV_COLLECTION;
    const url = opened ? undefined : source.url;
    const driverName = opened ? source.store.driverName : source.url;
    this.opts = { url, collection, dialect: driverName.startsWith('postgres') ? 'postgres' : 'sqlite' };
    this.#owned = !opened;
    this.#savepoint = opened ? Promise.resolve(source) : openSavepoint(source);
    // Keyv listens for 'error'; without a listener a failed open would be an unhandled rejection.
    this.#savepoint.catch((error: unknown) => {
      if (this.listenerCount('error') > 0) this.emit('error', error);
    });
  }

  async get<Value>(key: string): Promise<StoredData<Value> | undefined> {
    const { store } = await this.#savepoint;
    return (await store.get(this.opts.collection, key))?.value as StoredData<Value> | undefined;
  }

  async getMany<Value>(keys: string[]): Promise<Array<StoredData<Value | undefined>>> {
    const { store } = await this.#savepoint;
    const found = new Map<string, JsonValue>();
    for (const batch of chunks(keys)) {
      for (const document of await store.getMany(this.opts.collection, batch)) {
        found.set(document.key, document.value);
      }
    }
    return keys.map((key) => found.get(key) as StoredData<Value | undefined>);
  }

  async has(key: string): Promise<boolean> {
    return (await this.get(key)) !== undefined;
  }

  async hasMany(keys: string[]): Promise<boolean[]> {
    return (await this.getMany(keys)).map((value) => value !== undefined);
  }

  /** `ttl` in milliseconds; entries without one never expire. */
  async set(key: string, value: unknown, ttl?: number): Promise<boolean> {
    await this.#commit([this.#put(key, value, ttl)]);
    return true;
  }

  /** All entries in one commit: every one is written, or none. */
  async setMany(entries: Array<{ key: string; value: unknown; ttl?: number }>): Promise<void> {
    await this.#commit(entries.map(({ key, value, ttl }) => this.#put(key, value, ttl)));
  }

  async delete(key: string): Promise<boolean> {
    return (await this.#deleteAll([key])) > 0;
  }

  /** True when at least one of the keys existed. */
  async deleteMany(keys: string[]): Promise<boolean> {
    return (await this.#deleteAll(keys)) > 0;
  }

  /** Removes the entries of the current namespace (all entries of the collection without one). */
  async clear(): Promise<void> {
    const { store } = await this.#savepoint;
    const prefix = this.#prefixOf(this.namespace);
    for (;;) {
      // Deleted keys leave the listing, so the first page is always the next one.
      const page = await store.list(this.opts.collection, { prefix, limit: BATCH });
      if (page.items.length === 0) return;
      await this.#deleteAll(page.items.map((document) => document.key));
      if (page.nextCursor === null) return;
    }
  }

  /** Yields `[key, value]` of every live entry of `namespace`, in key order, a page at a time. */
  async *iterator<Value>(
    namespace?: string,
  ): AsyncGenerator<Array<string | Awaited<Value> | undefined>, void> {
    const { store } = await this.#savepoint;
    const prefix = this.#prefixOf(namespace);
    let after: string | undefined;
    do {
      const page = await store.list(this.opts.collection, {
        prefix,
        limit: BATCH,
        ...(after === undefined ? {} : { after }),
      });
      for (const document of page.items) yield [document.key, document.value as Awaited<Value>];
      after = page.nextCursor ?? undefined;
    } while (after !== undefined);
  }

  /** Closes the store when this adapter opened it; a store passed in stays open for its owner. */
  async disconnect(): Promise<void> {
    if (!this.#owned) return;
    await (await this.#savepoint).close();
  }

  #prefixOf(namespace: string | undefined): string {
    return namespace === undefined || namespace === '' ? '' : `${namespace}:`;
  }

  #put(key: string, value: unknown, ttl: number | undefined): CommitOp {
    const expiry = typeof ttl === 'number' && ttl > 0 ? { ttlMs: ttl } : { expiresAt: null };
    // Keyv hands over its serialized string; the engine checks anything else is plain JSON.
    return { op: 'put', collection: this.opts.collection, key, value: value as JsonValue, ...expiry };
  }

  async #commit(ops: readonly CommitOp[]): Promise<void> {
    if (ops.length === 0) return;
    const { store } = await this.#savepoint;
    await store.commit(ops);
  }

  /** How many of `keys` existed; each batch is one commit. */
  async #deleteAll(keys: readonly string[]): Promise<number> {
    const { store } = await this.#savepoint;
    let deleted = 0;
    for (const batch of chunks([...new Set(keys)])) {
      const { results } = await store.commit(
        batch.map((key) => ({ op: 'delete', collection: this.opts.collection, key })),
      );
      deleted += results.filter((result) => 'deleted' in result && result.deleted).length;
    }
    return deleted;
  }
}

function isSavepoint(source: Savepoint | KeyvSavepointUrlOptions): source is Savepoint {
  return 'store' in source && typeof source.store === 'object';
}

function* chunks<T>(items: readonly T[]): Generator<T[]> {
  for (let start = 0; start < items.length; start += BATCH) yield items.slice(start, start + BATCH);
}
