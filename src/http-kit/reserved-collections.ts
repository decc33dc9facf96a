/**
 * Collections that belong to a module. The generic documents API (`/v1/docs`, `/v1/commit`) may
 * read them but never write them (`403 FORBIDDEN`), so a module's invariants (a match's scores
 * add up, a token is only a hash) cannot be broken from outside it. Hidden collections cannot be
 * read either.
 *
 * Modules call {@link reserveCollections} when their plugin loads. The names from DESIGN.md's key
 * patterns are reserved from the start. Collections whose name starts with `_` are unreachable over
 * HTTP anyway, because `_` is not a valid id character: use them for internal records.
 */
import { SavepointError } from '../errors.js';

export interface ReservedCollection {
  /** The module that owns it, named in the 403 message. */
  readonly owner: string;
  /** Reads through the documents API are refused too. */
  readonly hidden: boolean;
}

const reserved = new Map<string, ReservedCollection>();

export interface ReserveOptions {
  /** The owning module, for error messages (`matches`). Default `a Savepoint module`. */
  readonly owner?: string;
  /** Also refuse reads (for records such as token hashes). Default false: read-only. */
  readonly hidden?: boolean;
}

/**
 * Reserves collections for a module: the documents API will refuse to write them (and, when
 * `hidden`, to read them). Reserving a name again updates its entry. The registry is per process,
 * since which module owns which collection is a fact of the code, not of one server.
 */
export function reserveCollections(names: readonly string[], options: ReserveOptions = {}): void {
  const entry: ReservedCollection = {
    owner: options.owner ?? 'a Savepoint module',
    hidden: options.hidden ?? false,
  };
  for (const name of names) reserved.set(name, entry);
}

/** The reservation of `collection`, if any. */
export function reservationOf(collection: string): ReservedCollection | undefined {
  return reserved.get(collection);
}

/** Every reserved collection name, sorted. */
export function reservedCollectionNames(): string[] {
  return [...reserved.keys()].sort();
}

/** Throws `403 FORBIDDEN` unless the documents API may write `collection`. */
export function assertWritable(collection: string, where = ''): void {
  const reservation = reserved.get(collection);
  if (reservation === undefined) return;
  throw new SavepointError(
    'FORBIDDEN',
    `${where}Collection "${collection}" belongs to ${reservation.owner} and is read-only through the documents API; write it through that module's API`,
    { details: { collection } },
  );
}

/** Throws `403 FORBIDDEN` if `collection` is hidden from the documents API. */
export function assertReadable(collection: string): void {
  const reservation = reserved.get(collection);
  if (reservation?.hidden !== true) return;
  throw new SavepointError(
    'FORBIDDEN',
    `Collection "${collection}" belongs to ${reservation.owner} and cannot be read through the documents API`,
    { details: { collection } },
  );
}

// DESIGN.md §2, "The seeds' key patterns", plus the modules' own records (stats, rankings, leases,
// the catalog, the audit log); the modules re-reserve them with their own name when they load.
reserveCollections(['match', 'round', 'score', 'lifetime', 'analytics'], { owner: 'the matches module' });
reserveCollections(['session', 'stats'], { owner: 'the sessions and stats module' });
reserveCollections(['game', 'catalog'], { owner: 'the catalog and games modules' });
reserveCollections(['user', 'save'], { owner: 'the player saves module' });
reserveCollections(['ranking'], { owner: 'the rankings module' });
reserveCollections(['lease'], { owner: 'the leases module' });
reserveCollections(['audit'], { owner: 'the operations module' });
