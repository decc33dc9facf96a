/**
 * Game actions over HTTP, open loop, against `savepoint serve` (dist/cli/main.js, SQLite,
 * durability normal, its own process) and, in the same run, a bare Fastify + better-sqlite3 route
 * doing the same write (baseline-server.ts).
 *
 * - Persist: 200 games, each sending `POST /api/game/{id}/events` (one event and a ~1 KB snapshot
 *   whose bytes change every time) every 200 ms: 1,000 actions/s for ~15 s × scale (at least 5 s).
 *   Latency runs from each request's scheduled time, so queueing (server or client pool) counts.
 * - Reconnects under that load: a second open loop at 20/s over 80 seats of 20 other games, each
 *   `POST /api/game/{id}/reconnect` with `lastEventSeq = head - 100` (100 missed events).
 * - Storage overhead per game: Savepoint's SQLite file against a raw better-sqlite3 file holding the
 *   same states and events as plain rows (method printed with the figures).
 * - Step-up: 1k, 2k, 3k, 4k actions/s in short steps; the highest rate whose p99 stays under 10 ms,
 *   for Savepoint and for the bare route.
 *
 * Targets (reported, never asserted): persist p99 < 5 ms and ≤ 1.2× the bare route's, reconnect
 * (100 missed) p99 < 10 ms, overhead < 300 B/game, highest step ≥ 0.8× the bare route's.
 *
 *   npm run build && node --import tsx bench/games/open-loop.ts [scale]
 */
import { existsSync } from 'node:fs';
import type { Agent } from 'node:http';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SETTLE_AT } from '../../src/drivers/sqlite/stream-table.js';
import type { JsonObject } from '../../src/engine/types.js';
import { openSavepoint } from '../../src/savepoint.js';
import { fmt, line, scratchDir } from '../support/stats.js';
import {
  keepAliveAgent,
  type OpenLoopResult,
  openLoop,
  root,
  type Server,
  send,
  startServer,
} from './load.js';

const API_KEY = 'bench-key-0123456789';
const AUTH = { authorization: `Bearer ${API_KEY}` };
const GAMES = 200;
const ACTION_PERIOD_MS = 200;
export const ACTION_RATE = (GAMES * 1000) / ACTION_PERIOD_MS; // 1,000/s
const RECONNECT_GAMES = 20;
const PLAYERS = ['ann', 'ben', 'cat', 'dan'];
const MISSED = 100;
const EARLIER_EVENTS = 20;
const RECONNECT_RATE = 20;
const STEP_RATES = [1000, 2000, 3000, 4000];
const P99_TARGET_MS = 5;
/** The step-up's bar: a step counts when its p99 stays under this. */
const STEP_P99_MS = 10;
/** Seconds at the full rate before anything is measured (JIT warm-up of both processes). */
export const WARM_UP_SECONDS = 5;
/** Alternating measured rounds of Savepoint and of the bare route. */
const ROUNDS = 2;

const RANKS = '23456789TJQKA';
const SUITS = 'cdhs';

/** A poker table of ~1 KB; `action` changes its bytes (pot, deck order, chips, clock). */
function tableState(game: number, action: number): JsonObject {
  return {
    game,
    action,
    phase: ['preflop', 'flop', 'turn', 'river'][action % 4] as string,
    pot: (action * 37 + game) % 5000,
    deck: Array.from(
      { length: 52 },
      (_, i) => `${RANKS[(i + action + game) % 13]}${SUITS[(i * 7 + action) % 4]}`,
    ),
    chips: Object.fromEntries(PLAYERS.map((p, i) => [p, 1000 - ((action * (i + 3) + game) % 997)])),
    holes: Object.fromEntries(
      PLAYERS.map((p, i) => [p, [`${RANKS[(action + i) % 13]}s`, `${RANKS[(action + 2 * i) % 13]}h`]]),
    ),
    bets: PLAYERS.map((p, i) => ({
      player: p,
      amount: (action * (i + 1)) % 200,
      folded: (action + i) % 5 === 0,
    })),
    community: ['2c', '7h', 'Td', 'Js', 'Qd'].slice(0, 3 + (action % 3)),
    history: Array.from({ length: 6 }, (_, i) => ({
      player: PLAYERS[(action + i) % PLAYERS.length] as string,
      move: ['check', 'bet', 'call', 'raise', 'fold'][(action + i) % 5] as string,
      amount: ((action - i) * 13) % 300,
    })),
    toAct: PLAYERS[action % PLAYERS.length] as string,
    updatedAt: new Date(1_700_000_000_000 + action * ACTION_PERIOD_MS).toISOString(),
  };
}

