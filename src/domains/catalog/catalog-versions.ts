/**
 * Catalog versions: every load that changes a kind keeps that content, so designers can read an
 * older version, see what changed between two, and make one current again (see
 * docs/time-travel.md).
 *
 * Storage: `catalog-version/{kind}:{revision}` holds one load's whole content
 * (`{ kind, revision, version, updatedAt, loadedAt, count, hash, data }`), written in the seeding's
 * own commit. A kind loaded before versions were kept gets its content archived by the first load
 * that replaces it. Loads are named by the seed file's `version` string; when one string was loaded
 * more than once (a rollback loads an old version again), the newest load of it answers.
 */
import type { Store } from '../../engine/store.js';
import type { CommitOp, JsonObject, JsonValue, StoredDocument } from '../../engine/types.js';
import { notFound } from '../../errors.js';
import { canonicalJson, type SeedFile } from './seed-files.js';

export const CATALOG_VERSION_COLLECTION = 'catalog-version';
const REVISION_DIGITS = 12;
const PAGE = 1_000;

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

/** One load's content. */
export interface ArchivedKind {
  readonly kind: string;
  readonly revision: number;
  readonly version: string;
  readonly updatedAt: string;
  readonly loadedAt: string;
  readonly count: number;
  readonly hash: string;
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

/** The op that archives one load of a kind. */
export function archiveOp(content: KindContent): CommitOp {
  const value: JsonObject = {
    kind: content.kind,
    revision: content.revision,
    version: content.version,
    updatedAt: content.updatedAt,
    loadedAt: content.loadedAt,
    count: content.data.length,
    hash: content.hash,
    data: [...content.data],
  };
  return {
    op: 'put',
    collection: CATALOG_VERSION_COLLECTION,
    key: archiveKey(content.kind, content.revision),
    value,
  };
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
    data: value.data as JsonObject[],
  };
}

/** Every archived load of a kind, newest first. */
export async function archivedLoads(store: Store, kind: string): Promise<ArchivedKind[]> {
  const loads: ArchivedKind[] = [];
  let after: string | undefined;
  do {
    const page = await store.list(CATALOG_VERSION_COLLECTION, {
      prefix: `${kind}:`,
      limit: PAGE,
      ...(after === undefined ? {} : { after }),
    });
    loads.push(...page.items.map(parseArchive));
    after = page.nextCursor ?? undefined;
  } while (after !== undefined);
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
export function diffLoads(kind: string, from: ArchivedKind, to: ArchivedKind): CatalogDiff {
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
export function loadAsSeedFile(load: ArchivedKind): SeedFile {
  return {
    kind: load.kind,
    file: `${load.kind}@${load.version}`,
    version: load.version,
    updatedAt: load.updatedAt,
    data: load.data,
    ids: load.data.map(idOf),
    hash: load.hash,
  };
}
