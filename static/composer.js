// The reply box of a conversation: how the reply goes out (the conversation's reply modes, an explicit choice),
// what it answers, and the text with one file; Enter sends, Shift+Enter starts a new line. A reply the platform
// no longer allows shows its reason instead of the text box, before the agent types.

import { attachCannedReplies } from "./canned.js";
import { autoText, el, icon } from "./dom.js";
import { loadDraft, saveDraft } from "./drafts.js";
import { fileSize } from "./format.js";
import { attachMentions } from "./mentions.js";
import { t } from "./i18n.js";
import { messageSummary } from "./messages.js";
import { createTemplatePicker } from "./platform-templates.js";

export const MODE_LABELS = { direct: t("Message"), public_reply: t("Reply publicly"), private_reply: t("Reply privately") };
const MODE_ICONS = { direct: "send", public_reply: "globe", private_reply: "lock" };
const PLACEHOLDERS = {
  direct: t("Write a reply…"),
  public_reply: t("Write a public reply, seen by everyone…"),
  private_reply: t("Write a private message to the author…"),
};
const ALREADY_PRIVATE = t("This comment already had its private reply: Facebook allows only one. Answer publicly, or in Messenger once the customer writes there.");

const REPLY_HINT = t("Type / for a canned reply.");
const NOTE_PLACEHOLDER = t("Private note for colleagues, never sent to the customer. Type @ to mention someone…");

/**
 * Build a composer. `send(text, file, mode)` returns a promise that rejects with an ApiError to show;
 * `canAttach(mode)` says whether files go with a mode; `onClearTarget()` goes back to the default target;
 * `sendNote(text, mentionIds)` writes a private note, `findColleagues(query)` lists who a note can mention;
 * `draftKey` keeps the unsent text of each conversation across reloads; `templates` ({load, send}) offers the
 * platform's approved templates once its reply window has closed.
 */
