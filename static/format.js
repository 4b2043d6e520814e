// Formatting of times, sizes and names for display, in the UI's language.

import { t, uiLanguage } from "./i18n.js";

// Arabic as written in Morocco keeps Western digits; French and English follow their usual conventions.
const DATE_LOCALES = { fr: "fr-FR", ar: "ar-MA", en: "en-GB" };
const LOCALE = DATE_LOCALES[uiLanguage()] || DATE_LOCALES.fr;

const timeFormat = new Intl.DateTimeFormat(LOCALE, { hour: "2-digit", minute: "2-digit" });
const weekdayFormat = new Intl.DateTimeFormat(LOCALE, { weekday: "short" });
const dateFormat = new Intl.DateTimeFormat(LOCALE, { day: "2-digit", month: "short" });
const fullFormat = new Intl.DateTimeFormat(LOCALE, { dateStyle: "medium", timeStyle: "short" });
const sizeFormat = new Intl.NumberFormat(LOCALE, { minimumFractionDigits: 1, maximumFractionDigits: 1 });
const dayFormat = new Intl.DateTimeFormat(LOCALE, { weekday: "long", day: "numeric", month: "long", year: "numeric" });

// The API's values as people read them (the value itself stays in classes and data attributes). Lower case as
// before, apart from the filters' "Open" and "Pending": French and Arabic words agree with what they qualify, so
// these are worded to fit a conversation, a case and a proposal alike.
const CONVERSATION_STATUS_NAMES = { open: t("open"), pending: t("pending"), resolved: t("resolved") };
const REQUEST_TYPE_NAMES = { information: t("Information"), claim: t("Claim"), request: t("Request") };
const CASE_STATE_NAMES = {
  open: t("open"), escalated: t("escalated"), awaiting_approval: t("awaiting approval"), answered: t("answered"),
  closed: t("closed"),
};
const PROPOSAL_STATE_NAMES = { pending: t("pending"), approved: t("approved"), rejected: t("rejected") };

/** A conversation's status in the UI's language. */
export function statusName(status) {
  return CONVERSATION_STATUS_NAMES[status] || status;
}

/** A request type (information, claim, request) in the UI's language. */
export function requestTypeName(type) {
  return REQUEST_TYPE_NAMES[type] || type;
}

/** A case's state in the UI's language. */
export function caseStateName(state) {
  return CASE_STATE_NAMES[state] || String(state ?? "").replace("_", " ");
}

/** A reply proposal's state in the UI's language. */
export function proposalStateName(state) {
  return PROPOSAL_STATE_NAMES[state] || state;
}

function startOfDay(date) {
  return new Date(date.getFullYear(), date.getMonth(), date.getDate()).getTime();
}

/** "14:05" today, "Tue" this week, "12 Nov" before. */
export function shortTime(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  const days = (startOfDay(new Date()) - startOfDay(date)) / 86400000;
  if (days < 1) return timeFormat.format(date);
  if (days < 7) return weekdayFormat.format(date);
  return dateFormat.format(date);
}

/** "14:05", the time of a message. */
export function clockTime(iso) {
  return iso ? timeFormat.format(new Date(iso)) : "";
}

/** A full date and time, for tooltips. */
export function fullTime(iso) {
  return iso ? fullFormat.format(new Date(iso)) : "";
}

/** "Today", "Yesterday" or the full day, for separators between days. */
export function dayLabel(iso) {
  const date = new Date(iso);
  const days = Math.round((startOfDay(new Date()) - startOfDay(date)) / 86400000);
  if (days === 0) return t("Today");
  if (days === 1) return t("Yesterday");
  return dayFormat.format(date);
}

/** The calendar day of a time, to group messages. */
export function dayKey(iso) {
  return iso ? startOfDay(new Date(iso)) : 0;
}

/** "1.2 MB". */
export function fileSize(bytes) {
  if (bytes === null || bytes === undefined) return "";
  const units = [t("B"), t("KB"), t("MB"), t("GB")];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const amount = unit === 0 ? String(value) : sizeFormat.format(value);
  return t("{amount} {unit}", { amount, unit: units[unit] });
}

/** What to call a conversation's customer: the contact's name, else the phone, else the platform handle. */
export function contactName(conversation) {
  const contact = conversation.contact || {};
  return contact.name || contact.phone || conversation.handle || t("Conversation {id}", { id: conversation.id });
}

/** The secondary identifier shown under a name: phone or handle, when it differs from the name. */
export function contactHandle(conversation) {
  const contact = conversation.contact || {};
  const handle = contact.phone || conversation.handle || "";
  return handle === contactName(conversation) ? "" : handle;
}

/** Initials for an avatar; "#" when the name has no letters. */
export function initials(name) {
  const letters = (name || "")
    .split(/\s+/)
    .map((word) => Array.from(word).find((ch) => /\p{L}/u.test(ch)))
    .filter(Boolean);
  return (letters.slice(0, 2).join("") || "#").toUpperCase();
}

/** An address from a platform payload, as a link target: http and https only (never javascript: and the like). */
export function safeUrl(url) {
  if (!url) return null;
  try {
    const parsed = new URL(url, window.location.origin);
    return ["http:", "https:"].includes(parsed.protocol) ? parsed.href : null;
  } catch {
    return null;
  }
}
