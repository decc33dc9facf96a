/**
 * Game actions on PostgreSQL: Savepoint's games module (`games.appendEvents` with the event and the
 * new state, history on by default) against boardgame.io's PostgreSQL storage, `bgio-postgres`
 * (`setState` with the new state and the move's log entry: a locked read, then the state and the
 * whole log written back, in one transaction). Both write the same ~1 KB table state and a ~150-byte
 * event per action, in games of {@link ACTIONS_PER_GAME} actions, on the same server, each in its
 * own schema, each with a pool of {@link POOL} connections.
 *
 * Measured in alternating rounds (the side that goes first alternates too):
 * - one caller, one action after another;
 * - {@link CALLERS} concurrent callers, each playing its own game;
 * - restore: bgio's `fetch` of the state and metadata against `games.restore`, and a reconnect
 *   (bgio's `fetch` of everything, as `Master.onSync` does, against `restore` plus `readEvents`).
 * Then, untimed, each side's traffic per action through a counting proxy (`wire-count.ts`):
 * statements and client-server round trips.
 *
 *   npx tsx bench/postgres/games-vs-bgio.ts [scale]     (or npm run bench -- postgres-games)
 */
import { PostgresStore } from 'bgio-postgres';
import postgres from 'postgres';
import type { JsonObject } from '../../src/engine/types.js';
import { openSavepoint, type Savepoint } from '../../src/savepoint.js';
import { fmt, type LatencySummary, line, report, summarize, timeSequential } from '../support/stats.js';
import {
  benchPostgresUrl,
  dropSchema,
  postgresDown,
  redact,
  uniqueBenchName,
  withSchema,
} from './services.js';
import { WireCounter, type WireCounts } from './wire-count.js';

const ROUNDS = 3;
const CALLERS = 20;
/** bgio-postgres gets the PostgreSQL driver's default pool size (Sequelize's own is 5). */
const POOL = 10;
/** A hand of poker, a short board game: the log bgio rewrites on every action grows to this. */
const ACTIONS_PER_GAME = 50;
const PLAYERS = ['ann', 'ben', 'cat', 'dan', 'eve', 'fay'];

/** A poker table of about 1 KB, changed by every action so that every write changes the stored bytes. */
function table(action: number): JsonObject {
  return {
    action,
    pot: action % 500,
    deck: Array.from({ length: 40 }, (_, i) => `${'23456789TJQKA'[(i + action) % 13]}${'cdhs'[i % 4]}`),
    chips: Object.fromEntries(PLAYERS.map((p, i) => [p, 100 + ((action * (i + 1)) % 97)])),
    holes: Object.fromEntries(PLAYERS.map((p) => [p, ['As', 'Kd']])),
    community: ['2c', '7h', 'Td'],
    phase: 'flop',
    toAct: PLAYERS[action % PLAYERS.length] as string,
  };
}

/** The move as both sides log it: bgio's deltalog entry, Savepoint's event data. */
function move(action: number): JsonObject {
  return {
    type: 'MAKE_MOVE',
    payload: { type: 'bet', args: [action % 50], playerID: String(action % PLAYERS.length) },
    turn: Math.floor(action / PLAYERS.length) + 1,
    phase: 'flop',
  };
}

/** One storage under test: create a game, play action `n` of it, restore it. */
interface Side {
  readonly name: string;
  create(gameId: string): Promise<void>;
  /** Action `n` (1-based) of `gameId`. */
  act(gameId: string, n: number): Promise<void>;
  restore(gameId: string): Promise<void>;
  /** Restore with the whole log, as a reconnecting client needs it. */
  resync(gameId: string): Promise<void>;
  close(): Promise<void>;
}

