// The UI's words in the user's language: the page carries its catalogue (English text -> translation) as JSON.

const catalogue = readCatalogue();

function readCatalogue() {
  const node = document.getElementById("ui-text");
  try {
    return node ? JSON.parse(node.textContent) : {};
  } catch {
    return {};
  }
}

/** Translate an English text; `{name}` placeholders are filled from `values` (as text, never HTML). */
export function t(text, values = {}) {
  const translated = catalogue[text] || text;
  return translated.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
}

/** The UI's language code (fr, ar, en), as the server chose it. */
export function uiLanguage() {
  return document.documentElement.lang || "fr";
}
