/** The console's shared pieces: error boxes, tables, facts, confirmations and number formats. */
import { ApiError } from './api.js';
import { type Child, h } from './dom.js';
import { currentKey } from './key-store.js';

/** The API's own words for a failure, in an alert the screen reader announces. */
export function errorBox(error: unknown): HTMLElement {
  const text =
    error instanceof ApiError
      ? `${error.code} (${error.status}): ${error.detail}`
      : error instanceof Error
        ? error.message
        : String(error);
  return h('div', { class: 'error', role: 'alert' }, text);
}

export function notice(text: string): HTMLElement {
  return h('div', { class: 'notice', role: 'status' }, text);
}

/** An optional endpoint the server does not offer. */
export function unavailable(what: string): HTMLElement {
  return h('p', { class: 'unavailable' }, `${what}: not available on this server.`);
}

/** Shown instead of data in sections that need the key. */
export function keyNeeded(): HTMLElement {
  return h('p', { class: 'notice', role: 'status' }, 'Enter the API key above to see this section.');
}

export const hasKey = (): boolean => currentKey() !== undefined;

export const loading = (): HTMLElement => h('p', { class: 'muted', role: 'status' }, 'Loading…');

export interface Column<T> {
  readonly title: string;
  readonly cell: (row: T) => Child;
  readonly numeric?: boolean;
}

/** A table in a horizontally scrolling wrapper (phone widths). */
export function table<T>(
  caption: string,
  columns: readonly Column<T>[],
  rows: readonly T[],
  rowClass?: (row: T) => string | undefined,
): HTMLElement {
  const head = h(
    'tr',
    {},
    ...columns.map((column) =>
      h('th', { scope: 'col', class: column.numeric ? 'num' : undefined }, column.title),
    ),
  );
  const body = h('tbody');
  for (const row of rows) body.append(tableRow(columns, row, rowClass?.(row)));
  return h(
    'div',
    { class: 'table-wrap' },
    h('table', {}, h('caption', { class: 'visually-hidden' }, caption), h('thead', {}, head), body),
  );
}

export function tableRow<T>(columns: readonly Column<T>[], row: T, className?: string): HTMLTableRowElement {
  return h(
    'tr',
    { class: className },
    ...columns.map((column) => h('td', { class: column.numeric ? 'num' : undefined }, column.cell(row))),
  );
}

/** A definition list of facts. */
export function facts(entries: readonly (readonly [string, Child])[]): HTMLElement {
  const list = h('dl', { class: 'facts' });
  for (const [name, value] of entries) list.append(h('dt', {}, name), h('dd', {}, value));
  return list;
}

export function card(label: string, value: Child): HTMLElement {
  return h(
    'div',
    { class: 'card' },
    h('div', { class: 'label' }, label),
    h('div', { class: 'value' }, value),
  );
}

export function formatTime(iso: string | number | null | undefined): string {
  if (iso === null || iso === undefined) return '—';
  const date = new Date(iso);
  return Number.isNaN(date.getTime())
    ? String(iso)
    : date
        .toISOString()
        .replace('T', ' ')
        .replace(/\.\d+Z$/, 'Z');
}

export function formatNumber(value: number): string {
  return Number.isInteger(value)
    ? value.toLocaleString('en')
    : value.toLocaleString('en', { maximumFractionDigits: 3 });
}

export function formatDuration(ms: number): string {
  if (ms <= 0) return 'expired';
  const seconds = Math.ceil(ms / 1000);
  if (seconds < 120) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 120) return `${minutes} min ${seconds % 60} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** Compact JSON for a table cell. */
export function compact(value: unknown): HTMLElement {
  const text = value === undefined ? '' : JSON.stringify(value);
  return h('code', {}, text.length > 160 ? `${text.slice(0, 160)}…` : text);
}

/**
 * Asks before an action. A modal `<dialog>` traps focus and closes on Escape, so it works from the
 * keyboard; Cancel has the initial focus, so Enter alone never confirms.
 */
export function confirmAction(title: string, message: string, confirmLabel: string): Promise<boolean> {
  return confirmDialog(title, [h('p', {}, message)], confirmLabel);
}

/**
 * {@link confirmAction} with any content, such as the fields an action needs: a field marked
 * `autofocus` takes the initial focus instead of Cancel. Enter in a field does not confirm either:
 * the dialog holds no form.
 */
export function confirmDialog(
  title: string,
  content: readonly Child[],
  confirmLabel: string,
): Promise<boolean> {
  return new Promise((resolve) => {
    const cancel = h('button', { type: 'button', autofocus: true }, 'Cancel');
    const confirm = h('button', { type: 'button', class: 'danger' }, confirmLabel);
    const dialog = h(
      'dialog',
      { 'aria-labelledby': 'confirm-title' },
      h('h2', { id: 'confirm-title' }, title),
      ...content,
      h('div', { class: 'row' }, cancel, confirm),
    );
    cancel.addEventListener('click', () => dialog.close('cancel'));
    confirm.addEventListener('click', () => dialog.close('confirm'));
    dialog.addEventListener('close', () => {
      dialog.remove();
      resolve(dialog.returnValue === 'confirm');
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}

/** Replaces `target`'s content with what `load` renders, or with the error it throws. */
export async function fill(target: HTMLElement, load: () => Promise<Child | Child[]>): Promise<boolean> {
  target.replaceChildren(loading());
  try {
    const content = await load();
    target.replaceChildren(...(Array.isArray(content) ? content : [content]).filter(isNode));
    return true;
  } catch (error) {
    target.replaceChildren(errorBox(error));
    return false;
  }
}

function isNode(child: Child): child is Node | string {
  return child !== null && child !== undefined && child !== false && typeof child !== 'number';
}