async function openBgio(url: string, schema: string): Promise<Side> {
  const admin = postgres(url, { max: 1, onnotice: () => {} });
  await admin.unsafe(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
  await admin.end();
  // Sequelize applies `define` to every model, bgio-postgres's "Games" table included.
  const db = new PostgresStore(url, { logging: false, define: { schema }, pool: { max: POOL } });
  await db.connect();
  return {
    name: 'bgio-postgres setState',
    create: (gameId) =>
      db.createMatch(gameId, {
        initialState: { ...table(0), _stateID: 0 } as never,
        metadata: {
          gameName: 'poker',
          players: Object.fromEntries(PLAYERS.map((name, id) => [id, { id, name }])),
          createdAt: Date.now(),
          updatedAt: Date.now(),
        },
      }),
    act: (gameId, n) =>
      db.setState(gameId, { ...table(n), _stateID: n } as never, [
        { action: move(n), _stateID: n - 1, turn: 1, phase: 'flop' } as never,
      ]),
    restore: async (gameId) => {
      const { state } = await db.fetch(gameId, { state: true, metadata: true });
      if (state === undefined) throw new Error(`bgio lost ${gameId}`);
    },
    resync: async (gameId) => {
      const { state, log } = await db.fetch(gameId, {
        state: true,
        metadata: true,
        log: true,
        initialState: true,
      });
      if (state === undefined || log === undefined) throw new Error(`bgio lost ${gameId}`);
    },
    close: () => db.sequelize.close(),
  };
}

async function openOurs(url: string, schema: string): Promise<Side> {
  const savepoint: Savepoint = await openSavepoint({ url: withSchema(url, schema) });
  const games = savepoint.games;
  return {
    name: 'Savepoint games.appendEvents + state',
    create: async (gameId) => {
      await games.persist(gameId, { state: table(0), players: PLAYERS.slice(0, 2) });
    },
    act: async (gameId, n) => {
      await games.appendEvents(gameId, { events: [{ type: 'bet', data: move(n) }], state: table(n) });
    },
    restore: async (gameId) => {
      await games.restore(gameId);
    },
    resync: async (gameId) => {
      await games.restore(gameId);
      await games.readEvents(gameId, { limit: 1000 });
    },
    close: () => savepoint.close(),
  };
}

/** Games of `ACTIONS_PER_GAME` actions, created up front, each played by one caller at a time. */
class Games {
  readonly #side: Side;
  readonly #prefix: string;
  #created = 0;

  constructor(side: Side, prefix: string) {
    this.#side = side;
    this.#prefix = prefix;
  }

  /** Creates enough games for `actions` actions on `callers` callers; answers their ids. */
  async prepare(actions: number, callers: number): Promise<string[]> {
    const count = callers * Math.ceil(actions / callers / ACTIONS_PER_GAME);
    const ids = Array.from({ length: count }, (_, i) => `${this.#prefix}-${this.#created + i}`);
    this.#created += count;
    for (const id of ids) await this.#side.create(id);
    return ids;
  }

  /**
   * Plays `count` actions on `callers` concurrent callers, each playing its own games one action
   * after another (never two actions of one game at once: bgio-postgres would drop the older one),
   * timing each action.
   */
  static async play(
    side: Side,
    ids: readonly string[],
    callers: number,
    count: number,
  ): Promise<LatencySummary> {
    const latencies = new Float64Array(count);
    let done = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: callers }, async (_, caller) => {
        for (let round = 0; round * callers + caller < count; round++) {
          const game = ids[caller + callers * Math.floor(round / ACTIONS_PER_GAME)] as string;
          const t0 = performance.now();
          await side.act(game, (round % ACTIONS_PER_GAME) + 1);
          latencies[done++] = performance.now() - t0;
        }
      }),
    );
    return summarize(latencies, performance.now() - started);
  }
}

interface Figures {
  sequential: LatencySummary[];
  concurrent: LatencySummary[];
  restore: LatencySummary[];
  resync: LatencySummary[];
}

