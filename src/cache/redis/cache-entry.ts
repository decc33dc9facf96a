/**
 * The format of a cached document in Redis: `<generation> <json>`, where `<json>` is the whole
 * `StoredDocument` (value, version, times and `expiresAt`) or `null` for a document known not to
 * exist. The generation ties the entry to the `<prefix>:gen` it was filled under, so bumping that
 * one key invalidates every entry at once.
 */
import type { StoredDocument } from '../../engine/types.js';

/** A decoded cache entry: the document's JSON (`null` for absent) and its expiry. */
export interface CachedLookup {
  readonly json: string | null;
  readonly expiresAt: number | null;
}

/** The Redis value for `document` (or its absence) filled under `generation`. */
export function encodeEntry(generation: string, json: string | null): string {
  return `${generation} ${json ?? 'null'}`;
}

/**
 * Decodes an entry for `(collection, key)`. Returns `undefined` for an entry of another generation
 * and throws for one that is not a document of that address (corrupt or foreign), which the caller
 * treats as a miss.
 */
export function decodeEntry(
  raw: string,
  generation: string,
  collection: string,
  key: string,
): CachedLookup | undefined {
  const space = raw.indexOf(' ');
  if (space === -1) throw new Error('a cache entry without a generation');
  if (raw.slice(0, space) !== generation) return undefined;
  const json = raw.slice(space + 1);
  if (json === 'null') return { json: null, expiresAt: null };
  const document: unknown = JSON.parse(json);
  if (!isDocumentOf(document, collection, key))
    throw new Error('a cache entry that is not the document it names');
  return { json, expiresAt: document.expiresAt };
}

function isDocumentOf(value: unknown, collection: string, key: string): value is StoredDocument {
  if (typeof value !== 'object' || value === null) return false;
  const document = value as Partial<Record<keyof StoredDocument, unknown>>;
  return (
    document.collection === collection &&
    document.key === key &&
    'value' in document &&
    typeof document.version === 'number' &&
    typeof document.createdAt === 'number' &&
    typeof document.updatedAt === 'number' &&
    (document.expiresAt === null || typeof document.expiresAt === 'number')
  );
}

/** True when a lookup's document has expired at `now` (absence never expires). */
export function isExpired(lookup: CachedLookup, now: number): boolean {
  return lookup.expiresAt !== null && lookup.expiresAt <= now;
}

/** A fresh document object from a lookup, or `undefined` for absent or expired. */
export function documentOf(lookup: CachedLookup, now: number): StoredDocument | undefined {
  if (lookup.json === null || isExpired(lookup, now)) return undefined;
  return JSON.parse(lookup.json) as StoredDocument;
}

/**
 * How long to cache a lookup, in ms: the tier's TTL, cut to the time left before the document
 * expires (at `now`, the read's time). 0 means "do not cache".
 */
export function cacheTtlMs(tierMs: number, expiresAt: number | null, now: number): number {
  return expiresAt === null ? tierMs : Math.max(0, Math.min(tierMs, expiresAt - now));
}
