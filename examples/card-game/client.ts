/**
 * A scripted poker player for the example server, and a demo that seats a table of them.
 *
 *   node --import tsx examples/card-game/client.ts [--url http://127.0.0.1:8790[,http://127.0.0.1:8791]]
 *       [--table demo] [--players alice,bob,carol] [--actions 200]
 *
 * Each player follows the table through server-sent events, acts when it is its turn, and when
 * the server goes away (kill -9 it), keeps retrying a reconnect with its token and `lastEventSeq`,
 * then carries on from the events it missed. It checks that every event arrives exactly once, in order.
 * Given several server URLs, a player moves on to the next one whenever a request cannot reach its
 * server (connection refused or reset) or the server says another one owns the table.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { parseArgs } from 'node:util';
import type { Action, PlayerView, PublicTable } from './poker.js';

/** An event as a player saw it. */
export interface SeenEvent {
  readonly seq: number;
  readonly type: string;
  readonly data: Record<string, unknown>;
}

/** A move the server acknowledged (durably written), with the table it answered. */
export interface Ack {
  readonly seq: number;
  readonly action: Action;
  readonly view: PlayerView;
}

export interface CardClientOptions {
  /** Stop acting after this many moves. Default: no limit. */
  readonly maxActions?: number;
  /** Random source for the strategy; default `Math.random`. */
  readonly random?: () => number;
  /** Called for every event, for logging. */
  readonly onEvent?: (event: SeenEvent) => void;
  /** Called when the player moves on to another server. */
  readonly onFailover?: (from: string, to: string) => void;
}

