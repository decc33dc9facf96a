/**
 * A collapsible JSON tree made of `<details>`: expandable with the keyboard (Enter/Space on the
 * summary) and readable by screen readers without any script of its own.
 */
import { h } from './dom.js';

const MAX_CHILDREN = 500;

function leaf(value: unknown): HTMLElement {
  if (value === null) return h('span', { class: 'null' }, 'null');
  switch (typeof value) {
    case 'string':
      return h('span', { class: 'string' }, JSON.stringify(value));
    case 'number':
      return h('span', { class: 'number' }, String(value));
    case 'boolean':
      return h('span', { class: 'boolean' }, String(value));
    default:
      return h('span', {}, String(value));
  }
}

function node(label: HTMLElement | null, value: unknown, depth: number, openDepth: number): HTMLElement {
  if (value === null || typeof value !== 'object') return h('li', {}, label, leaf(value));
  const entries: [string, unknown][] = Array.isArray(value)
    ? value.map((item, index) => [String(index), item])
    : Object.entries(value);
  const shape = Array.isArray(value) ? `[${entries.length}]` : `{${entries.length}}`;
  const open = depth < openDepth;
  const details = h('details', { open }, h('summary', {}, label, h('span', { class: 'muted' }, shape)));
  // Closed branches are built when first opened, so a large state costs nothing until it is looked at.
  const build = (): void => {
    const list = h('ul');
    for (const [key, item] of entries.slice(0, MAX_CHILDREN)) {
      list.append(node(h('span', { class: 'key' }, `${key}: `), item, depth + 1, openDepth));
    }
    if (entries.length > MAX_CHILDREN)
      list.append(h('li', { class: 'muted' }, `… ${entries.length - MAX_CHILDREN} more`));
    details.append(list);
  };
  if (open) build();
  else details.addEventListener('toggle', build, { once: true });
  return h('li', {}, details);
}

/** The tree of `value`, open down to `openDepth` levels (default 2). */
export function jsonTree(value: unknown, label = 'value', openDepth = 2): HTMLElement {
  return h('ul', { class: 'json' }, node(h('span', { class: 'key' }, `${label}: `), value, 0, openDepth));
}
