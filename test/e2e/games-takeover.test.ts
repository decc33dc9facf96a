/**
 * A table taken over by another game server, with real processes: two example poker servers, A and B, share one SQLite file.
 * Each table is owned through the lease `game:{tableId}`. Players play through A; A is killed with
 * SIGKILL mid-hand; the players' requests to A fail, they move on to B, and B takes the table over
 * as soon as A's lease has run out. Every player must resume on B with exactly the events it missed,
 * the table must be the one after the last durable move, and play must go on on B.
 *
 * A second, in-process case checks the fence: an owner that was paused (it never noticed its lease
 * ran out) and writes after another server took the table over is refused, and drops the table.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createTable, type SeenEvent } from '../../examples/card-game/client.js';
import type { PlayerView, PublicTable } from '../../examples/card-game/poker.js';
import { type LeaseSource, TableHost, TableOwnedElsewhere } from '../../examples/card-game/tables.js';
import { openSavepoint, type SavepointError } from '../../src/index.js';
import {
  cardGameServers,
  expectAcksInLog,
  expectOneLog,
  freePort,
  killMidBurst,
  logOf,
  playOn,
  publicPart,
  reconnectAll,
  startPlaying,
  stopClients,
  stopServer,
} from './card-game-fixture.js';

/** The servers' lease TTL (the example's default), and how much later than it B may own the table. */
const LEASE_TTL_MS = 3000;
const TAKEOVER_MARGIN_MS = 1500;

const servers = cardGameServers('savepoint-card-takeover-');
const database = `sqlite:${path.join(servers.dataDir, 'card-game.db')}`;

/** Starts the example server as `serverId` on the shared file; resolves once it prints its address. */
const startServer = (port: number, serverId: string) =>
  servers.start(port, [
    '--database',
    database,
    '--server-id',
    serverId,
    '--lease-ttl-ms',
    String(LEASE_TTL_MS),
  ]);

interface OwnerAnswer {
  readonly holder: string;
  readonly fence: number;
  readonly expiresAt: string;
}

async function ownerOf(base: string, tableId: string): Promise<OwnerAnswer | undefined> {
  const response = await fetch(`${base}/tables/${tableId}/owner`);
  const body = (await response.json()) as OwnerAnswer;
  return response.status === 200 ? body : undefined;
}