interface Answer {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

async function call(url: string, init: { method?: string; body?: unknown } = {}): Promise<Answer> {
  const response = await fetch(url, {
    method: init.method ?? 'GET',
    headers: { 'content-type': 'application/json' },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** The server answered that another server owns the table. */
function ownedElsewhere(answer: Answer): boolean {
  return answer.status === 409 && answer.body.code === 'TABLE_OWNED_ELSEWHERE';
}

export class CardClient {
  /** The servers this player may use, in order of preference. */
  readonly urls: readonly string[];
  readonly tableId: string;
  readonly playerId: string;
  token: string;
  /** Every event seen, in order; a gap or a duplicate is recorded in {@link problems}. */
  readonly events: SeenEvent[] = [];
  readonly acks: Ack[] = [];
  /** Moves sent when the connection died, whose outcome is unknown. */
  readonly unacknowledged: Action[] = [];
  readonly problems: string[] = [];
  /** This player's hole cards, by hand number. */
  readonly cardsByHand = new Map<number, string[]>();
  table: PublicTable | undefined;
  connected = false;
  /**
   * The seq of the event {@link table} reflects. A view or move answer can arrive after newer
   * events (its request raced the stream); applying it would put an older table back, and a player
   * waiting for a turn the stale table says is someone else's would wait forever.
   */
  #tableSeq = 0;
  readonly #options: CardClientOptions;
  #stream: IncomingMessage | undefined;
  #acting = false;
  #active = false;
  #server = 0;

  /** `baseUrl`: one server, or several to fail over between. */
  constructor(
    baseUrl: string | readonly string[],
    tableId: string,
    playerId: string,
    token: string,
    options: CardClientOptions = {},
  ) {
    this.urls = typeof baseUrl === 'string' ? [baseUrl] : [...baseUrl];
    if (this.urls.length === 0) throw new Error('CardClient needs at least one server URL');
    this.tableId = tableId;
    this.playerId = playerId;
    this.token = token;
    this.#options = options;
  }

  get lastSeq(): number {
    return this.events.at(-1)?.seq ?? 0;
  }

  /** The server this player talks to now. */
  get baseUrl(): string {
    return this.urls[this.#server] as string;
  }

  /**
   * Moves on to the next server after `failed` could not serve us. Several requests may fail at
   * once (a stream and a move); only the first moves us, the others see we left `failed` already.
   */
  #failOver(failed: string): void {
    if (this.baseUrl !== failed || this.urls.length < 2) return;
    this.#server = (this.#server + 1) % this.urls.length;
    this.#options.onFailover?.(failed, this.baseUrl);
  }

  /** A request to the current server; a connection error or a redirect-ish 409 fails over. */
  async #call(path: string, init: { method?: string; body?: unknown } = {}): Promise<Answer> {
    const base = this.baseUrl;
    let answer: Answer;
    try {
      answer = await call(`${base}${path}`, init);
    } catch (error) {
      this.#failOver(base);
      throw error;
    }
    if (ownedElsewhere(answer)) this.#failOver(base);
    return answer;
  }

  /** Reads the table and this player's cards (with the current token). */
  async refreshView(): Promise<void> {
    const query = `playerId=${encodeURIComponent(this.playerId)}&token=${encodeURIComponent(this.token)}`;
    const answer = await this.#call(`/tables/${this.tableId}/view?${query}`);
    if (answer.status !== 200) throw new Error(`view: ${answer.status} ${JSON.stringify(answer.body)}`);
    this.#see(answer.body.view as PlayerView, answer.body.lastSeq as number);
  }

  /** Opens the event stream from the last seq seen and starts playing. Resolves once connected. */
  async play(): Promise<void> {
    this.#active = true;
    const query = `playerId=${encodeURIComponent(this.playerId)}&token=${encodeURIComponent(this.token)}`;
    const base = this.baseUrl;
    const url = new URL(`${base}/tables/${this.tableId}/events?${query}`);
    const response = await new Promise<IncomingMessage>((resolve, reject) => {
      httpRequest(url, { agent: false, headers: { 'last-event-id': String(this.lastSeq) } }, resolve)
        .on('error', (error) => {
          this.#failOver(base);
          reject(error);
        })
        .end();
    });
    if (response.statusCode !== 200) {
      // 409 TABLE_OWNED_ELSEWHERE: another server owns the table.
      if (response.statusCode === 409) this.#failOver(base);
      response.resume();
      throw new Error(`events: ${response.statusCode}`);
    }
    this.#stream = response;
    this.connected = true;
    let buffer = '';
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => {
      buffer += chunk;
      for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
        const frame = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const fields = new Map<string, string>();
        for (const line of frame.split('\n')) {
          if (line.startsWith(':')) continue;
          const colon = line.indexOf(':');
          fields.set(line.slice(0, colon), line.slice(colon + 2));
        }
        const id = fields.get('id');
        if (id === undefined) continue;
        const data = JSON.parse(fields.get('data') ?? '{}') as Record<string, unknown>;
        this.#receive({ seq: Number(id), type: fields.get('event') ?? 'message', data });
      }
    });
    const lost = (): void => {
      this.connected = false;
    };
    response.on('close', lost);
    response.on('error', lost);
    this.#maybeAct();
  }

  /** Stops playing and closes the stream. */
  stop(): void {
    this.#active = false;
    this.#stream?.destroy();
    this.connected = false;
  }

  /**
   * Reclaims the seat: sends the token and the last seq seen, takes the rotated token, and appends
   * the missed events. Answers the server's status (200 on success).
   */
  async reconnect(): Promise<number> {
    const answer = await this.#call(`/tables/${this.tableId}/reconnect`, {
      method: 'POST',
      body: { playerId: this.playerId, token: this.token, lastEventSeq: this.lastSeq },
    });
    if (answer.status !== 200) return answer.status;
    this.token = answer.body.token as string;
    for (const event of answer.body.missedEvents as Array<SeenEvent & { at: string }>) {
      this.#receive({ seq: event.seq, type: event.type, data: event.data });
    }
    if (this.lastSeq !== answer.body.lastSeq)
      this.problems.push(
        `after reconnect at seq ${this.lastSeq}, the server is at ${String(answer.body.lastSeq)}`,
      );
    this.#see(answer.body.view as PlayerView, answer.body.lastSeq as number);
    return 200;
  }

  /** Takes `view`, the table as of event `seq`, unless the table already reflects a later event. */
  #see(view: PlayerView, seq: number): void {
    if (view.yourCards.length > 0) this.cardsByHand.set(view.hand, view.yourCards);
    if (seq < this.#tableSeq) return;
    this.table = view;
    this.#tableSeq = seq;
    this.#maybeAct();
  }

  #receive(event: SeenEvent): void {
    if (event.seq <= this.lastSeq) {
      this.problems.push(`duplicate event ${event.seq}`);
      return;
    }
    if (event.seq !== this.lastSeq + 1) this.problems.push(`gap: event ${event.seq} after ${this.lastSeq}`);
    this.events.push(event);
    this.#options.onEvent?.(event);
    const table = event.data.table as PublicTable | undefined;
    // A move answer may have brought a later table already.
    if (table !== undefined && event.seq >= this.#tableSeq) {
      this.table = table;
      this.#tableSeq = event.seq;
      // A new hand dealt new cards; the view has them.
      if (
        event.type === 'hand-won' ||
        (this.cardsByHand.get(table.hand) === undefined && table.phase !== 'finished')
      )
        void this.refreshView().catch(() => undefined);
    }
    this.#maybeAct();
  }

  #maybeAct(): void {
    const table = this.table;
    if (
      !this.#active ||
      this.#acting ||
      !this.connected ||
      table === undefined ||
      table.toAct !== this.playerId
    )
      return;
    if (this.acks.length >= (this.#options.maxActions ?? Number.POSITIVE_INFINITY)) return;
    const action = this.#choose(table);
    this.#acting = true;
    this.#call(`/tables/${this.tableId}/act`, {
      method: 'POST',
      body: { playerId: this.playerId, token: this.token, action },
    }).then(
      (answer) => {
        this.#acting = false;
        if (answer.status === 200) {
          const view = answer.body.view as PlayerView;
          const seq = answer.body.seq as number;
          this.acks.push({ seq, action, view });
          // The answer may overtake the stream, or trail it; the newer of the two says whose turn it is.
          this.#see(view, seq);
        }
        // 409 ILLEGAL_MOVE: the table moved on meanwhile; the stream will say what happened.
        this.#maybeAct();
      },
      () => {
        this.#acting = false;
        this.unacknowledged.push(action);
      },
    );
  }

  #choose(table: PublicTable): Action {
    const random = this.#options.random ?? Math.random;
    const owed = table.bet - (table.committed[this.playerId] ?? 0);
    if (owed > 0) return random() < 0.85 ? 'call' : 'fold';
    return random() < 0.7 ? 'check' : 'bet';
  }
}

