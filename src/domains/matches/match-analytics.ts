/**
 * Per-match analytics: `analytics`/{matchId} keeps, per metric name, a
 * running count, sum, min and max. One record is one patch (`$inc` count and sum, `$min`, `$max`),
 * so concurrent recorders never lose a sample; the mean is derived on read. The record expires
 * `ttlMs` after its last write (`SAVEPOINT_ANALYTICS_TTL`, default 30 days) and outlives the match.
 */

import type { Store } from '../../engine/store.js';
import type { DocumentWriteResult, StoredDocument } from '../../engine/types.js';
import { invalidInput } from '../../errors.js';
import { ANALYTICS_COLLECTION } from './match-keys.js';

export const DEFAULT_ANALYTICS_TTL_MS = 30 * 24 * 3600 * 1000;

/** Metric names: 1–100 of `[A-Za-z0-9_-]`. No `.`, because a name is one segment of a patch path. */
export const METRIC_NAME_PATTERN = '^[A-Za-z0-9_-]{1,100}$';
const METRIC_NAME = new RegExp(METRIC_NAME_PATTERN);
/** Most metrics in one record call. */
export const MAX_METRICS_PER_RECORD = 100;

export interface MetricSummary {
  readonly count: number;
  readonly mean: number;
  readonly min: number;
  readonly max: number;
}

export interface MatchAnalyticsView {
  readonly matchId: string;
  readonly metrics: Record<string, MetricSummary>;
  /** ISO time of the last record. */
  readonly updatedAt: string;
}

interface RunningFigures {
  readonly count: number;
  readonly sum: number;
  readonly min: number;
  readonly max: number;
}

function toView(document: StoredDocument): MatchAnalyticsView {
  const stored = (document.value as { metrics?: Record<string, RunningFigures> }).metrics ?? {};
  const metrics: Record<string, MetricSummary> = {};
  for (const [name, figures] of Object.entries(stored)) {
    metrics[name] = {
      count: figures.count,
      mean: figures.sum / figures.count,
      min: figures.min,
      max: figures.max,
    };
  }
  return { matchId: document.key, metrics, updatedAt: new Date(document.updatedAt).toISOString() };
}

export class MatchAnalytics {
  readonly #store: Store;
  readonly #ttlMs: number;

  /** `ttlMs`: how long a record lives after its last write; default 30 days. */
  constructor(store: Store, options: { readonly ttlMs?: number } = {}) {
    this.#store = store;
    this.#ttlMs = options.ttlMs ?? DEFAULT_ANALYTICS_TTL_MS;
  }

  /** Adds one sample per metric and refreshes the expiry. Needs no match: analytics outlive it. */
  async record(matchId: string, metrics: Readonly<Record<string, number>>): Promise<MatchAnalyticsView> {
    const entries = typeof metrics === 'object' && metrics !== null ? Object.entries(metrics) : [];
    if (entries.length === 0 || entries.length > MAX_METRICS_PER_RECORD)
      throw invalidInput(`metrics must name 1 to ${MAX_METRICS_PER_RECORD} metrics`);
    const $inc: Record<string, number> = {};
    const $min: Record<string, number> = {};
    const $max: Record<string, number> = {};
    for (const [name, value] of entries) {
      if (!METRIC_NAME.test(name))
        throw invalidInput(`Metric name "${name}" must match ${METRIC_NAME_PATTERN}`);
      if (typeof value !== 'number' || !Number.isFinite(value))
        throw invalidInput(`Metric ${name} must be a finite number`);
      $inc[`metrics.${name}.count`] = 1;
      $inc[`metrics.${name}.sum`] = value;
      $min[`metrics.${name}.min`] = value;
      $max[`metrics.${name}.max`] = value;
    }
    const { results } = await this.#store.commit([
      {
        op: 'patch',
        collection: ANALYTICS_COLLECTION,
        key: matchId,
        upsert: true,
        ttlMs: this.#ttlMs,
        patch: { $inc, $min, $max },
      },
    ]);
    return toView((results[0] as DocumentWriteResult).document);
  }

  /** The match's figures, or `undefined` when none were recorded (or they expired). */
  async get(matchId: string): Promise<MatchAnalyticsView | undefined> {
    const document = await this.#store.get(ANALYTICS_COLLECTION, matchId);
    return document === undefined ? undefined : toView(document);
  }
}
