/**
 * Games → History: a game's retained versions, the game as it was at one of them, and the two
 * actions on the past (docs/time-travel.md): rollback (sent with `expectedVersion`, so a change made
 * meanwhile answers 409 instead of being undone unseen) and fork into a new game.
 */
import { ApiError, api, seg, serverHasPath, withQuery } from '../api.js';
import { field, h } from '../dom.js';
import { jsonTree } from '../json-tree.js';
import { sectionHref } from '../section.js';
import type { ForkAnswer, GameHistory, GameRecord, GameVersion, RollbackAnswer } from '../types.js';
import { confirmDialog, errorBox, facts, fill, formatTime, notice, table, unavailable } from '../ui.js';

const PAGE_SIZE = 20;

/** What the pane reports back: after a rollback the game is shown again, with `message` on top. */
export type GameChanged = (message: string) => void;

export async function historyPane(game: GameRecord, onRolledBack: GameChanged): Promise<HTMLElement> {
  const pane = h(
    'section',
    { 'aria-labelledby': 'history-title', id: 'game-history' },
    h('h3', { id: 'history-title' }, 'History'),
  );
  // Probed in the API description rather than by calling it: an older server's 404 would be logged
  // by the browser as an error.
  if (!(await serverHasPath('/api/game/{gameId}/history'))) {
    pane.append(unavailable('Game history, rollback and fork'));
    return pane;
  }
  const result = h('div', { id: 'history-result' });
  const list = h('div', { id: 'history-list' });
  const view = h('div', { id: 'history-view' });
  pane.append(result, list, view);

  const show = (entry: GameVersion): void => {
    void fill(view, () => versionView(game, entry, result, onRolledBack));
    view.scrollIntoView({ block: 'nearest' });
  };
  const loadPage = async (before: number | undefined, rows: GameVersion[]): Promise<HTMLElement[]> => {
    const page = await api<GameHistory>(
      withQuery(`/api/game/${seg(game.gameId)}/history`, { before, limit: PAGE_SIZE }),
    );
    const all = [...rows, ...page.versions];
    const parts: HTMLElement[] = [versionTable(game, all, show)];
    if (all.length === 0) parts[0] = h('p', { class: 'muted' }, 'No versions are kept for this game.');
    if (page.nextBefore !== undefined) {
      const next = page.nextBefore;
      parts.push(
        h(
          'button',
          { type: 'button', onclick: () => void fill(list, () => loadPage(next, all)) },
          'Older versions',
        ),
      );
    }
    return parts;
  };
  await fill(list, () => loadPage(undefined, []));
  return pane;
}

function versionTable(game: GameRecord, versions: readonly GameVersion[], show: (v: GameVersion) => void) {
  return table(
    'Versions',
    [
      {
        title: 'version',
        cell: (entry) =>
          h(
            'button',
            {
              type: 'button',
              class: 'link',
              'aria-label': `Version ${entry.version}`,
              onclick: () => show(entry),
            },
            `v${entry.version}`,
          ),
        numeric: true,
      },
      { title: 'persisted at', cell: (entry) => formatTime(entry.persistedAt) },
      { title: 'last seq', cell: (entry) => entry.lastSeq, numeric: true },
      { title: 'phase', cell: (entry) => entry.phase ?? '—' },
      { title: 'status', cell: (entry) => entry.status },
      { title: '', cell: (entry) => (entry.version === game.version ? h('strong', {}, 'current') : '') },
    ],
    versions,
    (entry) => (entry.version === game.version ? 'highlight' : undefined),
  );
}

