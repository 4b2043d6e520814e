// Formatting of times, sizes and names for display.

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const weekdayFormat = new Intl.DateTimeFormat(undefined, { weekday: "short" });
const dateFormat = new Intl.DateTimeFormat(undefined, { day: "2-digit", month: "short" });
const fullFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
const dayFormat = new Intl.DateTimeFormat(undefined, { weekday: "long", day: "numeric", month: "long", year: "numeric" });

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
  if (days === 0) return "Today";
  if (days === 1) return "Yesterday";
  return dayFormat.format(date);
}

/** The calendar day of a time, to group messages. */
export function dayKey(iso) {
  return iso ? startOfDay(new Date(iso)) : 0;
}

/** "1.2 MB". */
export function fileSize(bytes) {
  if (bytes === null || bytes === undefined) return "";
  const units = ["B", "KB", "MB", "GB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

/** What to call a conversation's customer: the contact's name, else the phone, else the platform handle. */
export function contactName(conversation) {
  const contact = conversation.contact || {};
  return contact.name || contact.phone || conversation.handle || `Conversation ${conversation.id}`;
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
