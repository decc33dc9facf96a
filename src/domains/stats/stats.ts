/**
 * Game statistics: games recorded, counts per outcome, and running
 * figures per metric (count, mean, min, max and an exponential moving average), plus the session
 * counts kept by the sessions module.
 *
 * Storage, all in {@link STATS_COLLECTION}:
 * - `games`: `{ recorded }`, bumped by every record; it doubles as the reset's guard (see `reset`).
 * - `outcome:{outcome}`: `{ outcome, count }`.
 * - `metric:{name}`: `{ name, count, sum, min, max, ema }`; the mean is `sum / count`.
 *
 * Count, sum, min and max are `$inc`/`$min`/`$max` in one patch. The EMA depends on the order of
 * the observations, so it cannot be an `$inc`: each metric patch carries the version it was
 * computed from (a conditional commit, retried on conflict). To keep concurrent writers in one
 * process from conflicting with each other, records queue in the process and go to the store in
 * batches, one commit per batch, with the EMA folded over the batch in arrival order: a serial run
 * gives exactly the sequential definition, and any interleaving gives the EMA of some serial order.
 * Every record is in exactly one commit, so counts and sums are exact under any concurrency.
 */

import { AUDIT_STREAM } from '../../audit.js';
import { retryOnConflict } from '../../engine/retry.js';
import type { Store } from '../../engine/store.js';
import { codePointLength } from '../../engine/text.js';
import type { CommitOp, JsonObject, StoredDocument } from '../../engine/types.js';
import { invalidInput } from '../../errors.js';
import {
  readSessionCounts,
  SESSION_COUNTERS_COLLECTION,
  SESSION_COUNTERS_KEY,
  type SessionCounts,
} from '../sessions/sessions.js';

/** Where the game statistics are stored. */
export const STATS_COLLECTION = 'stats';
const GAMES_KEY = 'games';
const OUTCOME_PREFIX = 'outcome:';
const METRIC_PREFIX = 'metric:';

/** Default smoothing factor of the moving average: each new value weighs 10%. */
export const DEFAULT_EMA_ALPHA = 0.1;
/** Most metrics one game record may carry (`moves` and `durationMs` included). */
export const MAX_METRICS_PER_GAME = 100;
/** Most records one commit carries; more wait for the next commit. */
const MAX_RECORDS_PER_COMMIT = 500;
const MAX_NAME_LENGTH = 200;
// Control characters and lone surrogates: names become store keys, which refuse both.
const UNSAFE_CHARACTERS =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the point is to refuse control characters.
  /[\u0000-\u001f\u007f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

export interface GameRecordInput {
  /** The session the game was played in, if any (kept for the caller; not checked). */
  readonly sessionId?: string;
  /** How the game ended, such as `win`, `loss` or `draw`: 1–200 characters, no control characters or lone surrogates. */
  readonly outcome: string;
  /** Moves played, counted as the metric `moves`. */
  readonly moves?: number;
  /** Game length in milliseconds, counted as the metric `durationMs`. */
  readonly durationMs?: number;
  /** Any other figures of the game, by name (same rules as `outcome`); finite numbers. */
  readonly metrics?: Readonly<Record<string, number>>;
}

/** What `recordGame` stored. */
export interface RecordedGame {
  readonly sessionId?: string;
  readonly outcome: string;
  /** Every metric counted, `moves` and `durationMs` included. */
  readonly metrics: Readonly<Record<string, number>>;
  readonly recordedAt: string;
}

export interface MetricSummary {
  readonly count: number;
  readonly mean: number;
  readonly min: number;
  readonly max: number;
  /** `ema = x` for the first value, then `ema = alpha * x + (1 - alpha) * ema`. */
  readonly ema: number;
}

export interface StatsSummary {
  readonly gamesRecorded: number;
  readonly outcomes: Readonly<Record<string, number>>;
  readonly metrics: Readonly<Record<string, MetricSummary>>;
  readonly sessions: SessionCounts;
}

export interface StatsOptions {
  /** The EMA's smoothing factor, in (0, 1]. Default {@link DEFAULT_EMA_ALPHA} (`SAVEPOINT_EMA_ALPHA`). */
  readonly emaAlpha?: number;
}

interface MetricValue extends JsonObject {
  name: string;
  count: number;
  sum: number;
  min: number;
  max: number;
  ema: number;
}

interface NormalizedRecord {
  readonly sessionId: string | undefined;
  readonly outcome: string;
  readonly metrics: ReadonlyMap<string, number>;
}

interface PendingRecord {
  readonly record: NormalizedRecord;
  readonly resolve: (recordedAt: number) => void;
  readonly reject: (error: unknown) => void;
}

function assertName(value: unknown, what: string): asserts value is string {
  if (typeof value !== 'string' || value.length === 0 || codePointLength(value) > MAX_NAME_LENGTH) {
    throw invalidInput(`${what} must be a string of 1 to ${MAX_NAME_LENGTH} characters`);
  }
  if (UNSAFE_CHARACTERS.test(value)) {
    throw invalidInput(`${what} must not contain control characters or lone surrogates`);
  }
}

function assertFinite(value: unknown, what: string, min = -Infinity): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    throw invalidInput(`${what} must be a finite number${min === 0 ? ' >= 0' : ''}`);
  }
}

