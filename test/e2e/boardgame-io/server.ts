/**
 * A boardgame.io `Server` on Savepoint, for the kill -9 test: `--port N --db sqlite:<path>`.
 * Prints `listening on <port>` once it serves, and `persisted <matchID> <_stateID>` after each
 * `setState` commit resolves: the moment a move is acknowledged, since boardgame.io's master
 * broadcasts a move before it stores it.
 */
import type { LogEntry, State } from 'boardgame.io';
import { bgioServer } from '../../../examples/boardgame-io/boardgame-io.js';
import { TicTacToe } from '../../../examples/boardgame-io/tic-tac-toe.js';
import { SavepointStorage } from '../../../src/adapters/boardgame-io/index.js';

function argument(name: string): string {
  const index = process.argv.indexOf(name);
  const value = index === -1 ? undefined : process.argv[index + 1];
  if (value === undefined) throw new Error(`missing ${name}`);
  return value;
}

class ReportingStorage extends SavepointStorage {
  override async setState(matchID: string, state: State, deltalog?: LogEntry[]): Promise<void> {
    await super.setState(matchID, state, deltalog);
    process.stdout.write(`persisted ${matchID} ${state._stateID}\n`);
  }
}

const port = Number(argument('--port'));
const { Server } = bgioServer();
const server = Server({
  games: [TicTacToe],
  db: new ReportingStorage({ url: argument('--db') }),
  origins: ['http://127.0.0.1'],
});
await server.run(port);
process.stdout.write(`listening on ${port}\n`);
