/** The postgres.js client as the driver configures it, and the schema-qualified table names. */
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
    sequences,
  };
}
