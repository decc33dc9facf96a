/**
 * Shared set-up for the card-game end-to-end tests (games-kill, games-takeover): the example poker
 * server (examples/card-game/server.ts, run with tsx) as real processes, and its players as
 * `CardClient`s playing on their own.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect } from 'vitest';
import { type Ack, CardClient, type SeenEvent } from '../../examples/card-game/client.js';
import type { PlayerView, PublicTable } from '../../examples/card-game/poker.js';

const root = path.resolve(import.meta.dirname, '../..');

export interface CardGameServers {
  /** A temporary directory for the servers' data. */
  readonly dataDir: string;
  /** Starts `server.ts --port <port> ...args`; resolves once it prints its address. */
  start(port: number, args: readonly string[]): Promise<ChildProcess>;
}

/**
 * The example servers of one test file. Call it at the top of the file: after the file's tests it
 * kills every server still running and removes the data directory.
 */
export function cardGameServers(tempPrefix: string): CardGameServers {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), tempPrefix));
  const children = new Set<ChildProcess>();
  afterAll(() => {
    for (const child of children) child.kill('SIGKILL');
    fs.rmSync(dataDir, { recursive: true, force: true });
  });
  return {
    dataDir,
    async start(port, args) {
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', 'examples/card-game/server.ts', '--port', String(port), ...args],
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
        child.once('exit', (code) =>
          reject(new Error(`server exited (${code}) before listening:\n${output}`)),
        );
      });
      return child;
    },
  };
}

/** A TCP port nothing listens on now. */
export async function freePort(): Promise<number> {
  const probe = net.createServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address() as net.AddressInfo;
  probe.close();
  await once(probe, 'close');
  return port;
}

export async function until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** A small deterministic random source, so a failing run can be replayed. */
export function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

/** A player's view without its hole cards: what every player sees alike. */
export const publicPart = (view: PublicTable): PublicTable => {
  const { yourCards: _cards, ...rest } = view as PlayerView;
  return rest;
};

export interface Seating {
  /** One server, or several to fail over between. */
  readonly urls: string | readonly string[];
  readonly tableId: string;
  readonly players: readonly string[];
  /** The tokens `createTable` answered. */
  readonly tokens: Record<string, string>;
  /** Player `index` plays with `seeded(seed + index)`. */
  readonly seed: number;
  readonly onFailover?: (player: string, from: string, to: string) => void;
}

/** A client per player, each of which has read its view and started playing. */
export async function startPlaying(seating: Seating): Promise<CardClient[]> {
  const { onFailover } = seating;
  const clients = seating.players.map(
    (player, index) =>
      new CardClient(seating.urls, seating.tableId, player, seating.tokens[player] as string, {
        random: seeded(seating.seed + index),
        ...(onFailover === undefined ? {} : { onFailover: (from, to) => onFailover(player, from, to) }),
      }),
  );
  for (const client of clients) {
    await client.refreshView();
    await client.play();
  }
  return clients;
}

/** Moves acknowledged to all `clients` so far. */
export const acknowledged = (clients: readonly CardClient[]): number =>
  clients.reduce((sum, client) => sum + client.acks.length, 0);

/**
 * Waits for 24 acknowledged moves, kills `server` with SIGKILL in the middle of the burst, and
 * waits until every client noticed. Answers when the kill was sent (`performance.now()`).
 */
export async function killMidBurst(server: ChildProcess, clients: readonly CardClient[]): Promise<number> {
  await until(() => acknowledged(clients) >= 24, 15_000, '24 acknowledged moves');
  const killedAt = performance.now();
  server.kill('SIGKILL');
  await once(server, 'exit');
  await until(() => clients.every((client) => !client.connected), 5_000, 'clients to notice');
  return killedAt;
}

/** Every client retries its reconnect every 10 ms until it is answered 200; answers when each was. */
export function reconnectAll(clients: readonly CardClient[]): Promise<number[]> {
  return Promise.all(
    clients.map(async (client) => {
      for (;;) {
        if ((await client.reconnect().catch(() => 0)) === 200) return performance.now();
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    }),
  );
}

/** Lets every client play on and waits for `moves` more acknowledged moves. */
export async function playOn(clients: readonly CardClient[], moves: number, what: string): Promise<void> {
  for (const client of clients) await client.play();
  const resumedAcks = acknowledged(clients);
  await until(() => acknowledged(clients) >= resumedAcks + moves, 15_000, what);
}

/** The events as JSON text, to compare logs. */
export const logOf = (events: readonly SeenEvent[]): string[] => events.map((event) => JSON.stringify(event));

/**
 * Asserts that every client saw no problem and has every event 1…`head` exactly once, in order, the
 * same as the first client; `also` adds a test's own checks per client. Answers the first client's log.
 */
export function expectOneLog(
  clients: readonly CardClient[],
  head: number,
  also: (client: CardClient, index: number) => void,
): readonly SeenEvent[] {
  for (const [index, client] of clients.entries()) {
    expect(client.problems).toEqual([]);
    expect(client.events.map((event) => event.seq)).toEqual(Array.from({ length: head }, (_, i) => i + 1));
    expect(logOf(client.events)).toEqual(logOf(clients[0]?.events ?? []));
    also(client, index);
  }
  return clients[0]?.events ?? [];
}

/**
 * Asserts that every move acknowledged to `clients[index]` (`acks[index]`) is in `events` at its
 * seq, with the table it answered.
 */
export function expectAcksInLog(
  clients: readonly CardClient[],
  acks: readonly (readonly Ack[])[],
  events: readonly SeenEvent[],
): void {
  for (const [index, client] of clients.entries()) {
    for (const ack of acks[index] ?? []) {
      expect(events[ack.seq - 1]?.data.table).toEqual(publicPart(ack.view));
      const move = events.slice(0, ack.seq).findLast((event) => event.type === 'action');
      expect(move?.data).toMatchObject({ player: client.playerId, action: ack.action });
    }
  }
}

/**
 * Stops every client and asserts that it saw no problem and a log without gaps from seq 1; `also`
 * adds a test's own checks per client.
 */
export function stopClients(
  clients: readonly CardClient[],
  also: (client: CardClient) => void = () => {},
): void {
  for (const client of clients) {
    client.stop();
    expect(client.problems).toEqual([]);
    also(client);
    expect(client.events.map((event) => event.seq)).toEqual(
      Array.from({ length: client.events.length }, (_, i) => i + 1),
    );
  }
}

/** SIGTERM, and resolves once it exited. */
export async function stopServer(server: ChildProcess): Promise<void> {
  server.kill('SIGTERM');
  await once(server, 'exit');
}
