/**
 * Every Redis key and channel the Redis layer uses, in one place, so that `redis-cli --scan` output
 * reads the way the stores' own record names do (`match:abc`):
 *
 * | name                                  | what                                                     |
 * |---------------------------------------|----------------------------------------------------------|
 * | `<prefix>:doc:<collection>:<key>`     | a cached document (or its known absence)                 |
 * | `<prefix>:epoch:<collection>:<key>`   | the key's write counter, guarding fills (short-lived)    |
 * | `<prefix>:gen`                        | the cache generation; bumping it drops every cached doc  |
 * | `<prefix>:changes` (channel)          | every committed change, for other instances              |
 * | `<prefix>:ack:<instance>` (channel)   | acknowledgements sent back to one publishing instance    |
 *
 * A plain `<prefix>:<collection>:<key>` would read shorter; the extra `doc:` segment keeps documents apart
 * from the layer's own keys (a collection named `gen` or `epoch` cannot collide with them).
 * Collections may contain `:`, so a collection's `%` and `:` are percent-encoded; the key is the last
 * segment and stays verbatim (`match:abc`, `round:abc:3` read as the stored names do).
 */

/** The key and channel names for one prefix. */
export interface RedisKeys {
  readonly prefix: string;
  /** `<prefix>:doc:<collection>:<key>`. */
  document(collection: string, key: string): string;
  /** The epoch key belonging to a document key. */
  epochOf(documentKey: string): string;
  /** `<prefix>:gen`. */
  readonly generation: string;
  /** `<prefix>:changes`. */
  readonly changes: string;
  /** `<prefix>:ack:<instanceId>`. */
  ackChannel(instanceId: string): string;
  /** The `SCAN MATCH` pattern for every key under the prefix (tests and operators clean up with it). */
  readonly everything: string;
}

const encodeCollection = (collection: string): string =>
  collection.replace(/[%:]/g, (char) => (char === '%' ? '%25' : '%3A'));

/** Builds the names for `prefix` (which must be non-empty and must not end with `:`). */
export function redisKeys(prefix: string): RedisKeys {
  const documentPrefix = `${prefix}:doc:`;
  const epochPrefix = `${prefix}:epoch:`;
  return {
    prefix,
    document: (collection, key) => `${documentPrefix}${encodeCollection(collection)}:${key}`,
    epochOf: (documentKey) => epochPrefix + documentKey.slice(documentPrefix.length),
    generation: `${prefix}:gen`,
    changes: `${prefix}:changes`,
    ackChannel: (instanceId) => `${prefix}:ack:${instanceId}`,
    everything: `${prefix.replace(/[*?[\]\\]/g, '\\$&')}:*`,
  };
}
