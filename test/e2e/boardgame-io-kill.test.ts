/**
 * boardgame.io's own `Server` on Savepoint, with real processes: two players play tic-tac-toe
 * through boardgame.io's client and SocketIO transport, the server is killed with SIGKILL right
 * after broadcasting a move (its commit may or may not have landed), restarts on the same SQLite
 * file and port, and the clients reconnect and finish the match. The stored match must hold every
 * acknowledged move, a log without gaps in `_stateID`, and the state that log leads to.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { State } from 'boardgame.io';
import { afterAll, describe, expect, it } from 'vitest';
import { bgioClient, bgioMultiplayer } from '../../examples/boardgame-io/boardgame-io.js';
import { DRAW_SEQUENCE, TicTacToe, type TicTacToeState } from '../../examples/boardgame-io/tic-tac-toe.js';
import { SavepointStorage } from '../../src/adapters/boardgame-io/index.js';
import { openSavepoint } from '../../src/index.js';
import { freePort, until } from './card-game-fixture.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'savepoint-bgio-e2e-'));
const dbUrl = `sqlite:${path.join(dataDir, 'matches.db')}`;
const children = new Set<ChildProcess>();
const clients = new Set<{ stop(): void }>();

afterAll(() => {
  for (const client of clients) client.stop();
  for (const child of children) child.kill('SIGKILL');
  fs.rmSync(dataDir, { recursive: true, force: true });
});

interface ServerProcess {
  readonly child: ChildProcess;
  /** `_stateID`s whose `setState` commit this process reported as resolved. */
  readonly persisted: number[];
  readonly exited: Promise<string | number>;
}

async function startServer(port: number): Promise<ServerProcess> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'test/e2e/boardgame-io/server.ts', '--port', String(port), '--db', dbUrl],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  children.add(child);
  const exited = new Promise<string | number>((resolve) =>
    child.once('exit', (code, signal) => {
      children.delete(child);
      resolve(signal ?? code ?? -1);
    }),
  );
  const persisted: number[] = [];
  let output = '';
  let pending = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      pending += chunk.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        const match = /^persisted \S+ (\d+)$/.exec(line);
        if (match !== null) persisted.push(Number(match[1]));
        if (line.startsWith('listening on')) resolve();
      }
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    void exited.then((how) => reject(new Error(`server exited (${how}) before listening:\n${output}`)));
  });
  return { child, persisted, exited };
}

async function lobby<T>(port: number, route: string, body: unknown): Promise<T> {
  const response = await fetch(`http://127.0.0.1:${port}/games/tic-tac-toe${route}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(response.status).toBe(200);
  return (await response.json()) as T;
}

function startClient(port: number, matchID: string, playerID: string, credentials: string) {
  const client = bgioClient().Client({
    game: TicTacToe,
    matchID,
    playerID,
    credentials,
    multiplayer: bgioMultiplayer().SocketIO({
      server: `http://127.0.0.1:${port}`,
      socketOpts: { transports: ['websocket'], reconnectionDelay: 50, reconnectionDelayMax: 250 },
    }),
  });
  client.start();
  clients.add(client);
  // Each 'sync' the server sends is the client's copy being replaced by the stored match: once at
  // start and once after every reconnect. boardgame.io keeps the socket private, hence the cast.
  let syncs = 0;
  const { socket } = (client as unknown as { transport: { socket: { on(e: string, f: () => void): void } } })
    .transport;
  socket.on('sync', () => {
    syncs += 1;
  });
  return {
    client,
    get syncs() {
      return syncs;
    },
    state: () => client.getState() as (State<TicTacToeState> & { isConnected: boolean }) | null,
  };
}

