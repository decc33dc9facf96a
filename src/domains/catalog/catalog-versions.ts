/**
 * Catalog versions: every load that changes a kind keeps that content, so designers can read an
 * older version, see what changed between two, and make one current again (see
 * docs/time-travel.md).
 *
 * Storage, written in the seeding's own commit:
 * - `catalog-version/{kind}:{revision}`: one load's description
 *   (`{ kind, revision, version, updatedAt, loadedAt, count, hash }`);
 * - `catalog-version-data/{kind}:{revision}:{chunk}`: its records, in file order, in chunks of at
 *   most {@link CHUNK_RECORDS} records or about {@link CHUNK_BYTES} of JSON, so that a kind of any
 *   size fits the store's value limit and the listing never reads the content. A kind loaded before versions were kept gets its content archived by the first load
 * that replaces it. Loads are named by the seed file's `version` string; when one string was loaded
 * more than once (a rollback loads an old version again), the newest load of it answers.
 */
import type { Store } from '../../engine/store.js';
import type { CommitOp, JsonObject, JsonValue, StoredDocument } from '../../engine/types.js';
import { notFound } from '../../errors.js';
import { canonicalJson, type SeedFile } from './seed-files.js';

export const CATALOG_VERSION_COLLECTION = 'catalog-version';
export const CATALOG_VERSION_DATA_COLLECTION = 'catalog-version-data';
const REVISION_DIGITS = 12;
const CHUNK_DIGITS = 6;
const CHUNK_RECORDS = 1_000;
const CHUNK_BYTES = 4 * 1024 * 1024;

/** One load of a kind, as the versions listing shows it. */
export interface CatalogVersionInfo {
  readonly version: string;
  readonly updatedAt: string;
  readonly loadedAt: string;
  readonly count: number;
  /** SHA-256 of the content in canonical form. */
  readonly sha256: string;
  /** Whether this load is the kind's current content. */
  readonly current: boolean;
}

/** One load. `data` is present when the content is already at hand (the current kind's cache). */
export interface ArchivedKind {
  readonly kind: string;
  readonly revision: number;
  readonly version: string;
  readonly updatedAt: string;
  readonly loadedAt: string;
  readonly count: number;
  readonly hash: string;
  readonly data?: readonly JsonObject[];
}

/** A load's version name and records. */
export interface LoadContent {
  readonly version: string;
  readonly data: readonly JsonObject[];
}

export interface CatalogDiff {
  readonly kind: string;
  readonly from: string;
  readonly to: string;
  readonly added: string[];
  readonly removed: string[];
  readonly changed: Array<{ readonly id: string; readonly fields: string[] }>;
}

/** What the archive needs to know of a kind's content. */
export interface KindContent {
  readonly kind: string;
  readonly revision: number;
  readonly version: string;
  readonly updatedAt: string;
  readonly loadedAt: string;
  readonly hash: string;
  readonly data: readonly JsonObject[];
}

const archiveKey = (kind: string, revision: number): string =>
  `${kind}:${String(revision).padStart(REVISION_DIGITS, '0')}`;

/** The id of a checked record as text: a numeric id `7` is `"7"` (as seed files are read). */
const idOf = (record: JsonObject): string => String(record.id as JsonValue);

const chunkKey = (kind: string, revision: number, chunk: number): string =>
  `${archiveKey(kind, revision)}:${String(chunk).padStart(CHUNK_DIGITS, '0')}`;

/** The ops that archive one load of a kind: its description, then its records in chunks. */
export function archiveOps(content: KindContent): CommitOp[] {
  const { kind, revision } = content;
  const ops: CommitOp[] = [
    {
      op: 'put',
      collection: CATALOG_VERSION_COLLECTION,
      key: archiveKey(kind, revision),
      value: {
        kind,
        revision,
        version: content.version,
        updatedAt: content.updatedAt,
        loadedAt: content.loadedAt,
        count: content.data.length,
        hash: content.hash,
      },
    },
  ];
  let chunk: JsonObject[] = [];
  let bytes = 0;
  const flush = (): void => {
    if (chunk.length === 0) return;
    ops.push({
      op: 'put',
      collection: CATALOG_VERSION_DATA_COLLECTION,
      key: chunkKey(kind, revision, ops.length - 1),
      value: { data: chunk },
    });
    chunk = [];
    bytes = 0;
  };
  for (const record of content.data) {
    const size = JSON.stringify(record).length;
    if (chunk.length >= CHUNK_RECORDS || (chunk.length > 0 && bytes + size > CHUNK_BYTES)) flush();
    chunk.push(record);
    bytes += size;
  }
  flush();
  return ops;
}