/** Creates a table on the first server that answers, and answers each player's token. */
export async function createTable(
  baseUrl: string | readonly string[],
  tableId: string,
  players: readonly string[],
): Promise<Record<string, string>> {
  const urls = typeof baseUrl === 'string' ? [baseUrl] : baseUrl;
  let answer: Answer | undefined;
  let failure: unknown;
  for (const url of urls) {
    try {
      answer = await call(`${url}/tables`, { method: 'POST', body: { tableId, players } });
      break;
    } catch (error) {
      failure = error;
    }
  }
  if (answer === undefined) throw failure;
  if (answer.status !== 201) throw new Error(`create table: ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body.tokens as Record<string, string>;
}

export interface DemoOptions {
  /** One server, or several to fail over between. */
  readonly urls: readonly string[];
  readonly tableId: string;
  readonly players: readonly string[];
  /** A player stops after this many moves, which ends the demo if no one has won by then. */
  readonly actions: number;
  /** Where the demo narrates; default `console.log`. */
  readonly log?: (line: string) => void;
  /** The strategy's random source for player `index`; default `Math.random`. */
  readonly random?: (index: number) => () => number;
  /** Stops the players and rejects with the signal's reason. */
  readonly signal?: AbortSignal;
}

export interface DemoResult {
  /** The player holding every chip, or `null` when the demo stopped at its move limit. */
  readonly winner: string | null;
  readonly clients: readonly CardClient[];
}

/**
 * Seats a table of scripted players and lets them play until someone holds every chip or a player
 * has made `actions` moves. A player whose server went away reconnects (with its token and the
 * last seq it saw) and plays on, so the demo survives a kill -9 of the server.
 */
export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const { urls, tableId, players, actions } = options;
  const log = options.log ?? ((line: string) => console.log(line));
  const tokens = await createTable(urls, tableId, players);
  log(`table ${tableId} seated ${players.join(', ')}`);
  const clients = players.map(
    (player, index) =>
      new CardClient(urls, tableId, player, tokens[player] as string, {
        maxActions: actions,
        ...(options.random === undefined ? {} : { random: options.random(index) }),
        onFailover: (from, to) => log(`${player}: ${from} did not answer, trying ${to}`),
        onEvent: (event) => {
          if (player !== players[0]) return;
          const table = event.data.table as PublicTable | undefined;
          const summary = table === undefined ? '' : ` pot=${table.pot} chips=${JSON.stringify(table.chips)}`;
          log(`#${event.seq} ${event.type} ${JSON.stringify({ ...event.data, table: undefined })}${summary}`);
        },
      }),
  );
  for (const client of clients) {
    await client.refreshView();
    await client.play();
  }
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    if (options.signal?.aborted === true) {
      for (const client of clients) client.stop();
      throw options.signal.reason;
    }
    if (clients.some((client) => client.table?.phase === 'finished')) break;
    // A player who has made its moves sits out, which stalls the table: the demo is over.
    if (clients.some((client) => client.acks.length >= actions)) break;
    for (const client of clients) {
      if (client.connected) continue;
      const status = await client.reconnect().catch(() => 0);
      if (status !== 200) continue;
      log(`${client.playerId} reconnected to ${client.baseUrl} at seq ${client.lastSeq}`);
      await client.play().catch(() => undefined);
    }
  }
  for (const client of clients) {
    client.stop();
    const verdict = client.problems.length === 0 ? 'no gaps, no duplicates' : client.problems.join('; ');
    log(`${client.playerId}: ${client.events.length} events, ${client.acks.length} moves, ${verdict}`);
  }
  // Whoever saw the last hand end knows the winner; the others may not have heard its event yet.
  const winner = clients.find((client) => client.table?.phase === 'finished')?.table?.winner ?? null;
  log(`winner: ${winner ?? 'none'}`);
  return { winner, clients };
}

