// One message as a bubble: every message type, attachments in every state, status ticks and reactions.

import { append, autoText, el, icon } from "./dom.js";
import { clockTime, fileSize, fullTime } from "./format.js";
import { t } from "./i18n.js";

const STATUS_LABELS = {
  queued: t("Queued"),
  sent: t("Sent"),
  delivered: t("Delivered"),
  read: t("Read"),
  failed: t("Not sent"),
};
const STATUS_ICONS = { queued: "clock", sent: "tick", delivered: "ticks", read: "ticks", failed: "alert" };
const TYPE_LABELS = {
  interactive: t("Button reply"),
  button: t("Quick reply"),
  order: t("Order"),
  comment: t("Comment"),
  post: t("Post"),
  mention: t("Mention"),
  sticker: t("Sticker"),
  link: t("Link"),
  template: t("Approved template"),
};
const MODE_LABELS = { public_reply: t("Public reply"), private_reply: t("Private reply") };
const INTERACTIVE_LABELS = { button_reply: t("Button reply"), list_reply: t("List reply"), nfm_reply: t("Form reply") };
// Messages the service sent by itself (message.automatic): never an agent's.
const AUTOMATIC_TEXT = {
  author: t("Automatic"),
  title: t("Sent by the service itself, not by an agent"),
  choices: t("Choices offered"),
  reading: t("Meter reading"),
};
const MEDIA_TYPES = new Set(["image", "video", "audio", "document", "sticker"]);

/** Outbound statuses in the order they move; a late event never moves a bubble backwards. */
export const STATUS_RANK = { received: 0, queued: 1, sent: 2, delivered: 3, read: 4, failed: 5 };

/** Reactions by the external id of the message they react to: the latest emoji of each reactor, "" removes. */
export function reactionsByTarget(messages) {
  const byTarget = new Map();
  for (const message of messages) {
    if (message.type !== "reaction" || !message.reply_to_external_id) continue;
    const reactors = byTarget.get(message.reply_to_external_id) || new Map();
    const reactor = `${message.direction}:${message.author?.id ?? ""}`;
    reactors.delete(reactor); // re-inserted last, so reactions keep the order they were made in
    if (message.text) reactors.set(reactor, { emoji: message.text, author: message.author?.name || "" });
    byTarget.set(message.reply_to_external_id, reactors);
  }
  return byTarget;
}

/** A one-line summary of a message, for quotes and notifications. */
export function messageSummary(message) {
  if (message.text) return message.text;
  const attachment = message.attachments?.[0];
  if (attachment?.filename) return attachment.filename;
  return { image: t("Photo"), video: t("Video"), audio: t("Audio"), sticker: t("Sticker"), location: t("Location") }[message.type]
    || `[${message.type}]`;
}

/** The bubble of one message. `context` gives {reactions, quoted, onRetry, onReply, onHide, isTarget}:
 * onReply and onHide offer "Reply" and "Hide" on a customer's public comment or tweet. */
export function renderMessage(message, context = {}) {
  const outbound = message.direction === "out";
  const classes = ["msg", outbound ? "msg-out" : "msg-in"];
  if (message.status === "failed") classes.push("msg-failed");
  if (message.automatic) classes.push("msg-auto");
  if (message.removed_at) classes.push("msg-removed");
  if (message.hidden) classes.push("msg-hidden");
  if (context.isTarget) classes.push("is-target");
  const row = el("div", { class: classes.join(" "), dataset: { messageId: message.id, type: message.type } });
  if (message.type === "unsupported" || message.type === "system") {
    row.append(renderNotice(message));
    return row;
  }
  const quote = message.reply_to_external_id && context.quoted !== undefined ? renderQuote(context.quoted) : null;
  const history = message.history?.length ? renderHistory(message) : null;
  row.append(append(el("div", { class: "bubble" }), [labels(message), quote, renderContent(message, context),
    history, renderMeta(message, history)]));
  if (context.reactions?.size) row.append(renderReactions(context.reactions));
  if (message.removed_at) row.append(el("p", { class: "msg-note" }, t("Deleted by the author")));
  if (message.status === "failed" && message.error) {
    // From a realtime event the reason is in English; t() translates a known sentence, the rest shows as is.
    row.append(el("p", { class: "msg-error", role: "note" }, t(message.error.message || message.error.code)));
  }
  const actions = renderActions(message, context);
  if (actions) row.append(actions);
  return row;
}

/** Earlier versions of an edited comment, shown on demand. */
function renderHistory(message) {
  return el("ol", { class: "msg-history", hidden: true, "aria-label": t("Earlier versions") },
    message.history.map((version) => el("li", {},
      version.at ? el("time", { datetime: version.at, title: fullTime(version.at) }, clockTime(version.at)) : null,
      autoText("span", version.text ?? "", "msg-history-text"))));
}