async function measure(side: Side, games: Games, count: number, figures: Figures): Promise<void> {
  const sequentialIds = await games.prepare(count, 1);
  figures.sequential.push(await Games.play(side, sequentialIds, 1, count));
  const concurrentIds = await games.prepare(count, CALLERS);
  figures.concurrent.push(await Games.play(side, concurrentIds, CALLERS, count));
  // Restores cycle through the games just played, each with its full log.
  const played = sequentialIds.length;
  figures.restore.push(await timeSequential(count, (i) => side.restore(sequentialIds[i % played] as string)));
  figures.resync.push(await timeSequential(count, (i) => side.resync(sequentialIds[i % played] as string)));
}

/** The traffic per action, per restore and per resync of one side, through the counting proxy. */
async function countWire(
  open: (url: string, schema: string) => Promise<Side>,
  schema: string,
): Promise<{ act: WireCounts; restore: WireCounts; resync: WireCounts }> {
  const target = new URL(benchPostgresUrl);
  const proxy = await WireCounter.start({ host: target.hostname, port: Number(target.port || 5432) });
  const side = await open(proxy.urlFor(benchPostgresUrl), schema);
  try {
    const games = new Games(side, 'wire');
    // One game to warm up (connections, prepared statements), one game counted.
    const [warm, counted] = await games.prepare(2 * ACTIONS_PER_GAME, 1).then((ids) => [ids[0], ids[1]]);
    for (let n = 1; n <= ACTIONS_PER_GAME; n++) await side.act(warm as string, n);
    await side.restore(warm as string);
    await side.resync(warm as string);
    const per = (counts: WireCounts, calls: number): WireCounts => ({
      statements: counts.statements / calls,
      roundTrips: counts.roundTrips / calls,
    });
    let before = proxy.snapshot();
    for (let n = 1; n <= ACTIONS_PER_GAME; n++) await side.act(counted as string, n);
    const act = per(proxy.since(before), ACTIONS_PER_GAME);
    before = proxy.snapshot();
    for (let i = 0; i < 10; i++) await side.restore(counted as string);
    const restore = per(proxy.since(before), 10);
    before = proxy.snapshot();
    for (let i = 0; i < 10; i++) await side.resync(counted as string);
    const resync = per(proxy.since(before), 10);
    return { act, restore, resync };
  } finally {
    await side.close();
    await proxy.close();
  }
}

const ratioLine = (what: string, ours: LatencySummary[], theirs: LatencySummary[], goal: string): void => {
  const sum = (list: LatencySummary[], pick: (s: LatencySummary) => number) =>
    list.reduce((total, s) => total + pick(s), 0) / list.length;
  const throughput = sum(ours, (s) => s.perSecond) / sum(theirs, (s) => s.perSecond);
  const p99 = sum(ours, (s) => s.p99Ms) / sum(theirs, (s) => s.p99Ms);
  line(
    `${what}: throughput ${fmt(throughput, 2)}x bgio-postgres, p99 ${fmt(p99, 2)}x (mean over ${ours.length} rounds; ${goal})`,
  );
};

