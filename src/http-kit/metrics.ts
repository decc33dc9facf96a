/**
 * Prometheus metrics. Each server owns a {@link Metrics} (its own prom-client `Registry`, not the
 * global one), so tests can build several servers in one process. Domains register their own
 * metrics through the same object:
 *
 * @example
 * const created = metrics.counter({ name: 'sessions_created_total', help: 'Sessions created' });
 * created.inc();
 */
import type { FastifyInstance } from 'fastify';
import {
  Counter,
  collectDefaultMetrics,
  Gauge,
  type GaugeConfiguration,
  Histogram,
  type Metric,
  Registry,
} from 'prom-client';
import type { Store } from '../engine/store.js';

/** Every metric name starts with this; helpers add it, so domains pass `sessions_created_total`. */
export const METRIC_PREFIX = 'savepoint_';

export interface MetricOptions<Label extends string> {
  /** Without the `savepoint_` prefix, in Prometheus style: `games_recorded_total`, `sessions_active`. */
  readonly name: string;
  readonly help: string;
  readonly labelNames?: readonly Label[];
}

export interface HistogramOptions<Label extends string> extends MetricOptions<Label> {
  /** Upper bounds; default suits latencies in seconds from 0.5 ms to 10 s. */
  readonly buckets?: readonly number[];
}

export interface GaugeOptions<Label extends string> extends MetricOptions<Label> {
  /** Called at every scrape to set the gauge (for values cheaper to read than to track). */
  readonly collect?: GaugeConfiguration<Label>['collect'];
}

const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** One server's metrics registry, with idempotent helpers to create counters, gauges and histograms. */
export class Metrics {
  readonly registry = new Registry();

  constructor(options: { readonly defaultMetrics?: boolean } = {}) {
    // Process metrics (CPU, memory, event loop lag, GC) are read at scrape time.
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry });
  }

  #existing<T extends Metric>(name: string, kind: abstract new (...args: never[]) => T): T | undefined {
    const found = this.registry.getSingleMetric(name);
    if (found === undefined) return undefined;
    if (!(found instanceof kind)) throw new Error(`Metric ${name} is already registered as another kind`);
    return found;
  }

  /** A counter named `savepoint_<name>`; asking again for the same name returns the same counter. */
  counter<Label extends string = string>(options: MetricOptions<Label>): Counter<Label> {
    const name = METRIC_PREFIX + options.name;
    return (
      this.#existing<Counter<Label>>(name, Counter) ??
      new Counter<Label>({
        name,
        help: options.help,
        labelNames: options.labelNames ?? [],
        registers: [this.registry],
      })
    );
  }

  /** A gauge named `savepoint_<name>`; asking again for the same name returns the same gauge. */
  gauge<Label extends string = string>(options: GaugeOptions<Label>): Gauge<Label> {
    const name = METRIC_PREFIX + options.name;
    return (
      this.#existing<Gauge<Label>>(name, Gauge) ??
      new Gauge<Label>({
        name,
        help: options.help,
        labelNames: options.labelNames ?? [],
        registers: [this.registry],
        ...(options.collect === undefined ? {} : { collect: options.collect }),
      })
    );
  }

  /** A histogram named `savepoint_<name>`; asking again for the same name returns the same histogram. */
  histogram<Label extends string = string>(options: HistogramOptions<Label>): Histogram<Label> {
    const name = METRIC_PREFIX + options.name;
    return (
      this.#existing<Histogram<Label>>(name, Histogram) ??
      new Histogram<Label>({
        name,
        help: options.help,
        labelNames: options.labelNames ?? [],
        buckets: [...(options.buckets ?? LATENCY_BUCKETS)],
        registers: [this.registry],
      })
    );
  }

  /** The Prometheus text exposition of every metric. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

/**
 * Times every answered request by route pattern (`/v1/docs/:collection/:key`, never the raw URL,
 * which would grow without bound) and status class (`2xx` … `5xx`).
 */
export function instrumentHttp(app: FastifyInstance, metrics: Metrics): void {
  const duration = metrics.histogram<'method' | 'route' | 'status_class'>({
    name: 'http_request_duration_seconds',
    help: 'HTTP request latency by route pattern and status class',
    labelNames: ['method', 'route', 'status_class'],
  });
  // prom-client hashes the label set on every observe; the series are few (routes × methods ×
  // status classes), so each one's child is looked up by a plain string instead.
  const series = new Map<string, Histogram.Internal<'method' | 'route' | 'status_class'>>();
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.is404 ? 'unmatched' : (request.routeOptions.url ?? 'unmatched');
    const statusClass = `${Math.floor(reply.statusCode / 100)}xx`;
    const id = `${request.method} ${statusClass} ${route}`;
    let child = series.get(id);
    if (child === undefined) {
      child = duration.labels({ method: request.method, route, status_class: statusClass });
      series.set(id, child);
    }
    child.observe(reply.elapsedTime / 1000);
    done();
  });
}

/** Counts commits, conflicts and failures and times commits, through the store's commit observer. */
export function instrumentStore(store: Store, metrics: Metrics): () => void {
  const commits = metrics.counter<'outcome'>({
    name: 'commits_total',
    help: 'Commits by outcome: ok, conflict (a failed condition) or error',
    labelNames: ['outcome'],
  });
  const conflicts = metrics.counter({
    name: 'commit_conflicts_total',
    help: 'Commits refused by a condition',
  });
  const duration = metrics.histogram({
    name: 'commit_duration_seconds',
    help: 'Time from commit() to its outcome, group-commit wait included',
  });
  metrics.gauge({
    name: 'pending_commits',
    help: 'Commits waiting for, or inside, a storage batch',
    collect() {
      this.set(store.pendingCommits);
    },
  });
  return store.observeCommits(({ durationMs, error }) => {
    duration.observe(durationMs / 1000);
    const outcome = error === undefined ? 'ok' : error.code === 'VERSION_CONFLICT' ? 'conflict' : 'error';
    commits.inc({ outcome });
    if (outcome === 'conflict') conflicts.inc();
  });
}
