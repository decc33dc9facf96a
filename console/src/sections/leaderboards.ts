/**
 * Leaderboards: the boards (with the key), any board by name (a public read), its periods, the top
 * N, and a member with the members around them.
 */
import { ApiError, api, seg, withQuery } from '../api.js';
import { field, h } from '../dom.js';
import { recentPeriods } from '../periods.js';
import { type Section, sectionHref } from '../section.js';
import type { BoardDefinition, BoardEntry, BoardPage, DocumentPage, MemberAround } from '../types.js';
import { type Column, compact, facts, fill, formatNumber, hasKey, table } from '../ui.js';

const entryColumns: readonly Column<BoardEntry>[] = [
  { title: 'rank', cell: (entry) => entry.rank, numeric: true },
  { title: 'member', cell: (entry) => entry.member },
  { title: 'score', cell: (entry) => formatNumber(entry.score), numeric: true },
  {
    title: 'metadata',
    cell: (entry) => (entry.metadata === undefined || entry.metadata === null ? '' : compact(entry.metadata)),
  },
];

function boardList(page: DocumentPage<BoardDefinition>): HTMLElement {
  if (page.items.length === 0) return h('p', { class: 'muted' }, 'No boards defined yet.');
  return table(
    'Boards',
    [
      { title: 'board', cell: (item) => h('a', { href: sectionHref('leaderboards', item.key) }, item.key) },
      { title: 'order', cell: (item) => item.value.order },
      { title: 'operator', cell: (item) => item.value.operator },
      { title: 'period', cell: (item) => item.value.period },
      { title: 'kept periods', cell: (item) => item.value.keepPeriods ?? '—', numeric: true },
    ],
    page.items,
  );
}

async function definitionOf(board: string): Promise<BoardDefinition | undefined> {
  if (!hasKey()) return undefined;
  try {
    return (await api<{ value: BoardDefinition }>(`/v1/docs/leaderboard-def/${seg(board)}`)).value;
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return undefined;
    throw error;
  }
}

function boardView(root: HTMLElement, board: string): void {
  const period = h('input', { type: 'text', list: 'board-periods', placeholder: 'current', size: 12 });
  const periods = h('datalist', { id: 'board-periods' });
  const limit = h('input', { type: 'number', min: 1, max: 1000, value: 10, size: 5 });
  const member = h('input', { type: 'text', spellcheck: 'false' });
  const around = h('input', { type: 'number', min: 0, max: 100, value: 2, size: 4 });
  const about = h('div');
  const top = h('div', { id: 'board-top' });
  const found = h('div', { id: 'board-member' });

  const loadTop = (): void => {
    void fill(top, async () => {
      const page = await api<BoardPage>(
        withQuery(`/v1/leaderboards/${seg(board)}`, { limit: limit.value, period: period.value.trim() }),
      );
      return [
        h(
          'p',
          {},
          `${page.period === null ? 'All time' : `Period ${page.period}`}: ${formatNumber(page.total)} members, top ${page.entries.length} shown.`,
        ),
        page.entries.length === 0
          ? h('p', { class: 'muted' }, 'Nobody on this board in this period.')
          : table(`Top of ${board}`, entryColumns, page.entries),
      ];
    });
  };
  const findMember = (): void => {
    const name = member.value.trim();
    if (name === '') return;
    void fill(found, async () => {
      const answer = await api<MemberAround>(
        withQuery(`/v1/leaderboards/${seg(board)}/members/${seg(name)}`, {
          around: around.value,
          period: period.value.trim(),
        }),
      );
      return [
        h('p', {}, `${answer.member} is ranked ${answer.rank} with ${formatNumber(answer.score)}.`),
        table(`Around ${answer.member}`, entryColumns, answer.around, (entry) =>
          entry.member === answer.member ? 'highlight' : undefined,
        ),
      ];
    });
  };

  const topForm = h(
    'form',
    { class: 'row' },
    field('Period', period),
    periods,
    field('Top N', limit),
    h('button', { type: 'submit', class: 'primary' }, 'Show top'),
  );
  topForm.addEventListener('submit', (event) => {
    event.preventDefault();
    loadTop();
  });
  const memberForm = h(
    'form',
    { class: 'row', role: 'search' },
    field('Member', member),
    field('Around', around),
    h('button', { type: 'submit' }, 'Find member'),
  );
  memberForm.addEventListener('submit', (event) => {
    event.preventDefault();
    findMember();
  });
  root.append(
    h('h3', {}, `Board ${board}`),
    about,
    topForm,
    top,
    h('h3', {}, 'Find a member'),
    memberForm,
    found,
  );
  void fill(about, async () => {
    const definition = await definitionOf(board);
    if (definition === undefined) return h('span');
    periods.replaceChildren(
      ...recentPeriods(definition.period, definition.keepPeriods ?? 7).map((name) =>
        h('option', { value: name }),
      ),
    );
    return facts([
      ['order', definition.order],
      ['operator', definition.operator],
      ['period', definition.period === 'none' ? 'none (all time)' : definition.period],
    ]);
  });
  loadTop();
}

export const leaderboardsSection: Section = {
  id: 'leaderboards',
  title: 'Leaderboards',
  render(root, context) {
    root.append(h('h2', {}, 'Leaderboards'));
    const name = h('input', { type: 'text', spellcheck: 'false', value: context.arg ?? '' });
    const form = h(
      'form',
      { class: 'row' },
      field('Board', name),
      h('button', { type: 'submit', class: 'primary' }, 'Open board'),
    );
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      if (name.value.trim() !== '') location.hash = sectionHref('leaderboards', name.value.trim());
    });
    root.append(form);
    if (context.arg !== undefined) {
      boardView(root, context.arg);
      return;
    }
    const list = h('div');
    root.append(list);
    if (hasKey())
      void fill(list, async () =>
        boardList(await api<DocumentPage<BoardDefinition>>('/v1/docs/leaderboard-def?limit=200')),
      );
    else
      list.append(
        h(
          'p',
          { class: 'muted' },
          'Boards are public: open one by name. Enter the API key to list them all.',
        ),
      );
  },
};
