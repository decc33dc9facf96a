/** A tiny element builder: the console needs no framework, only this and `replaceChildren`. */

export type Child = Node | string | number | null | undefined | false;
type Listener = (event: Event) => void;
export type Attrs = Record<string, string | number | boolean | Listener | undefined | null>;

function apply(element: Element, attrs: Attrs, children: readonly Child[]): void {
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (typeof value === 'function') element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    element.append(typeof child === 'number' ? String(child) : child);
  }
}

/** `h('button', { type: 'button', onclick: go }, 'Go')`: keys starting with `on` add listeners. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  apply(element, attrs, children);
  return element;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

/** An SVG element, for the charts. */
export function svg<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): SVGElementTagNameMap[K] {
  const element = document.createElementNS(SVG_NS, tag);
  apply(element, attrs, children);
  return element;
}

let nextId = 0;
/** A unique element id, to tie a `<label>` to its input. */
export const uid = (prefix: string): string => `${prefix}-${++nextId}`;

/** A label and its control in a row. */
export function field(label: string, control: HTMLInputElement | HTMLSelectElement): HTMLElement {
  if (control.id === '') control.id = uid('field');
  return h('span', { class: 'field' }, h('label', { for: control.id }, label), ' ', control);
}
