/**
 * A small element builder: the app renders with plain DOM calls, and this
 * keeps them readable. Text always goes in as text nodes (never as HTML), so
 * a channel name or an error message cannot inject markup.
 */

export type Child = Node | string | number | null | undefined | false;
type AttrValue = string | number | boolean | null | undefined;
type Attrs = Record<string, AttrValue | EventListener>;

/**
 * An element with attributes, listeners (`onclick`, `onsubmit`, …) and children.
 *
 * @example
 * h('button', { type: 'button', onclick: () => refresh() }, 'Refresh')
 */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: (Child | Child[])[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  el.append(...nodes(children));
  return el;
}

/** Replace an element's content; null, undefined and false children are left out. */
export function fill(el: Element, ...children: (Child | Child[])[]): void {
  el.replaceChildren(...nodes(children));
}

/** An SVG element (for sparklines), attributes only. */
export function svg<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs: Record<string, AttrValue>,
  ...children: SVGElement[]
): SVGElementTagNameMap[K] {
  const el = document.createElementNS('http://www.w3.org/2000/svg', tag);
  setAttrs(el, attrs);
  el.append(...children);
  return el;
}

function setAttrs(el: Element, attrs: Attrs): void {
  for (const [name, value] of Object.entries(attrs)) {
    if (typeof value === 'function') el.addEventListener(name.slice(2), value);
    else if (value === true) el.setAttribute(name, '');
    else if (value !== false && value !== null && value !== undefined) el.setAttribute(name, String(value));
  }
}

function nodes(children: (Child | Child[])[]): (Node | string)[] {
  return children
    .flat()
    .flatMap((c) => (c === null || c === undefined || c === false ? [] : [typeof c === 'number' ? String(c) : c]));
}

/** A labelled `<select>`: the label element and the control, ids tied together. */
export function labelledSelect(
  id: string,
  label: string,
  options: readonly { value: string; text: string }[],
  selected: string,
  onChange: (value: string) => void,
): HTMLElement {
  const select = h(
    'select',
    { id, onchange: (e: Event) => onChange((e.target as HTMLSelectElement).value) },
    options.map((o) => h('option', { value: o.value, selected: o.value === selected }, o.text)),
  );
  return h('div', { class: 'field' }, h('label', { for: id }, label), select);
}
