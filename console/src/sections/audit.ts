/** Audit: the audit log, newest first, filterable by type and text, and polled while open. */
import { api, withQuery } from '../api.js';
import { field, h } from '../dom.js';
import { every, type Section } from '../section.js';
import type { AuditEntry } from '../types.js';
import { type Column, compact, errorBox, formatTime, hasKey, keyNeeded, table, tableRow } from '../ui.js';

const PAGE = 1000;
const POLL_MS = 2000;
/** Entries kept in the page; older ones drop off the bottom. */
const MAX_KEPT = 5000;

const columns: readonly Column<AuditEntry>[] = [
  { title: 'seq', cell: (entry) => entry.seq, numeric: true },
  { title: 'type', cell: (entry) => entry.type },
  { title: 'at', cell: (entry) => formatTime(entry.at) },
  { title: 'data', cell: (entry) => compact(entry.data) },
];

export const auditSection: Section = {
  id: 'audit',
  title: 'Audit',
  render(root, context) {
    root.append(h('h2', {}, 'Audit'));
    if (!hasKey()) {
      root.append(keyNeeded());
      return;
    }
    const entries: AuditEntry[] = [];
    const type = h('select', {}, h('option', { value: '' }, 'all types'));
    const text = h('input', { type: 'search', spellcheck: 'false' });
    const live = h('input', { type: 'checkbox', checked: true, id: 'audit-live' });
    // Not a live region: it changes on every poll, and announcing that would drown out the page.
    const status = h('span', { class: 'muted' });
    const list = h('div', { id: 'audit-list' });
    let lastSeq = 0;
    let polling = false;

    const matches = (entry: AuditEntry): boolean =>
      (type.value === '' || entry.type === type.value) &&
      (text.value === '' || JSON.stringify(entry).toLowerCase().includes(text.value.toLowerCase()));
    const draw = (): void => {
      const shown = entries.filter(matches).reverse();
      list.replaceChildren(
        shown.length === 0
          ? h(
              'p',
              { class: 'muted' },
              entries.length === 0 ? 'The audit log is empty.' : 'No entry matches the filter.',
            )
          : table('Audit log', columns, shown),
      );
    };
    const addTypes = (fresh: readonly AuditEntry[]): void => {
      const known = new Set([...type.options].map((option) => option.value));
      for (const entry of fresh) {
        if (known.has(entry.type)) continue;
        known.add(entry.type);
        type.append(h('option', { value: entry.type }, entry.type));
      }
    };
    const poll = async (): Promise<void> => {
      if (polling || context.signal.aborted) return;
      polling = true;
      try {
        for (;;) {
          const page = await api<{ events: AuditEntry[] }>(
            withQuery('/v1/admin/audit', { after: lastSeq, limit: PAGE }),
          );
          if (context.signal.aborted) return;
          if (page.events.length > 0) {
            lastSeq = page.events.at(-1)?.seq ?? lastSeq;
            entries.push(...page.events);
            if (entries.length > MAX_KEPT) entries.splice(0, entries.length - MAX_KEPT);
            addTypes(page.events);
            const first = list.querySelector('tbody');
            // New entries go on top; a redraw only when the filter hides some or nothing is drawn yet.
            if (first !== null && page.events.every(matches)) {
              for (const entry of page.events) first.prepend(tableRow(columns, entry, 'fresh'));
              while (first.rows.length > MAX_KEPT) first.lastElementChild?.remove();
            } else draw();
          } else if (entries.length === 0) draw();
          if (page.events.length < PAGE) break;
        }
        status.textContent = `${entries.length} entries, checked ${formatTime(Date.now())}`;
      } catch (error) {
        if (!context.signal.aborted) list.prepend(errorBox(error));
        live.checked = false;
      } finally {
        polling = false;
      }
    };
    type.addEventListener('change', draw);
    text.addEventListener('input', draw);
    root.append(
      h(
        'div',
        { class: 'row' },
        field('Type', type),
        field('Contains', text),
        h('span', { class: 'live' }, live, h('label', { for: 'audit-live' }, 'Live')),
        status,
      ),
      list,
    );
    void poll();
    every(POLL_MS, context.signal, () => {
      if (live.checked) void poll();
    });
  },
};