function renderActions(message, context) {
  if (message.direction !== "in" || message.removed_at || (!context.onReply && !context.onHide)) return null;
  const actions = el("div", { class: "msg-actions" });
  if (context.onReply) {
    const reply = el("button", { type: "button", class: "msg-action", dataset: { action: "reply" },
      "aria-pressed": String(Boolean(context.isTarget)) }, icon("reply"), t("Reply"));
    reply.addEventListener("click", () => context.onReply(message));
    actions.append(reply);
  }
  if (context.onHide) {
    const hide = el("button", { type: "button", class: "msg-action", dataset: { action: "hide" } },
      icon("eyeOff"), message.hidden ? t("Unhide") : t("Hide"));
    hide.addEventListener("click", () => { hide.disabled = true; context.onHide(message); });
    actions.append(hide);
  }
  if (message.private_replied) actions.append(el("span", { class: "msg-flag" }, icon("lock"), t("Answered privately")));
  return actions;
}

function labels(message) {
  const found = [];
  if (message.data?.forwarded) {
    found.push(message.data.forwarded === "frequently" ? t("Forwarded many times") : t("Forwarded"));
  }
  if (message.automatic && message.data?.receipt_number) {
    found.push(`${AUTOMATIC_TEXT.reading} ${message.data.receipt_number}`);
  } else if (message.type === "interactive" && message.direction === "out") {
    found.push(AUTOMATIC_TEXT.choices);
  } else if (message.type === "interactive") {
    found.push(INTERACTIVE_LABELS[message.data?.interactive_type] || TYPE_LABELS.interactive);
  } else if (TYPE_LABELS[message.type]) {
    found.push(TYPE_LABELS[message.type]);
  }
  if (message.data?.referral) found.push(t("From an ad"));
  if (MODE_LABELS[message.mode]) found.push(MODE_LABELS[message.mode]);
  if (message.hidden) found.push(t("Hidden"));
  return found.map((text) => el("span", { class: "msg-label" }, text));
}

function renderQuote(quoted) {
  if (!quoted) return el("div", { class: "quote" }, t("Reply to an earlier message"));
  const who = quoted.direction === "out" ? quoted.author?.name || t("Agent") : quoted.author?.name || t("Customer");
  return el("div", { class: "quote" }, el("strong", { dir: "auto" }, who), autoText("span", messageSummary(quoted)));
}

function renderContent(message, context) {
  if (MEDIA_TYPES.has(message.type) || message.attachments?.length) {
    const files = (message.attachments || []).map((attachment) => renderAttachment(message, attachment, context));
    return [...files, message.text ? autoText("p", message.text, "text") : null];
  }
  if (message.type === "location") return [renderLocation(message)];
  if (message.type === "contacts") return [renderContacts(message.data?.contacts || [])];
  const parts = [autoText("p", message.text ?? "", "text")];
  if (message.data?.description) parts.push(autoText("p", message.data.description, "text-secondary"));
  const options = message.direction === "out" ? message.data?.choices?.options : null;
  if (Array.isArray(options)) {
    parts.push(el("ul", { class: "msg-choices" }, options.map((option) => autoText("li", option.title ?? ""))));
  }
  return parts;
}

function renderAttachment(message, attachment, context) {
  if (attachment.state === "pending") {
    return el("div", { class: "attachment attachment-pending", role: "status" },
      icon("file"), el("span", {}, t("downloading…")),
      attachment.filename ? autoText("span", attachment.filename, "attachment-name") : null);
  }
  if (attachment.state === "failed" || !attachment.url) {
    return renderFailedAttachment(attachment, context);
  }
  if (message.type === "image" || message.type === "sticker") {
    const image = el("img", {
      src: attachment.url,
      alt: attachment.filename || (message.type === "sticker" ? t("Sticker") : t("Image")),
      class: message.type === "sticker" ? "sticker" : "photo",
      loading: "lazy",
    });
    image.addEventListener("load", () => context.onMediaLoad?.());
    return el("a", { href: attachment.url, target: "_blank", rel: "noopener", class: "photo-link" }, image);
  }
  if (message.type === "video") {
    return el("video", { src: attachment.url, controls: true, preload: "metadata", class: "video" });
  }
  if (message.type === "audio") {
    return el("audio", { src: attachment.url, controls: true, preload: "metadata", class: "audio" });
  }
  return renderDocument(attachment);
}

function renderFailedAttachment(attachment, context) {
  const retry = el("button", { type: "button", class: "button-small" }, icon("retry"), t("Retry"));
  retry.addEventListener("click", () => {
    retry.disabled = true;
    context.onRetry?.(attachment);
  });
  const canRetry = context.canRetry !== false;
  return el("div", { class: "attachment attachment-failed", role: "alert" },
    el("span", { class: "attachment-failed-title" }, icon("alert"),
      attachment.filename ? autoText("strong", attachment.filename, "attachment-name") : t("File not downloaded")),
    el("span", {}, attachment.filename
      ? t("File not downloaded: {reason}", { reason: attachment.error || t("unknown error") })
      : attachment.error || t("unknown error")),
    canRetry ? retry : null);
}

function renderDocument(attachment) {
  const name = attachment.filename || t("Document");
  const extension = (name.includes(".") ? name.split(".").pop() : attachment.mime_type?.split("/").pop() || "")
    .toUpperCase().slice(0, 8);
  return el("a", { class: "document", href: attachment.url, download: name },
    el("span", { class: "document-icon" }, icon("file")),
    el("span", { class: "document-text" },
      autoText("span", name, "document-name"),
      el("span", { class: "document-size" }, [fileSize(attachment.size), extension].filter(Boolean).join(" · "))));
}

