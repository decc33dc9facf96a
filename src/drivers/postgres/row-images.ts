/**
 * What this instance last saw of the rows it reads and writes: documents (present, with their
 * value when it was small enough to keep, or known to be absent) and streams. A batch whose rows
 * are all here can be planned before anything is loaded and sent in one round trip
 * (`guessed-batch.ts`), with a check in front that the rows still are exactly so.
 *
 * The images are hints, never the truth: another instance may have changed a row since, and then
 * the check refuses the batch and it runs the usual way. So nothing here needs to be exactly
 * current; it only needs to be right often enough to save round trips. Bounded (least recently
 * used first out), by count and by the characters of the values it keeps.
 */
import type { ChangeRef, LoadedDocument, LoadedStream } from './batch-types.js';
import { documentKey } from './batch-types.js';

/** A document row as last seen, or `null` when it was known not to exist (no row, live or expired). */
export type DocumentImage = LoadedDocument | null;

/** Most images kept, documents and streams each. */
const MAX_IMAGES = 10_000;
/** Most characters of document values kept in all; a value over a tenth of it is not kept. */
const MAX_VALUE_CHARS = 16 * 1024 * 1024;
const MAX_KEPT_VALUE_CHARS = MAX_VALUE_CHARS / 10;

/** A map that forgets its least recently used entries beyond a budget. */
class Recent<V> {
  readonly #entries = new Map<string, V>();
  readonly #cost: (value: V) => number;
  readonly #maxEntries: number;
  readonly #maxCost: number;
  #totalCost = 0;

  constructor(maxEntries: number, maxCost: number, cost: (value: V) => number) {
    this.#maxEntries = maxEntries;
    this.#maxCost = maxCost;
    this.#cost = cost;
  }

  get(key: string): V | undefined {
    const value = this.#entries.get(key);
    if (value === undefined) return undefined;
    this.#entries.delete(key);
    this.#entries.set(key, value);
    return value;
  }

  set(key: string, value: V): void {
    this.delete(key);
    this.#entries.set(key, value);
    this.#totalCost += this.#cost(value);
    while (this.#entries.size > this.#maxEntries || this.#totalCost > this.#maxCost) {
      const oldest = this.#entries.keys().next();
      if (oldest.done === true) break;
      this.delete(oldest.value);
    }
  }

  delete(key: string): void {
    const value = this.#entries.get(key);
    if (value === undefined && !this.#entries.has(key)) return;
    this.#entries.delete(key);
    if (value !== undefined) this.#totalCost -= this.#cost(value);
  }

  clear(): void {
    this.#entries.clear();
    this.#totalCost = 0;
  }
}

const valueChars = (image: DocumentImage): number => image?.json?.length ?? 0;

export class RowImages {
  readonly #documents = new Recent<DocumentImage>(MAX_IMAGES, MAX_VALUE_CHARS, valueChars);
  readonly #streams = new Recent<LoadedStream>(MAX_IMAGES, Number.POSITIVE_INFINITY, () => 0);

  /** The last image of a document: `undefined` when none is kept, `null` when it was absent. */
  document(collection: string, key: string): DocumentImage | undefined {
    return this.#documents.get(documentKey(collection, key));
  }

  stream(name: string): LoadedStream | undefined {
    return this.#streams.get(name);
  }

  /**
   * Keeps a document's image. A value too large to keep is dropped from the image (a batch that
   * patches it then loads it). A read that raced a newer write of this instance must not bring the
   * older image back: an image of the same row (same `createdAt`) at a lower version is ignored.
   */
  rememberDocument(collection: string, key: string, image: DocumentImage): void {
    const id = documentKey(collection, key);
    const kept =
      image !== null && image.json !== null && image.json.length > MAX_KEPT_VALUE_CHARS
        ? { ...image, json: null }
        : image;
    const previous = this.#documents.get(id);
    if (
      kept !== null &&
      previous != null &&
      previous.createdAt === kept.createdAt &&
      previous.version > kept.version
    )
      return;
    this.#documents.set(id, kept);
  }

  /** Keeps a stream's image, or forgets it (`null`: the stream row is gone). */
  rememberStream(name: string, image: LoadedStream | null): void {
    if (image === null) this.#streams.delete(name);
    else this.#streams.set(name, image);
  }

  forgetDocument(collection: string, key: string): void {
    this.#documents.delete(documentKey(collection, key));
  }

  forgetStream(name: string): void {
    this.#streams.delete(name);
  }

  /** Forgets what another instance says it changed. */
  forgetChanged(changes: readonly ChangeRef[]): void {
    for (const change of changes) {
      if (change.kind === 'document') this.forgetDocument(change.collection, change.key);
      else if (change.kind === 'stream' || change.kind === 'streamDeleted') this.forgetStream(change.stream);
    }
  }

  clear(): void {
    this.#documents.clear();
    this.#streams.clear();
  }
}
