// One open conversation: its header, its history kept in order and updated live, and its composer.

import { ApiError, get, post } from "./api.js";
import { CasePanel } from "./case-panel.js";
import { AssignmentBar } from "./assignment.js";
import { createComposer } from "./composer.js";
import { ContactPanel } from "./contact-panel.js";
import { channelBadge } from "./conversation-list.js";
import { slaCountdown } from "./countdown.js";
import { autoText, el, icon } from "./dom.js";
import { contactHandle, contactName, dayKey, dayLabel, requestTypeName, safeUrl, statusName } from "./format.js";
import { t } from "./i18n.js";
import { STATUS_RANK, reactionsByTarget, renderMessage } from "./messages.js";
import { renderNote } from "./notes.js";

const ME = document.getElementById("app")?.dataset || {};
const STICK_DISTANCE = 80; // px from the bottom within which new messages keep the view scrolled down
// The customer's language, named in itself (as the language picker does).
const LANGUAGE_NAMES = { fr: "Français", ar: "العربية", ary: "Darija", en: "English" };

function byTime(a, b) {
  const difference = new Date(a.created_at) - new Date(b.created_at);
  return difference || a.id - b.id;
}

/** Keep what the newest of two copies of a message says: a delivery status never moves backwards, and a
 * downloaded file stays downloaded (copies can arrive out of order around a reload). */
function merge(previous, incoming) {
  if (!previous) return incoming;
  const merged = { ...incoming };
  if ((STATUS_RANK[incoming.status] ?? 0) < (STATUS_RANK[previous.status] ?? 0)) {
    Object.assign(merged, { status: previous.status, error: previous.error, external_id: previous.external_id });
  }
  const ready = new Map((previous.attachments || []).filter((a) => a.state === "ready").map((a) => [a.id, a]));
  merged.attachments = (incoming.attachments || []).map((a) => ready.get(a.id) || a);
  return merged;
}

export class ConversationPane {
  constructor(conversation, { onClose, onFocus, onOpenConversation = () => {}, onConversation = null }) {
    this.conversation = conversation;
    this.messages = new Map();
    this.notes = new Map(); // private notes, drawn among the messages by time
    this.targetId = null; // the comment or tweet the agent chose to answer; null: the latest
    this.header = el("header", { class: "pane-header" });
    this.thread = el("div", { class: "pane-thread", hidden: true });
    this.history = el("div", { class: "history", role: "log", "aria-live": "polite", tabindex: "0",
      "aria-label": t("Messages") });
    this.composer = createComposer({
      send: (text, file, mode) => this.send(text, file, mode),
      canAttach: (mode) => !(this.conversation.channel === "facebook" && mode !== "direct"),
      onClearTarget: () => this.chooseTarget(null),
      sendNote: (text, mentions) => this.addNote(text, mentions),
      findColleagues: async (query) => (await get(
        `/api/v1/conversations/${conversation.id}/mentionable?${new URLSearchParams({ q: query })}`)).items,
      draftKey: `${ME.userId}:${conversation.id}`,
      findReplies: async (query) => (await get(`/api/v1/canned-replies?${new URLSearchParams({
        q: query, language: this.conversation.language || "fr" })}`)).items,
      previewReply: async (reply) => (await post(
        `/api/v1/conversations/${this.conversation.id}/canned-replies/${reply.id}/preview`)).text,
      templates: {
        load: () => get(`/api/v1/conversations/${this.conversation.id}/templates`),
        send: async (template) => this.upsert(await post(`/api/v1/conversations/${this.conversation.id}/messages`,
          { json: { template } })),
      },
    });
    this.composer.element.hidden = ME.userRole === "reviewer"; // reviewers read and approve; they never write
    const close = el("button", { type: "button", class: "icon-button pane-close", title: t("Close (Alt+W)"),
      "aria-label": t("Close this conversation") }, icon("close"));
    close.addEventListener("click", () => onClose(conversation.id));
    this.closeButton = close;
    this.contactButton = el("button", { type: "button", class: "button-quiet contact-toggle", "aria-expanded": "false",
      title: t("The contact: every channel, other conversations, merging") }, icon("user"), el("span", {}, t("Contact")));
    this.contactPanel = new ContactPanel({
      onOpenConversation,
      onClose: () => this.toggleContact(false),
    });
    this.contactButton.addEventListener("click", () => this.toggleContact());
    this.casePanel = new CasePanel(conversation); // qualification bar and case (case-panel.js)
    this.assignment = new AssignmentBar(conversation, {
      onChanged: (changed) => (onConversation ? onConversation(changed) : this.setConversation(changed)),
    });
    this.element = el("section", { class: "pane", dataset: { conversationId: conversation.id } }, this.header,
      this.assignment.element,
      el("div", { class: "pane-body" }, this.thread, this.casePanel.element, this.history, this.composer.element,
        this.contactPanel.element));
    this.followEnd = true;
    this.history.addEventListener("scroll", () => { this.followEnd = this.isAtEnd(); }, { passive: true });
    this.element.addEventListener("focusin", () => onFocus(conversation.id));
    this.element.addEventListener("mousedown", () => onFocus(conversation.id));
    this.renderHeader();
    this.composer.setModes(conversation.reply_modes);
  }

