type Child = Node | string | null | undefined | false;

/** `h("td", { class: "num" }, "42 %")`: an element with attributes and children (strings become text, never HTML). */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attributes: Record<string, string | undefined> = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) if (value !== undefined) element.setAttribute(name, value);
  for (const child of children) if (child) element.append(child);
  return element;
}

/** A section's "none": shown where a host's documents lack the section (no GPU, no sensor). */
export function none(what: string): HTMLElement {
  return h("p", { class: "none", "data-none": what }, `${what}: none`);
}