export function createComposer({
  send, canAttach = () => true, onClearTarget = () => {}, sendNote = null, findColleagues = null, draftKey = null,
  findReplies = null, previewReply = null, templates = null,
}) {
  const textarea = el("textarea", {
    class: "composer-text", rows: 1, dir: "auto", placeholder: PLACEHOLDERS.direct,
    title: t("Enter sends, Shift+Enter starts a new line"), "aria-label": t("Reply"),
  });
  const fileInput = el("input", { type: "file", class: "visually-hidden", tabindex: "-1", "aria-hidden": "true" });
  const attach = el("button", { type: "button", class: "icon-button", title: t("Attach a file"), "aria-label": t("Attach a file") },
    icon("paperclip"));
  const sendButton = el("button", { type: "submit", class: "button-primary send-button", title: t("Send (Enter)") },
    icon("send"), el("span", {}, t("Send")));
  const modes = el("div", { class: "reply-modes", role: "radiogroup", "aria-label": t("How to reply"), hidden: true });
  const target = el("div", { class: "reply-target", hidden: true });
  const refusal = el("div", { class: "composer-refusal", role: "note", hidden: true });
  const chip = el("div", { class: "file-chip", hidden: true });
  const error = el("div", { class: "composer-error", role: "alert", hidden: true });
  const row = el("div", { class: "composer-row" }, attach, fileInput, textarea, sendButton);
  const kinds = el("div", { class: "composer-kinds", role: "tablist", "aria-label": t("Reply or note"), hidden: !sendNote });
  const picker = templates ? createTemplatePicker(templates) : null;
  const form = el("form", { class: "composer" }, kinds, modes, target, refusal, picker?.element, error, chip, row);
  const mentions = sendNote && findColleagues ? attachMentions(textarea, findColleagues) : null;
  let noting = false; // writing a private note rather than a reply
  if (findReplies && previewReply) {
    attachCannedReplies(textarea, { find: findReplies, preview: previewReply, onError: (message) => showError(message) });
  }

  let file = null;
  let available = [{ mode: "direct", allowed: true, reason: null }];
  let chosen = "direct";
  let answering = null; // {message, explicit}: the comment or tweet a public or private reply answers

  const setFile = (picked) => {
    file = picked || null;
    chip.hidden = !file;
    chip.replaceChildren();
    if (!file) return;
    const remove = el("button", { type: "button", class: "chip-remove", "aria-label": t("Remove the file") }, icon("close"));
    remove.addEventListener("click", () => { setFile(null); fileInput.value = ""; textarea.focus(); });
    chip.append(icon("file"), autoText("span", file.name, "chip-name"),
      el("span", { class: "chip-size" }, fileSize(file.size)), remove);
  };
  const showError = (message) => {
    error.hidden = !message;
    error.textContent = message || "";
  };
  const grow = () => {
    textarea.style.height = "auto"; // CSSOM, allowed by style-src 'self' (only markup styles are refused)
    textarea.style.height = `${Math.min(textarea.scrollHeight, 200)}px`;
  };

  /** Why the chosen mode cannot be used now, or null. */
  const refusalReason = () => {
    const option = available.find((m) => m.mode === chosen);
    // A reason that came in a realtime event is in English (shared by every reader): t() gives it ours.
    if (option && !option.allowed) return option.reason ? t(option.reason) : t("This reply is not possible now.");
    if (chosen === "direct") return null;
    const message = answering?.message;
    if (!message) return t("There is nothing to answer yet in this conversation.");
    if (message.removed_at) return t("Its author deleted this comment: it can no longer be answered.");
    if (chosen === "private_reply" && message.private_replied) return ALREADY_PRIVATE;
    return null;
  };

  const drawKinds = () => {
    kinds.replaceChildren(...[[false, t("Reply"), "send"], [true, t("Private note"), "lock"]].map(([note, label, mark]) => {
      const tab = el("button", { type: "button", role: "tab", class: "composer-kind", "aria-selected": String(noting === note),
        title: note ? t("A note only colleagues see (Alt+N)") : t("A reply to the customer (Alt+N)") }, icon(mark), label);
      tab.addEventListener("click", () => { setNoting(note); textarea.focus(); });
      return tab;
    }));
  };
  const setNoting = (note) => {
    noting = Boolean(note) && Boolean(sendNote);
    showError(null);
    draw();
  };

  const draw = () => {
    drawKinds();
    form.classList.toggle("is-note", noting);
    if (noting) {
      for (const part of [modes, target, refusal, chip]) part.hidden = true;
      picker?.show(false);
      row.hidden = false;
      attach.hidden = true;
      textarea.placeholder = NOTE_PLACEHOLDER;
      textarea.setAttribute("aria-label", t("Private note"));
      sendButton.lastChild.textContent = t("Add note");
      return;
    }
    textarea.setAttribute("aria-label", t("Reply"));
    sendButton.lastChild.textContent = t("Send");
    const showModes = available.length > 1 || available[0]?.mode !== "direct";
    modes.hidden = !showModes;
    modes.replaceChildren(...available.map((option) => {
      const button = el("button", {
        type: "button", role: "radio", class: `mode${option.allowed ? "" : " is-refused"}`,
        "aria-checked": String(option.mode === chosen), dataset: { mode: option.mode },
        title: option.allowed ? MODE_LABELS[option.mode] : option.reason && t(option.reason),
      }, icon(MODE_ICONS[option.mode] || "send"), MODE_LABELS[option.mode] || option.mode);
      button.addEventListener("click", () => { chosen = option.mode; showError(null); draw(); textarea.focus(); });
      return button;
    }));
    const message = answering?.message;
    target.hidden = chosen === "direct" || !message;
    target.replaceChildren();
    if (!target.hidden) {
      const who = message.author?.name || t("the customer");
      // The label always comes before the author's name, in the three languages.
      target.append(icon("reply"), el("span", { class: "reply-target-label" },
        answering.explicit ? t("Answering") : t("Answering the latest:")), " ",
      autoText("strong", who, "reply-target-who"), autoText("span", `« ${messageSummary(message)} »`, "reply-target-text"));
      if (answering.explicit) {
        const reset = el("button", { type: "button", class: "chip-remove", "aria-label": t("Answer the latest instead") },
          icon("close"));
        reset.addEventListener("click", () => onClearTarget());
        target.append(reset);
      }
    }
    const reason = refusalReason();
    refusal.hidden = !reason;
    refusal.textContent = reason || "";
    row.hidden = Boolean(reason);
    const option = available.find((m) => m.mode === chosen);
    picker?.show(Boolean(reason) && option && !option.allowed && Boolean(option.templates));
    attach.hidden = !canAttach(chosen);
    if (attach.hidden) setFile(null);
    textarea.placeholder = [PLACEHOLDERS[chosen] || PLACEHOLDERS.direct, findReplies ? REPLY_HINT : ""].join(" ").trim();
    form.dataset.replyMode = chosen;
  };

  const submit = async () => {
    const text = textarea.value.trim();
    if (noting ? !text : (!text && !file) || refusalReason()) return;
    sendButton.disabled = true;
    form.classList.add("is-sending");
    try {
      if (noting) await sendNote(text, mentions ? mentions.chosen() : []);
      else await send(text, file, chosen);
      mentions?.reset();
      if (draftKey) saveDraft(draftKey, "");
      textarea.value = "";
      setFile(null);
      fileInput.value = "";
      showError(null);
      grow();
    } catch (failure) {
      showError(failure.message || t("The message could not be sent.")
);
    } finally {
      sendButton.disabled = false;
      form.classList.remove("is-sending");
      if (!row.hidden) textarea.focus();
    }
  };

  attach.addEventListener("click", () => fileInput.click());
  fileInput.addEventListener("change", () => setFile(fileInput.files[0]));
  textarea.addEventListener("input", () => {
    grow();
    showError(null);
    if (draftKey) saveDraft(draftKey, textarea.value);
  });
  textarea.addEventListener("keydown", (event) => {
    if (event.defaultPrevented) return; // the mention list took the key
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      submit();
    }
  });
  textarea.addEventListener("paste", (event) => {
    const pasted = [...(event.clipboardData?.files || [])][0];
    if (pasted && canAttach(chosen)) { event.preventDefault(); setFile(pasted); }
  });
  form.addEventListener("submit", (event) => { event.preventDefault(); submit(); });
  form.addEventListener("dragover", (event) => { event.preventDefault(); form.classList.add("is-dropping"); });
  form.addEventListener("dragleave", () => form.classList.remove("is-dropping"));
  form.addEventListener("drop", (event) => {
    event.preventDefault();
    form.classList.remove("is-dropping");
    if (event.dataTransfer?.files?.[0] && canAttach(chosen)) setFile(event.dataTransfer.files[0]);
  });
  if (draftKey) {
    textarea.value = loadDraft(draftKey);
    requestAnimationFrame(grow);
  }
  draw();

  return {
    element: form,
    /** Switch between a reply and a private note (Alt+N). */
    toggleNote: () => { setNoting(!noting); textarea.focus(); },
    focus: () => (row.hidden ? form.querySelector(".mode[aria-checked=true]") : textarea)?.focus(),
    showError,
    /** The conversation's reply modes changed (a new conversation, the window closing...). */
    setModes(replyModes) {
      available = replyModes?.length ? replyModes : [{ mode: "direct", allowed: true, reason: null }];
      if (!available.some((m) => m.mode === chosen)) chosen = available[0].mode;
      draw();
    },
    /** Pick a mode (the agent clicked "Reply" on a comment: a public reply unless asked otherwise). */
    choose(mode) {
      if (available.some((m) => m.mode === mode)) chosen = mode;
      draw();
    },
    mode: () => chosen,
    /** What a public or private reply answers: {message, explicit} or null. */
    setTarget(value) {
      answering = value;
      draw();
    },
  };
}