const actionBody = (game: number, action: number): string =>
  JSON.stringify({
    events: [{ type: 'bet', data: { player: PLAYERS[action % PLAYERS.length], chips: action % 200 } }],
    state: tableState(game, action),
  });

async function expectOk(
  agent: Agent,
  server: Server,
  method: string,
  path: string,
  body?: unknown,
): Promise<Record<string, unknown>> {
  const reply = await send(
    agent,
    server.url,
    method,
    path,
    body === undefined ? undefined : JSON.stringify(body),
    AUTH,
  );
  if (reply.status < 200 || reply.status >= 300)
    throw new Error(`${method} ${path}: HTTP ${reply.status} ${reply.body.slice(0, 300)}`);
  return JSON.parse(reply.body) as Record<string, unknown>;
}

/** Sends actions round-robin over the games: request j is an action of game j % GAMES. */
export function actionLoad(agent: Agent, server: Server) {
  const actions = new Uint32Array(GAMES);
  return async (j: number): Promise<boolean | string> => {
    const game = j % GAMES;
    const action = (actions[game] ?? 0) + 1;
    actions[game] = action;
    const reply = await send(
      agent,
      server.url,
      'POST',
      `/api/game/g${game}/events`,
      actionBody(game, action),
      AUTH,
    );
    return reply.status === 200 || `HTTP ${reply.status} ${reply.body.slice(0, 200)}`;
  };
}

interface Seat {
  readonly gameId: string;
  readonly playerId: string;
  token: string;
}

/** Reconnect requests over a pool of seats; a request waits (and the wait counts) while every seat is busy. */
function reconnectLoad(agent: Agent, server: Server, seats: Seat[], lastEventSeq: number) {
  const free = [...seats];
  const waiting: Array<(seat: Seat) => void> = [];
  const release = (seat: Seat) => {
    const next = waiting.shift();
    if (next === undefined) free.push(seat);
    else next(seat);
  };
  return async (): Promise<boolean | string> => {
    const seat = free.shift() ?? (await new Promise<Seat>((resolve) => waiting.push(resolve)));
    try {
      const reply = await send(
        agent,
        server.url,
        'POST',
        `/api/game/${seat.gameId}/reconnect`,
        JSON.stringify({
          gameId: seat.gameId,
          playerId: seat.playerId,
          reconnectToken: seat.token,
          lastEventSeq,
        }),
        {},
      );
      if (reply.status !== 200) return `HTTP ${reply.status} ${reply.body.slice(0, 200)}`;
      const answer = JSON.parse(reply.body) as { reconnectToken: string; missedEvents: unknown[] };
      seat.token = answer.reconnectToken;
      return (
        answer.missedEvents.length === MISSED || `${answer.missedEvents.length} missed events, not ${MISSED}`
      );
    } finally {
      release(seat);
    }
  };
}

/** 200 action games, and 20 reconnect games whose 80 seats got tokens 100 events ago. */
export async function setUpGames(server: Server): Promise<{ seats: Seat[]; lastEventSeq: number }> {
  const agent = keepAliveAgent(16);
  try {
    await Promise.all(
      Array.from({ length: GAMES }, (_, g) =>
        expectOk(agent, server, 'POST', `/api/game/g${g}/persist`, {
          state: tableState(g, 0),
          players: PLAYERS,
        }),
      ),
    );
    const seats: Seat[] = [];
    const event = (i: number) => ({
      type: 'bet',
      data: { player: PLAYERS[i % PLAYERS.length], chips: i % 200 },
    });
    for (let r = 0; r < RECONNECT_GAMES; r++) {
      const gameId = `r${r}`;
      await expectOk(agent, server, 'POST', `/api/game/${gameId}/persist`, {
        state: tableState(GAMES + r, 0),
        players: PLAYERS,
      });
      await expectOk(agent, server, 'POST', `/api/game/${gameId}/events`, {
        events: Array.from({ length: EARLIER_EVENTS }, (_, i) => event(i)),
        state: tableState(GAMES + r, EARLIER_EVENTS),
      });
      for (const playerId of PLAYERS) {
        const issued = await expectOk(
          agent,
          server,
          'GET',
          `/api/game/${gameId}/connection-token?playerId=${playerId}`,
        );
        seats.push({ gameId, playerId, token: issued.token as string });
      }
      const appended = await expectOk(agent, server, 'POST', `/api/game/${gameId}/events`, {
        events: Array.from({ length: MISSED }, (_, i) => event(EARLIER_EVENTS + i)),
        state: tableState(GAMES + r, EARLIER_EVENTS + MISSED),
      });
      if (appended.lastSeq !== EARLIER_EVENTS + MISSED)
        throw new Error(`unexpected head ${String(appended.lastSeq)}`);
    }
    return { seats, lastEventSeq: EARLIER_EVENTS };
  } finally {
    agent.destroy();
  }
}

