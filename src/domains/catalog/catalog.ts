/**
 * The catalog: versioned game constants (enemies, items, classes, themes...) loaded from seed
 * files and served read-mostly from an in-process cache.
 *
 * Storage:
 * - `catalog-item/{kind}:{id}`: `{ kind, id, position, record }`, one document per record
 *   (`position` keeps the file's order; kinds contain no `:`, so the prefix `{kind}:` is exact);
 * - `catalog/kind:{kind}`: `{ kind, version, updatedAt, count, hash, revision, loadedAt }`;
 * - `catalog/version`: `{ version }`, the catalog version, +1 on every effective change.
 *
 * Seeding is one commit across all files, conditional on the version of every kind document it
 * read, so two seeders cannot interleave. Unchanged kinds (same content hash) write nothing and
 * when nothing changed the commit is skipped entirely. A changed kind is replaced: records that
 * differ are written, records no longer present are deleted, unchanged records are left alone.
 *
 * The cache listens to the change feed: any change to the catalog's collections, and any change
 * made by another process (`unknown`), drops it, so `savepoint seed` run beside a server takes
 * effect there without a restart.
 */

import { appendAudit } from '../../audit.js';
import { retryOnConflict } from '../../engine/retry.js';
import type { ChangeBatch, Store } from '../../engine/store.js';
import type { CommitOp, JsonObject, StoredDocument } from '../../engine/types.js';
import { invalidInput, notFound, SavepointError } from '../../errors.js';
import {
  type ArchivedKind,
  archivedLoads,
  archiveOps,
  type CatalogDiff,
  type CatalogVersionInfo,
  contentOf,
  describeLoads,
  diffLoads,
  isArchived,
  loadAsSeedFile,
  loadOf,
} from './catalog-versions.js';
import { KIND_PATTERN, readSeedDirectory, type SeedFile } from './seed-files.js';

export const CATALOG_COLLECTION = 'catalog';
export const CATALOG_ITEM_COLLECTION = 'catalog-item';
const VERSION_KEY = 'version';
const KIND_PREFIX = 'kind:';
/** One seed commit's ceiling, below the engine's 200,000 ops. */
const MAX_SEED_OPS = 190_000;

/** A kind as `GET /v1/catalog` lists it. */
export interface CatalogKindInfo {
  readonly kind: string;
  /** The seed file's `version`, such as `1.2.0`. */
  readonly version: string;
  /** The seed file's `updated_at`. */
  readonly updatedAt: string;
  readonly count: number;
  /** +1 every time the kind's content changes. */
  readonly revision: number;
  /** When this content was loaded (ISO-8601 UTC). */
  readonly loadedAt: string;
  /** The content hash: the kind's ETag. */
  readonly hash: string;
}

export interface CatalogOverview {
  /** The catalog version: +1 on every seeding that changed anything; 0 before the first. */
  readonly version: number;
  /** Kinds by name. */
  readonly kinds: readonly CatalogKindInfo[];
}

/** A whole kind, as `GET /v1/catalog/{kind}` answers it, with what the cache derives once. */
export interface CatalogKind extends CatalogKindInfo {
  /** The records, in seed-file order. */
  readonly data: readonly JsonObject[];
  /** A strong ETag built from the content hash, quotes included. */
  readonly etag: string;
  /** The records by id (numeric ids as strings). */
  readonly byId: ReadonlyMap<string, JsonObject>;
}

/** What changed for one kind in a seeding. */
export interface SeededKind {
  readonly kind: string;
  readonly revision: number;
  readonly added: number;
  readonly updated: number;
  readonly removed: number;
}

export interface SeedReport {
  /** False when every kind was unchanged: nothing was written at all. */
  readonly committed: boolean;
  /** The catalog version after the seeding. */
  readonly version: number;
  readonly changed: readonly SeededKind[];
  readonly unchanged: readonly string[];
}

interface KindValue extends JsonObject {
  kind: string;
  version: string;
  updatedAt: string;
  count: number;
  hash: string;
  revision: number;
  loadedAt: string;
}

interface ItemValue extends JsonObject {
  kind: string;
  id: string;
  position: number;
  record: JsonObject;
}

const kindKey = (kind: string): string => `${KIND_PREFIX}${kind}`;
const itemKey = (kind: string, id: string): string => `${kind}:${id}`;
const etagOf = (hash: string): string => `"${hash.slice(0, 32)}"`;

function toKindInfo(value: KindValue): CatalogKindInfo {
  const { kind, version, updatedAt, count, revision, loadedAt, hash } = value;
  return { kind, version, updatedAt, count, revision, loadedAt, hash };
}

