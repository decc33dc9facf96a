import { invalidInput } from '../../errors.js';

/** How to reach PostgreSQL. */
export interface PostgresDriverOptions {
  /**
   * `postgres://user:password@host:port/database`. A `?schema=name` parameter picks the schema and is
   * removed before the URL reaches the client; other parameters (such as `sslmode`) pass through.
   */
  readonly url: string;
  /** The schema holding Savepoint's tables. Default: the URL's `?schema=`, else `savepoint`. Created when missing. */
  readonly schema?: string;
  /** Most pooled connections. Default 10. Change listeners use one more, dedicated to LISTEN. */
  readonly poolSize?: number;
  /**
   * Publish every commit with `NOTIFY` so that other instances on the same schema hear it (their
   * `onExternalChange` listeners). Default true. Turn it off when another bus (the Redis layer)
   * carries changes: notifying transactions serialize at commit on a database-wide lock.
   */
  readonly notify?: boolean;
}

export interface ResolvedPostgresOptions {
  /** The URL without `schema`, as handed to the client. */
  readonly connectionUrl: string;
  readonly schema: string;
  readonly poolSize: number;
  readonly notify: boolean;
}

export const DEFAULT_SCHEMA = 'savepoint';
export const DEFAULT_POOL_SIZE = 10;

/** Letters, digits and underscores, not starting with a digit or `pg_`, at most 63 bytes (PostgreSQL's limit). */
const SCHEMA_NAME = /^(?!pg_)[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** Splits `?schema=` off the URL's query; the rest of the URL is kept byte for byte. */
function splitSchemaParameter(url: string): { readonly url: string; readonly schema: string | undefined } {
  const hashAt = url.indexOf('#');
  const withoutHash = hashAt === -1 ? url : url.slice(0, hashAt);
  const queryAt = withoutHash.indexOf('?');
  if (queryAt === -1) return { url, schema: undefined };
  const query = new URLSearchParams(withoutHash.slice(queryAt + 1));
  const schema = query.get('schema') ?? undefined;
  query.delete('schema');
  const rest = query.toString();
  return { url: withoutHash.slice(0, queryAt) + (rest.length > 0 ? `?${rest}` : ''), schema };
}

/** Applies the defaults and checks the options; throws `INVALID_INPUT` naming the bad one. */
export function resolvePostgresOptions(options: PostgresDriverOptions): ResolvedPostgresOptions {
  if (typeof options.url !== 'string' || !/^postgres(ql)?:\/\//.test(options.url)) {
    throw invalidInput('The PostgreSQL URL must start with postgres:// or postgresql://');
  }
  const split = splitSchemaParameter(options.url);
  const schema = options.schema ?? split.schema ?? DEFAULT_SCHEMA;
  if (!SCHEMA_NAME.test(schema)) {
    throw invalidInput(
      `Schema name "${schema}" is not allowed: use letters, digits and underscores (at most 63, not starting with a digit or pg_)`,
    );
  }
  const poolSize = options.poolSize ?? DEFAULT_POOL_SIZE;
  if (!Number.isSafeInteger(poolSize) || poolSize < 1 || poolSize > 1000) {
    throw invalidInput('poolSize must be an integer from 1 to 1000');
  }
  return { connectionUrl: split.url, schema, poolSize, notify: options.notify ?? true };
}
