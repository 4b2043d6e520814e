// The Socket.IO connection of the board and the campaigns page, its state shown in one status element.
import { t } from "./i18n.js";

const STATE_TEXT = {
  live: t("Live"),
  reconnecting: t("Reconnecting…"),
  offline: t("Live updates unavailable"),
};

/** Connect, show the state in `indicator` (data-state live|offline), call `onConnect` on every (re)connection
 * (changes may have been missed while away) and listen to `events` ({name: handler}). */
export function connectLive(indicator, { onConnect, events }) {
  if (typeof window.io !== "function") {
    indicator.textContent = STATE_TEXT.offline;
    return;
  }
  const socket = window.io();
  socket.on("connect", () => {
    indicator.dataset.state = "live";
    indicator.textContent = STATE_TEXT.live;
    onConnect();
  });
  socket.on("disconnect", () => {
    indicator.dataset.state = "offline";
    indicator.textContent = STATE_TEXT.reconnecting;
  });
  for (const [name, handler] of Object.entries(events)) socket.on(name, handler);
}