/** Builds the ops that move one kind from what is stored to `file`, and counts them. */
function replaceKindOps(
  file: SeedFile,
  stored: readonly StoredDocument[],
  previous: StoredDocument | undefined,
  loadedAt: string,
): { ops: CommitOp[]; seeded: SeededKind } {
  const ops: CommitOp[] = [];
  const existing = new Map(stored.map((document) => [(document.value as ItemValue).id, document]));
  let added = 0;
  let updated = 0;
  file.data.forEach((record, position) => {
    const id = file.ids[position] as string;
    const value: ItemValue = { kind: file.kind, id, position, record };
    const before = existing.get(id);
    existing.delete(id);
    if (before !== undefined && JSON.stringify(before.value) === JSON.stringify(value)) return;
    if (before === undefined) added++;
    else updated++;
    ops.push({ op: 'put', collection: CATALOG_ITEM_COLLECTION, key: itemKey(file.kind, id), value });
  });
  for (const document of existing.values()) {
    ops.push({ op: 'delete', collection: CATALOG_ITEM_COLLECTION, key: document.key });
  }
  const revision = ((previous?.value as KindValue | undefined)?.revision ?? 0) + 1;
  const meta: KindValue = {
    kind: file.kind,
    version: file.version,
    updatedAt: file.updatedAt,
    count: file.data.length,
    hash: file.hash,
    revision,
    loadedAt,
  };
  ops.push({
    op: 'put',
    collection: CATALOG_COLLECTION,
    key: kindKey(file.kind),
    value: meta,
    // The seeding is computed from this read; a concurrent seeder makes it recompute.
    ...(previous === undefined ? { mustNotExist: true } : { expectedVersion: previous.version }),
  });
  return { ops, seeded: { kind: file.kind, revision, added, updated, removed: existing.size } };
}

/**
 * Loads checked seed files into the store in one atomic commit (see the module comment). Kinds
 * not among `files` are left as they are. Two files of the same kind are `INVALID_INPUT`.
 */
export async function applySeed(store: Store, files: readonly SeedFile[]): Promise<SeedReport> {
  const kinds = new Set<string>();
  for (const file of files) {
    if (kinds.has(file.kind)) throw invalidInput(`${file.file}: the kind ${file.kind} is given twice`);
    kinds.add(file.kind);
  }
  return retryOnConflict(
    async () => {
      const metas = await store.getMany(
        CATALOG_COLLECTION,
        [VERSION_KEY, ...files.map((file) => kindKey(file.kind))].slice(0, 1000),
      );
      const byKey = new Map(metas.map((document) => [document.key, document]));
      const catalogVersion = ((byKey.get(VERSION_KEY)?.value as { version?: number } | undefined)?.version ??
        0) as number;
      const loadedAt = new Date(store.now()).toISOString();
      const ops: CommitOp[] = [];
      const changed: SeededKind[] = [];
      const unchanged: string[] = [];
      for (const file of files) {
        const previous =
          byKey.get(kindKey(file.kind)) ?? (await store.get(CATALOG_COLLECTION, kindKey(file.kind)));
        if (previous !== undefined && (previous.value as KindValue).hash === file.hash) {
          unchanged.push(file.kind);
          continue;
        }
        const stored = await store.listAll(CATALOG_ITEM_COLLECTION, `${file.kind}:`);
        const replaced = replaceKindOps(file, stored, previous, loadedAt);
        ops.push(...replaced.ops);
        // Every load is kept, so that it can be read, compared and loaded again (catalog-versions.ts).
        ops.push(...archiveOps({ ...file, revision: replaced.seeded.revision, loadedAt }));
        const replacedKind = previous?.value as KindValue | undefined;
        if (replacedKind !== undefined && !(await isArchived(store, file.kind, replacedKind.revision))) {
          // Loaded before versions were kept: archived now, from the records it is about to replace.
          const records = stored
            .map((document) => document.value as ItemValue)
            .sort((a, b) => a.position - b.position)
            .map((item) => item.record);
          ops.push(...archiveOps({ ...replacedKind, data: records }));
        }
        changed.push(replaced.seeded);
      }
      if (changed.length === 0) return { committed: false, version: catalogVersion, changed, unchanged };
      if (ops.length > MAX_SEED_OPS) {
        throw invalidInput(
          `The seed files need ${ops.length} writes; one seeding holds at most ${MAX_SEED_OPS}`,
        );
      }
      ops.push({
        op: 'patch',
        collection: CATALOG_COLLECTION,
        key: VERSION_KEY,
        patch: { $inc: { version: 1 } },
        upsert: true,
      });
      const { results } = await store.commit(ops);
      const last = results.at(-1);
      const version =
        last?.op === 'patch' ? (last.document.value as { version: number }).version : catalogVersion + 1;
      return { committed: true, version, changed, unchanged };
    },
    { attempts: 10 },
  );
}