/** Checks a record completely before it joins a batch, so one bad record can never fail others. */
function normalize(input: GameRecordInput): NormalizedRecord {
  if (typeof input !== 'object' || input === null) throw invalidInput('A game record must be an object');
  assertName(input.outcome, 'outcome');
  if (input.sessionId !== undefined) assertName(input.sessionId, 'sessionId');
  const metrics = new Map<string, number>();
  if (input.moves !== undefined) {
    assertFinite(input.moves, 'moves', 0);
    metrics.set('moves', input.moves);
  }
  if (input.durationMs !== undefined) {
    assertFinite(input.durationMs, 'durationMs', 0);
    metrics.set('durationMs', input.durationMs);
  }
  if (input.metrics !== undefined) {
    if (typeof input.metrics !== 'object' || input.metrics === null || Array.isArray(input.metrics)) {
      throw invalidInput('metrics must be an object of { name: number }');
    }
    for (const [name, value] of Object.entries(input.metrics)) {
      assertName(name, 'A metric name');
      assertFinite(value, `metrics.${name}`);
      if (metrics.has(name)) throw invalidInput(`Metric ${name} is given twice`);
      metrics.set(name, value);
    }
  }
  if (metrics.size > MAX_METRICS_PER_GAME) {
    throw invalidInput(`A game record carries at most ${MAX_METRICS_PER_GAME} metrics`);
  }
  return { sessionId: input.sessionId, outcome: input.outcome, metrics };
}

const metricKey = (name: string): string => `${METRIC_PREFIX}${name}`;

/** Game statistics over a {@link Store}; see the module comment for the storage and concurrency rules. */
export class Stats {
  readonly #store: Store;
  readonly #alpha: number;
  #queue: PendingRecord[] = [];
  #draining = false;

  constructor(store: Store, options: StatsOptions = {}) {
    const alpha = options.emaAlpha ?? DEFAULT_EMA_ALPHA;
    if (!Number.isFinite(alpha) || alpha <= 0 || alpha > 1) {
      throw invalidInput(`The EMA alpha must be in (0, 1], got ${alpha}`);
    }
    this.#store = store;
    this.#alpha = alpha;
  }

  /** The EMA's smoothing factor in use. */
  get emaAlpha(): number {
    return this.#alpha;
  }

