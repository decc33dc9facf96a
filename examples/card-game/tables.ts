/**
 * The tables one server owns. A server keeps a table in memory and acts on it only while it holds
 * the lease `game:{tableId}`; several servers can share one store, and when the owner dies the next
 * server a player comes to takes the table over once the lease has expired (at most its TTL).
 *
 * Taking a table over needs nothing but the store, since every move is already durable:
 * 1. take the lease (`leases.keepAlive`), waiting up to `leaseWaitMs` for a dead owner's to expire;
 * 2. restore the snapshot (`games.restore`);
 * 3. claim the table with a `takeover` event carrying the new owner and the lease's fence, written
 *    with `expectedSeq` = the restored seq, together with the snapshot (which records the owner too).
 *
 * Every write is conditional on the seq the owner last wrote (`expectedSeq`), so the claim fences
 * off the previous owner: a server that was paused (or cut off) and still believes it owns the table
 * gets `VERSION_CONFLICT` on its next write, and then drops the table from memory. When a renewal
 * fails (`lost` resolves) the server drops the table as well, and closes its players' streams.
 */
import type { AppendEventsResult, Games } from '../../src/domains/games/games.js';
import type { AcquireOptions, KeepAliveHandle, Lease } from '../../src/domains/leases/leases.js';
import { type EventInput, isSavepointError, type JsonObject, SavepointError } from '../../src/index.js';
import { type Action, act, beginGame, newTable, publicTable, type TableState, viewFor } from './poker.js';

/** The lease operations a host uses (`savepoint.leases` in production; tests may wrap it). */
export interface LeaseSource {
  keepAlive(name: string, options: AcquireOptions): Promise<KeepAliveHandle>;
  get(name: string): Promise<Lease | undefined>;
}

export interface TableHostOptions {
  readonly games: Games;
  readonly leases: LeaseSource;
  /** This server's name, the lease holder. Two live servers must not share it. */
  readonly serverId: string;
  /** Lease TTL; a dead owner blocks its tables for at most this long. Default 3,000 ms. */
  readonly leaseTtlMs?: number;
  /**
   * How long a request for a table another server holds waits for its lease before answering
   * {@link TableOwnedElsewhere}. Default TTL + 1 s, so a dead owner's lease always expires within it.
   */
  readonly leaseWaitMs?: number;
  /** Hears ownership changes; default `console.log`. */
  readonly log?: (line: string) => void;
}

/** Who owns a table: written into its snapshot and its `takeover` events. */
export interface Owner extends JsonObject {
  server: string;
  fence: number;
}

/** A table this server owns, in memory. */
export interface LiveTable {
  readonly tableId: string;
  readonly state: TableState;
  readonly owner: Owner;
  /** The seq of the last event written: the next write expects it. */
  readonly seq: number;
  /** Set once the server stopped owning the table; it must not act on it any more. */
  readonly dropped: SavepointError | undefined;
}

/** Another live server holds the table's lease: the player should go there. */
export class TableOwnedElsewhere extends Error {
  override readonly name = 'TableOwnedElsewhere';
  readonly holder: string;
  readonly expiresAt: string;

  constructor(tableId: string, holder: string, expiresAt: string) {
    super(`Table ${tableId} is owned by server ${holder} (lease until ${expiresAt})`);
    this.holder = holder;
    this.expiresAt = expiresAt;
  }
}

interface Entry extends LiveTable {
  seq: number;
  dropped: SavepointError | undefined;
  readonly lease: KeepAliveHandle;
  /** Writes run one after another, each conditional on the seq the previous one left. */
  writing: Promise<unknown>;
  readonly onDrop: Set<() => void>;
  /** Its slot in the host's map, once it has one. */
  loading: Promise<Entry> | undefined;
}

export const leaseName = (tableId: string): string => `game:${tableId}`;

/** The snapshot as stored: the table plus its owner. */
function snapshot(entry: Entry): JsonObject {
  return { ...structuredClone(entry.state), owner: entry.owner };
}

export class TableHost {
  readonly serverId: string;
  readonly leaseTtlMs: number;
  readonly leaseWaitMs: number;
  readonly #games: Games;
  readonly #leases: LeaseSource;
  readonly #log: (line: string) => void;
  /** Tables owned or being taken over, by id. A failed take-over is not cached. */
  readonly #tables = new Map<string, Promise<Entry>>();

