/**
 * How long a cached document may live in Redis, per collection. Invalidation on commit keeps the
 * cache exact for writes made through the layer, so a TTL only bounds memory and the staleness of
 * writes that bypass it (a tool writing PostgreSQL directly).
 */
import { invalidInput } from '../../errors.js';

/** A named tier or a TTL in milliseconds. */
export type CacheTier = 'hot' | 'warm' | 'computed' | number;

/** The named tiers: hot 1 h, warm 24 h, computed 5 min. */
export const TIER_TTL_MS = {
  hot: 60 * 60 * 1000,
  warm: 24 * 60 * 60 * 1000,
  computed: 5 * 60 * 1000,
} as const satisfies Record<Exclude<CacheTier, number>, number>;

/**
 * The tier of collections the options do not list: `hot` (1 h), the shortest of the document tiers,
 * so an unplanned collection neither hogs memory nor keeps a bypassing writer's change out for a day.
 */
export const DEFAULT_TIER: CacheTier = 'hot';

/** Resolves a collection to its TTL in milliseconds. */
export type TierResolver = (collection: string) => number;

function toMs(tier: CacheTier, what: string): number {
  if (typeof tier === 'number') {
    if (!Number.isSafeInteger(tier) || tier < 1)
      throw invalidInput(`${what} must be a positive whole number of ms`);
    return tier;
  }
  const ms = TIER_TTL_MS[tier];
  if (ms === undefined) throw invalidInput(`${what} must be hot, warm, computed or a number of ms`);
  return ms;
}

/** Checks `tiers` once and returns a lookup; unlisted collections get `defaultTier`. */
export function tierResolver(
  tiers: Readonly<Record<string, CacheTier>> = {},
  defaultTier: CacheTier = DEFAULT_TIER,
): TierResolver {
  const fallback = toMs(defaultTier, 'defaultTier');
  const table = new Map<string, number>();
  for (const [collection, tier] of Object.entries(tiers))
    table.set(collection, toMs(tier, `tiers.${collection}`));
  return (collection) => table.get(collection) ?? fallback;
}