  /**
   * Records one finished game. Resolves once the record is durably counted; a bad record fails
   * with `INVALID_INPUT` and counts nothing.
   */
  async recordGame(input: GameRecordInput): Promise<RecordedGame> {
    const record = normalize(input);
    const recordedAt = await new Promise<number>((resolve, reject) => {
      this.#queue.push({ record, resolve, reject });
      if (!this.#draining) void this.#drain();
    });
    return {
      ...(record.sessionId === undefined ? {} : { sessionId: record.sessionId }),
      outcome: record.outcome,
      metrics: Object.fromEntries(record.metrics),
      recordedAt: new Date(recordedAt).toISOString(),
    };
  }

  /** Everything counted, and the session counts. */
  async summary(): Promise<StatsSummary> {
    const [documents, sessions] = await Promise.all([this.#listAll(), readSessionCounts(this.#store)]);
    let gamesRecorded = 0;
    const outcomes: Record<string, number> = {};
    const metrics: Record<string, MetricSummary> = {};
    for (const document of documents) {
      const value = document.value as JsonObject;
      if (document.key === GAMES_KEY) {
        gamesRecorded = value.recorded as number;
      } else if (document.key.startsWith(OUTCOME_PREFIX)) {
        outcomes[value.outcome as string] = value.count as number;
      } else if (document.key.startsWith(METRIC_PREFIX)) {
        const metric = value as MetricValue;
        metrics[metric.name] = {
          count: metric.count,
          mean: metric.sum / metric.count,
          min: metric.min,
          max: metric.max,
          ema: metric.ema,
        };
      }
    }
    return { gamesRecorded, outcomes, metrics, sessions };
  }

  /**
   * Resets the game counters and the sessions' `created` counter to zero, atomically. The
   * `active` and `completed` session counts are gauges of the sessions stored now, so they are
   * kept: zeroing them would make them wrong. A record racing the reset lands wholly before or
   * wholly after it: the reset's commit is conditional on the `games` document that every record
   * bumps, and is retried when one slips in between its read and its commit.
   */
  async reset(): Promise<void> {
    await retryOnConflict(
      async () => {
        const documents = await this.#listAll();
        const games = documents.find((document) => document.key === GAMES_KEY);
        const ops: CommitOp[] = [
          {
            op: 'put',
            collection: STATS_COLLECTION,
            key: GAMES_KEY,
            value: { recorded: 0 },
            ...(games === undefined ? { mustNotExist: true } : { expectedVersion: games.version }),
          },
          {
            op: 'patch',
            collection: SESSION_COUNTERS_COLLECTION,
            key: SESSION_COUNTERS_KEY,
            patch: { $set: { created: 0 } },
            upsert: true,
          },
        ];
        for (const document of documents) {
          if (document.key !== GAMES_KEY) {
            ops.push({ op: 'delete', collection: STATS_COLLECTION, key: document.key });
          }
        }
        // The audit entry moves with the reset: both happen, or neither.
        ops.push({
          op: 'append',
          stream: AUDIT_STREAM,
          events: [{ type: 'stats-reset', data: { removed: documents.length } }],
        });
        await this.#store.commit(ops);
      },
      { attempts: 50 },
    );
  }

  async #drain(): Promise<void> {
    this.#draining = true;
    try {
      while (this.#queue.length > 0) {
        const batch = this.#queue.splice(0, MAX_RECORDS_PER_COMMIT);
        try {
          // Conflicts come only from other processes (or a reset); in-process writers are queued here.
          const at = await retryOnConflict(() => this.#commitBatch(batch), { attempts: 50 });
          for (const pending of batch) pending.resolve(at);
        } catch (error) {
          for (const pending of batch) pending.reject(error);
        }
      }
    } finally {
      this.#draining = false;
    }
  }

  /** Reads the metrics the batch touches, folds the batch into them in order, commits once. */
  async #commitBatch(batch: readonly PendingRecord[]): Promise<number> {
    const names = [...new Set(batch.flatMap((pending) => [...pending.record.metrics.keys()]))];
    const current = new Map<string, StoredDocument>();
    for (let i = 0; i < names.length; i += 1000) {
      const keys = names.slice(i, i + 1000).map(metricKey);
      for (const document of await this.#store.getMany(STATS_COLLECTION, keys)) {
        current.set(document.key, document);
      }
    }
    const outcomes = new Map<string, number>();
    const folded = new Map<string, { count: number; sum: number; min: number; max: number; ema: number }>();
    for (const { record } of batch) {
      outcomes.set(record.outcome, (outcomes.get(record.outcome) ?? 0) + 1);
      for (const [name, x] of record.metrics) {
        let figure = folded.get(name);
        if (figure === undefined) {
          const stored = current.get(metricKey(name))?.value as MetricValue | undefined;
          figure = { count: 0, sum: 0, min: x, max: x, ema: stored === undefined ? x : stored.ema };
          // The very first value of a metric is its EMA; every later one is blended in.
          if (stored !== undefined) figure.ema = this.#alpha * x + (1 - this.#alpha) * figure.ema;
          folded.set(name, figure);
        } else {
          figure.ema = this.#alpha * x + (1 - this.#alpha) * figure.ema;
        }
        figure.count += 1;
        figure.sum += x;
        figure.min = Math.min(figure.min, x);
        figure.max = Math.max(figure.max, x);
      }
    }
    const ops: CommitOp[] = [
      {
        op: 'patch',
        collection: STATS_COLLECTION,
        key: GAMES_KEY,
        patch: { $inc: { recorded: batch.length } },
        upsert: true,
      },
    ];
    for (const [outcome, count] of outcomes) {
      ops.push({
        op: 'patch',
        collection: STATS_COLLECTION,
        key: `${OUTCOME_PREFIX}${outcome}`,
        patch: { $set: { outcome }, $inc: { count } },
        upsert: true,
      });
    }
    for (const [name, figure] of folded) {
      const stored = current.get(metricKey(name));
      ops.push({
        op: 'patch',
        collection: STATS_COLLECTION,
        key: metricKey(name),
        patch: {
          $set: { name, ema: figure.ema },
          $inc: { count: figure.count, sum: figure.sum },
          $min: { min: figure.min },
          $max: { max: figure.max },
        },
        upsert: true,
        // The EMA was computed from this version; anything newer means recompute.
        ...(stored === undefined ? { mustNotExist: true } : { expectedVersion: stored.version }),
      });
    }
    const { at } = await this.#store.commit(ops);
    return at;
  }

  #listAll(): Promise<StoredDocument[]> {
    return this.#store.listAll(STATS_COLLECTION);
  }
}
