/** The postgres.js client as the driver configures it, and the schema-qualified table names. */
import { connect, type Socket } from 'node:net';
import postgres from 'postgres';

/**
 * `bigint` columns (versions, seqs, heads, counts) come back as JS numbers instead of strings. They
 * stay below 2^53 in any realistic store, and every other driver reports numbers.
 */
const int8AsNumber = {
  to: 20,
  from: [20],
  serialize: (value: number): string => String(value),
  parse: (raw: string): number => Number(raw),
} satisfies postgres.PostgresType<number>;

/** Where postgres.js asks its socket factory to connect (its parsed options). */
interface SocketTarget {
  readonly host: readonly string[];
  readonly port: readonly number[];
  /** A Unix socket path, when the host names a directory. */
  readonly path: string | false | undefined;
}

/**
 * TCP sockets with Nagle's algorithm off. postgres.js writes a pipeline at once up to its first
 * kilobyte and the rest on the next tick; with Nagle on, the kernel holds that rest until the server
 * acknowledges the first part, which it does with its first answer: a pipelined batch larger than
 * 1 KB (a game action with its state) paid a hidden round trip. postgres.js itself leaves Nagle on
 * and offers no switch, only this factory (its connect timeout, TLS and keepalive still apply).
 * Hosts of a multi-host URL are tried in turn, one per new connection, as postgres.js does.
 */
function socketsWithoutNagle(): (target: SocketTarget) => Socket {
  let next = 0;
  return ({ host, port, path }) => {
    if (typeof path === 'string' && path !== '') return connect({ path });
    const index = next++ % host.length;
    return connect({ host: host[index], port: port[index] ?? port[0] ?? 5432, noDelay: true });
  };
}

/** The pool, or one connection reserved from it (which runs a batch's transaction). */
export type Sql = postgres.Sql<{ int8: number }>;
export type TransactionSql = postgres.TransactionSql<{ int8: number }>;
export type Identifier = postgres.Helper<string, []>;

/** Opens a pool; nothing connects until the first query. */
export function createClient(url: string, poolSize: number, applicationName = 'savepoint'): Sql {
  return postgres(url, {
    max: poolSize,
    types: { int8: int8AsNumber },
    // NOTICEs ("schema already exists, skipping") are chatter, not errors.
    onnotice: () => {},
    connect_timeout: 10,
    // Documented by postgres.js ("Custom socket") but missing from its type declarations.
    ...({ socket: socketsWithoutNagle() } as object),
    connection: {
      application_name: applicationName,
      // A batch's transaction is never idle for long (planning takes milliseconds); if a process
      // freezes mid-batch, the server ends the session so its row locks do not block everyone.
      idle_in_transaction_session_timeout: 60_000,
    },
  });
}

/** Schema-qualified, quoted table names, built once and spliced into queries as identifiers. */
export interface Tables {
  readonly migrations: Identifier;
  readonly documents: Identifier;
  readonly streams: Identifier;
  readonly events: Identifier;
  readonly boards: Identifier;
  readonly entries: Identifier;
  readonly blocks: Identifier;
  /** The function that fails a guessed batch whose rows changed (`guessed-batch.ts`). */
  readonly expectRowsUnchanged: Identifier;
  /** The id sequences of `streams` and `boards`, as `nextval` takes them. */
  readonly sequences: { readonly streams: string; readonly boards: string };
}

export function tablesOf(sql: Sql, schema: string, sequences: Tables['sequences']): Tables {
  // postgres.js quotes each dot-separated part: "schema"."table".
  const table = (name: string): Identifier => sql(`${schema}.${name}`) as unknown as Identifier;
  return {
    migrations: table('schema_migrations'),
    documents: table('documents'),
    streams: table('streams'),
    events: table('stream_events'),
    boards: table('boards'),
    entries: table('board_entries'),
    blocks: table('board_blocks'),
    expectRowsUnchanged: table('expect_rows_unchanged'),
    sequences,
  };
}
