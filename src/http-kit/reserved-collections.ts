/**
 * Collections that belong to a module. The generic documents API (`/v1/docs`, `/v1/commit`) may
 * read them but never write them (`403 FORBIDDEN`), so a module's invariants (a match's scores
 * add up, a token is only a hash) cannot be broken from outside it. Hidden collections cannot be
 * read either.
 *
 * Each Savepoint holds its own registry: it starts with {@link DEFAULT_RESERVATIONS}, then every
 * module's descriptor reserves what it owns (`SavepointModule.collections`), with its own name.
 * Collections whose name starts with `_` are unreachable over HTTP anyway, because `_` is not a
 * valid id character: use them for internal records.
 */
import { SavepointError } from '../errors.js';

export interface ReservedCollection {
  /** The module that owns it, named in the 403 message. */
  readonly owner: string;
  /** Reads through the documents API are refused too. */
  readonly hidden: boolean;
}

export interface ReserveOptions {
  /** The owning module, for error messages (`matches`). Default `a Savepoint module`. */
  readonly owner?: string;
  /** Also refuse reads (for records such as token hashes). Default false: read-only. */
  readonly hidden?: boolean;
}

/**
 * The record names of the game data model and of the modules' own records (stats, rankings,
 * leases, the catalog, the audit log): reserved from the start, before (or without) the module
 * that owns them, so a server that exposes only some modules still refuses writes to the others'.
 */
export const DEFAULT_RESERVATIONS: ReadonlyArray<{
  readonly names: readonly string[];
  readonly owner: string;
}> = [
  { names: ['match', 'round', 'score', 'lifetime', 'analytics'], owner: 'the matches module' },
  { names: ['session', 'stats'], owner: 'the sessions and stats module' },
  { names: ['game', 'catalog'], owner: 'the catalog and games modules' },
  { names: ['user', 'save'], owner: 'the player saves module' },
  { names: ['ranking'], owner: 'the rankings module' },
  { names: ['lease'], owner: 'the leases module' },
  { names: ['audit'], owner: 'the operations module' },
];

/** One Savepoint's reserved collections. */
export class ReservedCollections {
  readonly #reserved = new Map<string, ReservedCollection>();

  constructor() {
    for (const { names, owner } of DEFAULT_RESERVATIONS) this.reserve(names, { owner });
  }

  /**
   * Reserves collections for a module: the documents API will refuse to write them (and, when
   * `hidden`, to read them). Reserving a name again updates its entry.
   */
  reserve(names: readonly string[], options: ReserveOptions = {}): void {
    const entry: ReservedCollection = {
      owner: options.owner ?? 'a Savepoint module',
      hidden: options.hidden ?? false,
    };
    for (const name of names) this.#reserved.set(name, entry);
  }

  /** The reservation of `collection`, if any. */
  reservationOf(collection: string): ReservedCollection | undefined {
    return this.#reserved.get(collection);
  }

  /** Every reserved collection name, sorted. */
  names(): string[] {
    return [...this.#reserved.keys()].sort();
  }

  /** Throws `403 FORBIDDEN` unless the documents API may write `collection`. */
  assertWritable(collection: string, where = ''): void {
    const reservation = this.#reserved.get(collection);
    if (reservation === undefined) return;
    throw new SavepointError(
      'FORBIDDEN',
      `${where}Collection "${collection}" belongs to ${reservation.owner} and is read-only through the documents API; write it through that module's API`,
      { details: { collection } },
    );
  }

  /** Throws `403 FORBIDDEN` if `collection` is hidden from the documents API. */
  assertReadable(collection: string): void {
    const reservation = this.#reserved.get(collection);
    if (reservation?.hidden !== true) return;
    throw new SavepointError(
      'FORBIDDEN',
      `Collection "${collection}" belongs to ${reservation.owner} and cannot be read through the documents API`,
      { details: { collection } },
    );
  }
}
