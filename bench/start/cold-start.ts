/**
 * Cold start: how long a new process takes to answer, against the least the same process can do,
 * in alternating rounds of one run (medians):
 * - `savepoint serve` on a fresh data dir, from spawn to its first `200` on `GET /health`, against
 *   a bare Fastify + better-sqlite3 server doing the same (baseline-server.ts);
 * - the same two on a store holding `games` stored games (a baseline table of as many rows);
 * - `savepoint --help`, `savepoint check` on an empty data dir and on an empty store, against
 *   `node -e 0`.
 *
 * It times the compiled CLI: `npm run build` first.
 *
 *   npm run build && npm run bench -- start
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { build } from 'esbuild';
import { openSavepoint } from '../../src/savepoint.js';
import { fmt, line, scratchDir } from '../support/stats.js';

const ROOT = resolve(import.meta.dirname, '../..');
const CLI = join(ROOT, 'dist/cli/main.js');

/** The environment every child gets: nothing from the caller's may pick another store or a Redis. */
function childEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of Object.keys(env))
    if (/^(SAVEPOINT_|DATABASE_URL|REDIS_URL|PORT|HOST)/.test(name)) delete env[name];
  return env;
}

/** The baseline as plain JavaScript next to the dependencies it imports, so that no loader is timed. */
async function compileBaseline(): Promise<string> {
  const out = join(ROOT, 'node_modules/.cache/savepoint-bench/start-baseline-server.mjs');
  await build({
    entryPoints: [join(import.meta.dirname, 'baseline-server.ts')],
    outfile: out,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    logLevel: 'warning',
  });
  return out;
}

/** Waits for `listening on <url>` on the child's stdout. */
function listeningUrl(child: ChildProcess): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    let text = '';
    const onData = (chunk: Buffer) => {
      text += chunk.toString('utf8');
      const match = /listening on (http:\/\/\S+)/.exec(text);
      if (match?.[1] !== undefined) {
        child.stdout?.off('data', onData);
        child.stdout?.resume();
        resolvePromise(match[1]);
      }
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`exited with ${code} before listening:\n${text}`)));
  });
}

/** Milliseconds from spawning `args` to the first `200` on `<url>/health`; the process is then stopped. */
async function timeToHealth(args: readonly string[]): Promise<number> {
  const started = performance.now();
  const child = spawn(process.execPath, args, { env: childEnv(), stdio: ['ignore', 'pipe', 'ignore'] });
  try {
    const url = await listeningUrl(child);
    for (;;) {
      const response = await fetch(`${url}/health`).catch(() => undefined);
      if (response?.status === 200) {
        await response.arrayBuffer();
        return performance.now() - started;
      }
      await response?.arrayBuffer();
    }
  } finally {
    // A graceful stop, so the next round opens a file that was closed the same way.
    const exited = new Promise((done) => child.once('exit', done));
    child.kill('SIGTERM');
    await exited;
  }
}

/** Milliseconds for `node <args>` to run to its end (any exit code). */
function timeToExit(args: readonly string[]): Promise<number> {
  const started = performance.now();
  const child = spawn(process.execPath, args, { env: childEnv(), stdio: 'ignore' });
  return new Promise((done) => child.once('exit', () => done(performance.now() - started)));
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
};

/** A Savepoint data dir holding `count` games of ~300 bytes each, and the baseline's file of as many rows. */
async function storesWithGames(
  dir: string,
  count: number,
): Promise<{ dataDir: string; baselineFile: string }> {
  const dataDir = join(dir, 'savepoint-games');
  mkdirSync(dataDir);
  const savepoint = await openSavepoint({ url: `sqlite:${join(dataDir, 'savepoint.db')}` });
  const state = (i: number) => ({ turn: i, pot: i % 500, board: ['2c', '7h', 'Td'], toAct: 'ann' });
  let next = 0;
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      for (let i = next++; i < count; i = next++) {
        await savepoint.games.persist(`game-${i}`, { state: state(i), players: ['ann', 'ben'] });
      }
    }),
  );
  await savepoint.close();
  const baselineFile = join(dir, 'baseline-games.db');
  const db = new Database(baselineFile);
  db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE games (game_id TEXT PRIMARY KEY, state TEXT NOT NULL) WITHOUT ROWID');
  const insert = db.prepare('INSERT INTO games (game_id, state) VALUES (?, ?)');
  db.transaction(() => {
    for (let i = 0; i < count; i++) insert.run(`game-${i}`, JSON.stringify(state(i)));
  })();
  db.close();
  return { dataDir, baselineFile };
}