function describe(name: string, r: OpenLoopResult): string {
  return `${name.padEnd(46)} ${fmt(r.achievedPerSecond).padStart(7)}/s of ${fmt(r.scheduled)} scheduled  p50 ${fmt(r.ok.p50Ms, 2)} ms  p99 ${fmt(r.ok.p99Ms, 2)} ms  max ${fmt(r.ok.maxMs, 1)} ms  errors ${r.errors}${r.firstError === undefined ? '' : ` (first: ${r.firstError})`}`;
}

const verdict = (p99: number, target: number) =>
  `${p99 < target ? 'meets' : 'misses'} the < ${target} ms target`;

/** Steps the action rate up; stops after a saturated step (errors, < 90% of the rate achieved, or p99 > 1 s). */
async function stepUp(
  name: string,
  seconds: number,
  fire: (j: number) => Promise<boolean | string>,
): Promise<{ readonly best: number | undefined; readonly first: OpenLoopResult | undefined }> {
  let best: number | undefined;
  let first: OpenLoopResult | undefined;
  for (const rate of STEP_RATES) {
    const result = await openLoop(rate, seconds, fire);
    first ??= result;
    line(describe(`  ${name} @ ${fmt(rate)}/s`, result));
    if (result.errors === 0 && result.ok.p99Ms < STEP_P99_MS) best = rate;
    // Saturated: later steps would only queue more.
    if (result.errors > 0 || result.achievedPerSecond < 0.9 * rate || result.ok.p99Ms > 1000) break;
  }
  return { best, first };
}

interface SpaceUse {
  /** page_count × page_size after a TRUNCATE checkpoint. */
  readonly fileBytes: number;
  /** Bytes of every b-tree page in use (dbstat pgsize): what the file spends, free space in pages included. */
  readonly pageBytes: number;
  /** Bytes of those pages that hold cells (pgsize − unused): what the records take, whatever the page fill. */
  readonly cellBytes: number;
  readonly byTable: ReadonlyMap<string, number>;
}

/** Space by b-tree, read from dbstat (SQLite's own page-level statistics). */
function spaceUse(path: string): SpaceUse {
  const db = new Database(path);
  try {
    db.pragma('wal_checkpoint(TRUNCATE)');
    const pageSize = db.pragma('page_size', { simple: true }) as number;
    const pageCount = db.pragma('page_count', { simple: true }) as number;
    const rows = db
      .prepare('SELECT name, SUM(pgsize) AS pages, SUM(pgsize - unused) AS cells FROM dbstat GROUP BY name')
      .all() as Array<{ name: string; pages: number; cells: number }>;
    return {
      fileBytes: pageSize * pageCount,
      pageBytes: rows.reduce((sum, r) => sum + r.pages, 0),
      cellBytes: rows.reduce((sum, r) => sum + r.cells, 0),
      byTable: new Map(rows.map((r) => [r.name, r.cells])),
    };
  } finally {
    db.close();
  }
}

/** A packed copy (VACUUM INTO), so that two files written in different orders compare page for page. */
function packedCopy(path: string): string {
  const copy = `${path}.packed`;
  const db = new Database(path);
  try {
    db.prepare('VACUUM INTO ?').run(copy);
  } finally {
    db.close();
  }
  return copy;
}

const sumOf = (use: SpaceUse, names: readonly string[]) =>
  names.reduce((sum, name) => sum + (use.byTable.get(name) ?? 0), 0);

/** Savepoint's b-trees holding game records (snapshot documents, tokens, stream heads) and their indexes. */
const OUR_GAME_TREES = [
  'documents',
  'sqlite_autoindex_documents_1',
  'documents_by_expiry',
  'streams',
  'sqlite_autoindex_streams_1',
  'streams_by_expiry',
];
const OUR_EVENT_TREES = ['events', 'recent_events', 'recent_events_by_stream'];
const OUR_BUFFER_TREES = ['recent_events', 'recent_events_by_stream'];