function renderLocation(message) {
  const { latitude, longitude, name, address } = message.data || {};
  const lat = Number(latitude);
  const lon = Number(longitude);
  const known = Number.isFinite(lat) && Number.isFinite(lon);
  const link = known
    ? el("a", {
      href: `https://www.openstreetmap.org/?mlat=${lat}&mlon=${lon}#map=17/${lat}/${lon}`,
      target: "_blank",
      rel: "noopener noreferrer",
      class: "map-link",
    }, t("Open map"))
    : null;
  return el("div", { class: "location" },
    el("span", { class: "location-icon" }, icon("pin")),
    el("div", {},
      name ? autoText("strong", name) : null,
      address ? autoText("div", address, "text-secondary") : null,
      el("div", { class: "coords" }, known ? `${lat.toFixed(5)}, ${lon.toFixed(5)}` : t("Position unknown")),
      link));
}

function renderContacts(contacts) {
  return el("ul", { class: "contact-cards" }, contacts.map((contact) => {
    const name = contact.name?.formatted_name
      || [contact.name?.first_name, contact.name?.last_name].filter(Boolean).join(" ") || t("Contact");
    const phones = (contact.phones || []).map((phone) =>
      el("li", {}, autoText("span", phone.phone || phone.wa_id || "", "contact-phone"),

        phone.type ? el("span", { class: "text-secondary" }, ` ${phone.type.toLowerCase()}`) : null));
    return el("li", { class: "contact-card" },
      el("span", { class: "contact-card-icon" }, icon("user")),
      el("div", {}, autoText("strong", name),
        contact.org?.company ? autoText("div", contact.org.company, "text-secondary") : null,
        el("ul", { class: "phones" }, phones)));
  }));
}

function renderNotice(message) {
  const title = message.type === "system" ? t("Notice") : t("Unsupported message");
  const detail = message.type === "system"
    ? message.text
    : message.error?.message || t("This type of message cannot be shown here.");
  return el("div", { class: "notice" }, icon("alert"),
    el("span", {}, el("strong", {}, title), " ", autoText("span", detail || "")),
    el("time", { datetime: message.created_at, title: fullTime(message.created_at) }, clockTime(message.created_at)));
}

function renderMeta(message, history) {
  const meta = el("div", { class: "meta" });
  if (message.direction === "out" && message.author?.type === "user") {
    meta.append(autoText("span", message.author.name, "meta-author"));
  } else if (message.direction === "out" && message.automatic) {
    meta.append(el("span", { class: "meta-author meta-automatic", title: AUTOMATIC_TEXT.title },
      icon("bolt"), AUTOMATIC_TEXT.author));
  } else if (message.direction === "out" && message.author?.type === "external") {
    // Typed outside the service: in the Page's own inbox or the X app.
    meta.append(el("span", { class: "meta-author meta-external", title: t("Sent outside the inbox"), dir: "auto" },
      message.author.name || t("Outside the inbox")));
  }
  if (message.edited_at || history) {
    const edited = el("button", { type: "button", class: "meta-edited", "aria-expanded": "false",
      title: editedTitle(message) }, t("edited"));
    if (history) {
      edited.addEventListener("click", () => {
        history.hidden = !history.hidden;
        edited.setAttribute("aria-expanded", String(!history.hidden));
      });
    } else {
      edited.disabled = true;
    }
    meta.append(edited);
  }
  const when = message.sent_at && message.direction === "in" ? message.sent_at : message.created_at;
  meta.append(el("time", { datetime: when, title: fullTime(when) }, clockTime(when)));
  if (message.direction === "out") meta.append(statusElement(message.status));
  return meta;
}

function editedTitle(message) {
  const lines = [message.edited_at ? t("Edited {when}", { when: fullTime(message.edited_at) }) : t("Edited")];
  for (const version of message.history || []) lines.push(t("Before: {text}", { text: version.text ?? "" }));

  return lines.join("\n");
}

/** The ticks of an outbound message, with a stable data-status attribute. */
export function statusElement(status) {
  const label = STATUS_LABELS[status] || status;
  return el("span", { class: `status status-${status}`, dataset: { status }, title: label, role: "img",
    "aria-label": label }, icon(STATUS_ICONS[status] || "clock", "status-icon"));
}

function renderReactions(reactions) {
  const counts = new Map();
  const names = new Map();
  for (const { emoji, author } of reactions.values()) {
    counts.set(emoji, (counts.get(emoji) || 0) + 1);
    names.set(emoji, [...(names.get(emoji) || []), author].filter(Boolean));
  }
  return el("div", { class: "reactions" }, [...counts].map(([emoji, count]) =>
    el("span", { class: "reaction", title: (names.get(emoji) || []).join(", "), dataset: { emoji } },
      emoji, count > 1 ? el("span", { class: "reaction-count" }, String(count)) : null)));
}
