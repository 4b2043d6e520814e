// Private notes in a conversation's history: drawn apart from messages, never mistaken for a reply.

import { autoText, el, icon } from "./dom.js";
import { clockTime, fullTime } from "./format.js";
import { t } from "./i18n.js";

/** A note's bubble: author, time, text with its @mentions highlighted. */
export function renderNote(note) {
  return el("div", { class: "msg msg-note", dataset: { noteId: note.id }, role: "note",
    "aria-label": note.author?.name ? t("Private note by {name}", { name: note.author.name }) : t("Private note by a colleague") },
  el("div", { class: "note-head" }, icon("lock"),
    autoText("strong", note.author?.name || t("A colleague"), "note-author"),
    el("span", { class: "note-label" }, t("private note")),

    el("time", { class: "msg-time", datetime: note.created_at, title: fullTime(note.created_at) },
      clockTime(note.created_at))),
  noteText(note));
}

function noteText(note) {
  const names = (note.mentions || []).map((user) => `@${user.name}`);
  const paragraph = el("p", { class: "msg-text", dir: "auto" });
  let rest = note.text;
  while (rest) {
    const found = names.map((name) => [rest.indexOf(name), name]).filter(([at]) => at >= 0).sort((a, b) => a[0] - b[0])[0];
    if (!found) { paragraph.append(rest); break; }
    const [at, name] = found;
    paragraph.append(rest.slice(0, at), el("span", { class: "mention" }, name));
    rest = rest.slice(at + name.length);
  }
  return paragraph;
}
