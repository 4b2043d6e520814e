// Canned replies in the composer: "/" and a few letters list the utility's prototype messages (the
// conversation's language first); picking one puts the text, rendered for this customer, in the reply box
// to read and edit before sending. A value the text needs and the conversation lacks is said, not left blank.

import { autoText, el } from "./dom.js";
import { t } from "./i18n.js";
import { attachSuggestions, replaceTrigger } from "./suggestions.js";

const TRIGGER = /(^|\s)\/([\p{L}\p{N}_-]{0,40})$/u;
const LANGUAGE_NAMES = { fr: "FR", ar: "AR", ary: "Darija", en: "EN" };

/** Wire canned replies to a textarea. `find(query)` lists replies, `preview(reply)` resolves to the rendered
 * text (or rejects with the API's message); `onError(message)` shows a problem. */
export function attachCannedReplies(textarea, { find, preview, onError }) {
  attachSuggestions(textarea, {
    trigger: TRIGGER,
    label: t("Canned replies"),
    find,
    enabled: () => !textarea.closest(".is-note"),
    draw: (reply) => [
      el("span", { class: "canned-shortcut" }, `/${reply.shortcut}`),
      el("span", { class: "canned-language" }, LANGUAGE_NAMES[reply.language] || reply.language),
      reply.validated ? null : el("span", { class: "canned-unvalidated", title: t("Not validated yet") }, t("draft")),
      autoText("span", reply.body.slice(0, 80), "canned-body"),
    ].filter(Boolean),
    pick: async (reply) => {
      try {
        replaceTrigger(textarea, TRIGGER, await preview(reply));
      } catch (failure) {
        onError(failure.message || t("This reply cannot be used here.")
);
      }
    },
  });
}