/** A load's records, in file order. */
export async function contentOf(store: Store, load: ArchivedKind): Promise<LoadContent> {
  if (load.data !== undefined) return { version: load.version, data: load.data };
  const data: JsonObject[] = [];
  const chunks = await store.listAll(
    CATALOG_VERSION_DATA_COLLECTION,
    `${archiveKey(load.kind, load.revision)}:`,
  );
  for (const document of chunks) data.push(...(document.value as { data: JsonObject[] }).data);
  return { version: load.version, data };
}

/** Whether the load `revision` of `kind` is archived already. */
export async function isArchived(store: Store, kind: string, revision: number): Promise<boolean> {
  return (await store.get(CATALOG_VERSION_COLLECTION, archiveKey(kind, revision))) !== undefined;
}

function parseArchive(document: StoredDocument): ArchivedKind {
  const value = document.value as JsonObject;
  return {
    kind: value.kind as string,
    revision: value.revision as number,
    version: value.version as string,
    updatedAt: value.updatedAt as string,
    loadedAt: value.loadedAt as string,
    count: value.count as number,
    hash: value.hash as string,
  };
}

/** Every archived load of a kind, newest first. */
export async function archivedLoads(store: Store, kind: string): Promise<ArchivedKind[]> {
  const loads = (await store.listAll(CATALOG_VERSION_COLLECTION, `${kind}:`)).map(parseArchive);
  return loads.reverse();
}

/** The versions listing; `currentRevision` is the kind's current load. */
export function describeLoads(loads: readonly ArchivedKind[], currentRevision: number): CatalogVersionInfo[] {
  return loads.map((load) => ({
    version: load.version,
    updatedAt: load.updatedAt,
    loadedAt: load.loadedAt,
    count: load.count,
    sha256: load.hash,
    current: load.revision === currentRevision,
  }));
}

/** The newest load of `version`. Errors: `NOT_FOUND`. */
export function loadOf(kind: string, loads: readonly ArchivedKind[], version: string): ArchivedKind {
  const load = loads.find((candidate) => candidate.version === version);
  if (load === undefined) {
    throw notFound(`Catalog kind ${kind} has no version ${version}`, {
      kind,
      version,
      known: [...new Set(loads.map((candidate) => candidate.version))].slice(0, 50).join(', '),
    });
  }
  return load;
}

/** What changed from one load to another: ids added and removed, and the fields of records that differ. */
export function diffLoads(kind: string, from: LoadContent, to: LoadContent): CatalogDiff {
  const before = new Map(from.data.map((record) => [idOf(record), record]));
  const after = new Map(to.data.map((record) => [idOf(record), record]));
  const added = [...after.keys()].filter((id) => !before.has(id));
  const removed = [...before.keys()].filter((id) => !after.has(id));
  const changed: Array<{ id: string; fields: string[] }> = [];
  for (const [id, record] of after) {
    const old = before.get(id);
    if (old === undefined) continue;
    const names = [...new Set([...Object.keys(old), ...Object.keys(record)])].sort();
    const fields = names.filter(
      (name) =>
        !Object.hasOwn(old, name) ||
        !Object.hasOwn(record, name) ||
        canonicalJson(old[name] as JsonValue) !== canonicalJson(record[name] as JsonValue),
    );
    if (fields.length > 0) changed.push({ id, fields });
  }
  return { kind, from: from.version, to: to.version, added, removed, changed };
}

/** A load as a seed file, to load it again (a rollback). */
export function loadAsSeedFile(load: ArchivedKind, content: LoadContent): SeedFile {
  return {
    kind: load.kind,
    file: `${load.kind}@${load.version}`,
    version: load.version,
    updatedAt: load.updatedAt,
    data: content.data,
    ids: content.data.map(idOf),
    hash: load.hash,
  };
}