interface Case {
  readonly name: string;
  readonly time: (round: number) => Promise<number>;
}

/** Runs every case once per round, starting each round with a different case, and returns the medians. */
async function alternate(cases: readonly Case[], rounds: number): Promise<number[]> {
  const times = cases.map(() => [] as number[]);
  for (let round = 0; round < rounds; round++) {
    for (let k = 0; k < cases.length; k++) {
      const index = (round + k) % cases.length;
      times[index]?.push(await (cases[index] as Case).time(round));
    }
  }
  return times.map(median);
}

function ratioLine(name: string, oursMs: number, baseName: string, baseMs: number, goal: number): void {
  const ratio = oursMs / baseMs;
  line(
    `${name.padEnd(46)} ${fmt(oursMs).padStart(6)} ms  = ${fmt(ratio, 2)}x ${baseName} (${fmt(baseMs)} ms); goal <= ${goal}x: ${ratio <= goal ? 'met' : 'NOT met'}`,
  );
}

export async function benchColdStart(rounds: number, games: number): Promise<void> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
  const baseline = await compileBaseline();
  const dir = scratchDir('start');
  try {
    line(`\n## Cold start, median of ${rounds} alternating rounds (compiled CLI: ${CLI})`);
    const fresh = (round: number, who: string) => {
      const path = join(dir.path, `${who}-${round}`);
      mkdirSync(path);
      return path;
    };
    const [serveEmpty, bareEmpty] = await alternate(
      [
        {
          name: 'serve',
          time: (r) => timeToHealth([CLI, 'serve', '--port', '0', '--data-dir', fresh(r, 'serve')]),
        },
        {
          name: 'bare',
          time: (r) => timeToHealth([baseline, join(fresh(r, 'bare'), 'bare.db'), '0']),
        },
      ],
      rounds,
    );
    ratioLine(
      'savepoint serve, fresh data dir → /health 200',
      serveEmpty as number,
      'bare Fastify + better-sqlite3',
      bareEmpty as number,
      1.5,
    );

    line(`(storing ${fmt(games)} games…)`);
    const stored = await storesWithGames(dir.path, games);
    const [serveGames, bareGames] = await alternate(
      [
        {
          name: 'serve',
          time: () => timeToHealth([CLI, 'serve', '--port', '0', '--data-dir', stored.dataDir]),
        },
        { name: 'bare', time: () => timeToHealth([baseline, stored.baselineFile, '0']) },
      ],
      rounds,
    );
    ratioLine(
      `savepoint serve, ${fmt(games)} games → /health 200`,
      serveGames as number,
      'bare, as many rows',
      bareGames as number,
      1.5,
    );
    line(
      `  flat with stored games: ${fmt(serveGames as number)} ms against ${fmt(serveEmpty as number)} ms empty (${fmt((serveGames as number) / (serveEmpty as number), 2)}x)`,
    );

    const emptyDir = join(dir.path, 'empty-dir');
    mkdirSync(emptyDir);
    const emptyStore = join(dir.path, 'empty-store');
    mkdirSync(emptyStore);
    await (await openSavepoint({ url: `sqlite:${join(emptyStore, 'savepoint.db')}` })).close();
    const [nodeAlone, help, checkDir, checkStore] = await alternate(
      [
        { name: 'node -e 0', time: () => timeToExit(['-e', '0']) },
        { name: '--help', time: () => timeToExit([CLI, '--help']) },
        { name: 'check (empty dir)', time: () => timeToExit([CLI, 'check', '--data-dir', emptyDir]) },
        { name: 'check (empty store)', time: () => timeToExit([CLI, 'check', '--data-dir', emptyStore]) },
      ],
      rounds,
    );
    ratioLine('savepoint --help', help as number, 'node -e 0', nodeAlone as number, 3);
    ratioLine('savepoint check, empty data dir', checkDir as number, 'node -e 0', nodeAlone as number, 3);
    ratioLine('savepoint check, empty store', checkStore as number, 'node -e 0', nodeAlone as number, 3);
  } finally {
    dir.remove();
    rmSync(baseline, { force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await benchColdStart(Number(process.argv[2] ?? '9'), Number(process.argv[3] ?? '100000'));
}
