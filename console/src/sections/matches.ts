/** Matches: the stored matches, and one match's rounds, scores and each player's lifetime record. */
import { api, seg } from '../api.js';
import { field, h } from '../dom.js';
import { jsonTree } from '../json-tree.js';
import { type Section, sectionHref } from '../section.js';
import type { DocumentPage, Lifetime, MatchRecord, MatchScore, RoundRecord } from '../types.js';
import { fill, formatNumber, formatTime, hasKey, keyNeeded, table } from '../ui.js';

function matchList(page: DocumentPage<MatchRecord>): HTMLElement {
  if (page.items.length === 0) return h('p', { class: 'muted' }, 'No matches stored.');
  return table(
    'Matches',
    [
      { title: 'match', cell: (item) => h('a', { href: sectionHref('matches', item.key) }, item.key) },
      { title: 'status', cell: (item) => item.value.status },
      {
        title: 'round',
        cell: (item) => `${item.value.currentRound ?? '—'} of ${item.value.roundsTotal ?? '—'}`,
      },
      { title: 'created by', cell: (item) => item.value.createdBy ?? '—' },
      { title: 'updated', cell: (item) => formatTime(item.updatedAt) },
    ],
    page.items,
  );
}

async function matchView(matchId: string): Promise<HTMLElement[]> {
  const base = `/v1/matches/${seg(matchId)}`;
  const [match, rounds, scores] = await Promise.all([
    api<MatchRecord>(base),
    api<RoundRecord[]>(`${base}/rounds`),
    api<{ entries: MatchScore[] }>(`${base}/scores?limit=1000`),
  ]);
  const lifetimes = await Promise.all(
    scores.entries.map((entry) => api<Lifetime>(`/v1/players/${seg(entry.user)}/lifetime`)),
  );
  return [
    h('h3', {}, `Match ${match.matchId}`),
    jsonTree(match, 'match', 1),
    h('h3', {}, 'Rounds'),
    rounds.length === 0
      ? h('p', { class: 'muted' }, 'No rounds yet.')
      : table(
          'Rounds',
          [
            { title: 'round', cell: (r) => r.index, numeric: true },
            { title: 'prompt', cell: (r) => r.promptText },
            { title: 'closed', cell: (r) => (r.closed ? 'yes' : 'no') },
            { title: 'winner', cell: (r) => r.winnerUser ?? '—' },
            { title: 'closed at', cell: (r) => formatTime(r.closedAt) },
          ],
          rounds,
        ),
    h('h3', {}, 'Scores'),
    scores.entries.length === 0
      ? h('p', { class: 'muted' }, 'No scores yet.')
      : table(
          'Scores',
          [
            { title: 'rank', cell: (s) => s.rank, numeric: true },
            { title: 'player', cell: (s) => s.user },
            { title: 'points', cell: (s) => formatNumber(s.points), numeric: true },
            { title: 'wins', cell: (s) => formatNumber(s.wins), numeric: true },
          ],
          scores.entries,
        ),
    h('h3', {}, 'Lifetime records'),
    lifetimes.length === 0
      ? h('p', { class: 'muted' }, 'No players yet.')
      : table(
          'Lifetime records',
          [
            { title: 'player', cell: (l) => l.user },
            { title: 'matches played', cell: (l) => formatNumber(l.matchesPlayed), numeric: true },
            { title: 'total wins', cell: (l) => formatNumber(l.totalWins), numeric: true },
            { title: 'trophies', cell: (l) => (l.trophies.length === 0 ? '—' : l.trophies.join(', ')) },
          ],
          lifetimes,
        ),
  ];
}

export const matchesSection: Section = {
  id: 'matches',
  title: 'Matches',
  render(root, context) {
    root.append(h('h2', {}, 'Matches'));
    if (!hasKey()) {
      root.append(keyNeeded());
      return;
    }
    const id = h('input', { type: 'text', spellcheck: 'false', value: context.arg ?? '' });
    const form = h(
      'form',
      { class: 'row' },
      field('Match id', id),
      h('button', { type: 'submit', class: 'primary' }, 'Open match'),
    );
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      if (id.value.trim() !== '') location.hash = sectionHref('matches', id.value.trim());
    });
    const body = h('div');
    root.append(form, body);
    if (context.arg === undefined)
      void fill(body, async () =>
        matchList(await api<DocumentPage<MatchRecord>>('/v1/docs/match?limit=100')),
      );
    else {
      const matchId = context.arg;
      void fill(body, () => matchView(matchId));
    }
  },
};