/**
 * Reads every game's state and events back through the library, writes them as plain rows into a
 * fresh better-sqlite3 file, and compares what the two files take. Cells are compared, not pages:
 * Savepoint's file was written by interleaved games (b-tree pages ~70% full after splits), the raw
 * one game by game (pages packed full), and that difference is page fill, not data. Packed copies
 * of both are measured too.
 */
async function storageOverhead(savepointFile: string, rawFile: string): Promise<void> {
  const gameIds = [
    ...Array.from({ length: GAMES }, (_, g) => `g${g}`),
    ...Array.from({ length: RECONNECT_GAMES }, (_, r) => `r${r}`),
  ];
  const savepoint = await openSavepoint({ url: `sqlite:${savepointFile}` });
  const raw = new Database(rawFile);
  let payloadBytes = 0;
  let events = 0;
  try {
    raw.pragma('journal_mode = WAL');
    raw.exec(RAW_SCHEMA);
    const insertSnapshot = raw.prepare('INSERT INTO snapshots (game_id, state) VALUES (?, ?)');
    const insertEvent = raw.prepare(
      'INSERT INTO events (game_id, seq, type, data, at) VALUES (?, ?, ?, ?, ?)',
    );
    for (const gameId of gameIds) {
      const state = JSON.stringify((await savepoint.games.restore(gameId)).state);
      payloadBytes += Buffer.byteLength(state);
      const rows: Array<[number, string, string, number]> = [];
      for (let after = 0; ; ) {
        const page = await savepoint.games.readEvents(gameId, { after, limit: 1000 });
        for (const e of page) {
          const data = JSON.stringify(e.data);
          payloadBytes += Buffer.byteLength(e.type) + Buffer.byteLength(data);
          rows.push([e.seq, e.type, data, Date.parse(e.at)]);
        }
        if (page.length < 1000) break;
        after = page[page.length - 1]?.seq as number;
      }
      events += rows.length;
      raw.transaction(() => {
        insertSnapshot.run(gameId, state);
        for (const [seq, type, data, at] of rows) insertEvent.run(gameId, seq, type, data, at);
      })();
    }
  } finally {
    raw.close();
    await savepoint.close();
  }
  const ours = spaceUse(savepointFile);
  const plain = spaceUse(rawFile);
  const oursPacked = spaceUse(packedCopy(savepointFile));
  const plainPacked = spaceUse(packedCopy(rawFile));
  const games = gameIds.length;
  const perGame = (bytes: number) => bytes / games;
  const gameRecords = perGame(
    sumOf(ours, OUR_GAME_TREES) - sumOf(plain, ['snapshots', 'sqlite_autoindex_snapshots_1']),
  );
  const buffered = sumOf(ours, OUR_BUFFER_TREES);
  const eventDelta = sumOf(ours, OUR_EVENT_TREES) - sumOf(plain, ['events']);
  line(
    `\n## Storage, ${fmt(games)} games (${GAMES} action + ${RECONNECT_GAMES} reconnect), ${fmt(events)} events (${fmt(events / games, 1)}/game), after the runs above`,
  );
  line(
    "method: dbstat per b-tree on the stopped server's file after a TRUNCATE checkpoint; cells = pgsize − unused (the bytes records take), pages = pgsize (what the file spends); baseline = a fresh better-sqlite3 file, snapshots(game_id TEXT PK, state TEXT) + events(game_id, seq, type, data, at, PK (game_id, seq)) WITHOUT ROWID, holding the same states and events; packed = VACUUM INTO copies of both",
  );
  const describeUse = (name: string, use: SpaceUse, packed: SpaceUse) =>
    `${name.padEnd(46)} cells ${fmt(use.cellBytes)} B, pages ${fmt(use.pageBytes)} B (packed ${fmt(packed.pageBytes)} B), file ${fmt(use.fileBytes)} B`;
  line(describeUse('savepoint file', ours, oursPacked));
  line(describeUse('raw rows file', plain, plainPacked));
  line(
    `raw JSON payload (state + event type + data)   ${fmt(payloadBytes)} B = ${fmt(perGame(payloadBytes))} B/game`,
  );
  line(
    `per-game records beyond the state (snapshot document, stream head, tokens, their keys and indexes): ${fmt(gameRecords)} B/game (target < 300: ${gameRecords < 300 ? 'meets' : 'misses'})`,
  );
  line(
    `events: ${fmt(eventDelta / events, 1)} B/event beyond the raw rows; of Savepoint's event bytes, ${fmt(buffered)} B are the append buffer (recent_events and its index, at most ${fmt(SETTLE_AT)} events whatever the number of games; settled events take less than raw rows: an integer stream id, not the game id)`,
  );
  line(
    `everything: (savepoint − raw) / games = cells ${fmt(perGame(ours.cellBytes - plain.cellBytes))} B/game, packed pages ${fmt(perGame(oursPacked.pageBytes - plainPacked.pageBytes))} B/game, pages as written ${fmt(perGame(ours.pageBytes - plain.pageBytes))} B/game`,
  );
  line(
    `  savepoint cells: ${[...ours.byTable]
      .filter(([, b]) => b > 100)
      .map(([n, b]) => `${n} ${fmt(b)}`)
      .join(', ')}`,
  );
  line(
    `  raw cells: ${[...plain.byTable]
      .filter(([, b]) => b > 100)
      .map(([n, b]) => `${n} ${fmt(b)}`)
      .join(', ')}`,
  );
}

