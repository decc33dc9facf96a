/**
 * Catalog → Versions: every load of one kind (the current one marked), a version's content, the
 * diff between two versions, and a rollback to an older one (docs/time-travel.md).
 */
import { api, seg, serverHasPath, withQuery } from '../api.js';
import { field, h } from '../dom.js';
import type { CatalogDiff, CatalogKind, CatalogVersion, CatalogVersions } from '../types.js';
import {
  confirmAction,
  errorBox,
  facts,
  fill,
  formatNumber,
  formatTime,
  hasKey,
  table,
  unavailable,
} from '../ui.js';

/** Renders one kind's records; the kind page's own table, shared so a version looks the same. */
export type KindTable = (kind: CatalogKind) => HTMLElement;

/** The pane on a kind's page. `onRolledBack` shows the kind again once an older version is current. */
export async function versionsPane(
  kindName: string,
  kindTable: KindTable,
  onRolledBack: (message: string) => void,
): Promise<HTMLElement> {
  const pane = h(
    'section',
    { 'aria-labelledby': 'versions-title', id: 'catalog-versions' },
    h('h3', { id: 'versions-title' }, 'Versions'),
  );
  // Probed in the API description: an older server's 404 would be logged by the browser as an error.
  if (!(await serverHasPath('/v1/catalog-versions/{kind}'))) {
    pane.append(unavailable('Catalog versions and diffs'));
    return pane;
  }
  const { versions } = await api<CatalogVersions>(`/v1/catalog-versions/${seg(kindName)}`);
  const result = h('div', { id: 'catalog-version-result' });
  const view = h('div', { id: 'catalog-version-view' });
  const show = (entry: CatalogVersion): void => {
    void fill(view, async () => {
      const kind = await api<CatalogKind>(
        withQuery(`/v1/catalog/${seg(kindName)}`, { version: entry.version }),
      );
      return [
        h('h4', {}, `Version ${kind.version}${entry.current ? ' (current)' : ''}`),
        facts([
          ['updated', formatTime(kind.updatedAt)],
          ['records', formatNumber(kind.data.length)],
        ]),
        kindTable(kind),
      ];
    });
  };
  const rollback = async (entry: CatalogVersion): Promise<void> => {
    const current = versions.find((candidate) => candidate.current)?.version ?? '—';
    const confirmed = await confirmAction(
      `Roll back ${kindName}?`,
      `From version ${current} to version ${entry.version} (${entry.count} records): its content becomes current ` +
        'again as a new load, on every instance within a second.',
      `Roll back to ${entry.version}`,
    );
    if (!confirmed) return;
    try {
      await api(`/v1/catalog-versions/${seg(kindName)}/rollback`, {
        method: 'POST',
        body: { toVersion: entry.version },
      });
      onRolledBack(`Rolled back ${kindName} from version ${current} to version ${entry.version}.`);
    } catch (error) {
      result.replaceChildren(errorBox(error));
    }
  };
  pane.append(
    result,
    table(
      `Versions of ${kindName}`,
      [
        {
          title: 'version',
          cell: (entry) =>
            h(
              'button',
              {
                type: 'button',
                class: 'link',
                'aria-label': `View version ${entry.version}`,
                onclick: () => show(entry),
              },
              entry.version,
            ),
        },
        { title: 'updated', cell: (entry) => formatTime(entry.updatedAt) },
        { title: 'loaded', cell: (entry) => formatTime(entry.loadedAt) },
        { title: 'records', cell: (entry) => formatNumber(entry.count), numeric: true },
        { title: 'sha256', cell: (entry) => h('code', { title: entry.sha256 }, entry.sha256.slice(0, 12)) },
        {
          title: '',
          cell: (entry) =>
            entry.current
              ? h('strong', {}, 'current')
              : hasKey()
                ? h(
                    'button',
                    { type: 'button', onclick: () => void rollback(entry) },
                    `Roll back to ${entry.version}`,
                  )
                : '',
        },
      ],
      versions,
      (entry) => (entry.current ? 'highlight' : undefined),
    ),
    diffForm(kindName, versions),
    view,
  );
  return pane;
}

/** Two version pickers and the diff between them: oldest-to-newest by default. */
function diffForm(kindName: string, versions: readonly CatalogVersion[]): HTMLElement {
  const names = [...new Set(versions.map((entry) => entry.version))];
  const picker = (id: string, selected: string | undefined): HTMLSelectElement =>
    h(
      'select',
      { id },
      ...names.map((name) => h('option', { value: name, selected: name === selected }, name)),
    );
  const from = picker('diff-from', names[1] ?? names[0]);
  const to = picker('diff-to', names[0]);
  const out = h('div', { id: 'catalog-diff' });
  const form = h(
    'form',
    { class: 'row' },
    field('From', from),
    field('To', to),
    h('button', { type: 'submit' }, 'Show diff'),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void fill(out, async () =>
      diffView(
        await api<CatalogDiff>(
          withQuery(`/v1/catalog-versions/${seg(kindName)}/diff`, { from: from.value, to: to.value }),
        ),
      ),
    );
  });
  return h(
    'div',
    {},
    h('h4', {}, 'Diff'),
    names.length < 2 ? h('p', { class: 'muted' }, 'Only one version so far.') : form,
    out,
  );
}

function diffView(diff: CatalogDiff): HTMLElement[] {
  const ids = (list: readonly string[]) => (list.length === 0 ? '—' : list.join(', '));
  const summary = facts([
    ['added', ids(diff.added)],
    ['removed', ids(diff.removed)],
    ['changed', String(diff.changed.length)],
  ]);
  const heading = h('p', {}, `From ${diff.from} to ${diff.to}:`);
  if (diff.changed.length === 0) return [heading, summary];
  return [
    heading,
    summary,
    table(
      'Changed records',
      [
        { title: 'changed id', cell: (row) => row.id },
        { title: 'fields', cell: (row) => row.fields.join(', ') },
      ],
      diff.changed,
    ),
  ];
}
