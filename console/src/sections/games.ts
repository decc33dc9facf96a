/**
 * Games: find a game by id or id prefix, then its state, players, events (with a live tail over the
 * event stream) and, on servers that keep game history, its versions.
 */
import { api, seg, withQuery } from '../api.js';
import { field, h } from '../dom.js';
import { tailEvents } from '../event-tail.js';
import { jsonTree } from '../json-tree.js';
import { type Section, type SectionContext, sectionHref } from '../section.js';
import type { DocumentPage, GameEvent, GameRecord, StoredGameValue } from '../types.js';
import {
  type Column,
  compact,
  errorBox,
  facts,
  fill,
  formatTime,
  hasKey,
  keyNeeded,
  notice,
  table,
  tableRow,
} from '../ui.js';
import { historyPane } from './game-history.js';

const LIST_LIMIT = 50;
const EVENTS_SHOWN = 100;

const eventColumns: readonly Column<GameEvent>[] = [
  { title: 'seq', cell: (event) => event.seq, numeric: true },
  { title: 'type', cell: (event) => event.type },
  { title: 'at', cell: (event) => formatTime(event.at) },
  { title: 'data', cell: (event) => compact(event.data) },
];

function gameList(page: DocumentPage<StoredGameValue>, prefix: string): HTMLElement {
  if (page.items.length === 0)
    return h(
      'p',
      { class: 'muted', role: 'status' },
      prefix === '' ? 'No games stored yet.' : `No game id starts with "${prefix}".`,
    );
  return table(
    'Games',
    [
      { title: 'game', cell: (item) => h('a', { href: sectionHref('games', item.key) }, item.key) },
      { title: 'status', cell: (item) => item.value.status },
      { title: 'phase', cell: (item) => item.value.phase ?? '—' },
      { title: 'players', cell: (item) => item.value.players.join(', ') },
      { title: 'last seq', cell: (item) => item.value.lastSeq, numeric: true },
      { title: 'version', cell: (item) => item.version, numeric: true },
      { title: 'updated', cell: (item) => formatTime(item.updatedAt) },
    ],
    page.items,
  );
}

function eventsPane(game: GameRecord, context: SectionContext): HTMLElement {
  const pane = h('section', { 'aria-labelledby': 'events-title' }, h('h3', { id: 'events-title' }, 'Events'));
  const list = h('div');
  const status = h('span', { role: 'status', class: 'muted' });
  // Enabled once the events are listed: the tail starts after the last one shown.
  const tailButton = h('button', { type: 'button', disabled: true }, 'Start live tail');
  pane.append(h('div', { class: 'row' }, tailButton, status), list);
  let lastSeq = 0;
  let rows: HTMLTableSectionElement | undefined;
  let tail: AbortController | undefined;
  context.signal.addEventListener('abort', () => tail?.abort(), { once: true });

  const stopTail = (): void => {
    tail?.abort();
    tail = undefined;
    tailButton.textContent = 'Start live tail';
    status.textContent = 'Live tail stopped.';
  };
  tailButton.addEventListener('click', () => {
    if (tail !== undefined) return stopTail();
    tail = new AbortController();
    const own = tail;
    tailButton.textContent = 'Stop live tail';
    status.textContent = 'Connecting…';
    tailEvents(game.gameId, {
      after: lastSeq,
      signal: own.signal,
      onOpen: () => {
        status.textContent = `Live: new events appear below as they are written.`;
      },
      onEvent: (event) => {
        if (event.seq <= lastSeq || rows === undefined) return;
        lastSeq = event.seq;
        // Stream frames carry no write time; the time of arrival is within moments of it.
        rows.append(tableRow(eventColumns, { ...event, at: new Date().toISOString() }, 'fresh'));
      },
    }).then(
      () => {
        if (!own.signal.aborted && tail === own) stopTail();
      },
      (error: unknown) => {
        if (tail === own) stopTail();
        list.prepend(errorBox(error));
      },
    );
  });

  void fill(list, async () => {
    const after = Math.max(0, game.lastSeq - EVENTS_SHOWN);
    const { events } = await api<{ events: GameEvent[] }>(
      withQuery(`/api/game/${seg(game.gameId)}/events`, { after, limit: EVENTS_SHOWN }),
    );
    lastSeq = events.at(-1)?.seq ?? after;
    const wrap = table('Events', eventColumns, events);
    rows = wrap.querySelector('tbody') ?? undefined;
    tailButton.disabled = false;
    const note =
      after > 0
        ? h('p', { class: 'muted' }, `Showing the last ${events.length} of ${game.lastSeq} events.`)
        : null;
    return [note, wrap];
  });
  return pane;
}

