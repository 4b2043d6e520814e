// The agent's workspace around the list: views (mine, unassigned, my team's, all) with their counts,
// extra filters (channel, request type), the notifications bell, and alerts (desktop notification and sound)
// on a new message for the conversations the agent holds, with the agent's own settings.

import { get, post, request } from "./api.js";
import { autoText, el } from "./dom.js";
import { contactName } from "./format.js";
import { t, uiLanguage } from "./i18n.js";

const ME = document.getElementById("app")?.dataset || {};
const MY_ID = Number(ME.userId);
const MY_TEAMS = (ME.teamIds || "").split(",").filter(Boolean).map(Number);
export const VIEWS = [
  ["all", t("All")], ["mine", t("Mine")], ["unassigned", t("Unassigned")], ["team", t("Team")],
];

/** Whether a conversation belongs in a view, for live updates (the server filters the pages it sends). */
export function inView(conversation, view) {
  if (view === "mine") return conversation.assignee?.id === MY_ID;
  if (view === "unassigned") return !conversation.assignee;
  if (view === "team") {
    const team = conversation.team?.id ?? null;
    return MY_TEAMS.length ? MY_TEAMS.includes(team) : team === null;
  }
  return true;
}

/** The view buttons with their counts; `onChange(view)` when the agent picks one. */
export function createViews(container, onChange) {
  let current = "all";
  const buttons = new Map();
  container.replaceChildren(...VIEWS.map(([view, label]) => {
    const count = el("span", { class: "view-count", "aria-label": "unread" });
    const button = el("button", { type: "button", "aria-pressed": String(view === current), dataset: { view } },
      el("span", {}, label), count);
    button.addEventListener("click", () => {
      current = view;
      for (const [other, node] of buttons) node.setAttribute("aria-pressed", String(other === view));
      onChange(view);
    });
    buttons.set(view, button);
    return button;
  }));
  let timer = null;
  const refresh = async () => {
    try {
      const counts = await get("/api/v1/conversations/counts");
      for (const [view, button] of buttons) {
        const { open, unread } = counts[view] || { open: 0, unread: 0 };
        const badge = button.querySelector(".view-count");
        badge.textContent = unread ? String(unread) : String(open || "");
        badge.classList.toggle("has-unread", unread > 0);
        button.title = t("{open} open, {unread} with unread messages", { open, unread });
      }
    } catch {
      // counts are a convenience: the list itself reports errors
    }
  };
  return {
    /** Ask for the counts again soon (many events arrive together). */
    refreshSoon() {
      clearTimeout(timer);
      timer = setTimeout(refresh, 300);
    },
    refresh,
    current: () => current,
  };
}

// ---- preferences and alerts ---------------------------------------------------------------------------

let preferences = { desktop_notifications: true, sound: true };
let audio = null;

function beep() {
  try {
    audio = audio || new AudioContext();
    const oscillator = audio.createOscillator();
    const gain = audio.createGain();
    oscillator.frequency.value = 880;
    gain.gain.setValueAtTime(0.08, audio.currentTime);
    gain.gain.exponentialRampToValueAtTime(0.0001, audio.currentTime + 0.25);
    oscillator.connect(gain).connect(audio.destination);
    oscillator.start();
    oscillator.stop(audio.currentTime + 0.25);
  } catch {
    // no sound device, or the browser has not let the page play sound yet
  }
}

function desktop(title, body, onClick) {
  if (!preferences.desktop_notifications || !("Notification" in window) || Notification.permission !== "granted") return;
  const notification = new Notification(title, { body, tag: title });
  notification.addEventListener("click", () => { window.focus(); onClick(); notification.close(); });
}

/** A customer wrote in a conversation: alert its assignee when they are not looking at it. */
export function alertNewMessage(conversation, message, { looking, open }) {
  if (!conversation || message.direction !== "in" || conversation.assignee?.id !== MY_ID) return;
  if (looking && document.hasFocus()) return;
  if (preferences.sound) beep();
  desktop(contactName(conversation), message.text || t("New message"), () => open(conversation.id));
}

// Each language is named in itself.
const UI_LANGUAGES = [["fr", "Français"], ["ar", "العربية"], ["en", "English"]];