/** Reads, checks and applies every `*.json` seed file of `dir` (see {@link applySeed}). */
export async function seedCatalogFromDirectory(store: Store, dir: string): Promise<SeedReport> {
  return applySeed(store, await readSeedDirectory(dir));
}

/**
 * The start-up seeding: applies `SAVEPOINT_SEED_DIR` when it is set (an unchanged directory
 * writes nothing, so every start may run it), and answers `undefined` when it is not.
 */
export async function seedAtStart(
  store: Store,
  config: { readonly seedDir: string | undefined },
): Promise<SeedReport | undefined> {
  return config.seedDir === undefined ? undefined : seedCatalogFromDirectory(store, config.seedDir);
}

/** A seeding's outcome as lines for a person (the CLI's output, the server's start-up log). */
export function describeSeedReport(report: SeedReport): string[] {
  if (!report.committed) {
    return [
      `catalog unchanged at version ${report.version} (${report.unchanged.length} kinds checked, nothing written)`,
    ];
  }
  const lines = [`catalog version ${report.version}: ${report.changed.length} kinds changed`];
  for (const kind of report.changed) {
    lines.push(
      `  ${kind.kind}: revision ${kind.revision} (${kind.added} added, ${kind.updated} updated, ${kind.removed} removed)`,
    );
  }
  if (report.unchanged.length > 0) lines.push(`  unchanged: ${report.unchanged.join(', ')}`);
  return lines;
}

/**
 * Catalog reads over a {@link Store}, cached in-process until the change feed says the catalog
 * (or, from another process, anything) changed. Call `close()` to stop listening.
 */
export class Catalog {
  readonly #store: Store;
  readonly #unsubscribe: () => void;
  #overview: Promise<CatalogOverview> | undefined;
  readonly #kinds = new Map<string, Promise<CatalogKind | undefined>>();

  constructor(store: Store) {
    this.#store = store;
    this.#unsubscribe = store.subscribe((batch) => this.#onChanges(batch));
  }

