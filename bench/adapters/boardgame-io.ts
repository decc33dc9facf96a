/**
 * boardgame.io matches on Savepoint against boardgame.io's own FlatFile store (node-persist):
 * boardgame.io's `Master` plays full tic-tac-toe matches, so each move costs what it costs in a
 * real server (fetch metadata, fetch state, setState with the deltalog, setMetadata). Then a
 * restart: a fresh storage on the same directory, `connect`, and the first sync's full fetch of
 * one match plus the lobby's `listMatches`. Alternating rounds, each side on a fresh directory.
 */
import { join } from 'node:path';
import type { StorageAPI } from 'boardgame.io';
import { bgioMaster, bgioServer } from '../../examples/boardgame-io/boardgame-io.js';
import { DRAW_SEQUENCE, TicTacToe } from '../../examples/boardgame-io/tic-tac-toe.js';
import { SavepointStorage } from '../../src/adapters/boardgame-io/index.js';
import { fmt, type LatencySummary, line, report, scratchDir, summarize } from '../support/stats.js';

const ROUNDS = 3;

interface Side {
  readonly name: string;
  readonly open: (dir: string) => StorageAPI.Async & { close?: () => Promise<void> };
}

/**
 * FlatFile hands node-persist nothing but its directory, so node-persist's default write queue
 * applies: writes wait for a flush every second. This variant switches the queue off after
 * `connect`, so every write goes straight to its file: FlatFile at its fastest.
 */
function flatFileWithoutWriteQueue(dir: string): StorageAPI.Async {
  const db = new (bgioServer().FlatFile)({ dir });
  const connect = db.connect.bind(db);
  db.connect = async () => {
    await connect();
    (
      db as unknown as { games: { defaultInstance: { options: { writeQueue: boolean } } } }
    ).games.defaultInstance.options.writeQueue = false;
  };
  return db;
}

const sides: readonly Side[] = [
  {
    name: 'FlatFile, write queue off',
    open: (dir) => flatFileWithoutWriteQueue(join(dir, 'flatfile')),
  },
  {
    name: 'savepoint/boardgame.io (SQLite)',
    open: (dir) => new SavepointStorage({ url: `sqlite:${join(dir, 'bgio.db')}` }),
  },
];

const transport = { send: () => {}, sendAll: () => {} };

/** Plays `matches` full matches one move at a time; resolves with each move's latency. */
async function playMatches(db: StorageAPI.Async, matches: number): Promise<LatencySummary> {
  const { Master } = bgioMaster();
  const master = new Master(TicTacToe, db, transport);
  const latencies = new Float64Array(matches * DRAW_SEQUENCE.length);
  let n = 0;
  const started = performance.now();
  for (let m = 0; m < matches; m++) {
    const matchID = `match-${m}`;
    await master.onSync(matchID, '0', undefined, 2);
    for (const [stateID, cell] of DRAW_SEQUENCE.entries()) {
      const playerID = String(stateID % 2);
      const t0 = performance.now();
      const result = await master.onUpdate(
        { type: 'MAKE_MOVE', payload: { type: 'clickCell', args: [cell], playerID, credentials: '' } },
        stateID,
        matchID,
        playerID,
      );
      latencies[n++] = performance.now() - t0;
      if (result !== undefined) throw new Error(`move refused: ${JSON.stringify(result)}`);
    }
  }
  return summarize(latencies, performance.now() - started);
}

interface Restart {
  readonly connectMs: number;
  readonly connectAndFetchMs: number;
  readonly listMs: number;
  readonly listed: number;
}

async function restart(side: Side, dir: string, matches: number): Promise<Restart> {
  const t0 = performance.now();
  const db = side.open(dir);
  await db.connect();
  const connectMs = performance.now() - t0;
  const { state, log } = await db.fetch(`match-${matches - 1}`, {
    state: true,
    metadata: true,
    log: true,
    initialState: true,
  });
  const connectAndFetchMs = performance.now() - t0;
  if (state?._stateID !== DRAW_SEQUENCE.length || log.length === 0)
    throw new Error('restart read a wrong match');
  const t1 = performance.now();
  const listed = (await db.listMatches({ gameName: 'tic-tac-toe', where: { isGameover: true } })).length;
  const listMs = performance.now() - t1;
  await db.close?.();
  return { connectMs, connectAndFetchMs, listMs, listed };
}

/** FlatFile as boardgame.io sets it up, node-persist's 1 s write queue on: one match per round, or it takes minutes. */
async function benchDefaultFlatFile(): Promise<void> {
  const dir = scratchDir('bgio-flatfile');
  // The write queue's timer is unref'd; in a server the listening socket keeps the process alive.
  const keepAlive = setInterval(() => {}, 1000);
  try {
    const db = new (bgioServer().FlatFile)({ dir: join(dir.path, 'flatfile') });
    await db.connect();
    report('FlatFile as shipped (node-persist write queue), 1 match', await playMatches(db, 1));
  } finally {
    clearInterval(keepAlive);
    dir.remove();
  }
}

export async function benchBoardgameIo(matches: number): Promise<void> {
  line(
    `\n## boardgame.io: ${fmt(matches)} tic-tac-toe matches of ${DRAW_SEQUENCE.length} moves through boardgame.io's Master, one move at a time, then a restart; ${ROUNDS} alternating rounds (Savepoint durability normal)`,
  );
  const moves = sides.map(() => [] as LatencySummary[]);
  const restarts = sides.map(() => [] as Restart[]);
  for (let round = 0; round < ROUNDS; round++) {
    for (const [index, side] of sides.entries()) {
      const dir = scratchDir('bgio');
      try {
        const db = side.open(dir.path);
        await db.connect();
        moves[index]?.push(await playMatches(db, matches));
        await (db as { close?: () => Promise<void> }).close?.();
        restarts[index]?.push(await restart(side, dir.path, matches));
      } finally {
        dir.remove();
      }
    }
  }
  for (let round = 0; round < ROUNDS; round++) {
    const base = moves[0]?.[round] as LatencySummary;
    report(`round ${round + 1}: ${sides[0]?.name} move`, base);
    report(`round ${round + 1}: ${sides[1]?.name} move`, moves[1]?.[round] as LatencySummary, {
      name: 'FlatFile',
      result: base,
    });
  }
  for (const [index, side] of sides.entries()) {
    for (const [round, r] of (restarts[index] ?? []).entries()) {
      line(
        `round ${round + 1}: ${side.name} restart: connect ${fmt(r.connectMs, 1)} ms, + first full fetch ${fmt(r.connectAndFetchMs, 1)} ms, listMatches (${fmt(r.listed)} finished) ${fmt(r.listMs, 1)} ms`,
      );
    }
  }
  await benchDefaultFlatFile();
  const time = (list: readonly LatencySummary[]) => list.reduce((sum, r) => sum + r.count / r.perSecond, 0);
  line(
    `all rounds: ${fmt(time(moves[0] ?? []) / time(moves[1] ?? []), 1)}x the moves per second of FlatFile`,
  );
}
