/**
 * The layer's two Lua scripts. Each runs atomically in Redis, which is what makes the cache safe
 * against races between readers filling it and writers invalidating it:
 *
 * - a writer deletes the document's entry and bumps its epoch (in one step);
 * - a reader that misses notes the epoch (creating it, at a random value, if there is none) and
 *   the generation before it reads the inner driver, and its fill is stored only if neither moved
 *   or vanished meanwhile, so it can never overwrite a newer write's invalidation.
 *
 * Keys of one call may hash to different slots: the layer targets a standalone Redis (or a
 * primary with replicas), not Redis Cluster.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

/** A script run by `EVALSHA`, loaded with `EVAL` when Redis does not know it yet. */
export class LuaScript {
  readonly #source: string;
  readonly #sha: string;

  constructor(source: string) {
    this.#source = source;
    this.#sha = createHash('sha1').update(source).digest('hex');
  }

  async run(redis: Redis, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
    try {
      return await redis.evalsha(this.#sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return redis.eval(this.#source, keys.length, ...keys, ...args);
    }
  }
}

/**
 * Reads entries for a lookup, and makes sure every key that misses has an epoch to guard its fill.
 * KEYS: `gen`, then per document `doc, epoch`. ARGV: a random epoch start, the epoch TTL in ms.
 * Returns `[gen, doc1, epoch1, doc2, epoch2, ...]` (nil for absent).
 */
export const PROBE_SCRIPT = new LuaScript(`
local gen = redis.call('GET', KEYS[1])
local out = { gen }
for i = 2, #KEYS, 2 do
  local doc = redis.call('GET', KEYS[i])
  local epoch = redis.call('GET', KEYS[i + 1])
  if gen and not epoch and (not doc or string.sub(doc, 1, #gen + 1) ~= gen .. ' ') then
    redis.call('SET', KEYS[i + 1], ARGV[1], 'PX', ARGV[2])
    epoch = ARGV[1]
  end
  out[#out + 1] = doc
  out[#out + 1] = epoch
end
return out
`);

/**
 * Stores fills whose guards still hold.
 * KEYS: `gen`, then per document `doc, epoch`. ARGV: the generation read, then per document
 * `epoch read ('' when absent), ttl ms, value`. Returns how many fills were stored.
 */
export const FILL_SCRIPT = new LuaScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
local stored = 0
for i = 2, #KEYS, 2 do
  local a = (i - 2) / 2 * 3 + 2
  if (redis.call('GET', KEYS[i + 1]) or '') == ARGV[a] then
    redis.call('SET', KEYS[i], ARGV[a + 2], 'PX', ARGV[a + 1])
    stored = stored + 1
  end
end
return stored
`);

/**
 * Invalidates documents and publishes the commit's message in one step.
 * KEYS: per document `doc, epoch`. ARGV: epoch TTL ms, channel ('' to publish nothing), message.
 * Returns how many subscribers received the message.
 */
export const INVALIDATE_SCRIPT = new LuaScript(`
for i = 1, #KEYS, 2 do
  redis.call('UNLINK', KEYS[i])
  redis.call('INCR', KEYS[i + 1])
  redis.call('PEXPIRE', KEYS[i + 1], ARGV[1])
end
if ARGV[2] == '' then return 0 end
return redis.call('PUBLISH', ARGV[2], ARGV[3])
`);
