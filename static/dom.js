// DOM helpers: every element is built with createElement and every text goes through textContent.

const SVG_NS = "http://www.w3.org/2000/svg";

/** Build an element: el("a", {href, class: "x", dataset: {id: 1}}, "text", child, ...). Never parses HTML. */
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  setAttributes(node, attributes);
  append(node, children);
  return node;
}

function setAttributes(node, attributes) {
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") node.className = value;
    else if (name === "dataset") Object.assign(node.dataset, value);
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (name in node && typeof value !== "string") node[name] = value;
    else node.setAttribute(name, value === true ? "" : String(value));
  }
}

/** Append children: strings become text nodes, arrays are flattened, null and false are skipped. */
export function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** Remove every child of a node. */
export function clear(node) {
  node.replaceChildren();
  return node;
}

/** Text that may be Arabic or French: the browser picks its direction. */
export function autoText(tag, text, className) {
  return el(tag, { class: className, dir: "auto" }, text ?? "");
}

// Icon paths (24×24 viewBox), drawn with stroke="currentColor" unless filled.
const ICONS = {
  clock: { d: "M12 7v5l3 2M21 12a9 9 0 1 1-18 0 9 9 0 0 1 18 0Z" },
  tick: { d: "M4 12.5l4.5 4.5L19 6.5" },
  ticks: { d: "M1.5 12.5L6 17 16.5 6.5M11 16l1 1L22.5 6.5" },
  alert: { d: "M12 8v5M12 16.5v.5M21 12a9 9 0 1 1-18 0 9 9 0 0 1 18 0Z" },
  paperclip: { d: "M21 11.5l-8.6 8.6a5.5 5.5 0 0 1-7.8-7.8l9.2-9.2a3.7 3.7 0 0 1 5.2 5.2l-9.2 9.2a1.8 1.8 0 0 1-2.6-2.6l8.5-8.5" },
  send: { d: "M4 12l16-8-6 17-3-7-7-2Z" },
  close: { d: "M6 6l12 12M18 6L6 18" },
  file: { d: "M14 3H6v18h12V7l-4-4Zm0 0v4h4" },
  pin: { d: "M12 21s7-6.2 7-12a7 7 0 0 0-14 0c0 5.8 7 12 7 12Zm0-9.5a2.5 2.5 0 1 0 0-5 2.5 2.5 0 0 0 0 5Z" },
  user: { d: "M16 8a4 4 0 1 1-8 0 4 4 0 0 1 8 0ZM4 21c0-4 3.6-6.5 8-6.5s8 2.5 8 6.5" },
  columns: { d: "M3 4h18v16H3ZM9 4v16M15 4v16" },
  search: { d: "M11 18a7 7 0 1 0 0-14 7 7 0 0 0 0 14Zm10 3-5-5" },
  retry: { d: "M20 11a8 8 0 1 0-2.3 5.7M20 4v7h-7" },
  bolt: { d: "M13 2 4 14h7l-1 8 9-12h-7l1-8Z" },
  whatsapp: {
    fill: true,
    d: "M12 2a10 10 0 0 0-8.6 15.1L2 22l5-1.3A10 10 0 1 0 12 2Zm5.3 14.1c-.2.6-1.3 1.2-1.8 1.2-.5.1-1 .3-3.4-.7-2.9-1.2-4.7-4.1-4.9-4.3-.1-.2-1.2-1.6-1.2-3s.8-2.2 1-2.5c.3-.3.6-.4.8-.4h.6c.2 0 .4 0 .6.5l.9 2.1c.1.2.1.4 0 .6l-.3.5-.4.5c-.2.2-.3.3-.1.6.2.3.8 1.3 1.7 2.1 1.2 1 2.1 1.3 2.4 1.5.3.1.5.1.7-.1l1-1.2c.2-.3.4-.2.7-.1l2 1c.3.1.5.2.5.3.1.2.1.7-.1 1.3Z",
  },
  messenger: {
    fill: true,
    d: "M12 2C6.5 2 2 6.1 2 11.2c0 2.9 1.4 5.5 3.7 7.2V22l3.4-1.9c.9.3 1.9.4 2.9.4 5.5 0 10-4.1 10-9.2S17.5 2 12 2Zm1 12.4-2.5-2.7-5 2.7 5.5-5.8 2.6 2.7 4.9-2.7-5.5 5.8Z",
  },
  facebook: {
    fill: true,
    d: "M13.5 22v-8h2.7l.4-3.2h-3.1V8.8c0-.9.3-1.5 1.6-1.5h1.7V4.5c-.3 0-1.3-.1-2.5-.1-2.4 0-4.1 1.5-4.1 4.2v2.3H7.5V14h2.7v8h3.3Z",
  },
  comment: { d: "M4 5h16v11H10l-5 4v-4H4Z" },
  reply: { d: "M9 14 4 9l5-5M4 9h10a6 6 0 0 1 6 6v4" },
  lock: { d: "M6 11h12v10H6ZM8.5 11V7.5a3.5 3.5 0 0 1 7 0V11" },
  globe: { d: "M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18Zm-9-9h18M12 3c2.4 2.6 3.6 5.6 3.6 9s-1.2 6.4-3.6 9c-2.4-2.6-3.6-5.6-3.6-9S9.6 5.6 12 3Z" },
  link: { d: "M10 14a4 4 0 0 0 5.7 0l3-3a4 4 0 0 0-5.7-5.7l-1 1M14 10a4 4 0 0 0-5.7 0l-3 3a4 4 0 0 0 5.7 5.7l1-1" },
  eyeOff: { d: "M3 3l18 18M10.6 6.1A9.8 9.8 0 0 1 12 6c5 0 8.5 4.5 9.5 6-.5.8-1.6 2.2-3 3.5M6.5 7.5C4.7 8.8 3.4 10.7 2.5 12c1 1.5 4.5 6 9.5 6 1.6 0 3-.4 4.3-1.1M9.9 9.9a3 3 0 0 0 4.2 4.2" },
  twitter: {
    fill: true,
    d: "M17.8 3h3.1l-6.7 7.7L22 21h-6.2l-4.8-6.3L5.5 21H2.4l7.2-8.2L2 3h6.3l4.4 5.8L17.8 3Zm-1.1 16.2h1.7L7.4 4.7H5.6l11.1 14.5Z",
  },
};

/** An inline SVG icon from the set above, hidden from screen readers (the caller labels it). */
export function icon(name, className = "icon") {
  const spec = ICONS[name] || ICONS.file;
  const svg = document.createElementNS(SVG_NS, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("class", className);
  svg.setAttribute("data-icon", name);
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  const path = document.createElementNS(SVG_NS, "path");
  path.setAttribute("d", spec.d);
  if (spec.fill) {
    path.setAttribute("fill", "currentColor");
  } else {
    path.setAttribute("fill", "none");
    path.setAttribute("stroke", "currentColor");
    path.setAttribute("stroke-width", "2");
    path.setAttribute("stroke-linecap", "round");
    path.setAttribute("stroke-linejoin", "round");
  }
  svg.append(path);
  return svg;
}