const RAW_SCHEMA = `
  CREATE TABLE snapshots (game_id TEXT PRIMARY KEY, state TEXT NOT NULL);
  CREATE TABLE events (
    game_id TEXT NOT NULL, seq INTEGER NOT NULL, type TEXT NOT NULL, data TEXT NOT NULL, at INTEGER NOT NULL,
    PRIMARY KEY (game_id, seq)
  ) WITHOUT ROWID;
`;

export const SERVE_ENTRY = join(root, 'dist/cli/main.js');

/** `savepoint serve` as the benchmark runs it (SQLite in `dataDir`, durability normal); `nodeArgs` go before the script. */
export function startSavepoint(dataDir: string, nodeArgs: readonly string[] = []): Promise<Server> {
  return startServer(
    process.execPath,
    [...nodeArgs, SERVE_ENTRY, 'serve', '--port', '0', '--data-dir', dataDir],
    {
      DATABASE_URL: `sqlite:${join(dataDir, 'savepoint.db')}`,
      SAVEPOINT_API_KEY: API_KEY,
      SAVEPOINT_DURABILITY: 'normal',
      SAVEPOINT_LOG_LEVEL: 'warn',
      SAVEPOINT_SWEEP_INTERVAL: '0',
      SAVEPOINT_BACKUP_INTERVAL: '0',
    },
  );
}

