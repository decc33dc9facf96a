/** Small helpers shared by the benchmarks: timing, percentiles and the ratio lines they print. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JsonObject } from '../../src/engine/types.js';

export interface LatencySummary {
  readonly count: number;
  readonly perSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

export function percentile(sorted: Float64Array, fraction: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))] as number;
}

export function summarize(latenciesMs: Float64Array, totalMs: number): LatencySummary {
  const sorted = Float64Array.from(latenciesMs).sort();
  return {
    count: sorted.length,
    perSecond: (sorted.length / totalMs) * 1000,
    p50Ms: percentile(sorted, 0.5),
    p99Ms: percentile(sorted, 0.99),
    maxMs: sorted[sorted.length - 1] ?? Number.NaN,
  };
}

/** Runs `step` `count` times one after another, timing each call. */
export async function timeSequential(count: number, step: (i: number) => unknown): Promise<LatencySummary> {
  const latencies = new Float64Array(count);
  const started = performance.now();
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    await step(i);
    latencies[i] = performance.now() - t0;
  }
  return summarize(latencies, performance.now() - started);
}

/** Runs `step` `count` times on `clients` concurrent loops sharing the calls, timing each: throughput with group commit. */
export async function timeConcurrent(
  count: number,
  clients: number,
  step: (i: number) => unknown,
): Promise<LatencySummary> {
  const latencies = new Float64Array(count);
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(clients, count) }, async () => {
      for (let i = next++; i < count; i = next++) {
        const t0 = performance.now();
        await step(i);
        latencies[i] = performance.now() - t0;
      }
    }),
  );
  return summarize(latencies, performance.now() - started);
}

/** One side of {@link compareSequentialAndConcurrent}: a name for its lines and the call to time. */
export interface TimedCall {
  readonly name: string;
  /** Call `i` of the `run`-th timed run (0 to 3, in the order engine, ours, engine, ours). */
  readonly step: (i: number, run: number) => unknown;
}

/**
 * Times `count` calls of the engine baseline, then of ours, first one caller at a time, then on
 * `clients` concurrent callers, and reports each of ours against the engine run before it.
 */
export async function compareSequentialAndConcurrent(
  count: number,
  clients: number,
  engine: TimedCall,
  ours: TimedCall,
): Promise<void> {
  const rawSequential = await timeSequential(count, (i) => engine.step(i, 0));
  const oursSequential = await timeSequential(count, (i) => ours.step(i, 1));
  const rawConcurrent = await timeConcurrent(count, clients, (i) => engine.step(i, 2));
  const oursConcurrent = await timeConcurrent(count, clients, (i) => ours.step(i, 3));
  report(`${engine.name}, sequential`, rawSequential);
  report(`${ours.name}, sequential`, oursSequential, { name: 'engine', result: rawSequential });
  report(`${engine.name}, ${clients} clients`, rawConcurrent);
  report(`${ours.name}, ${clients} clients`, oursConcurrent, { name: 'engine', result: rawConcurrent });
}

export const fmt = (n: number, digits = 0): string =>
  Number.isFinite(n)
    ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
    : String(n);

/** Prints one result line in the shape every benchmark uses: what, figures, and the ratio to the baseline. */
export function report(
  name: string,
  ours: LatencySummary,
  baseline?: { name: string; result: LatencySummary },
): void {
  const line = `${name.padEnd(44)} ${fmt(ours.perSecond).padStart(10)}/s  p50 ${fmt(ours.p50Ms, 3)} ms  p99 ${fmt(ours.p99Ms, 3)} ms`;
  if (baseline === undefined) {
    console.log(line);
    return;
  }
  const ratio = ours.perSecond / baseline.result.perSecond;
  console.log(`${line}  = ${fmt(ratio, 2)}x ${baseline.name}`);
}

export function line(text: string): void {
  console.log(text);
}

/** A scratch directory under the OS temp dir, removed by the returned function. */
export function scratchDir(name: string): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), `savepoint-bench-${name}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** A ~600-byte JSON document whose bytes differ on every call, so no write is a no-op. */
export function gameDocument(i: number): JsonObject {
  return {
    gameId: `g${i % 1000}`,
    turn: i,
    phase: i % 2 === 0 ? 'betting' : 'showdown',
    pot: (i * 37) % 10_000,
    players: Array.from({ length: 4 }, (_, p) => ({
      id: `player-${p}`,
      chips: 1000 - ((i + p) % 500),
      cards: ['As', 'Kd'],
    })),
    deck: 'a7f3c9e1b5d2f8a4c6e0b3d7f1a9c5e2b8d4f6a0c2e4b6d8f0a1c3e5b7d9f2a4c6e8'.repeat(3),
    updated: new Date(1_700_000_000_000 + i).toISOString(),
  };
}
