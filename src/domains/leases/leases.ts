/**
 * Leases: named locks with a TTL and a fence, so that one server at a time owns a game and another can take over.
 *
 * A lease is one document changed only by conditional commits, so there is no lock table to
 * deadlock and no in-process mutex: it holds across instances. The document outlives the lease
 * itself, because `fence` must keep increasing every time the lease changes hands, even after an
 * expiry; a holder that crashes blocks others for its TTL at most.
 */

import type { Store } from '../../engine/store.js';
import { codePointLength } from '../../engine/text.js';
import type { JsonObject, StoredDocument } from '../../engine/types.js';
import { invalidInput, isSavepointError, SavepointError } from '../../errors.js';

export const LEASE_COLLECTION = 'lease';
export const DEFAULT_LEASE_TTL_MS = 5_000;
export const MAX_LEASE_TTL_MS = 60_000;
/** How long a lease document is kept after its last use, so its fence survives quiet periods. */
const LEASE_RECORD_RETENTION_MS = 30 * 24 * 3600 * 1000;

export interface Lease {
  readonly name: string;
  readonly holder: string;
  /** Increases every time the lease changes hands. */
  readonly fence: number;
  readonly expiresAt: number;
}

interface LeaseRecord extends JsonObject {
  holder: string;
  fence: number;
  expiresAt: number;
  /** False once released: the record stays only to carry the fence forward. */
  held: boolean;
}

export interface AcquireOptions {
  readonly holder: string;
  /** 1 ms to 60 s; default 5 s. */
  readonly ttlMs?: number;
  /** How long to keep trying while another holder has it; default 0 (one try). */
  readonly waitMs?: number;
}

export interface KeepAliveHandle {
  /** The lease as last acquired or renewed. */
  readonly current: Lease;
  /** Stops renewing and releases the lease. */
  release(): Promise<void>;
  /** Resolves with the error that lost the lease, if it is ever lost. */
  readonly lost: Promise<SavepointError>;
}

function assertHolder(holder: unknown): asserts holder is string {
  if (typeof holder !== 'string' || holder.length === 0 || codePointLength(holder) > 200) {
    throw invalidInput('holder must be a string of 1 to 200 characters');
  }
}

