/**
 * The games' crash test, with real processes: the example poker server (Savepoint embedded,
 * SQLite in a temporary data dir) is killed with SIGKILL during a burst of moves, restarted, and
 * every player reconnects. Each must receive exactly the events it had not seen, see the same
 * cards, chips and phase as after the last durable move, and all must have resumed within 2 s of
 * the restart.
 */
import { describe, expect, it } from 'vitest';
import { createTable } from '../../examples/card-game/client.js';
import type { PlayerView, PublicTable } from '../../examples/card-game/poker.js';
import {
  cardGameServers,
  expectAcksInLog,
  expectOneLog,
  freePort,
  killMidBurst,
  playOn,
  publicPart,
  reconnectAll,
  startPlaying,
  stopClients,
  stopServer,
} from './card-game-fixture.js';

const servers = cardGameServers('savepoint-card-game-');
const startServer = (port: number) => servers.start(port, ['--data-dir', servers.dataDir]);

describe('the card game survives kill -9', () => {
  it('every client resumes within 2 s with exactly the events it missed and the same table', async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const players = ['ann', 'ben', 'cat', 'dan'];
    let server = await startServer(port);

    const tokens = await createTable(base, 'table-1', players);
    const clients = await startPlaying({ urls: base, tableId: 'table-1', players, tokens, seed: 7 });

    // Kill the server in the middle of a burst of moves.
    await killMidBurst(server, clients);
    const before = clients.map((client) => ({
      seen: client.lastSeq,
      cards: new Map(client.cardsByHand),
      acks: [...client.acks],
    }));
    const lastAck = Math.max(...before.flatMap((b) => b.acks.map((ack) => ack.seq)));

    // Restart, and let every client retry its reconnect until the server answers.
    const restartedAt = performance.now();
    const restarting = startServer(port);
    const resumedAt = await reconnectAll(clients);
    server = await restarting;
    const resumeMs = Math.max(...resumedAt) - restartedAt;
    const inFlight = clients.reduce((sum, client) => sum + client.unacknowledged.length, 0);
    console.log(
      `restart -> last client resumed: ${resumeMs.toFixed(0)} ms (${clients.length} clients; ${lastAck} events ` +
        `acknowledged before the kill, ${clients[0]?.lastSeq ?? 0} durable, ${inFlight} moves in flight)`,
    );
    expect(resumeMs).toBeLessThan(2000);

    // Every client has every event exactly once, in order, and all agree on them.
    const head = clients[0]?.lastSeq ?? 0;
    expect(head).toBeGreaterThanOrEqual(lastAck);
    const events = expectOneLog(clients, head, (_client, index) => {
      expect(before[index]?.seen).toBeLessThanOrEqual(head);
    });

    // Every acknowledged move is in the log, at its seq, with the table it answered.
    expectAcksInLog(
      clients,
      before.map((b) => b.acks),
      events,
    );

    // The restored table is the table after the last durable move: cards, chips, pot and phase.
    const lastTable = events[head - 1]?.data.table as PublicTable;
    for (const [index, client] of clients.entries()) {
      const view = client.table as PlayerView;
      expect(publicPart(view)).toEqual(lastTable);
      const cardsBefore = before[index]?.cards.get(view.hand);
      if (cardsBefore !== undefined) expect(view.yourCards).toEqual(cardsBefore);
      if (head === lastAck) {
        const newest = before.flatMap((b) => b.acks).find((ack) => ack.seq === lastAck);
        expect(publicPart(view)).toEqual(publicPart(newest?.view as PlayerView));
      }
    }
    const chips = Object.values(lastTable.chips).reduce((sum, value) => sum + value, 0);
    expect(chips + lastTable.pot).toBe(players.length * 100);

    // And the game goes on from there.
    await playOn(clients, 8, '8 more moves after the restart');
    stopClients(clients);
    await stopServer(server);
  });
});