/**
 * Shows one game. A rollback shows it again with `message` on top; each showing has its own signal,
 * so the previous one's live tail stops with it.
 */
async function showGame(
  target: HTMLElement,
  gameId: string,
  context: SectionContext,
  message?: string,
): Promise<void> {
  const shown = new AbortController();
  const stop = (): void => shown.abort();
  context.signal.addEventListener('abort', stop, { once: true });
  const own: SectionContext = { arg: context.arg, signal: shown.signal };
  const again = (text: string): void => {
    shown.abort();
    context.signal.removeEventListener('abort', stop);
    void showGame(target, gameId, context, text);
  };
  await fill(target, async () => {
    const game = await api<GameRecord>(`/api/game/${seg(gameId)}/restore`);
    const players = table(
      'Players',
      [
        { title: 'seat', cell: (row) => row.seat, numeric: true },
        { title: 'player', cell: (row) => row.player },
        { title: 'token expiry', cell: () => h('span', { class: 'muted' }, 'not exposed by the API') },
      ],
      game.players.map((player, index) => ({ seat: index + 1, player })),
    );
    return [
      message === undefined ? null : notice(message),
      h('h3', { id: 'game-title' }, `Game ${game.gameId}`),
      facts([
        ['status', game.status],
        ['phase', game.phase ?? '—'],
        ['version', String(game.version)],
        ['last event seq', String(game.lastSeq)],
        ['persisted at', formatTime(game.persistedAt)],
      ]),
      h('h3', {}, 'Players'),
      game.players.length === 0 ? h('p', { class: 'muted' }, 'No players.') : players,
      h('p', { class: 'muted' }, 'Reconnect tokens are stored only as hashes, so their expiry is not shown.'),
      h('h3', {}, 'State'),
      jsonTree(game.state, 'state'),
      eventsPane(game, own),
      await historyPane(game, again),
    ];
  });
}

export const gamesSection: Section = {
  id: 'games',
  title: 'Games',
  render(root, context) {
    root.append(h('h2', {}, 'Games'));
    if (!hasKey()) {
      root.append(keyNeeded());
      return;
    }
    const query = h('input', {
      type: 'search',
      id: 'game-query',
      spellcheck: 'false',
      value: context.arg ?? '',
    });
    const list = h('div', { id: 'game-list' });
    const detail = h('div', { id: 'game-detail' });
    const search = (prefix: string): void => {
      void fill(list, async () =>
        gameList(
          await api<DocumentPage<StoredGameValue>>(withQuery('/v1/docs/game', { prefix, limit: LIST_LIMIT })),
          prefix,
        ),
      );
    };
    const form = h(
      'form',
      { class: 'row', role: 'search' },
      field('Game id or prefix', query),
      h('button', { type: 'submit', class: 'primary' }, 'Search'),
      h(
        'button',
        {
          type: 'button',
          onclick: () => {
            const id = query.value.trim();
            if (id !== '') location.hash = sectionHref('games', id);
          },
        },
        'Open game',
      ),
    );
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      detail.replaceChildren();
      search(query.value.trim());
    });
    root.append(form, list, detail);
    if (context.arg === undefined) search('');
    else void showGame(detail, context.arg, context);
  },
};