function resolveTtl(ttlMs: number | undefined): number {
  const ttl = ttlMs ?? DEFAULT_LEASE_TTL_MS;
  if (!Number.isFinite(ttl) || ttl < 1 || ttl > MAX_LEASE_TTL_MS) {
    throw new SavepointError('OUT_OF_BOUNDS', `Lease ttl must be from 1 ms to ${MAX_LEASE_TTL_MS / 1000} s`);
  }
  return Math.ceil(ttl);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class Leases {
  readonly #store: Store;

  constructor(store: Store) {
    this.#store = store;
  }

  /** The live lease, or `undefined` when nobody holds it. */
  async get(name: string): Promise<Lease | undefined> {
    const document = await this.#store.get(LEASE_COLLECTION, name);
    const record = document?.value as LeaseRecord | undefined;
    if (record === undefined || !record.held || record.expiresAt <= this.#store.now()) return undefined;
    return { name, holder: record.holder, fence: record.fence, expiresAt: record.expiresAt };
  }

  /**
   * Takes the lease for `holder`. If another holder has it, retries with exponential backoff and
   * jitter until `waitMs` has passed, then fails with `LEASE_HELD` naming the holder and expiry.
   * Re-acquiring a lease you hold extends it and keeps its fence.
   */
  async acquire(name: string, options: AcquireOptions): Promise<Lease> {
    assertHolder(options.holder);
    const ttlMs = resolveTtl(options.ttlMs);
    const waitMs = options.waitMs ?? 0;
    if (!Number.isFinite(waitMs) || waitMs < 0 || waitMs > MAX_LEASE_TTL_MS) {
      throw new SavepointError('OUT_OF_BOUNDS', `Lease wait must be from 0 to ${MAX_LEASE_TTL_MS / 1000} s`);
    }
    const deadline = performance.now() + waitMs;
    for (let attempt = 0; ; attempt++) {
      const outcome = await this.#tryAcquire(name, options.holder, ttlMs);
      if ('lease' in outcome) return outcome.lease;
      const remaining = deadline - performance.now();
      if (remaining <= 0) {
        const { holder, expiresAt } = outcome.heldBy;
        throw new SavepointError(
          'LEASE_HELD',
          `Lease ${name} is held by ${holder} until ${new Date(expiresAt).toISOString()}`,
          {
            details: { name, holder, expiresAt: new Date(expiresAt).toISOString() },
          },
        );
      }
      const bound = Math.min(remaining, 250, 5 * 2 ** attempt);
      await sleep(bound / 2 + (Math.random() * bound) / 2);
    }
  }

  async #tryAcquire(
    name: string,
    holder: string,
    ttlMs: number,
  ): Promise<{ lease: Lease } | { heldBy: LeaseRecord }> {
    const document = await this.#store.get(LEASE_COLLECTION, name);
    const current = document?.value as LeaseRecord | undefined;
    const live = current?.held === true && current.expiresAt > this.#store.now() ? current : undefined;
    if (live !== undefined && live.holder !== holder) return { heldBy: live };
    const now = this.#store.now();
    const record: LeaseRecord = {
      holder,
      fence: live !== undefined ? live.fence : (current?.fence ?? 0) + 1,
      expiresAt: now + ttlMs,
      held: true,
    };
    try {
      await this.#write(name, record, document);
    } catch (error) {
      // Someone else changed the lease between our read and write: report it as held by them.
      if (isSavepointError(error, 'VERSION_CONFLICT')) {
        const winner = (await this.#store.get(LEASE_COLLECTION, name))?.value as LeaseRecord | undefined;
        if (winner !== undefined && winner.holder !== holder) return { heldBy: winner };
        return this.#tryAcquire(name, holder, ttlMs);
      }
      throw error;
    }
    return { lease: { name, holder, fence: record.fence, expiresAt: record.expiresAt } };
  }

  /** Extends a lease you hold. `LEASE_LOST` if it expired and someone else took it, or was released. */
  async renew(name: string, options: { holder: string; fence: number; ttlMs?: number }): Promise<Lease> {
    assertHolder(options.holder);
    const ttlMs = resolveTtl(options.ttlMs);
    const document = await this.#store.get(LEASE_COLLECTION, name);
    const current = this.#assertHeldBy(name, document, options.holder, options.fence);
    const record: LeaseRecord = { ...current, expiresAt: this.#store.now() + ttlMs, held: true };
    await this.#writeOrLost(name, record, document, options);
    return { name, holder: record.holder, fence: record.fence, expiresAt: record.expiresAt };
  }

  /** Gives a lease up. `LEASE_LOST` when you do not hold it (any more). */
  async release(name: string, options: { holder: string; fence: number }): Promise<void> {
    assertHolder(options.holder);
    const document = await this.#store.get(LEASE_COLLECTION, name);
    const current = this.#assertHeldBy(name, document, options.holder, options.fence);
    if (current.expiresAt <= this.#store.now()) throw this.#lost(name, options);
    await this.#writeOrLost(name, { ...current, held: false }, document, options);
  }

  /**
   * Acquires a lease and renews it every third of its TTL until released. `lost` resolves the
   * moment a renewal fails, so the owner can stop acting on what the lease protected.
   */
  async keepAlive(name: string, options: AcquireOptions): Promise<KeepAliveHandle> {
    let current = await this.acquire(name, options);
    const ttlMs = resolveTtl(options.ttlMs);
    let stopped = false;
    let reportLost: (error: SavepointError) => void = () => undefined;
    const lost = new Promise<SavepointError>((resolve) => {
      reportLost = resolve;
    });
    const renewLoop = async () => {
      while (!stopped) {
        await sleep(ttlMs / 3);
        if (stopped) return;
        try {
          current = await this.renew(name, { holder: current.holder, fence: current.fence, ttlMs });
        } catch (error) {
          stopped = true;
          reportLost(
            isSavepointError(error)
              ? error
              : new SavepointError('LEASE_LOST', `Lease ${name} could not be renewed`, { cause: error }),
          );
        }
      }
    };
    void renewLoop();
    return {
      get current() {
        return current;
      },
      lost,
      release: async () => {
        if (stopped) return;
        stopped = true;
        await this.release(name, { holder: current.holder, fence: current.fence });
      },
    };
  }

  #assertHeldBy(
    name: string,
    document: StoredDocument | undefined,
    holder: string,
    fence: number,
  ): LeaseRecord {
    const current = document?.value as LeaseRecord | undefined;
    if (current === undefined || !current.held || current.holder !== holder || current.fence !== fence) {
      throw this.#lost(name, { holder, fence });
    }
    return current;
  }

  #lost(name: string, options: { holder: string; fence: number }): SavepointError {
    return new SavepointError(
      'LEASE_LOST',
      `Lease ${name} is no longer held by ${options.holder} with fence ${options.fence}`,
      {
        details: { name, holder: options.holder, fence: options.fence },
      },
    );
  }

  async #writeOrLost(
    name: string,
    record: LeaseRecord,
    document: StoredDocument | undefined,
    options: { holder: string; fence: number },
  ): Promise<void> {
    try {
      await this.#write(name, record, document);
    } catch (error) {
      if (isSavepointError(error, 'VERSION_CONFLICT')) throw this.#lost(name, options);
      throw error;
    }
  }

  #write(name: string, record: LeaseRecord, document: StoredDocument | undefined): Promise<unknown> {
    return this.#store.commit([
      {
        op: 'put',
        collection: LEASE_COLLECTION,
        key: name,
        value: record,
        ttlMs: LEASE_RECORD_RETENTION_MS,
        ...(document === undefined ? { mustNotExist: true } : { expectedVersion: document.version }),
      },
    ]);
  }
}
