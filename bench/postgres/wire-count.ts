/**
 * A loopback TCP proxy in front of PostgreSQL that counts, per client, what a client library sends:
 * statements (Execute and simple Query messages of the frontend protocol) and round trips (each
 * time the client sends after the server has answered, or for the first time). A client that
 * pipelines sends its whole batch before reading anything, so a pipeline counts as one round trip
 * however many TCP writes carry it.
 *
 * It sees only the bytes, so it counts the same way for any client (postgres.js, pg/Sequelize).
 * Answers reach the client `answerDelayMs` late: a client that does not wait sends a whole
 * pipeline well within that time, even when it flushes it in several writes (postgres.js writes
 * each 1 KB at once and the rest on the next tick), so those writes are not mistaken for round
 * trips by a quick server. Count with the delay, time without the proxy.
 * TLS is not supported: the proxy answers a client's SSLRequest with `N` (plain connection).
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

export interface WireCounts {
  /** Execute ('E') plus simple Query ('Q') messages. */
  readonly statements: number;
  /** Client sends that followed a server answer (or opened the conversation). */
  readonly roundTrips: number;
}

/** Frontend message types that run a statement. */
const EXECUTE = 0x45; // 'E'
const QUERY = 0x51; // 'Q'
/** The SSLRequest code in a startup-phase message. */
const SSL_REQUEST = 80877103;

class ConnectionCounter {
  statements = 0;
  roundTrips = 0;
  #awaitingAnswer = false;
  #startup = true;
  #pending: Buffer = Buffer.alloc(0);

  /** Bytes the client sent; `answerSsl` is called when it asked for TLS. */
  fromClient(chunk: Buffer, answerSsl: () => void): Buffer | undefined {
    if (!this.#awaitingAnswer) {
      this.roundTrips++;
      this.#awaitingAnswer = true;
    }
    this.#pending = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    let forward: Buffer[] = [];
    for (;;) {
      const buffer = this.#pending;
      if (this.#startup) {
        // Startup-phase messages have no type byte: int32 length, int32 code, ...
        if (buffer.length < 8) break;
        const length = buffer.readInt32BE(0);
        if (buffer.length < length) break;
        const message = buffer.subarray(0, length);
        this.#pending = buffer.subarray(length);
        if (message.readInt32BE(4) === SSL_REQUEST) {
          answerSsl();
          continue;
        }
        this.#startup = false;
        forward.push(message);
        continue;
      }
      if (buffer.length < 5) break;
      const length = buffer.readInt32BE(1) + 1;
      if (buffer.length < length) break;
      const type = buffer[0];
      if (type === EXECUTE || type === QUERY) this.statements++;
      forward.push(buffer.subarray(0, length));
      this.#pending = buffer.subarray(length);
    }
    if (forward.length === 0) return undefined;
    const out = forward.length === 1 ? (forward[0] as Buffer) : Buffer.concat(forward);
    forward = [];
    return out;
  }

  fromServer(): void {
    this.#awaitingAnswer = false;
  }
}

/** The proxy: `url` points clients at it; `snapshot()` and `since()` read the totals. */
export class WireCounter {
  readonly #server: Server;
  readonly #connections = new Set<ConnectionCounter>();
  readonly #sockets = new Set<Socket>();
  #closedStatements = 0;
  #closedRoundTrips = 0;
  readonly port: number;

  private constructor(server: Server, port: number) {
    this.#server = server;
    this.port = port;
  }

  /** Starts a proxy on an ephemeral loopback port forwarding to `target`. */
  static async start(
    target: { readonly host: string; readonly port: number },
    answerDelayMs = 5,
  ): Promise<WireCounter> {
    let counter: WireCounter | undefined;
    const server = createServer((client) => {
      const self = counter as WireCounter;
      const upstream = connect(target.port, target.host);
      const counts = new ConnectionCounter();
      self.#connections.add(counts);
      self.#sockets.add(client);
      self.#sockets.add(upstream);
      client.setNoDelay(true);
      upstream.setNoDelay(true);
      client.on('data', (chunk: Buffer) => {
        const out = counts.fromClient(chunk, () => client.write('N'));
        if (out !== undefined) upstream.write(out);
      });
      upstream.on('data', (chunk: Buffer) => {
        // Timers of one duration fire in the order they were set, so the answer stays in order.
        setTimeout(() => {
          counts.fromServer();
          if (!client.destroyed) client.write(chunk);
        }, answerDelayMs);
      });
      const end = () => {
        if (self.#connections.delete(counts)) {
          self.#closedStatements += counts.statements;
          self.#closedRoundTrips += counts.roundTrips;
        }
        client.destroy();
        upstream.destroy();
        self.#sockets.delete(client);
        self.#sockets.delete(upstream);
      };
      client.on('close', end);
      upstream.on('close', end);
      client.on('error', end);
      upstream.on('error', end);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('The proxy has no TCP port');
    counter = new WireCounter(server, address.port);
    return counter;
  }

  /** `url` (a postgres:// URL) with its host and port replaced by the proxy's. */
  urlFor(url: string): string {
    const parsed = new URL(url);
    parsed.hostname = '127.0.0.1';
    parsed.port = String(this.port);
    return parsed.toString();
  }

  /** The totals so far, over every connection (open or closed). */
  snapshot(): WireCounts {
    let statements = this.#closedStatements;
    let roundTrips = this.#closedRoundTrips;
    for (const counts of this.#connections) {
      statements += counts.statements;
      roundTrips += counts.roundTrips;
    }
    return { statements, roundTrips };
  }

  /** What was counted since `before` (a {@link snapshot}). */
  since(before: WireCounts): WireCounts {
    const now = this.snapshot();
    return { statements: now.statements - before.statements, roundTrips: now.roundTrips - before.roundTrips };
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
