/** Sessions & Stats: the stats summary with two charts, and the session list page by page. */
import { api, withQuery } from '../api.js';
import { barChart, rangeChart } from '../charts.js';
import { field, h } from '../dom.js';
import { jsonTree } from '../json-tree.js';
import type { Section } from '../section.js';
import type { SessionRecord, StatsSummary } from '../types.js';
import { card, errorBox, fill, formatNumber, formatTime, hasKey, keyNeeded, table } from '../ui.js';

const PAGE = 20;

function summaryView(summary: StatsSummary): HTMLElement[] {
  const metrics = Object.entries(summary.metrics);
  return [
    h(
      'div',
      { class: 'cards' },
      card('games recorded', formatNumber(summary.gamesRecorded)),
      card('sessions created', formatNumber(summary.sessions.created)),
      card('active', formatNumber(summary.sessions.active)),
      card('completed', formatNumber(summary.sessions.completed)),
    ),
    h('h3', {}, 'Outcomes'),
    h(
      'figure',
      {},
      barChart(
        'Outcome counts',
        Object.entries(summary.outcomes).sort(([, a], [, b]) => b - a),
      ),
    ),
    h('h3', {}, 'Metrics'),
    h(
      'figure',
      {},
      rangeChart(
        'Metrics',
        metrics.map(([name, m]) => ({ name, min: m.min, mean: m.mean, max: m.max })),
      ),
    ),
    metrics.length === 0
      ? h('span')
      : table(
          'Metrics',
          [
            { title: 'metric', cell: ([name]) => name },
            { title: 'count', cell: ([, m]) => formatNumber(m.count), numeric: true },
            { title: 'mean', cell: ([, m]) => formatNumber(m.mean), numeric: true },
            { title: 'min', cell: ([, m]) => formatNumber(m.min), numeric: true },
            { title: 'max', cell: ([, m]) => formatNumber(m.max), numeric: true },
            { title: 'moving average', cell: ([, m]) => formatNumber(m.ema), numeric: true },
          ],
          metrics,
        ),
  ];
}

function sessionsView(root: HTMLElement): void {
  const status = h(
    'select',
    {},
    h('option', { value: '' }, 'any'),
    h('option', { value: 'active' }, 'active'),
    h('option', { value: 'completed' }, 'completed'),
  );
  const list = h('div');
  const more = h('div');
  const load = async (cursor: string | undefined, append: boolean): Promise<void> => {
    more.replaceChildren();
    try {
      const page = await api<{ items: SessionRecord[]; nextCursor: string | null }>(
        withQuery('/v1/sessions', { status: status.value, limit: PAGE, cursor }),
      );
      const view =
        page.items.length === 0 && !append
          ? h('p', { class: 'muted' }, 'No sessions.')
          : table(
              'Sessions',
              [
                { title: 'session', cell: (s) => h('code', {}, s.sessionId) },
                { title: 'status', cell: (s) => s.status },
                { title: 'version', cell: (s) => s.version, numeric: true },
                { title: 'created', cell: (s) => formatTime(s.createdAt) },
                { title: 'updated', cell: (s) => formatTime(s.updatedAt) },
                { title: 'state', cell: (s) => jsonTree(s.state, 'state', 0) },
              ],
              page.items,
            );
      if (append) list.append(view);
      else list.replaceChildren(view);
      if (page.nextCursor !== null) {
        const next = page.nextCursor;
        more.append(h('button', { type: 'button', onclick: () => void load(next, true) }, 'More sessions'));
      }
    } catch (error) {
      list.replaceChildren(errorBox(error));
    }
  };
  status.addEventListener('change', () => void load(undefined, false));
  root.append(h('div', { class: 'row' }, field('Status', status)), list, more);
  void load(undefined, false);
}

export const statsSection: Section = {
  id: 'stats',
  title: 'Sessions & Stats',
  render(root) {
    root.append(h('h2', {}, 'Sessions & Stats'));
    if (!hasKey()) {
      root.append(keyNeeded());
      return;
    }
    const summary = h('div');
    const sessions = h(
      'section',
      { 'aria-labelledby': 'sessions-title' },
      h('h3', { id: 'sessions-title' }, 'Sessions'),
    );
    root.append(summary, sessions);
    void fill(summary, async () => summaryView(await api<StatsSummary>('/v1/stats/summary')));
    sessionsView(sessions);
  },
};
