// @mentions in a note: typing "@" and a few letters lists the colleagues who can see the conversation;
// picking one inserts "@Name" and remembers who was meant.

import { autoText, el } from "./dom.js";
import { t } from "./i18n.js";
import { attachSuggestions, replaceTrigger } from "./suggestions.js";

const TRIGGER = /(^|\s)@([^\s@]{0,30})$/;
// The same words as the server's role names (inbox/i18n.py).
const ROLE_NAMES = {
  agent: t("Agent"), supervisor: t("Supervisor"), marketing: t("Marketing"), admin: t("Administrator"),
  reviewer: t("Reviewer"),
};

/** Wire mention suggestions to a textarea; `find(query)` resolves to users [{id, name, role}]. */
export function attachMentions(textarea, find) {
  let picked = new Map(); // name -> id
  const suggestions = attachSuggestions(textarea, {
    trigger: TRIGGER,
    label: t("Mention a colleague"),
    find,
    enabled: () => Boolean(textarea.closest(".is-note")),
    draw: (user) => [autoText("span", user.name, "mention-name"), el("span", { class: "mention-role" }, ROLE_NAMES[user.role] || user.role)],

    pick: (user) => {
      picked.set(user.name, user.id);
      replaceTrigger(textarea, TRIGGER, `@${user.name} `);
    },
  });
  return {
    /** The ids of the colleagues still named in the text. */
    chosen: () => [...picked].filter(([name]) => textarea.value.includes(`@${name}`)).map(([, id]) => id),
    reset: () => { picked = new Map(); suggestions.close(); },
  };
}