  /** The conversation changed (status, assignee, contact name, reply modes...). */
  setConversation(conversation) {
    const contactChanged = conversation.contact?.id !== this.conversation.contact?.id;
    this.conversation = conversation;
    this.renderHeader();
    this.assignment.update(conversation);
    this.composer.setModes(conversation.reply_modes);
    this.casePanel.setConversation(conversation);
    if (this.contactPanel.isOpen()) this.contactPanel.open(conversation.contact.id, conversation.id, !contactChanged);
  }

  isPublic() {
    return Boolean(this.conversation.thread);
  }

  renderHeader() {
    const conversation = this.conversation;
    const handle = contactHandle(conversation);
    const tags = [
      el("span", { class: `pill pill-${conversation.status}` }, statusName(conversation.status)),
      conversation.status !== "resolved" ? slaCountdown(conversation.sla, "countdown pane-countdown") : null,
      conversation.case_number
        ? el("span", { class: "pill", dir: "auto" }, t("Case {number}", { number: conversation.case_number })) : null,
      conversation.request_type ? el("span", { class: "pill" }, requestTypeName(conversation.request_type)) : null,
      conversation.language ? el("span", { class: "pill pill-language", title: t("The customer's language") },
        LANGUAGE_NAMES[conversation.language] || conversation.language) : null,
      conversation.assignee
        ? autoText("span", t("Assigned to {name}", { name: conversation.assignee.name }), "pane-assignee") : null,
    ];
    this.header.replaceChildren(
      channelBadge(conversation, "channel channel-large"),
      el("div", { class: "pane-title" },
        autoText("h2", contactName(conversation), "pane-name"),
        el("div", { class: "pane-details" },
          handle ? autoText("span", handle, "pane-handle") : null,

          conversation.account?.name ? autoText("span", conversation.account.name, "pane-account") : null,
          ...tags)),
      this.contactButton,
      this.closeButton);
    this.renderThread();
  }

  /** A comment conversation shows its post (text and link); a mention conversation, whose mentions they are. */
  renderThread() {
    const thread = this.conversation.thread;
    this.thread.hidden = !thread;
    this.thread.dataset.channel = this.conversation.channel;
    if (!thread) { this.thread.replaceChildren(); return; }
    const twitter = this.conversation.channel === "twitter";
    const url = safeUrl(thread.url);
    const handle = contactHandle(this.conversation);
    const mentions = handle ? t("Public mentions of the account by @{handle}", { handle })
      : t("Public mentions of the account");
    const text = thread.text || (twitter ? mentions : t("A post of the Page"));
    this.thread.replaceChildren(
      el("span", { class: "pane-thread-icon" }, icon(twitter ? "twitter" : "facebook")),
      el("div", { class: "pane-thread-body" },
        el("span", { class: "pane-thread-label" }, twitter ? t("Mentions") : t("Post")),
        autoText("p", text, "pane-thread-text")),
      url ? el("a", { class: "pane-thread-link", href: url, target: "_blank", rel: "noopener noreferrer" },
        icon("link"), twitter ? t("Open on X") : t("Open the post")) : null);
  }

  toggleContact(open = !this.contactPanel.isOpen()) {
    this.contactButton.setAttribute("aria-expanded", String(open));
    if (open) this.contactPanel.open(this.conversation.contact.id, this.conversation.id);
    else this.contactPanel.close();
  }

