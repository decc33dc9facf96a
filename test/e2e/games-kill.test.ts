/**
 * Seed 003's critical test, with real processes: the example poker server (Savepoint embedded,
 * SQLite in a temporary data dir) is killed with SIGKILL during a burst of moves, restarted, and
 * every player reconnects. Each must receive exactly the events it had not seen, see the same
 * cards, chips and phase as after the last durable move, and all must have resumed within 2 s of
 * the restart.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CardClient, createTable, type SeenEvent } from '../../examples/card-game/client.js';
import type { PlayerView, PublicTable } from '../../examples/card-game/poker.js';

const root = path.resolve(import.meta.dirname, '../..');
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'savepoint-card-game-'));
const children = new Set<ChildProcess>();

afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
  fs.rmSync(dataDir, { recursive: true, force: true });
});

async function freePort(): Promise<number> {
  const probe = net.createServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address() as net.AddressInfo;
  probe.close();
  await once(probe, 'close');
  return port;
}

/** Starts the example server and resolves once it prints its address. */
async function startServer(port: number): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'examples/card-game/server.ts', '--port', String(port), '--data-dir', dataDir],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  children.add(child);
  child.once('exit', () => children.delete(child));
  let output = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('listening on')) resolve();
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.once('exit', (code) => reject(new Error(`server exited (${code}) before listening:\n${output}`)));
  });
  return child;
}

async function until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** A small deterministic random source, so a failing run can be replayed. */
function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

const publicPart = (view: PublicTable): PublicTable => {
  const { yourCards: _cards, ...rest } = view as PlayerView;
  return rest;
};

describe('the card game survives kill -9', () => {
  it('every client resumes within 2 s with exactly the events it missed and the same table', async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const players = ['ann', 'ben', 'cat', 'dan'];
    let server = await startServer(port);

    const tokens = await createTable(base, 'table-1', players);
    const clients = players.map(
      (player, index) =>
        new CardClient(base, 'table-1', player, tokens[player] as string, { random: seeded(index + 7) }),
    );
    for (const client of clients) {
      await client.refreshView();
      await client.play();
    }

    // Kill the server in the middle of a burst of moves.
    const acked = () => clients.reduce((sum, client) => sum + client.acks.length, 0);
    await until(() => acked() >= 24, 15_000, '24 acknowledged moves');
    server.kill('SIGKILL');
    await once(server, 'exit');
    await until(() => clients.every((client) => !client.connected), 5_000, 'clients to notice');
    const before = clients.map((client) => ({
      seen: client.lastSeq,
      cards: new Map(client.cardsByHand),
      acks: [...client.acks],
    }));
    const lastAck = Math.max(...before.flatMap((b) => b.acks.map((ack) => ack.seq)));

    // Restart, and let every client retry its reconnect until the server answers.
    const restartedAt = performance.now();
    const restarting = startServer(port);
    const resumedAt = await Promise.all(
      clients.map(async (client) => {
        for (;;) {
          if ((await client.reconnect().catch(() => 0)) === 200) return performance.now();
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
      }),
    );
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
    const log = (events: readonly SeenEvent[]) => events.map((event) => JSON.stringify(event));
    for (const [index, client] of clients.entries()) {
      expect(client.problems).toEqual([]);
      expect(client.events.map((event) => event.seq)).toEqual(Array.from({ length: head }, (_, i) => i + 1));
      expect(log(client.events)).toEqual(log(clients[0]?.events ?? []));
      expect(before[index]?.seen).toBeLessThanOrEqual(head);
    }
    const events = clients[0]?.events ?? [];

    // Every acknowledged move is in the log, at its seq, with the table it answered.
    for (const [index, client] of clients.entries()) {
      for (const ack of before[index]?.acks ?? []) {
        const moveEnd = events[ack.seq - 1];
        expect(moveEnd?.data.table).toEqual(publicPart(ack.view));
        const move = events.slice(0, ack.seq).findLast((event) => event.type === 'action');
        expect(move?.data).toMatchObject({ player: client.playerId, action: ack.action });
      }
    }

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
    for (const client of clients) await client.play();
    const resumedAcks = acked();
    await until(() => acked() >= resumedAcks + 8, 15_000, '8 more moves after the restart');
    for (const client of clients) {
      client.stop();
      expect(client.problems).toEqual([]);
      expect(client.events.map((event) => event.seq)).toEqual(
        Array.from({ length: client.events.length }, (_, i) => i + 1),
      );
    }
    server.kill('SIGTERM');
    await once(server, 'exit');
  });
});