/** The settings popover: the UI's language, desktop notifications and sound, saved on the server for this user. */
export function createSettings(button, panel) {
  const boxes = {};
  const draw = () => {
    panel.replaceChildren(...[
      languagePicker(),
      el("p", { class: "settings-title" }, t("When a customer writes in a conversation I hold")),
      ...[["desktop_notifications", t("Show a desktop notification")], ["sound", t("Play a sound")]].map(([name, label]) => {
        boxes[name] = el("input", { type: "checkbox", checked: Boolean(preferences[name]) });
        boxes[name].addEventListener("change", () => save(name, boxes[name].checked));
        return el("label", { class: "settings-row" }, boxes[name], label);
      }),
      "Notification" in window && Notification.permission === "denied"
        ? el("p", { class: "settings-note" }, t("The browser blocks notifications for this site; allow them in its settings."))
        : null,
    ].filter(Boolean));
  };
  const save = async (name, value) => {
    if (name === "desktop_notifications" && value && "Notification" in window && Notification.permission === "default") {
      await Notification.requestPermission();
    }
    try {
      preferences = await request("/api/v1/me/preferences", { method: "PUT", json: { [name]: value } });
    } catch {
      boxes[name].checked = !value;
    }
    draw();
  };
  const languagePicker = () => {
    const picker = el("select", { id: "ui-language", "aria-label": t("Language") },
      UI_LANGUAGES.map(([code, label]) => el("option", { value: code, lang: code, selected: code === uiLanguage() }, label)));
    picker.addEventListener("change", async () => {
      try {
        await request("/api/v1/me/preferences", { method: "PUT", json: { language: picker.value } });
        window.location.reload();  // the page's words and direction come from the server
      } catch {
        picker.value = uiLanguage();
      }
    });
    return el("label", { class: "settings-row settings-language" }, t("Language"), " ", picker);
  };
  button.addEventListener("click", () => {
    panel.hidden = !panel.hidden;
    button.setAttribute("aria-expanded", String(!panel.hidden));
    if (!panel.hidden) draw();
  });
  get("/api/v1/me/preferences").then((saved) => { preferences = saved; }).catch(() => {});
}

// ---- notifications ------------------------------------------------------------------------------------

const KIND_LABELS = { mention: t("mentioned you"), case_handed_back: t("handed a case back") };

/** The bell: unread count, the list, click to open the conversation. */
export function createNotifications(button, panel, { openConversation }) {
  const badge = el("span", { class: "badge", hidden: true });
  button.append(badge);
  let items = [];
  let unread = 0;

  const drawBadge = () => {
    badge.hidden = unread === 0;
    badge.textContent = String(unread);
    button.setAttribute("aria-label", t("Notifications, {unread} unread", { unread }));
  };
  const open = async (notification) => {
    panel.hidden = true;
    if (!notification.read_at) {
      try {
        await post(`/api/v1/notifications/${notification.id}/read`);
        notification.read_at = new Date().toISOString();
        unread = Math.max(0, unread - 1);
        drawBadge();
      } catch {
        // reading it again later is harmless
      }
    }
    if (notification.conversation_id) openConversation(notification.conversation_id);
  };
  const drawList = () => {
    const readAll = el("button", { type: "button", class: "button-quiet" }, t("Mark all read"));
    readAll.addEventListener("click", async () => {
      await post("/api/v1/notifications/read-all");
      items.forEach((n) => { n.read_at = n.read_at || new Date().toISOString(); });
      unread = 0;
      drawBadge();
      drawList();
    });
    panel.replaceChildren(
      el("div", { class: "notifications-head" }, el("strong", {}, t("Notifications")), unread ? readAll : ""),
      items.length ? el("ul", { class: "notifications-list" }, ...items.map((n) => {
        const row = el("button", { type: "button", class: `notification${n.read_at ? "" : " is-unread"}` },
          autoText("strong", n.data?.by || t("A colleague")), ` ${KIND_LABELS[n.kind] || n.kind}`,
          n.data?.text ? autoText("span", n.data.text, "notification-text") : null);
        row.addEventListener("click", () => open(n));
        return el("li", {}, row);
      })) : el("p", { class: "settings-note" }, t("Nothing yet.")));
  };
  const load = async () => {
    try {
      const page = await get("/api/v1/notifications");
      items = page.items;
      unread = page.unread;
      drawBadge();
      if (!panel.hidden) drawList();
    } catch {
      // the bell stays as it was
    }
  };
  button.addEventListener("click", () => {
    panel.hidden = !panel.hidden;
    button.setAttribute("aria-expanded", String(!panel.hidden));
    if (!panel.hidden) drawList();
  });
  load();
  return {
    /** A notification arrived live. */
    add(notification) {
      items = [notification, ...items].slice(0, 100);
      unread += 1;
      drawBadge();
      if (!panel.hidden) drawList();
      if (preferences.sound) beep();
      desktop(`${notification.data?.by || t("A colleague")} ${KIND_LABELS[notification.kind] || ""}`.trim(),
        notification.data?.text || "", () => open(notification));
    },
    reload: load,
    toggle: () => button.click(),
  };
}