  /** Fetch the whole history again (on open and after a reconnect). */
  async load() {
    if (!this.messages.size) this.history.replaceChildren(el("p", { class: "history-note" }, t("Loading…")));
    this.arrivedWhileLoading = [];
    try {
      const [{ items }, notes] = await Promise.all([
        get(`/api/v1/conversations/${this.conversation.id}/messages`),
        get(`/api/v1/conversations/${this.conversation.id}/notes`),
      ]);
      this.messages = new Map(items.map((message) => [message.id, message]));
      this.notes = new Map(notes.items.map((note) => [note.id, note]));
      for (const item of this.arrivedWhileLoading) {
        if (item.isNote) this.notes.set(item.id, item);
        else this.messages.set(item.id, merge(this.messages.get(item.id), item));
      }
      this.renderAll();
      this.scrollToEnd();
    } catch (error) {
      this.history.replaceChildren(el("p", { class: "history-note history-error", role: "alert" },
        t("The messages could not be loaded: {reason}", { reason: error.message })));
    } finally {
      this.arrivedWhileLoading = null;
    }
  }

  ordered() {
    return [...this.messages.values()].sort(byTime);
  }

  contextFor(message, reactions) {
    const quoted = message.reply_to_external_id && message.type !== "reaction"
      ? this.ordered().find((other) => other.external_id === message.reply_to_external_id) || null
      : undefined;
    const answerable = this.isPublic() && message.direction === "in" && message.external_id;
    return {
      reactions: message.external_id ? reactions.get(message.external_id) : undefined,
      quoted,
      onRetry: (attachment) => this.retry(attachment),
      onMediaLoad: () => this.keepAtEnd(),
      onReply: answerable ? (chosen) => this.chooseTarget(chosen.id) : null,
      onHide: answerable && this.conversation.channel === "facebook" ? (chosen) => this.hide(chosen) : null,
      isTarget: answerable && this.targetId === message.id,
    };
  }

  /** The comment or tweet a public or private reply answers: the one chosen, else the latest still there. */
  target() {
    if (!this.isPublic()) return null;
    const chosen = this.targetId && this.messages.get(this.targetId);
    if (chosen) return { message: chosen, explicit: true };
    const inbound = this.ordered().filter((m) => m.direction === "in" && m.external_id && !m.removed_at);
    return inbound.length ? { message: inbound[inbound.length - 1], explicit: false } : null;
  }

  chooseTarget(messageId) {
    const previous = this.targetId;
    this.targetId = messageId;
    for (const id of [previous, messageId]) {
      const message = id && this.messages.get(id);
      if (message) this.redrawInPlace(message, message);
    }
    this.composer.setTarget(this.target());
    this.composer.focus();
  }

  async hide(message) {
    try {
      const changed = await post(`/api/v1/messages/${message.id}/hide`, { json: { hidden: !message.hidden } });
      this.upsert(changed);
    } catch (error) {
      this.composer.showError(error instanceof ApiError ? error.message : t("The comment could not be hidden."));
      this.redrawInPlace(message, message);
    }
  }

  /** Draw every message and note, with day separators; reactions go on the message they react to. */
  renderAll() {
    const messages = this.ordered();
    const reactions = reactionsByTarget(messages);
    const known = new Set(messages.map((message) => message.external_id).filter(Boolean));
    const items = [...messages, ...[...this.notes.values()].map((note) => ({ ...note, isNote: true }))].sort(byTime);
    const nodes = [];
    let lastDay = null;
    for (const message of items) {
      if (message.type === "reaction" && known.has(message.reply_to_external_id)) continue;
      const day = dayKey(message.created_at);
      if (day !== lastDay) nodes.push(el("div", { class: "day", role: "separator" }, dayLabel(message.created_at)));
      lastDay = day;
      if (message.isNote) nodes.push(renderNote(message));
      else nodes.push(message.type === "reaction" ? this.orphanReaction(message) : renderMessage(message,
        this.contextFor(message, reactions)));
    }
    if (!nodes.length) nodes.push(el("p", { class: "history-note" }, t("No messages yet.")));
    this.history.replaceChildren(...nodes);
    this.composer.setTarget(this.target());
  }

  orphanReaction(message) {
    const text = message.text ? t("Reacted {emoji} to an earlier message", { emoji: message.text }) : t("Removed a reaction");
    return el("div", { class: "msg msg-event", dataset: { messageId: message.id, type: "reaction" } }, text);
  }

