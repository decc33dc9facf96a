/**
 * Who has a PostgreSQL store (one schema) open. Every Savepoint instance holds a shared
 * session-level advisory lock keyed on its schema, on a connection of its own, for as long as it
 * is open; a command that replaces the schema's contents (`import --force`, `migrate --force`)
 * upgrades its own hold to the exclusive lock with `pg_try_advisory_lock`, which PostgreSQL grants
 * only while no other session holds the key. So it refuses (`STORE_IN_USE`) while any other
 * instance is connected, and never waits.
 *
 * PostgreSQL drops a session's advisory locks when the session ends, so a killed instance never
 * leaves the schema locked: its backend notices the closed socket and ends. The lock lives on one
 * connection, so it gets a client of its own (`max: 1`, never recycled by idle or lifetime
 * timers) rather than a connection of the pool, where the queries that follow could run on any
 * connection. If that connection drops anyway (a server restart, a terminated backend), the lock
 * is taken again as soon as the client reconnects.
 */
import postgres from 'postgres';
import { SavepointError } from '../../errors.js';

/** `hashtextextended` turns the key into the bigint advisory locks take. */
const keyOf = (schema: string): string => `savepoint:store:${schema}`;

/** Another session holding the key, for the refusal. */
interface HolderRow {
  readonly pid: number;
  readonly application: string | null;
  readonly address: string | null;
}

/** A hold on a PostgreSQL schema: shared while open, exclusive while replacing. */
export class PostgresStoreLock {
  readonly #sql: postgres.Sql;
  readonly #schema: string;
  readonly #log: (line: string) => void;
  /** Taken at least once: only a lock that was held is taken again after a reconnection. */
  #held = false;
  #retaking = false;
  #released = false;

  private constructor(sql: postgres.Sql, schema: string, log: (line: string) => void) {
    this.#sql = sql;
    this.#schema = schema;
    this.#log = log;
  }

  /**
   * Connects and takes the shared lock. While a replacement runs, waits up to `waitMs`, then fails
   * with `STORE_IN_USE`.
   */
  static async share(
    connectionUrl: string,
    schema: string,
    waitMs: number,
    log: (line: string) => void,
  ): Promise<PostgresStoreLock> {
    let lock: PostgresStoreLock | undefined;
    const sql = postgres(connectionUrl, {
      max: 1,
      idle_timeout: 0,
      max_lifetime: null,
      onnotice: () => {},
      connect_timeout: 10,
      // Applies to every (re)connection: how long taking the shared lock waits for a replacement.
      connection: { application_name: 'savepoint', lock_timeout: waitMs },
      onclose: () => lock?.reconnected(),
    });
    lock = new PostgresStoreLock(sql, schema, log);
    try {
      await lock.#takeShared();
      lock.#held = true;
    } catch (error) {
      lock.#released = true;
      await sql.end({ timeout: 0 }).catch(() => undefined);
      throw error;
    }
    return lock;
  }

  async #takeShared(): Promise<void> {
    try {
      await this.#sql`SELECT pg_advisory_lock_shared(hashtextextended(${keyOf(this.#schema)}, 0))`;
    } catch (error) {
      if ((error as { code?: string }).code === '55P03') {
        throw new SavepointError(
          'STORE_IN_USE',
          `Schema "${this.#schema}" is being replaced by another command (import --force or migrate --force); wait for it to finish, then start again (STORE_IN_USE)`,
        );
      }
      throw error;
    }
  }

  /**
   * Called when the lock's connection closes: takes the lock again on a new connection, retrying
   * with backoff while PostgreSQL cannot be reached (one warning, not one per attempt).
   */
  reconnected(): void {
    if (this.#released || !this.#held || this.#retaking) return;
    this.#retaking = true;
    this.#log(
      `warning: the connection holding the store lock of schema "${this.#schema}" closed; taking the lock again`,
    );
    void (async () => {
      for (let attempt = 0; !this.#released; attempt++) {
        try {
          await this.#takeShared();
          break;
        } catch (error) {
          if (attempt === 0)
            this.#log(
              `warning: cannot take the store lock of schema "${this.#schema}" yet (${error instanceof Error ? error.message : String(error)}); retrying`,
            );
          await new Promise((resolve) => setTimeout(resolve, Math.min(5000, 250 * 2 ** attempt)).unref());
        }
      }
      this.#retaking = false;
    })();
  }

  /**
   * Runs `work` (a replacement) holding the schema exclusively, then returns to shared. Refuses with
   * `STORE_IN_USE`, before running `work`, while another session holds the schema.
   */
  async exclusively<T>(what: string, work: () => Promise<T>): Promise<T> {
    if (this.#released) throw new SavepointError('STORAGE_UNAVAILABLE', 'The store lock is released');
    const key = keyOf(this.#schema);
    const [row] = await this.#sql<Array<{ readonly ok: boolean }>>`
      SELECT pg_try_advisory_lock(hashtextextended(${key}, 0)) AS ok`;
    if (row?.ok !== true) throw await this.#inUse(what);
    try {
      return await work();
    } finally {
      // Releases the exclusive hold only; the shared one taken at open stays.
      await this.#sql`SELECT pg_advisory_unlock(hashtextextended(${key}, 0))`;
    }
  }

  async #inUse(what: string): Promise<SavepointError> {
    const holders = await this.#sql<HolderRow[]>`
      WITH k AS (SELECT hashtextextended(${keyOf(this.#schema)}, 0) AS key)
      SELECT DISTINCT a.pid, a.application_name AS application, host(a.client_addr) AS address
      FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid, k
      WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
        AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
        AND l.classid::bigint = (k.key >> 32) & 4294967295 AND l.objid::bigint = k.key & 4294967295
        AND l.pid <> pg_backend_pid()
      ORDER BY a.pid`;
    const [database] = await this.#sql<Array<{ readonly name: string }>>`SELECT current_database() AS name`;
    const who =
      holders.length === 0
        ? 'another session'
        : holders
            .map(
              (holder) =>
                `backend ${holder.pid}${holder.address === null ? '' : ` from ${holder.address}`}${holder.application ? ` (${holder.application})` : ''}`,
            )
            .join(', ');
    return new SavepointError(
      'STORE_IN_USE',
      `Refusing to ${what}: schema "${this.#schema}" of database "${database?.name}" is open in ${holders.length === 0 ? '' : `${holders.length} other Savepoint session(s): `}${who}. Stop every savepoint serve, game server embedding Savepoint and savepoint command using this schema, then run this again; nothing was changed (STORE_IN_USE)`,
      { details: { schema: this.#schema, holders: holders.map((holder) => holder.pid).join(',') || null } },
    );
  }

  /** Lets go (idempotent): closing the session drops its locks. */
  async release(): Promise<void> {
    if (this.#released) return;
    this.#released = true;
    await this.#sql.end({ timeout: 5 });
  }
}