describe('boardgame.io on Savepoint survives kill -9', () => {
  it('clients reconnect to the restarted server, finish the match, and no acknowledged move is lost', async () => {
    const port = await freePort();
    let server = await startServer(port);
    const { matchID } = await lobby<{ matchID: string }>(port, '/create', { numPlayers: 2 });
    const players = await Promise.all(
      ['0', '1'].map(async (playerID) => {
        const { playerCredentials } = await lobby<{ playerCredentials: string }>(port, `/${matchID}/join`, {
          playerID,
          playerName: `player-${playerID}`,
        });
        return startClient(port, matchID, playerID, playerCredentials);
      }),
    );
    await until(() => players.every((p) => p.syncs === 1 && p.state() !== null), 20_000, 'first sync');

    const stateID = () => players[0]?.state()?._stateID ?? -1;
    const bothAt = (id: number) => players.every((p) => p.state()?._stateID === id);
    /** The next move of the draw sequence, by whoever's turn it is. */
    const playNext = () => {
      const state = players[0]?.state();
      if (state === null || state === undefined) throw new Error('no state');
      const filled = state.G.cells.filter((cell) => cell !== null).length;
      const player = players[Number(state.ctx.currentPlayer)];
      player?.client.moves.clickCell?.(DRAW_SEQUENCE[filled]);
      return state._stateID + 1;
    };

    // Four moves, each acknowledged: its commit resolved and both clients saw it.
    for (let move = 1; move <= 4; move += 1) {
      const next = playNext();
      await until(() => server.persisted.includes(next) && bothAt(next), 10_000, `move ${next}`);
    }

    // The fifth move: kill the server as soon as it has broadcast it, with its commit in flight.
    const inFlight = playNext();
    await until(() => players.every((p) => p.state()?._stateID === inFlight), 10_000, 'broadcast of move 5');
    server.child.kill('SIGKILL');
    expect(await server.exited).toBe('SIGKILL');
    const acknowledged = [...server.persisted];
    expect(acknowledged.slice(0, 4)).toEqual([1, 2, 3, 4]);
    await until(
      () => players.every((p) => p.state()?.isConnected === false),
      10_000,
      'clients to see the drop',
    );

    // Restart on the same file and port; the clients' sockets reconnect and resync by themselves.
    server = await startServer(port);
    await until(
      () => players.every((p) => p.syncs === 2 && p.state()?.isConnected === true),
      20_000,
      'resync',
    );
    const resumedAt = stateID();
    expect(resumedAt).toBeGreaterThanOrEqual(Math.max(...acknowledged));
    expect(players[1]?.state()?._stateID).toBe(resumedAt);

    // Finish the match from wherever the stored state resumed.
    while (players[0]?.state()?.ctx.gameover === undefined) {
      const next = playNext();
      await until(() => server.persisted.includes(next) && bothAt(next), 10_000, `move ${next}`);
    }
    expect(players[0]?.state()?.ctx.gameover).toEqual({ draw: true });
    for (const player of players) {
      player.client.stop();
      clients.delete(player.client);
    }
    server.child.kill('SIGKILL');
    await server.exited;

    // The stored match, read with the storage itself.
    const savepoint = await openSavepoint({ url: dbUrl });
    try {
      const db = new SavepointStorage(savepoint);
      const { state, log, metadata } = await db.fetch(matchID, { state: true, log: true, metadata: true });
      const moves = DRAW_SEQUENCE.length;
      expect(state._stateID).toBe(moves);
      expect((state.G as TicTacToeState).cells).toEqual(['0', '1', '0', '0', '1', '1', '1', '0', '0']);
      expect(state.ctx.gameover).toEqual({ draw: true });
      // Each move logs its MAKE_MOVE and the automatic endTurn that follows it, under the
      // `_stateID` it was made at: 0..8 in order, without a gap, one move each, the moves in order.
      const stateIDs = log.map((entry) => entry._stateID);
      expect(stateIDs).toEqual([...stateIDs].sort((a, b) => a - b));
      expect([...new Set(stateIDs)]).toEqual(DRAW_SEQUENCE.map((_, i) => i));
      const made = log.filter((entry) => entry.action.type === 'MAKE_MOVE');
      expect(made.map((entry) => entry._stateID)).toEqual(DRAW_SEQUENCE.map((_, i) => i));
      expect(made.map((entry) => entry.action.payload.args?.[0])).toEqual(DRAW_SEQUENCE);
      expect(made.map((entry) => entry.action.payload.playerID)).toEqual(
        DRAW_SEQUENCE.map((_, i) => String(i % 2)),
      );
      expect(
        log.filter((entry) => entry.action.type !== 'MAKE_MOVE').map((entry) => entry.action.payload.type),
      ).toEqual(Array(DRAW_SEQUENCE.length - 1).fill('endTurn'));
      // Every move acknowledged before the kill is there, as the move it was.
      for (const id of acknowledged)
        expect(made[id - 1]?.action.payload.args?.[0]).toBe(DRAW_SEQUENCE[id - 1]);
      expect(metadata.gameover).toEqual({ draw: true });
      expect(await db.listMatches({ where: { isGameover: true } })).toContain(matchID);
      console.log(
        `boardgame.io kill -9: ${acknowledged.length} moves acknowledged before the kill, ` +
          `resumed at _stateID ${resumedAt} (in-flight move ${resumedAt >= inFlight ? 'kept' : 'lost, replayed'})`,
      );
    } finally {
      await savepoint.close();
    }
  });
});