  /** A message arrived or changed: replace its bubble in place, or add it, keeping the view at the end. */
  upsert(message) {
    if (this.arrivedWhileLoading) {
      this.arrivedWhileLoading.push(message); // applied over the history being fetched
      return;
    }
    const atEnd = this.followEnd;
    const previous = this.messages.get(message.id);
    this.messages.set(message.id, merge(previous, message));
    if (!this.redrawInPlace(message, previous)) this.renderAll();
    else this.composer.setTarget(this.target());
    if (atEnd || (!previous && message.direction === "out")) this.scrollToEnd();
  }

  redrawInPlace(message, previous) {
    if (message.type === "reaction") return false; // its target's bubble changes; redraw the lot
    const current = this.history.querySelector(`[data-message-id="${message.id}"]`);
    if (!previous || !current) return false;
    const reactions = reactionsByTarget(this.ordered());
    current.replaceWith(renderMessage(this.messages.get(message.id), this.contextFor(message, reactions)));
    return true;
  }

  async send(text, file, mode = "direct") {
    const fields = { text, mode };
    const target = mode === "direct" ? null : this.target();
    if (target) fields.reply_to = target.message.id;
    let body;
    if (file) {
      const form = new FormData();
      Object.entries(fields).forEach(([key, value]) => form.append(key, String(value)));
      form.append("file", file, file.name);
      body = { form };
    } else {
      body = { json: fields };
    }
    let message;
    try {
      message = await post(`/api/v1/conversations/${this.conversation.id}/messages`, body);
    } catch (failure) {
      // The window closed while the agent was writing: the composer switches to the approved templates.
      if (failure.code === "outside_window") {
        this.composer.setModes(this.conversation.reply_modes?.map((m) => (m.mode === mode
          ? { ...m, allowed: false, reason: failure.message } : m)));
      }
      throw failure;
    }
    if (mode === "private_reply" && target) {
      // The comment's one private reply is used up: the composer says so before the agent types again.
      this.messages.set(target.message.id, { ...this.messages.get(target.message.id), private_replied: true });
      this.redrawInPlace(target.message, target.message);
    }
    this.upsert(message);
  }

  async addNote(text, mentions) {
    this.upsertNote(await post(`/api/v1/conversations/${this.conversation.id}/notes`, { json: { text, mentions } }));
  }

  /** A note was written (here or by a colleague, live). */
  upsertNote(note) {
    if (this.arrivedWhileLoading) {
      this.arrivedWhileLoading.push({ ...note, isNote: true }); // applied over the history being fetched
      return;
    }
    const atEnd = this.followEnd;
    this.notes.set(note.id, note);
    this.renderAll();
    if (atEnd || note.author?.id === Number(ME.userId)) this.scrollToEnd();
  }

  /** Switch the composer between a reply and a private note. */
  toggleNote() {
    this.composer.toggleNote();
  }

  async retry(attachment) {
    try {
      await post(`/api/v1/attachments/${attachment.id}/retry`);
      this.setAttachmentState(attachment.id, "pending");
    } catch (error) {
      const failure = error instanceof ApiError ? error.message : t("The file could not be asked for again.");

      this.setAttachmentState(attachment.id, "failed", failure);
    }
  }

  setAttachmentState(attachmentId, state, error = null) {
    for (const message of this.messages.values()) {
      const attachment = message.attachments?.find((a) => a.id === attachmentId);
      if (!attachment) continue;
      const attachments = message.attachments.map((a) => (a.id === attachmentId ? { ...a, state, error } : a));
      this.upsert({ ...message, attachments });
    }
  }

  isAtEnd() {
    const { scrollHeight, scrollTop, clientHeight } = this.history;
    return scrollHeight - scrollTop - clientHeight < STICK_DISTANCE;
  }

  scrollToEnd() {
    this.history.scrollTop = this.history.scrollHeight;
    this.followEnd = true;
  }

  // Images load after the bubbles are drawn: a view that was at the end stays there while they grow.
  keepAtEnd() {
    if (this.followEnd) this.scrollToEnd();
  }

  /** Before the pane leaves the page (another tab shown): remember where the reader was. */
  hidden() {
    this.savedScroll = this.history.scrollTop;
  }

  /** Back on the page: a detached element forgets its scroll position, so put it back. */
  shown() {
    if (this.followEnd) this.scrollToEnd();
    else this.history.scrollTop = this.savedScroll || 0;
  }

  focus() {
    this.composer.focus();
  }
}