  /** The catalog version and every kind's summary. */
  overview(): Promise<CatalogOverview> {
    if (this.#overview === undefined) {
      const loading = this.#loadOverview();
      this.#overview = loading;
      loading.catch(() => {
        if (this.#overview === loading) this.#overview = undefined;
      });
    }
    return this.#overview;
  }

  /** A whole kind, or `undefined` when there is no such kind. */
  kind(kind: string): Promise<CatalogKind | undefined> {
    if (!KIND_PATTERN.test(kind)) return Promise.resolve(undefined);
    let loading = this.#kinds.get(kind);
    if (loading === undefined) {
      const started = this.#loadKind(kind);
      loading = started;
      this.#kinds.set(kind, started);
      started.catch(() => {
        if (this.#kinds.get(kind) === started) this.#kinds.delete(kind);
      });
    }
    return loading;
  }

  /** One record of a kind, or `undefined`. Numeric ids match their decimal text (`7` is `"7"`). */
  async record(kind: string, id: string): Promise<JsonObject | undefined> {
    return (await this.kind(kind))?.byId.get(id);
  }

  /** Seeds from checked files and answers what changed (see {@link applySeed}). */
  seed(files: readonly SeedFile[]): Promise<SeedReport> {
    return applySeed(this.#store, files);
  }

  /** Seeds from a directory of `<kind>.json` files (see {@link seedCatalogFromDirectory}). */
  seedFromDirectory(dir: string): Promise<SeedReport> {
    return seedCatalogFromDirectory(this.#store, dir);
  }

  /** Every load of a kind, newest first. Errors: `NOT_FOUND` for an unknown kind. */
  async versions(kind: string): Promise<{ kind: string; versions: CatalogVersionInfo[] }> {
    const { current, loads } = await this.#loads(kind);
    return { kind, versions: describeLoads(loads, current.revision) };
  }

  /** A kind's content as loaded under `version` (the newest such load). Errors: `NOT_FOUND`. */
  async kindAt(kind: string, version: string): Promise<CatalogKind> {
    const { loads } = await this.#loads(kind);
    const load = loadOf(kind, loads, version);
    const { data } = await contentOf(this.#store, load);
    const byId = new Map(data.map((record) => [String(record.id), record]));
    return {
      kind,
      version: load.version,
      updatedAt: load.updatedAt,
      count: load.count,
      revision: load.revision,
      loadedAt: load.loadedAt,
      hash: load.hash,
      data,
      byId,
      etag: etagOf(load.hash),
    };
  }

  /** What changed from version `from` to version `to`. Errors: `NOT_FOUND`. */
  async diff(kind: string, from: string, to: string): Promise<CatalogDiff> {
    const { loads } = await this.#loads(kind);
    const [before, after] = await Promise.all([
      contentOf(this.#store, loadOf(kind, loads, from)),
      contentOf(this.#store, loadOf(kind, loads, to)),
    ]);
    return diffLoads(kind, before, after);
  }

  /**
   * Makes `version`'s content current again, as a new load: atomic, idempotent like seeding (the
   * current content already equal writes nothing), and audited (`catalog-rollback`). Caches on
   * every instance drop with the change. Errors: `NOT_FOUND`.
   */
  async rollback(
    kind: string,
    version: string,
  ): Promise<{ kind: string; version: string; changed: boolean }> {
    const { current, loads } = await this.#loads(kind);
    const load = loadOf(kind, loads, version);
    const report = await applySeed(this.#store, [loadAsSeedFile(load, await contentOf(this.#store, load))]);
    if (report.committed) {
      await appendAudit(this.#store, 'catalog-rollback', {
        kind,
        fromVersion: current.version,
        toVersion: version,
        revision: report.changed[0]?.revision ?? null,
      });
    }
    return { kind, version, changed: report.committed };
  }

  /** Stops listening to the change feed and drops the cache. */
  close(): void {
    this.#unsubscribe();
    this.#invalidate();
  }

  async #loads(kind: string): Promise<{ current: CatalogKindInfo; loads: ArchivedKind[] }> {
    const meta = KIND_PATTERN.test(kind)
      ? await this.#store.get(CATALOG_COLLECTION, kindKey(kind))
      : undefined;
    if (meta === undefined) throw notFound(`No catalog kind ${kind}`, { kind });
    const current = toKindInfo(meta.value as KindValue);
    const loads = await archivedLoads(this.#store, kind);
    if (!loads.some((load) => load.revision === current.revision)) {
      // Loaded before versions were kept: the current content is its one known version.
      const live = await this.kind(kind);
      if (live !== undefined) loads.unshift(live);
    }
    return { current, loads };
  }

  #onChanges(batch: ChangeBatch): void {
    for (const change of batch.changes) {
      if (
        change.kind === 'unknown' ||
        (change.kind === 'document' &&
          (change.collection === CATALOG_COLLECTION || change.collection === CATALOG_ITEM_COLLECTION))
      ) {
        this.#invalidate();
        return;
      }
    }
  }

  #invalidate(): void {
    // In-flight loads keep their promise for callers who already asked; nobody new gets them.
    this.#overview = undefined;
    this.#kinds.clear();
  }

  async #loadOverview(): Promise<CatalogOverview> {
    const [version, kinds] = await Promise.all([
      this.#store.get(CATALOG_COLLECTION, VERSION_KEY),
      this.#store.listAll(CATALOG_COLLECTION, KIND_PREFIX),
    ]);
    return {
      version: (version?.value as { version?: number } | undefined)?.version ?? 0,
      kinds: kinds.map((document) => toKindInfo(document.value as KindValue)),
    };
  }

  /**
   * Reads a kind's document, its records, then the kind document again: a seeding in between
   * changes the kind document's version (records only change with it), so a match means the
   * records read are exactly that content.
   */
  async #loadKind(kind: string): Promise<CatalogKind | undefined> {
    for (let attempt = 1; ; attempt++) {
      const meta = await this.#store.get(CATALOG_COLLECTION, kindKey(kind));
      if (meta === undefined) return undefined;
      const items = await this.#store.listAll(CATALOG_ITEM_COLLECTION, `${kind}:`);
      const again = await this.#store.get(CATALOG_COLLECTION, kindKey(kind));
      if (again?.version !== meta.version) {
        if (attempt >= 10) {
          throw new SavepointError('STORAGE_UNAVAILABLE', `The catalog kind ${kind} keeps changing; retry`);
        }
        continue;
      }
      const values = items
        .map((document) => document.value as ItemValue)
        .sort((a, b) => a.position - b.position);
      const info = toKindInfo(meta.value as KindValue);
      return {
        ...info,
        data: values.map((value) => value.record),
        byId: new Map(values.map((value) => [value.id, value.record])),
        etag: etagOf(info.hash),
      };
    }
  }
}