export async function benchGamesOpenLoop(scale: number): Promise<void> {
  if (!existsSync(SERVE_ENTRY)) {
    line('\n## Games open loop: skipped — run `npm run build` first (the benchmark serves the compiled CLI)');
    return;
  }
  const seconds = Math.max(5, 15 * scale);
  const stepSeconds = Math.max(2, 5 * scale);
  const dir = scratchDir('games-open-loop');
  const servers: Server[] = [];
  try {
    const sample = actionBody(0, 1);
    line(
      `\n## Game actions over HTTP, open loop: ${GAMES} games × 1 action / ${ACTION_PERIOD_MS} ms = ${fmt(ACTION_RATE)}/s for ${fmt(seconds, 1)} s, one event + ${fmt(JSON.stringify(tableState(0, 1)).length)} B snapshot (${fmt(sample.length)} B body); reconnects (${MISSED} missed) at ${RECONNECT_RATE}/s alongside; latency from the scheduled send; keep-alive, 64 sockets; SQLite durability normal; ${WARM_UP_SECONDS} s warm-up each, then ${ROUNDS} alternating rounds`,
    );

    // Both servers stay up and take turns. Each first runs WARM_UP_SECONDS at the full rate: for
    // the first seconds both processes (and the load generator) are still compiling their hot
    // paths, and a 1 s warm-up left server stalls of 20-100 ms inside the measured window.
    const savepointFile = join(dir.path, 'savepoint', 'savepoint.db');
    const savepoint = await startSavepoint(join(dir.path, 'savepoint'));
    servers.push(savepoint);
    const bare = await startServer(
      process.execPath,
      ['--import', 'tsx', 'bench/games/baseline-server.ts', join(dir.path, 'bare.db')],
      {},
    );
    servers.push(bare);
    const { seats, lastEventSeq } = await setUpGames(savepoint);
    const actionAgent = keepAliveAgent(64);
    const reconnectAgent = keepAliveAgent(16);
    const bareAgent = keepAliveAgent(64);
    const ourActions = actionLoad(actionAgent, savepoint);
    const ourReconnects = reconnectLoad(reconnectAgent, savepoint, seats, lastEventSeq);
    const bareActions = actionLoad(bareAgent, bare);
    const warmUp = Math.min(WARM_UP_SECONDS, seconds);
    await Promise.all([
      openLoop(ACTION_RATE, warmUp, ourActions),
      openLoop(RECONNECT_RATE, warmUp, ourReconnects),
    ]);
    await openLoop(ACTION_RATE, warmUp, bareActions); // also creates the bare rows

    const ours: OpenLoopResult[] = [];
    const reconnects: OpenLoopResult[] = [];
    const bares: OpenLoopResult[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const [actions, reconnected] = await Promise.all([
        openLoop(ACTION_RATE, seconds, ourActions),
        openLoop(RECONNECT_RATE, seconds, ourReconnects),
      ]);
      ours.push(actions);
      reconnects.push(reconnected);
      line(describe(`round ${round}: savepoint POST /api/game/{id}/events`, actions));
      line(describe(`round ${round}: savepoint reconnect, ${MISSED} missed`, reconnected));
      const plain = await openLoop(ACTION_RATE, seconds, bareActions);
      bares.push(plain);
      line(describe(`round ${round}: bare Fastify + better-sqlite3 (1 txn, no auth)`, plain));
    }
    const mean = (runs: OpenLoopResult[], pick: (r: OpenLoopResult) => number) =>
      runs.reduce((sum, r) => sum + pick(r), 0) / runs.length;
    const persistP99 = mean(ours, (r) => r.ok.p99Ms);
    const reconnectP99 = mean(reconnects, (r) => r.ok.p99Ms);
    const bareP99 = mean(bares, (r) => r.ok.p99Ms);
    line(
      `mean of ${ROUNDS} rounds: persist p99 ${fmt(persistP99, 2)} ms: ${verdict(persistP99, P99_TARGET_MS)}`,
    );
    line(`mean of ${ROUNDS} rounds: reconnect p99 ${fmt(reconnectP99, 2)} ms: ${verdict(reconnectP99, 10)}`);
    line(
      `mean of ${ROUNDS} rounds: bare route p99 ${fmt(bareP99, 2)} ms (${verdict(bareP99, P99_TARGET_MS)}); savepoint vs bare ${fmt(mean(ours, (r) => r.ok.p50Ms) / mean(bares, (r) => r.ok.p50Ms), 2)}x p50, ${fmt(persistP99 / bareP99, 2)}x p99 (savepoint also served the reconnect loop)`,
    );

    line(`step-up, actions only, ${fmt(stepSeconds, 1)} s per step:`);
    const ours1k = await stepUp('savepoint serve', stepSeconds, ourActions);
    const bare1k = await stepUp('bare Fastify + better-sqlite3', stepSeconds, bareActions);
    const ourBest = ours1k.best;
    const bareBest = bare1k.best;
    for (const agent of [actionAgent, reconnectAgent, bareAgent]) agent.destroy();
    await savepoint.stop();
    await bare.stop();

    const best = (rate: number | undefined) => (rate === undefined ? 'none of the steps' : `${fmt(rate)}/s`);
    const stepRatio =
      ourBest === undefined || bareBest === undefined ? 'n/a' : `${fmt(ourBest / bareBest, 2)}x`;
    if (ours1k.first !== undefined && bare1k.first !== undefined)
      line(
        `first step (${fmt(STEP_RATES[0] as number)}/s, actions only): savepoint p99 ${fmt(ours1k.first.ok.p99Ms, 2)} ms, bare ${fmt(bare1k.first.ok.p99Ms, 2)} ms = ${fmt(ours1k.first.ok.p99Ms / bare1k.first.ok.p99Ms, 2)}x (target <= 1.2x)`,
      );
    line(
      `highest stepped rate with p99 < ${STEP_P99_MS} ms and no errors (${STEP_RATES.map((r) => fmt(r)).join(' / ')}/s): savepoint ${best(ourBest)}, bare ${best(bareBest)}, ratio ${stepRatio} (target >= 0.8x)`,
    );

    await storageOverhead(savepointFile, join(dir.path, 'raw.db'));
  } finally {
    for (const server of servers) await server.stop();
    dir.remove();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await benchGamesOpenLoop(Number(process.argv[2] ?? '1'));
