// A list of suggestions under a trigger typed in a textarea ("@" for colleagues, "/" for canned replies):
// it asks as the agent types, and ↑/↓ move, Enter or Tab pick, Escape closes; a click picks too.

import { el } from "./dom.js";

/**
 * Wire suggestions to a textarea. `trigger` is a regex matched against the text before the caret (its second
 * group is the query); `find(query)` resolves to items, `draw(item)` returns an option's content, and
 * `pick(item, match)` is called with the chosen one. Suggestions stay closed while `enabled()` is false.
 */
export function attachSuggestions(textarea, { trigger, find, draw, pick, label, enabled = () => true }) {
  const list = el("ul", { class: "mention-list", role: "listbox", "aria-label": label, hidden: true });
  textarea.parentElement.before(list); // above the reply row, where the eye already is
  let options = [];
  let index = 0;
  let asked = 0;
  let match = null;

  const close = () => { list.hidden = true; options = []; };
  const render = () => {
    list.replaceChildren(...options.map((item, i) => {
      const option = el("li", { role: "option", class: "mention-option", "aria-selected": String(i === index) },
        ...draw(item));
      option.addEventListener("mousedown", (event) => { event.preventDefault(); choose(item); });
      return option;
    }));
    list.hidden = options.length === 0;
  };
  const choose = (item) => {
    const chosenMatch = match;
    close();
    pick(item, chosenMatch);
  };

  textarea.addEventListener("input", async () => {
    match = trigger.exec(textarea.value.slice(0, textarea.selectionStart));
    if (!match || !enabled()) { close(); return; }
    const ticket = ++asked;
    let items = [];
    try {
      items = await find(match[2]);
    } catch {
      items = [];
    }
    if (ticket !== asked) return; // a later keystroke asked again
    options = items.slice(0, 8);
    index = 0;
    render();
  });
  textarea.addEventListener("keydown", (event) => {
    if (list.hidden) return;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      index = (index + (event.key === "ArrowDown" ? 1 : options.length - 1)) % options.length;
      render();
    } else if (event.key === "Enter" || event.key === "Tab") {
      event.preventDefault();
      choose(options[index]);
    } else if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      close();
    }
  });
  textarea.addEventListener("blur", () => setTimeout(close, 150));
  return { close };
}

/** Replace the trigger and query before the caret with `text`, keeping what follows, and tell the composer. */
export function replaceTrigger(textarea, trigger, text) {
  const before = textarea.value.slice(0, textarea.selectionStart);
  const after = textarea.value.slice(textarea.selectionStart);
  const start = before.replace(trigger, (whole, space) => `${space}${text}`);
  textarea.value = start + after;
  textarea.selectionStart = textarea.selectionEnd = start.length;
  textarea.dispatchEvent(new Event("input"));
}
