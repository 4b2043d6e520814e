// @mentions in a note: typing "@" and a few letters lists the colleagues who can see the conversation;
// ↑/↓ and Enter (or a click) insert "@Name" and remember who was meant.

import { autoText, el } from "./dom.js";

const TRIGGER = /(^|\s)@([^\s@]{0,30})$/;

/** Wire mention suggestions to a textarea; `find(query)` resolves to users [{id, name, role}]. */
export function attachMentions(textarea, find) {
  const list = el("ul", { class: "mention-list", role: "listbox", "aria-label": "Mention a colleague", hidden: true });
  textarea.parentElement.before(list); // above the reply row, where the eye already is
  let picked = new Map(); // name -> id
  let options = [];
  let index = 0;
  let asked = 0;

  const close = () => { list.hidden = true; options = []; };
  const draw = () => {
    list.replaceChildren(...options.map((user, i) => {
      const item = el("li", { role: "option", class: "mention-option", "aria-selected": String(i === index) },
        autoText("span", user.name, "mention-name"), el("span", { class: "mention-role" }, user.role));
      item.addEventListener("mousedown", (event) => { event.preventDefault(); choose(user); });
      return item;
    }));
    list.hidden = options.length === 0;
  };
  const choose = (user) => {
    const before = textarea.value.slice(0, textarea.selectionStart);
    const after = textarea.value.slice(textarea.selectionStart);
    const start = before.replace(TRIGGER, (match, space) => `${space}@${user.name} `);
    textarea.value = start + after;
    textarea.selectionStart = textarea.selectionEnd = start.length;
    picked.set(user.name, user.id);
    close();
    textarea.dispatchEvent(new Event("input"));
  };

  textarea.addEventListener("input", async () => {
    const match = TRIGGER.exec(textarea.value.slice(0, textarea.selectionStart));
    if (!match || !textarea.closest(".is-note")) { close(); return; }
    const ticket = ++asked;
    let users = [];
    try {
      users = await find(match[2]);
    } catch {
      users = [];
    }
    if (ticket !== asked) return; // a later keystroke asked again
    options = users.slice(0, 8);
    index = 0;
    draw();
  });
  textarea.addEventListener("keydown", (event) => {
    if (list.hidden) return;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      index = (index + (event.key === "ArrowDown" ? 1 : options.length - 1)) % options.length;
      draw();
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

  return {
    /** The ids of the colleagues still named in the text. */
    chosen: () => [...picked].filter(([name]) => textarea.value.includes(`@${name}`)).map(([, id]) => id),
    reset: () => { picked = new Map(); close(); },
  };
}