  constructor(options: TableHostOptions) {
    this.serverId = options.serverId;
    this.leaseTtlMs = options.leaseTtlMs ?? 3000;
    this.leaseWaitMs = options.leaseWaitMs ?? this.leaseTtlMs + 1000;
    this.#games = options.games;
    this.#leases = options.leases;
    this.#log = options.log ?? ((line) => console.log(line));
  }

  /** Whether this server has the table in memory now. */
  async holds(tableId: string): Promise<boolean> {
    const entry = await this.#tables.get(tableId)?.catch(() => undefined);
    return entry !== undefined && entry.dropped === undefined;
  }

  /** The table's lease as stored (any server can answer), or `undefined` when nobody holds it. */
  owner(tableId: string): Promise<Lease | undefined> {
    return this.#leases.get(leaseName(tableId));
  }

  /**
   * Creates a table owned by this server and deals the first hand. `VERSION_CONFLICT` if it exists;
   * {@link TableOwnedElsewhere} if another server holds its lease.
   */
  async create(tableId: string, players: readonly string[]): Promise<{ table: LiveTable; lastSeq: number }> {
    const state = newTable(tableId, players);
    if (this.#tables.has(tableId))
      throw new SavepointError('VERSION_CONFLICT', `Table ${tableId} exists already`);
    const lease = await this.#keepAlive(tableId, 0);
    const entry = this.#entry(tableId, state, lease, 0);
    try {
      // Create only (expectedVersion 0): a second create of the same table is a conflict.
      await this.#games.persist(tableId, {
        state: snapshot(entry),
        players,
        phase: state.phase,
        expectedVersion: 0,
      });
    } catch (error) {
      await lease.release().catch(() => undefined);
      throw error;
    }
    const ready = Promise.resolve(entry);
    this.#tables.set(tableId, ready);
    this.#watch(entry, ready);
    const written = await this.commit(entry, beginGame(state));
    return { table: entry, lastSeq: written.lastSeq };
  }

  /**
   * The table, owned by this server: from memory, or taken over (lease, restore, claim). Throws
   * {@link TableOwnedElsewhere} when another live server keeps its lease beyond `leaseWaitMs`.
   */
  async table(tableId: string): Promise<LiveTable> {
    for (let attempt = 0; ; attempt++) {
      let loading = this.#tables.get(tableId);
      if (loading === undefined) {
        const started = this.#takeOver(tableId);
        loading = started;
        this.#tables.set(tableId, started);
        started.then(
          (entry) => this.#watch(entry, started),
          () => this.#forget(tableId, started),
        );
      }
      const entry = await loading;
      // Act only under a lease that has not run out, even if no renewal has failed yet (a paused
      // process wakes up with overdue timers); the store's seq check backs this up.
      if (entry.dropped === undefined && entry.lease.current.expiresAt <= Date.now())
        this.#drop(entry, new SavepointError('LEASE_LOST', `Lease ${leaseName(tableId)} ran out`));
      if (entry.dropped === undefined) return entry;
      if (attempt >= 3) throw entry.dropped;
    }
  }

  /** Applies a player's move in memory and answers once it is durable. */
  async move(
    tableId: string,
    playerId: string,
    action: Action,
  ): Promise<{ seq: number; view: ReturnType<typeof viewFor> }> {
    const table = await this.table(tableId);
    const events = act(table.state, playerId, action);
    const view = viewFor(table.state, playerId);
    const written = await this.commit(table, events);
    return { seq: written.lastSeq, view };
  }

  /**
   * Writes events with the snapshot taken now, conditional on the seq this server last wrote. Any
   * failure (a conflict above all: another server took the table) drops the table from memory.
   */
  commit(table: LiveTable, events: readonly EventInput[]): Promise<AppendEventsResult> {
    const entry = table as Entry;
    const state = snapshot(entry);
    const phase = entry.state.phase;
    const write = entry.writing.then(async () => {
      if (entry.dropped !== undefined) throw entry.dropped;
      try {
        const result = await this.#games.appendEvents(entry.tableId, {
          events,
          state,
          phase,
          expectedSeq: entry.seq,
        });
        entry.seq = result.lastSeq;
        return result;
      } catch (error) {
        // Memory and storage disagree now: forget the table; the next request takes it over again.
        this.#drop(
          entry,
          isSavepointError(error) ? error : new SavepointError('INTERNAL', 'write failed', { cause: error }),
        );
        throw error;
      }
    });
    entry.writing = write.catch(() => undefined);
    return write;
  }

  /** Calls `listener` once if the server stops owning the table; answers a function that unsubscribes. */
  onDrop(table: LiveTable, listener: () => void): () => void {
    const entry = table as Entry;
    if (entry.dropped !== undefined) {
      listener();
      return () => undefined;
    }
    entry.onDrop.add(listener);
    return () => entry.onDrop.delete(listener);
  }

  /** Lets pending writes finish and releases every lease, so another server can take over at once. */
  async close(): Promise<void> {
    const entries = await Promise.all([...this.#tables.values()].map((p) => p.catch(() => undefined)));
    await Promise.all(
      entries.map(async (entry) => {
        if (entry === undefined || entry.dropped !== undefined) return;
        await entry.writing;
        entry.dropped = new SavepointError('LEASE_LOST', 'The server is shutting down');
        await entry.lease.release().catch(() => undefined);
      }),
    );
    this.#tables.clear();
  }

  async #keepAlive(tableId: string, waitMs: number): Promise<KeepAliveHandle> {
    try {
      return await this.#leases.keepAlive(leaseName(tableId), {
        holder: this.serverId,
        ttlMs: this.leaseTtlMs,
        waitMs,
      });
    } catch (error) {
      if (!isSavepointError(error, 'LEASE_HELD')) throw error;
      const details = (error.details ?? {}) as { holder?: string; expiresAt?: string };
      throw new TableOwnedElsewhere(tableId, details.holder ?? 'unknown', details.expiresAt ?? 'unknown');
    }
  }

  async #takeOver(tableId: string): Promise<Entry> {
    // Fails fast when the table does not exist, without touching its lease.
    await this.#games.restore(tableId);
    const startedAt = performance.now();
    const lease = await this.#keepAlive(tableId, this.leaseWaitMs);
    try {
      for (let attempt = 0; ; attempt++) {
        const record = await this.#games.restore(tableId);
        const { owner: previous, ...rest } = record.state as TableState & { owner?: Owner };
        const state = rest as TableState;
        const entry = this.#entry(tableId, state, lease, record.lastSeq);
        try {
          // The claim: from here on, a write by the previous owner finds the seq moved and fails.
          const claim = await this.#games.appendEvents(tableId, {
            events: [
              {
                type: 'takeover',
                data: {
                  server: this.serverId,
                  fence: entry.owner.fence,
                  from: previous?.server ?? null,
                  table: publicTable(state),
                },
              },
            ],
            state: snapshot(entry),
            phase: state.phase,
            expectedSeq: record.lastSeq,
          });
          entry.seq = claim.lastSeq;
        } catch (error) {
          // The previous owner wrote between our restore and our claim: restore again.
          if (isSavepointError(error, 'VERSION_CONFLICT') && attempt < 5) continue;
          throw error;
        }
        const waited = (performance.now() - startedAt).toFixed(0);
        this.#log(
          `${this.serverId} took table ${tableId} over at seq ${entry.seq} (fence ${entry.owner.fence}, ` +
            `from ${previous?.server ?? 'nobody'}, waited ${waited} ms for the lease)`,
        );
        return entry;
      }
    } catch (error) {
      await lease.release().catch(() => undefined);
      throw error;
    }
  }

  #entry(tableId: string, state: TableState, lease: KeepAliveHandle, seq: number): Entry {
    return {
      tableId,
      state,
      owner: { server: this.serverId, fence: lease.current.fence },
      seq,
      dropped: undefined,
      lease,
      writing: Promise.resolve(),
      onDrop: new Set(),
      loading: undefined,
    };
  }

  /** Drops the table when its lease is lost. */
  #watch(entry: Entry, loading: Promise<Entry>): void {
    entry.loading = loading;
    void entry.lease.lost.then((error) => this.#drop(entry, error));
  }

  #drop(entry: Entry, reason: SavepointError): void {
    if (entry.dropped !== undefined) return;
    entry.dropped = reason;
    if (entry.loading !== undefined) this.#forget(entry.tableId, entry.loading);
    // A lease we may still hold goes back, so that whoever should own the table can.
    void entry.lease.release().catch(() => undefined);
    this.#log(`${this.serverId} dropped table ${entry.tableId}: ${reason.code} ${reason.message}`);
    for (const listener of entry.onDrop) listener();
    entry.onDrop.clear();
  }

  #forget(tableId: string, loading: Promise<Entry>): void {
    if (this.#tables.get(tableId) === loading) this.#tables.delete(tableId);
  }
}