describe('two card-game servers on one store', () => {
  it('B takes a table over within the lease TTL after A is killed, and the players resume on B', async () => {
    const [portA, portB] = [await freePort(), await freePort()];
    const urlA = `http://127.0.0.1:${portA}`;
    const urlB = `http://127.0.0.1:${portB}`;
    // One after the other: the second opens the file while the first is idle.
    const serverA = await startServer(portA, 'A');
    const serverB = await startServer(portB, 'B');

    const players = ['ann', 'ben', 'cat', 'dan'];
    const tokens = await createTable([urlA, urlB], 'table-1', players);
    const ownerBefore = await ownerOf(urlB, 'table-1');
    expect(ownerBefore?.holder).toBe('A');

    const failovers: string[] = [];
    const clients = await startPlaying({
      urls: [urlA, urlB],
      tableId: 'table-1',
      players,
      tokens,
      seed: 11,
      onFailover: (player, from, to) => failovers.push(`${player}: ${from} -> ${to}`),
    });

    // Kill A in the middle of a burst of moves (a hand is always under way: the next one is dealt
    // as soon as one ends).
    const killedAt = await killMidBurst(serverA, clients);
    const before = clients.map((client) => ({
      events: client.events.map((event) => JSON.stringify(event)),
      cards: new Map(client.cardsByHand),
      acks: [...client.acks],
    }));
    const lastAck = Math.max(...before.flatMap((b) => b.acks.map((ack) => ack.seq)));
    const phaseAtKill = clients[0]?.table?.phase;

    // Watch the lease from B while the players retry: A refuses connections, so each moves on to B,
    // whose first reconnect waits for A's lease to run out, then takes the table over.
    let ownedAt: number | undefined;
    const watching = (async () => {
      while (ownedAt === undefined) {
        if ((await ownerOf(urlB, 'table-1').catch(() => undefined))?.holder === 'B')
          ownedAt = performance.now();
        else await new Promise((resolve) => setTimeout(resolve, 10));
        if (performance.now() - killedAt > 15_000) throw new Error('B never owned the table');
      }
    })();
    const resumedAt = await reconnectAll(clients);
    await watching;
    const takeoverMs = (ownedAt as number) - killedAt;
    const resumeMs = Math.max(...resumedAt) - killedAt;
    const inFlight = clients.reduce((sum, client) => sum + client.unacknowledged.length, 0);
    const head = clients[0]?.lastSeq ?? 0;
    console.log(
      `kill -9 A -> B owns the table: ${takeoverMs.toFixed(0)} ms (lease TTL ${LEASE_TTL_MS} ms); ` +
        `last client resumed on B: ${resumeMs.toFixed(0)} ms (${clients.length} clients, killed in ${phaseAtKill}; ` +
        `${lastAck} events acknowledged before the kill, ${head} durable after the take-over, ${inFlight} moves in flight)`,
    );
    expect(takeoverMs).toBeLessThan(LEASE_TTL_MS + TAKEOVER_MARGIN_MS);
    expect(resumeMs).toBeLessThan(LEASE_TTL_MS + TAKEOVER_MARGIN_MS);
    expect(phaseAtKill).toMatch(/^(preflop|flop|turn|river)$/);

    // Everyone is on B now, and B holds the lease with a newer fence.
    for (const client of clients) expect(client.baseUrl).toBe(urlB);
    expect(failovers).toHaveLength(clients.length);
    const ownerAfter = await ownerOf(urlB, 'table-1');
    expect(ownerAfter?.holder).toBe('B');
    expect(ownerAfter?.fence).toBeGreaterThan(ownerBefore?.fence ?? Number.POSITIVE_INFINITY);

    // Every client has every event exactly once, in order: what it had seen, then what it missed.
    expect(head).toBeGreaterThan(lastAck);
    const events = expectOneLog(clients, head, (client, index) => {
      expect(logOf(client.events).slice(0, before[index]?.events.length)).toEqual(before[index]?.events);
    });

    // The log ends with B's claim, carrying B's fence; only moves in flight at the kill may sit
    // between the last acknowledged one and the claim.
    const claim = events[head - 1] as SeenEvent;
    expect(claim.type).toBe('takeover');
    expect(claim.data).toMatchObject({ server: 'B', from: 'A', fence: ownerAfter?.fence });
    expect(events.filter((event) => event.type === 'takeover')).toHaveLength(1);
    const lateMoves = events.slice(lastAck, head - 1).filter((event) => event.type === 'action');
    expect(lateMoves.length).toBeLessThanOrEqual(inFlight);

    // Every acknowledged move is in the log, at its seq, with the table it answered.
    expectAcksInLog(
      clients,
      before.map((b) => b.acks),
      events,
    );

    // B's table is the table after the last durable move: cards, chips, pot and phase; with no
    // move in flight that made it, exactly the one the last acknowledged move answered.
    const takenOver = claim.data.table as PublicTable;
    const durable = events[head - 2]?.data.table as PublicTable | undefined;
    if (durable !== undefined) expect(takenOver).toEqual(durable);
    for (const [index, client] of clients.entries()) {
      const view = client.table as PlayerView;
      expect(publicPart(view)).toEqual(takenOver);
      const cardsBefore = before[index]?.cards.get(view.hand);
      if (cardsBefore !== undefined) expect(view.yourCards).toEqual(cardsBefore);
    }
    if (head - 1 === lastAck) {
      const newest = before.flatMap((b) => b.acks).find((ack) => ack.seq === lastAck);
      expect(takenOver).toEqual(publicPart(newest?.view as PlayerView));
    }
    const chips = Object.values(takenOver.chips).reduce((sum, value) => sum + value, 0);
    expect(chips + takenOver.pot).toBe(players.length * 100);

    // And the game goes on, on B.
    await playOn(clients, 8, '8 more moves on B');
    stopClients(clients, (client) => expect(client.baseUrl).toBe(urlB));
    expect((await ownerOf(urlB, 'table-1'))?.holder).toBe('B');
    await stopServer(serverB);
  }, 30_000);

  it("refuses a paused owner's late write after a take-over, and the stale owner drops the table", async () => {
    const savepoint = await openSavepoint({ url: 'memory:' });
    try {
      const games = savepoint.games;
      // Server A took the lease, then stalled: its renewals never ran and it never heard it lost
      // the lease, so it still believes it owns the table (as after a long GC pause or SIGSTOP).
      const paused: LeaseSource = {
        keepAlive: async (name, options) => {
          const lease = await savepoint.leases.acquire(name, options);
          return {
            current: { ...lease, expiresAt: Number.MAX_SAFE_INTEGER },
            lost: new Promise<SavepointError>(() => undefined),
            release: async () => undefined,
          };
        },
        get: (name) => savepoint.leases.get(name),
      };
      const quiet = () => undefined;
      const a = new TableHost({
        games,
        leases: paused,
        serverId: 'A',
        leaseTtlMs: 100,
        leaseWaitMs: 200,
        log: quiet,
      });
      const b = new TableHost({
        games,
        leases: savepoint.leases,
        serverId: 'B',
        leaseTtlMs: 100,
        log: quiet,
      });

      const { table: atA } = await a.create('t1', ['ann', 'ben']);
      await a.move('t1', atA.state.toAct as string, 'check');
      const fenceA = atA.owner.fence;

      // A's lease runs out; B takes the table over.
      const atB = await b.table('t1');
      expect(atB.owner).toEqual({ server: 'B', fence: fenceA + 1 });
      const headAfterClaim = atB.seq;

      // A wakes up and acts on its stale copy: the store refuses, and A forgets the table.
      await expect(a.move('t1', atA.state.toAct as string, 'check')).rejects.toMatchObject({
        code: 'VERSION_CONFLICT',
      });
      expect(await a.holds('t1')).toBe(false);
      const log = await games.readEvents('t1');
      expect(log.at(-1)).toMatchObject({
        seq: headAfterClaim,
        type: 'takeover',
        data: { server: 'B', from: 'A', fence: fenceA + 1 },
      });
      const stored = await games.restore('t1');
      expect(stored.state.owner).toEqual({ server: 'B', fence: fenceA + 1 });

      // B plays on; A coming back for the table is told B owns it.
      const moved = await b.move('t1', atB.state.toAct as string, 'check');
      expect(moved.seq).toBeGreaterThan(headAfterClaim);
      const refusal = await a.table('t1').catch((error: unknown) => error);
      expect(refusal).toBeInstanceOf(TableOwnedElsewhere);
      expect((refusal as TableOwnedElsewhere).holder).toBe('B');
      expect(await b.holds('t1')).toBe(true);
      await b.close();
    } finally {
      await savepoint.close();
    }
  });
});