/** The game as it was at `entry`, with the actions that start from it. */
async function versionView(
  game: GameRecord,
  entry: GameVersion,
  result: HTMLElement,
  onRolledBack: GameChanged,
): Promise<HTMLElement[]> {
  const past = await api<GameRecord>(
    withQuery(`/api/game/${seg(game.gameId)}/restore`, { version: entry.version }),
  );
  const isCurrent = past.version === game.version;
  const rollback = h(
    'button',
    {
      type: 'button',
      class: 'danger',
      disabled: isCurrent,
      onclick: () => void rollbackTo(game, past, result, onRolledBack),
    },
    'Roll back to this version',
  );
  const fork = h(
    'button',
    { type: 'button', onclick: () => void forkAt(game, past, result) },
    'Fork from this version',
  );
  return [
    h('h4', { id: 'history-view-title' }, `Version ${past.version}${isCurrent ? ' (current)' : ''}`),
    facts([
      ['version', String(past.version)],
      ['persisted at', formatTime(past.persistedAt)],
      ['last event seq', String(past.lastSeq)],
      ['phase', past.phase ?? '—'],
      ['status', past.status],
      ['players', past.players.join(', ') || '—'],
    ]),
    jsonTree(past.state, 'state'),
    h('div', { class: 'row' }, rollback, fork),
  ];
}

async function rollbackTo(
  game: GameRecord,
  past: GameRecord,
  result: HTMLElement,
  onRolledBack: GameChanged,
): Promise<void> {
  const reason = h('input', { type: 'text', maxlength: 1000, autofocus: true, spellcheck: 'true' });
  const confirmed = await confirmDialog(
    `Roll back ${game.gameId}?`,
    [
      h(
        'p',
        {},
        `From version ${game.version} (${game.phase ?? 'no phase'}, ${game.status}) to version ${past.version} `,
        `(${past.phase ?? 'no phase'}, ${past.status}). Its state, players, phase and status become current as a `,
        'new version, and a rollback event is appended. Nothing in the history is removed.',
      ),
      h('p', {}, field('Reason (optional)', reason)),
    ],
    `Roll back to version ${past.version}`,
  );
  if (!confirmed) return;
  const body = {
    toVersion: past.version,
    expectedVersion: game.version,
    ...(reason.value.trim() === '' ? {} : { reason: reason.value.trim() }),
  };
  try {
    const answer = await api<RollbackAnswer>(`/api/game/${seg(game.gameId)}/rollback`, {
      method: 'POST',
      body,
    });
    onRolledBack(
      answer.version === game.version
        ? `Version ${past.version} was already current: nothing changed.`
        : `Rolled back from version ${game.version} to version ${answer.restoredFrom}: now version ${answer.version}.`,
    );
  } catch (error) {
    result.replaceChildren(errorBox(error), staleHint(error));
    result.scrollIntoView({ block: 'nearest' });
  }
}

/** A 409 here means the game moved on since the page read it: say how to see the new state. */
function staleHint(error: unknown): HTMLElement | string {
  return error instanceof ApiError && error.status === 409
    ? notice('The game changed since this page read it: open it again to see its current version.')
    : '';
}

async function forkAt(game: GameRecord, past: GameRecord, result: HTMLElement): Promise<void> {
  const newId = h('input', { type: 'text', autofocus: true, spellcheck: 'false', required: true });
  const confirmed = await confirmDialog(
    `Fork ${game.gameId}?`,
    [
      h(
        'p',
        {},
        `A new active game gets the state of version ${past.version} and a copy of its events up to seq `,
        `${past.lastSeq}, with the same players (${past.players.join(', ') || 'none'}) and no tokens.`,
      ),
      h('p', {}, field('New game id', newId)),
    ],
    'Fork',
  );
  if (!confirmed) return;
  try {
    const answer = await api<ForkAnswer>(`/api/game/${seg(game.gameId)}/fork`, {
      method: 'POST',
      body: { newGameId: newId.value.trim(), atVersion: past.version },
    });
    result.replaceChildren(
      h(
        'div',
        { class: 'result', role: 'status' },
        `Forked version ${answer.forkedFrom.version} of ${answer.forkedFrom.gameId} into `,
        h('a', { href: sectionHref('games', answer.gameId) }, answer.gameId),
        ` (version ${answer.version}, events up to seq ${answer.forkedFrom.lastSeq}).`,
      ),
    );
  } catch (error) {
    result.replaceChildren(errorBox(error));
  }
  result.scrollIntoView({ block: 'nearest' });
}
