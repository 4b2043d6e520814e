// Canned replies in the composer: "/" and a few letters list the utility's prototype messages (the
// conversation's language first); ↑/↓ and Enter put the text, rendered for this customer, in the reply box
// to read and edit before sending. A value the text needs and the conversation lacks is said, not left blank.

import { autoText, el } from "./dom.js";

const TRIGGER = /(^|\s)\/([\p{L}\p{N}_-]{0,40})$/u;
const LANGUAGE_NAMES = { fr: "FR", ar: "AR", ary: "Darija", en: "EN" };

/** Wire canned replies to a textarea. `find(query)` lists replies, `preview(reply)` resolves to the rendered
 * text (or rejects with the API's message); `onError(message)` shows a problem. */
export function attachCannedReplies(textarea, { find, preview, onError }) {
  const list = el("ul", { class: "mention-list canned-list", role: "listbox", "aria-label": "Canned replies",
    hidden: true });
  textarea.parentElement.before(list);
  let options = [];
  let index = 0;
  let asked = 0;

  const close = () => { list.hidden = true; options = []; };
  const draw = () => {
    list.replaceChildren(...options.map((reply, i) => {
      const item = el("li", { role: "option", class: "mention-option canned-option", "aria-selected": String(i === index) },
        el("span", { class: "canned-shortcut" }, `/${reply.shortcut}`),
        el("span", { class: "canned-language" }, LANGUAGE_NAMES[reply.language] || reply.language),
        reply.validated ? null : el("span", { class: "canned-unvalidated", title: "Not validated yet" }, "draft"),
        autoText("span", reply.body.slice(0, 80), "canned-body"));
      item.addEventListener("mousedown", (event) => { event.preventDefault(); choose(reply); });
      return item;
    }));
    list.hidden = options.length === 0;
  };
  const choose = async (reply) => {
    close();
    const before = textarea.value.slice(0, textarea.selectionStart);
    const after = textarea.value.slice(textarea.selectionStart);
    try {
      const text = await preview(reply);
      const start = before.replace(TRIGGER, (match, space) => `${space}${text}`);
      textarea.value = start + after;
      textarea.selectionStart = textarea.selectionEnd = start.length;
      textarea.dispatchEvent(new Event("input"));
    } catch (failure) {
      onError(failure.message || "This reply cannot be used here.");
    }
  };

  textarea.addEventListener("input", async () => {
    const match = TRIGGER.exec(textarea.value.slice(0, textarea.selectionStart));
    if (!match || textarea.closest(".is-note")) { close(); return; }
    const ticket = ++asked;
    let replies = [];
    try {
      replies = await find(match[2]);
    } catch {
      replies = [];
    }
    if (ticket !== asked) return;
    options = replies.slice(0, 8);
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
}
