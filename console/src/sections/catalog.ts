/** Catalog: the game-constant kinds, one kind's records, and (where the server keeps them) its versions. */
import { api, seg } from '../api.js';
import { h } from '../dom.js';
import { type Section, sectionHref } from '../section.js';
import type { CatalogIndex, CatalogKind } from '../types.js';
import { compact, facts, fill, formatNumber, formatTime, notice, table } from '../ui.js';
import { versionsPane } from './catalog-versions.js';

const MAX_COLUMNS = 8;

function kindTable(kind: CatalogKind): HTMLElement {
  if (kind.data.length === 0) return h('p', { class: 'muted' }, 'No records.');
  const names = [...new Set(kind.data.flatMap((record) => Object.keys(record)))].slice(0, MAX_COLUMNS);
  return table(
    `Catalog ${kind.kind}`,
    names.map((name) => ({
      title: name,
      cell: (record: Record<string, unknown>) => {
        const value = record[name];
        return typeof value === 'string' || typeof value === 'number' ? String(value) : compact(value);
      },
    })),
    kind.data,
  );
}

export const catalogSection: Section = {
  id: 'catalog',
  title: 'Catalog',
  render(root, context) {
    root.append(h('h2', {}, 'Catalog'));
    const body = h('div');
    root.append(body);
    if (context.arg === undefined) {
      void fill(body, async () => {
        const index = await api<CatalogIndex>('/v1/catalog');
        return [
          facts([['catalog version', index.version ?? '—']]),
          index.kinds.length === 0
            ? h('p', { class: 'muted' }, 'No catalog loaded: see `savepoint seed`.')
            : table(
                'Catalog kinds',
                [
                  { title: 'kind', cell: (k) => h('a', { href: sectionHref('catalog', k.kind) }, k.kind) },
                  { title: 'version', cell: (k) => k.version },
                  { title: 'records', cell: (k) => formatNumber(k.count), numeric: true },
                  { title: 'updated', cell: (k) => formatTime(k.updatedAt) },
                ],
                index.kinds,
              ),
          h('p', { class: 'muted' }, 'Open a kind for its records, its versions and the diff between two.'),
        ];
      });
      return;
    }
    const kindName = context.arg;
    const showKind = (message?: string): void => {
      void fill(body, async () => {
        const kind = await api<CatalogKind>(`/v1/catalog/${seg(kindName)}`);
        return [
          message === undefined ? null : notice(message),
          h('p', {}, h('a', { href: sectionHref('catalog') }, 'All kinds')),
          h('h3', {}, `Kind ${kind.kind}`),
          facts([
            ['version', kind.version],
            ['updated', formatTime(kind.updatedAt)],
            ['records', formatNumber(kind.data.length)],
          ]),
          kindTable(kind),
          await versionsPane(kindName, kindTable, showKind),
        ];
      });
    };
    showKind();
  },
};
