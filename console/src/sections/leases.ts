/** Leases: every lease record with its holder, fence and a live countdown of the time left. */
import { api, seg } from '../api.js';
import { field, h } from '../dom.js';
import { every, type Section } from '../section.js';
import type { DocumentPage, Lease, StoredLease } from '../types.js';
import { facts, fill, formatDuration, formatTime, hasKey, keyNeeded, table } from '../ui.js';

export const leasesSection: Section = {
  id: 'leases',
  title: 'Leases',
  render(root, context) {
    root.append(h('h2', {}, 'Leases'));
    if (!hasKey()) {
      root.append(keyNeeded());
      return;
    }
    const countdowns: { readonly cell: HTMLElement; readonly expiresAt: number }[] = [];
    const tick = (): void => {
      for (const { cell, expiresAt } of countdowns) cell.textContent = formatDuration(expiresAt - Date.now());
    };
    const countdown = (expiresAt: number): HTMLElement => {
      const cell = h('span', {}, formatDuration(expiresAt - Date.now()));
      countdowns.push({ cell, expiresAt });
      return cell;
    };
    const name = h('input', { type: 'text', spellcheck: 'false' });
    const one = h('div');
    const form = h(
      'form',
      { class: 'row' },
      field('Lease name', name),
      h('button', { type: 'submit' }, 'Look up'),
    );
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const wanted = name.value.trim();
      if (wanted === '') return;
      void fill(one, async () => {
        const lease = await api<Lease>(`/v1/leases/${seg(wanted)}`);
        return facts([
          ['name', lease.name],
          ['holder', lease.holder],
          ['fence', String(lease.fence)],
          ['expires', formatTime(lease.expiresAt)],
          ['time left', countdown(Date.parse(lease.expiresAt))],
        ]);
      });
    });
    const list = h('div');
    root.append(list, h('h3', {}, 'Look up a lease'), form, one);
    void fill(list, async () => {
      const page = await api<DocumentPage<StoredLease>>('/v1/docs/lease?limit=200');
      if (page.items.length === 0) return h('p', { class: 'muted' }, 'No leases taken yet.');
      return table(
        'Leases',
        [
          { title: 'lease', cell: (item) => item.key },
          {
            title: 'holder',
            cell: (item) =>
              item.value.held
                ? item.value.holder
                : h('span', { class: 'muted' }, `released (was ${item.value.holder})`),
          },
          { title: 'fence', cell: (item) => item.value.fence, numeric: true },
          { title: 'expires', cell: (item) => formatTime(item.value.expiresAt) },
          { title: 'time left', cell: (item) => (item.value.held ? countdown(item.value.expiresAt) : '—') },
        ],
        page.items,
      );
    });
    every(1000, context.signal, tick);
  },
};