const USAGE = `usage: node --import tsx examples/card-game/client.ts [options]

Seats a table of scripted players on the example server and plays until someone wins.

  --url URL[,URL...]   the server, or several to fail over between (default http://127.0.0.1:8790)
  --table ID           the table to create (default demo-<time>)
  --players A,B,...    the players (default alice,bob,carol)
  --actions N          a player stops after N moves (default 200)
  -h, --help           this text`;

async function demo(): Promise<void> {
  let values: { url: string; table: string; players: string; actions: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      options: {
        url: { type: 'string', default: 'http://127.0.0.1:8790' },
        table: { type: 'string', default: `demo-${Date.now().toString(36)}` },
        players: { type: 'string', default: 'alice,bob,carol' },
        actions: { type: 'string', default: '200' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    console.error(`error: ${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
    process.exit(2);
  }
  if (values.help === true) {
    console.log(USAGE);
    return;
  }
  const actions = Number(values.actions);
  if (!Number.isInteger(actions) || actions < 1) {
    console.error(`error: --actions expects a positive integer, not "${values.actions}"`);
    process.exit(2);
  }
  try {
    await runDemo({
      urls: values.url.split(','),
      tableId: values.table,
      players: values.players.split(','),
      actions,
    });
  } catch (error) {
    console.error(
      `error: ${error instanceof Error ? error.message : String(error)} (is the example server running at ${values.url}?)`,
    );
    process.exit(1);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await demo();