export async function benchGamesVsBgioPostgres(scale = 1): Promise<void> {
  const count = Math.max(200, Math.round(2000 * scale));
  line(
    `\n## Game actions on PostgreSQL: Savepoint games.appendEvents (event + ~1 KB state) vs bgio-postgres setState (state + log entry); ${fmt(count)} actions per run, games of ${ACTIONS_PER_GAME} actions, ${ROUNDS} alternating rounds, pool ${POOL} each`,
  );
  const down = await postgresDown();
  if (down !== undefined) {
    line(`skipped: PostgreSQL at ${redact(benchPostgresUrl)} is unreachable (${down})`);
    return;
  }
  const schemas = { bgio: uniqueBenchName('sp_bench_bgio'), ours: uniqueBenchName('sp_bench_games') };
  const wireSchemas = { bgio: uniqueBenchName('sp_wire_bgio'), ours: uniqueBenchName('sp_wire_games') };
  const sides: Side[] = [];
  try {
    const probe = postgres(benchPostgresUrl, { max: 1, onnotice: () => {} });
    const [settings] = await probe<{ sync: string; version: string }[]>`
      SELECT current_setting('synchronous_commit') AS sync, current_setting('server_version') AS version`;
    await probe.end();
    line(`PostgreSQL ${settings?.version} (synchronous_commit=${settings?.sync})`);

    const bgio = await openBgio(benchPostgresUrl, schemas.bgio);
    sides.push(bgio);
    const ours = await openOurs(benchPostgresUrl, schemas.ours);
    sides.push(ours);
    const games = new Map<Side, Games>([
      [bgio, new Games(bgio, 'bgio')],
      [ours, new Games(ours, 'ours')],
    ]);
    const figures = new Map<Side, Figures>(
      sides.map((side) => [side, { sequential: [], concurrent: [], restore: [], resync: [] }]),
    );
    // Warm both: connections, prepared statements, the server's caches.
    for (const side of sides) {
      const warm = Math.min(count, 4 * ACTIONS_PER_GAME);
      const ids = await (games.get(side) as Games).prepare(warm, CALLERS);
      await Games.play(side, ids, CALLERS, warm);
    }
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? [bgio, ours] : [ours, bgio];
      for (const side of order)
        await measure(side, games.get(side) as Games, count, figures.get(side) as Figures);
    }
    const theirs = figures.get(bgio) as Figures;
    const mine = figures.get(ours) as Figures;
    for (let round = 0; round < ROUNDS; round++) {
      const at = (list: LatencySummary[]) => list[round] as LatencySummary;
      report(`round ${round + 1}: bgio, 1 caller`, at(theirs.sequential));
      report(`round ${round + 1}: Savepoint, 1 caller`, at(mine.sequential), {
        name: 'bgio',
        result: at(theirs.sequential),
      });
      report(`round ${round + 1}: bgio, ${CALLERS} callers`, at(theirs.concurrent));
      report(`round ${round + 1}: Savepoint, ${CALLERS} callers`, at(mine.concurrent), {
        name: 'bgio',
        result: at(theirs.concurrent),
      });
      report(`round ${round + 1}: bgio fetch(state, metadata)`, at(theirs.restore));
      report(`round ${round + 1}: Savepoint restore`, at(mine.restore), {
        name: 'bgio',
        result: at(theirs.restore),
      });
      report(`round ${round + 1}: bgio fetch(everything)`, at(theirs.resync));
      report(`round ${round + 1}: Savepoint restore + readEvents`, at(mine.resync), {
        name: 'bgio',
        result: at(theirs.resync),
      });
    }
    ratioLine('1 caller', mine.sequential, theirs.sequential, 'goal >= 1.2x, p99 <= 1x');
    ratioLine(`${CALLERS} callers`, mine.concurrent, theirs.concurrent, 'goal: keep the lead, > 1x');
    ratioLine('restore', mine.restore, theirs.restore, 'goal: keep the lead, > 1x');
    ratioLine('restore with the log', mine.resync, theirs.resync, 'for reference');

    for (const side of sides.splice(0)) await side.close();
    const wire = {
      bgio: await countWire(openBgio, wireSchemas.bgio),
      ours: await countWire(openOurs, wireSchemas.ours),
    };
    const perCall = (counts: WireCounts) =>
      `${fmt(counts.statements, 2)} statements in ${fmt(counts.roundTrips, 2)} round trips`;
    line(
      `On the wire, per call (mean over a game of ${ACTIONS_PER_GAME} actions, after one game of warm-up):`,
    );
    line(
      `  bgio-postgres setState: ${perCall(wire.bgio.act)}; fetch(state, metadata): ${perCall(wire.bgio.restore)}`,
    );
    line(`  Savepoint appendEvents: ${perCall(wire.ours.act)}; restore: ${perCall(wire.ours.restore)}`);
  } finally {
    for (const side of sides) await side.close().catch(() => undefined);
    for (const schema of [...Object.values(schemas), ...Object.values(wireSchemas)]) await dropSchema(schema);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await benchGamesVsBgioPostgres(Number(process.argv[2] ?? process.env.BENCH_SCALE ?? '1'));
}
