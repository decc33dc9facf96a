/**
 * Rankings: the Q-table's entry count, a download of its export, and an import that replaces the
 * whole table after a confirmation naming how many entries the file holds.
 */
import { api } from '../api.js';
import { field, h } from '../dom.js';
import type { Section } from '../section.js';
import type { RankingExport } from '../types.js';
import { card, confirmAction, errorBox, fill, formatNumber, hasKey, keyNeeded } from '../ui.js';

function download(name: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: 'application/json' }));
  const link = h('a', { href: url, download: name });
  document.body.append(link);
  link.click();
  link.remove();
  // The click has handed the blob to the download by the next task.
  setTimeout(() => URL.revokeObjectURL(url), 0);
}

/** The entry count of an export document, or an error saying why the file is not one. */
function entriesIn(text: string): number {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    throw new Error('This file is not JSON: choose a file written by the export.');
  }
  const entries = (document as { entries?: unknown } | null)?.entries;
  if (!Array.isArray(entries))
    throw new Error('This file has no "entries" list: choose a file written by the export.');
  return entries.length;
}

export const rankingsSection: Section = {
  id: 'rankings',
  title: 'Rankings',
  render(root) {
    root.append(h('h2', {}, 'Rankings'));
    if (!hasKey()) {
      root.append(keyNeeded());
      return;
    }
    const count = h('div', { class: 'cards' });
    const output = h('div', { role: 'status' });
    const refresh = (): void => {
      void fill(count, async () =>
        card('Q-table entries', formatNumber((await api<RankingExport>('/v1/rankings/export')).count)),
      );
    };
    const exportButton = h('button', { type: 'button', class: 'primary' }, 'Download export');
    exportButton.addEventListener('click', async () => {
      output.replaceChildren();
      try {
        const document = await api<RankingExport>('/v1/rankings/export');
        download(
          `rankings-${document.exportedAt.replace(/[:.]/g, '-')}.json`,
          JSON.stringify(document, null, 2),
        );
        output.append(h('p', { class: 'result' }, `Exported ${formatNumber(document.count)} entries.`));
      } catch (error) {
        output.append(errorBox(error));
      }
    });
    const file = h('input', { type: 'file', accept: 'application/json,.json' });
    file.addEventListener('change', async () => {
      output.replaceChildren();
      const chosen = file.files?.[0];
      if (chosen === undefined) return;
      try {
        const text = await chosen.text();
        const entries = entriesIn(text);
        const confirmed = await confirmAction(
          'Import rankings',
          `${chosen.name} holds ${formatNumber(entries)} entries. Importing replaces the whole Q-table with them.`,
          `Import ${formatNumber(entries)} entries`,
        );
        if (!confirmed) {
          output.append(h('p', { class: 'muted' }, 'Import cancelled; nothing changed.'));
          return;
        }
        const answer = await api<{ imported: number }>('/v1/rankings/import', {
          method: 'POST',
          body: JSON.parse(text),
        });
        output.append(h('p', { class: 'result' }, `Imported ${formatNumber(answer.imported)} entries.`));
        refresh();
      } catch (error) {
        output.append(errorBox(error));
      } finally {
        file.value = '';
      }
    });
    root.append(
      count,
      h('div', { class: 'row' }, exportButton, field('Import an export file', file)),
      output,
    );
    refresh();
  },
};
