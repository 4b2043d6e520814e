// The conversation list: newest activity first, unread badges, channel marks, arrow-key navigation.

import { autoText, el, icon } from "./dom.js";
import { slaCountdown } from "./countdown.js";
import { contactHandle, contactName, fullTime, initials, shortTime, statusName } from "./format.js";
import { t } from "./i18n.js";

const CHANNEL_NAMES = { whatsapp: "WhatsApp", facebook: "Facebook", twitter: "X (Twitter)" };
// A public thread (a Page post, an author's mentions) and a private chat of the same platform look different.
const KINDS = {
  whatsapp: { private: ["whatsapp", "whatsapp", "WhatsApp"] },
  facebook: { private: ["messenger", "messenger", "Messenger"], public: ["facebook", "facebook", t("Facebook comments")] },
  twitter: { private: ["twitter", "twitter", t("X Direct Messages")], public: ["twitter", "twitter", t("X mentions")] },
};

/** Newest activity first, then the highest id, as the API sorts. */
export function byActivity(a, b) {
  const at = a.last_message_at || a.created_at || "";
  const bt = b.last_message_at || b.created_at || "";
  if (at !== bt) return new Date(bt) - new Date(at);
  return b.id - a.id;
}

/** [css name, icon, label] of a conversation's channel (or of a bare platform name): Messenger and Page comments,
 * X Direct Messages and mentions each have their own. */
export function channelKind(conversationOrChannel) {
  const conversation = typeof conversationOrChannel === "string" ? { channel: conversationOrChannel } : conversationOrChannel;
  const kinds = KINDS[conversation?.channel];
  if (!kinds) return ["other", "send", CHANNEL_NAMES[conversation?.channel] || conversation?.channel || t("Channel")];
  return (conversation.thread && kinds.public) || kinds.private;
}

/** A small round mark of a platform, whatever the kind of conversation (a contact's identity on it). */
export function platformBadge(platform, className = "channel") {
  const [kind, iconName, label] = platform === "facebook" ? ["facebook", "facebook", "Facebook"]
    : platform === "twitter" ? ["twitter", "twitter", "X"] : channelKind(platform);
  return el("span", { class: `${className} channel-${kind}`, title: label, role: "img", "aria-label": label,
    dataset: { channelKind: kind } }, icon(iconName, "channel-icon"));
}

/** A small round mark of the conversation's channel (a conversation, or a platform name). */
export function channelBadge(conversationOrChannel, className = "channel") {
  const [kind, iconName, label] = channelKind(conversationOrChannel);
  return el("span", { class: `${className} channel-${kind}`, title: label, role: "img", "aria-label": label,
    dataset: { channelKind: kind } }, icon(iconName, "channel-icon"));
}

function renderItem(conversation, { activeId, openIds }) {
  const name = contactName(conversation);
  const unread = conversation.unread_count || 0;
  const classes = ["conv-item"];
  if (unread) classes.push("is-unread");
  if (conversation.id === activeId) classes.push("is-active");
  else if (openIds.includes(conversation.id)) classes.push("is-open");
  const second = [contactHandle(conversation), conversation.assignee?.name].filter(Boolean);
  return el("button", {
    type: "button",
    class: classes.join(" "),
    dataset: { conversationId: conversation.id },
    "aria-current": conversation.id === activeId ? "true" : null,
  },
  el("span", { class: "avatar" }, initials(name), channelBadge(conversation)),
  el("span", { class: "conv-body" },
    el("span", { class: "conv-line" },
      autoText("span", name, "conv-name"),
      el("time", { class: "conv-time", datetime: conversation.last_message_at, title: fullTime(conversation.last_message_at) },
        shortTime(conversation.last_message_at || conversation.created_at))),
    el("span", { class: "conv-line" },
      autoText("span", second.join(" · "), "conv-sub"),
      conversation.status !== "resolved" ? slaCountdown(conversation.sla, "countdown conv-countdown") : null,
      conversation.status !== "open" ? el("span", { class: `pill pill-${conversation.status}` }, statusName(conversation.status)) : null,
      unread ? el("span", { class: "badge", "aria-label": t("{unread} unread", { unread }) }, unread > 99 ? "99+" : String(unread)) : null)));
}

const drawn = new WeakMap(); // list element -> Map(conversation id -> {signature, node})

/** Draw the list, reusing the rows that did not change: a row is never swapped under the agent's pointer
 * or keyboard focus while events stream in. */
export function renderConversationList(container, conversations, options) {
  const focusedId = document.activeElement?.closest?.(".conv-item")?.dataset.conversationId;
  const previous = drawn.get(container) || new Map();
  const current = new Map();
  const today = new Date().toDateString(); // times read "Tue" instead of "14:05" once the day has turned
  const nodes = conversations.map((conversation) => {
    const signature = JSON.stringify([conversation, conversation.id === options.activeId,
      options.openIds.includes(conversation.id), today]);
    const kept = previous.get(conversation.id);
    const node = kept?.signature === signature ? kept.node : renderItem(conversation, options);
    current.set(conversation.id, { signature, node });
    return node;
  });
  drawn.set(container, current);
  if (!nodes.length) {
    nodes.push(el("p", { class: "empty-list" }, options.filtered ? t("No conversation matches.") : t("No conversations yet.")));
  }
  placeInOrder(container, nodes);
  if (focusedId && !container.contains(document.activeElement)) {
    container.querySelector(`[data-conversation-id="${focusedId}"]`)?.focus();
  }
}

function placeInOrder(container, nodes) {
  const wanted = new Set(nodes);
  for (const child of [...container.children]) if (!wanted.has(child)) child.remove();
  let cursor = container.firstChild;
  for (const node of nodes) {
    if (node === cursor) cursor = cursor.nextSibling;
    else container.insertBefore(node, cursor);
  }
}

/** Up/Down, Home/End move between conversations; clicks and Enter open one. */
export function bindListKeys(container, onOpen) {
  container.addEventListener("click", (event) => {
    const item = event.target.closest(".conv-item");
    if (item) onOpen(Number(item.dataset.conversationId));
  });
  container.addEventListener("keydown", (event) => {
    const items = [...container.querySelectorAll(".conv-item")];
    const index = items.indexOf(document.activeElement);
    const moves = { ArrowDown: index + 1, ArrowUp: index - 1, Home: 0, End: items.length - 1 };
    if (!(event.key in moves) || !items.length) return;
    event.preventDefault();
    items[Math.max(0, Math.min(items.length - 1, moves[event.key]))].focus();
  });
}
