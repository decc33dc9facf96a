/**
 * Save slots (three per player by default): each player has slots numbered 1 to N,
 * each holding one game state with a version, so two devices cannot overwrite each other blindly.
 *
 * A slot is one document of {@link SAVE_COLLECTION} keyed `{user}:{slot}`. Keys are addressed
 * exactly (never listed by prefix), so a user id containing `:` cannot reach another user's slots.
 */

import type { Store } from '../../engine/store.js';
import type { JsonObject, StoredDocument } from '../../engine/types.js';
import { invalidInput, notFound, SavepointError } from '../../errors.js';

export const SAVE_COLLECTION = 'save';
/** Default of `SAVEPOINT_SAVE_SLOTS`. */
export const DEFAULT_SAVE_SLOTS = 3;
const USER_PATTERN = /^[A-Za-z0-9._:@-]{1,200}$/;

/** A slot's summary, as the slot list shows it. */
export interface SaveSlotInfo {
  readonly slot: number;
  readonly version: number;
  readonly updatedAt: string;
}

/** A stored save. Times are ISO-8601 UTC strings. */
export interface SaveSlot extends SaveSlotInfo {
  readonly user: string;
  readonly state: JsonObject;
  readonly createdAt: string;
}

export interface SaveSlotList {
  /** Occupied slots only, ascending. */
  readonly slots: readonly SaveSlotInfo[];
  /** How many slots a player has (`SAVEPOINT_SAVE_SLOTS`). */
  readonly maxSlots: number;
}

/** Conditions on a write; a failed one is `VERSION_CONFLICT` and changes nothing. */
export interface SaveWriteConditions {
  /** The slot must hold exactly this version. */
  readonly expectedVersion?: number;
  /** The slot must be empty (create only). */
  readonly mustNotExist?: boolean;
}

export interface SavesOptions {
  /** Slots per player, numbered from 1. Default {@link DEFAULT_SAVE_SLOTS} (`SAVEPOINT_SAVE_SLOTS`). */
  readonly slots?: number;
}

interface SaveValue extends JsonObject {
  user: string;
  slot: number;
  state: JsonObject;
}

function assertUser(user: unknown): asserts user is string {
  if (typeof user !== 'string' || !USER_PATTERN.test(user)) {
    throw invalidInput('user must be 1 to 200 characters of [A-Za-z0-9._:@-]');
  }
}

function toSlot(document: StoredDocument): SaveSlot {
  const value = document.value as SaveValue;
  return {
    user: value.user,
    slot: value.slot,
    state: value.state,
    version: document.version,
    createdAt: new Date(document.createdAt).toISOString(),
    updatedAt: new Date(document.updatedAt).toISOString(),
  };
}

/** Per-player save slots over a {@link Store}. */
export class Saves {
  readonly #store: Store;
  readonly #slots: number;

  constructor(store: Store, options: SavesOptions = {}) {
    const slots = options.slots ?? DEFAULT_SAVE_SLOTS;
    if (!Number.isSafeInteger(slots) || slots < 1 || slots > 1000) {
      throw invalidInput(`Save slots must be an integer from 1 to 1000, got ${slots}`);
    }
    this.#store = store;
    this.#slots = slots;
  }

  /** Slots per player. */
  get slotCount(): number {
    return this.#slots;
  }

  /**
   * Checks a slot number: an integer from 1 to the slot count, else `OUT_OF_BOUNDS` (the HTTP
   * layer passes what the path held, so anything that is not such an integer lands here too).
   */
  assertSlot(slot: unknown): asserts slot is number {
    if (typeof slot !== 'number' || !Number.isSafeInteger(slot) || slot < 1 || slot > this.#slots) {
      throw new SavepointError('OUT_OF_BOUNDS', `slot must be an integer from 1 to ${this.#slots}`, {
        details: { min: 1, max: this.#slots },
      });
    }
  }

  /** The player's occupied slots (an empty list for an unknown player). */
  async list(user: string): Promise<SaveSlotList> {
    assertUser(user);
    const keys = Array.from({ length: this.#slots }, (_, index) => `${user}:${index + 1}`);
    const slots: SaveSlotInfo[] = [];
    for (let i = 0; i < keys.length; i += 1000) {
      for (const document of await this.#store.getMany(SAVE_COLLECTION, keys.slice(i, i + 1000))) {
        const { slot, version, updatedAt } = toSlot(document);
        slots.push({ slot, version, updatedAt });
      }
    }
    return { slots, maxSlots: this.#slots };
  }

  /** The save in a slot, or `undefined` when the slot is empty. */
  async get(user: string, slot: number): Promise<SaveSlot | undefined> {
    assertUser(user);
    this.assertSlot(slot);
    const document = await this.#store.get(SAVE_COLLECTION, `${user}:${slot}`);
    return document === undefined ? undefined : toSlot(document);
  }

  /** Writes a slot; `created` tells a first write from an overwrite. */
  async put(
    user: string,
    slot: number,
    state: JsonObject,
    conditions: SaveWriteConditions = {},
  ): Promise<{ readonly save: SaveSlot; readonly created: boolean }> {
    assertUser(user);
    this.assertSlot(slot);
    if (typeof state !== 'object' || state === null || Array.isArray(state)) {
      throw invalidInput('state must be a JSON object');
    }
    const value: SaveValue = { user, slot, state };
    const { results } = await this.#store.commit([
      {
        op: 'put',
        collection: SAVE_COLLECTION,
        key: `${user}:${slot}`,
        value,
        ...(conditions.expectedVersion === undefined ? {} : { expectedVersion: conditions.expectedVersion }),
        ...(conditions.mustNotExist === true ? { mustNotExist: true } : {}),
      },
    ]);
    const result = results[0];
    if (result?.op !== 'put') throw new SavepointError('INTERNAL', 'The save put returned no document');
    return { save: toSlot(result.document), created: result.created };
  }

  /** Empties a slot. `NOT_FOUND` when it is already empty; `VERSION_CONFLICT` on a stale version. */
  async delete(
    user: string,
    slot: number,
    conditions: Pick<SaveWriteConditions, 'expectedVersion'> = {},
  ): Promise<void> {
    assertUser(user);
    this.assertSlot(slot);
    const key = `${user}:${slot}`;
    const { results } = await this.#store.commit([
      {
        op: 'delete',
        collection: SAVE_COLLECTION,
        key,
        ...(conditions.expectedVersion === undefined ? {} : { expectedVersion: conditions.expectedVersion }),
      },
    ]);
    const result = results[0];
    if (result?.op !== 'delete' || !result.deleted) {
      throw notFound(`Slot ${slot} of ${user} is empty`, { user, slot });
    }
  }
}
