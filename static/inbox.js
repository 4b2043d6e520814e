// The agent's inbox page: conversation list, tabs and side-by-side panes, live over Socket.IO.

import { ApiError, get, post } from "./api.js";
import { mountServiceQueue } from "./cases.js";
import { initAssignment } from "./assignment.js";
import { startCountdowns } from "./countdown.js";
import { bindListKeys, byActivity, channelBadge, renderConversationList } from "./conversation-list.js";
import { autoText, el, icon } from "./dom.js";
import { contactName } from "./format.js";
import { t } from "./i18n.js";
import { pruneDrafts } from "./drafts.js";
import { ConversationPane } from "./pane.js";
import { alertNewMessage, createNotifications, createSettings, createViews, inView } from "./workspace.js";

const MAX_SPLIT = 3;
const PAGE_SIZE = 50;

const state = {
  conversations: new Map(), // id -> conversation, as the API shows it
  nextCursor: null,
  query: "",
  status: "",
  view: "all", // mine, unassigned, team, all
  channel: "",
  requestType: "",
  tabs: [], // open conversation ids, in tab order
  recent: [], // open conversation ids, most recently used first
  active: null,
  split: false,
  panes: new Map(), // id -> ConversationPane
};

const dom = {
  list: document.getElementById("conversation-list"),
  loadMore: document.getElementById("load-more"),
  search: document.getElementById("search"),
  filters: document.getElementById("status-filters"),
  tabs: document.getElementById("tabs"),
  panes: document.getElementById("panes"),
  split: document.getElementById("split-toggle"),
  connection: document.getElementById("connection"),
  banner: document.getElementById("banner"),
  views: document.getElementById("views"),
  channel: document.getElementById("channel-filter"),
  requestType: document.getElementById("type-filter"),
};

const views = createViews(dom.views, (view) => { state.view = view; loadConversations(); });
const notifications = createNotifications(document.getElementById("notifications-toggle"),
  document.getElementById("notifications"), { openConversation: (id) => openConversation(id) });
createSettings(document.getElementById("settings-toggle"), document.getElementById("settings"));

// ---- notices ------------------------------------------------------------------------------------------

function showBanner(message, { loginLink = false } = {}) {
  dom.banner.replaceChildren(el("span", {}, message));
  if (loginLink) dom.banner.append(el("a", { href: "/login" }, t("Log in again")));
  const dismiss = el("button", { type: "button", class: "icon-button", "aria-label": t("Dismiss") }, icon("close"));
  dismiss.addEventListener("click", () => { dom.banner.hidden = true; });
  dom.banner.append(dismiss);
  dom.banner.hidden = false;
}

function reportError(error) {
  if (error instanceof ApiError) {
    showBanner(error.message, { loginLink: error.status === 401 });
  } else {
    showBanner(t("Something went wrong; reload the page if it persists."));
    console.error(error);
  }
}

// ---- the conversation list ----------------------------------------------------------------------------

function listUrl(cursor) {
  const params = new URLSearchParams({ limit: String(PAGE_SIZE) });
  if (state.query) params.set("q", state.query);
  if (state.status) params.set("status", state.status);
  if (state.view !== "all") params.set("view", state.view);
  if (state.channel) params.set("channel", state.channel);
  if (state.requestType) params.set("request_type", state.requestType);
  if (cursor) params.set("cursor", cursor);
  return `/api/v1/conversations?${params}`;
}

/** Fetch the first page again (or the next one with `more`). */
async function loadConversations({ more = false } = {}) {
  try {
    const page = await get(listUrl(more ? state.nextCursor : null));
    if (!more) state.conversations = new Map();
    for (const conversation of page.items) state.conversations.set(conversation.id, conversation);
    state.nextCursor = page.next_cursor;
    renderList();
  } catch (error) {
    reportError(error);
  }
}

function matchesFilters(conversation) {
  if (state.status && conversation.status !== state.status) return false;
  if (!inView(conversation, state.view)) return false;
  if (state.channel && conversation.channel !== state.channel) return false;
  if (state.requestType && conversation.request_type !== state.requestType) return false;
  return !state.query || state.conversations.has(conversation.id); // search results come from the server
}

function upsertConversation(conversation) {
  views.refreshSoon();
  if (matchesFilters(conversation)) state.conversations.set(conversation.id, conversation);
  else state.conversations.delete(conversation.id);
  renderList();
  const pane = state.panes.get(conversation.id);
  if (pane) {
    pane.setConversation(conversation);
    renderTabs();
  }
}

function renderList() {
  const conversations = [...state.conversations.values()].sort(byActivity);
  renderConversationList(dom.list, conversations, {
    activeId: state.active,
    openIds: state.tabs,
    filtered: Boolean(state.query || state.status || state.view !== "all" || state.channel || state.requestType),
  });
  dom.loadMore.hidden = !state.nextCursor;
  const unread = conversations.reduce((total, c) => total + (c.unread_count || 0), 0);
  document.title = unread ? t("({unread}) Inbox", { unread }) : t("Inbox");
}

// ---- tabs and panes -----------------------------------------------------------------------------------

function visibleIds() {
  if (!state.split) return state.active ? [state.active] : [];
  const shown = state.recent.slice(0, MAX_SPLIT);
  return state.tabs.filter((id) => shown.includes(id));
}

function renderTabs() {
  const visible = visibleIds();
  dom.tabs.replaceChildren(...state.tabs.map((id, index) => renderTab(id, index, visible.includes(id))));
  dom.tabs.hidden = state.tabs.length === 0;
}

function renderTab(id, index, visible) {
  const conversation = state.panes.get(id).conversation;
  const unread = state.conversations.get(id)?.unread_count || 0;
  const main = el("button", {
    type: "button", role: "tab", class: "tab-main", "aria-selected": String(id === state.active),
    title: index < 9 ? `${contactName(conversation)} (Alt+${index + 1})` : contactName(conversation),
  }, channelBadge(conversation, "channel channel-small"), autoText("span", contactName(conversation), "tab-name"),
  unread ? el("span", { class: "badge" }, String(unread)) : null);
  main.addEventListener("click", () => activate(id));
  const close = el("button", { type: "button", class: "tab-close", "aria-label": t("Close {name}", { name: contactName(conversation) }) },
    icon("close"));
  close.addEventListener("click", () => closeConversation(id));
  const classes = ["tab", id === state.active ? "is-active" : "", visible ? "is-visible" : ""];
  return el("div", { class: classes.join(" ").trim(), dataset: { conversationId: id } }, main, close);
}

function layoutPanes() {
  const visible = visibleIds();
  for (const [id, pane] of state.panes) {
    if (!visible.includes(id) && pane.element.isConnected) {
      pane.hidden();
      pane.element.remove();
    }
  }
  const elements = visible.map((id) => state.panes.get(id).element);
  if (!elements.length) elements.push(emptyState());
  dom.panes.replaceChildren(...elements);
  dom.panes.dataset.count = String(visible.length);
  for (const id of visible) {
    const pane = state.panes.get(id);
    pane.element.classList.toggle("is-active", id === state.active && visible.length > 1);
    pane.shown();
  }
}

function emptyState() {
  return el("div", { class: "empty-pane" },
    el("p", { class: "empty-title" }, t("No conversation open")),
    el("p", {}, t("Pick one in the list. Several can stay open as tabs; Split view shows up to three side by side.")),
    el("dl", { class: "shortcuts" },
      ...[["/", t("Search")], ["↑ ↓", t("Move in the list")], ["Enter", t("Open / send")], ["Shift+Enter", t("New line")],
        ["Esc", t("From the reply back to the list")],
        ["Alt+1…9", t("Switch tab")], ["Alt+W", t("Close tab")], ["Alt+S", t("Split view")],
        ["Alt+N", t("Reply / private note")], ["Alt+B", t("Notifications")], ["Alt+T", t("Take next")]]
        .flatMap(([keys, what]) => [el("dt", {}, el("kbd", {}, keys)), el("dd", {}, what)])));
}

function refreshLayout() {
  renderTabs();
  layoutPanes();
  renderList();
}

function activate(id, { focus = true } = {}) {
  if (!state.panes.has(id)) return;
  const changed = state.active !== id;
  state.active = id;
  state.recent = [id, ...state.recent.filter((other) => other !== id)];
  if (changed) refreshLayout();
  if (focus) state.panes.get(id).focus();
  if (state.conversations.get(id)?.unread_count) markRead(id);
}

/** Open a conversation in a tab (or bring it forward), load its history and mark it read. */
async function openConversation(id) {
  if (state.panes.has(id)) {
    activate(id);
    return;
  }
  let conversation = state.conversations.get(id);
  if (!conversation) {
    try {
      conversation = await get(`/api/v1/conversations/${id}`);
    } catch (error) {
      reportError(error);
      return;
    }
  }
  const pane = new ConversationPane(conversation, {
    onClose: closeConversation,
    onFocus: (paneId) => { if (state.active !== paneId) activate(paneId, { focus: false }); },
    onOpenConversation: openConversation,
    onConversation: upsertConversation,
  });
  state.panes.set(id, pane);
  state.tabs.push(id);
  markRead(id); // first: it clears the unread count at once, so activate() does not ask again
  activate(id);
  await pane.load();
}

function closeConversation(id) {
  const index = state.tabs.indexOf(id);
  if (index < 0) return;
  state.panes.get(id).element.remove();
  state.panes.delete(id);
  state.tabs.splice(index, 1);
  state.recent = state.recent.filter((other) => other !== id);
  if (state.active === id) state.active = state.recent[0] ?? null;
  refreshLayout();
  if (state.active) state.panes.get(state.active).focus();
}

function toggleSplit() {
  state.split = !state.split;
  dom.split.setAttribute("aria-pressed", String(state.split));
  refreshLayout();
}

async function markRead(id) {
  const known = state.conversations.get(id);
  if (known) state.conversations.set(id, { ...known, unread_count: 0 });
  try {
    upsertConversation(await post(`/api/v1/conversations/${id}/read`));
  } catch (error) {
    reportError(error);
  }
}

// Messages that arrive in a conversation the agent is looking at are read at once.
const readTimers = new Map();
function markReadSoon(id) {
  if (!document.hasFocus() || !visibleIds().includes(id) || readTimers.has(id)) return;
  readTimers.set(id, setTimeout(() => { readTimers.delete(id); markRead(id); }, 400));
}

// ---- realtime -----------------------------------------------------------------------------------------

function setConnection(stateName, label) {
  dom.connection.dataset.state = stateName;
  dom.connection.textContent = label;
}

function connectRealtime() {
  if (typeof window.io !== "function") {
    setConnection("offline", t("Live updates unavailable"));
    return;
  }
  const socket = window.io();
  let connectedBefore = false;
  socket.on("connect", () => {
    setConnection("live", t("Live"));
    if (connectedBefore) resync(); // events may have been missed while away
    connectedBefore = true;
  });
  socket.on("disconnect", (reason) => {
    setConnection("offline", t("Reconnecting…"));
    if (reason === "io server disconnect") socket.connect(); // the server hung up: Socket.IO leaves retrying to us
  });
  socket.on("connect_error", () => {
    if (socket.active) {
      setConnection("offline", t("Offline, retrying…"));
    } else { // refused: the session has ended
      setConnection("offline", t("Disconnected"));
      showBanner(t("Live updates stopped: your session has ended."), { loginLink: true });

    }
  });
  socket.on("conversation.created", ({ conversation }) => upsertConversation(conversation));
  socket.on("conversation.updated", ({ conversation }) => upsertConversation(conversation));
  socket.on("conversation.assigned", ({ conversation }) => upsertConversation(conversation));
  socket.on("message.created", onNewMessage);
  socket.on("message.updated", onMessage);
  socket.on("note.created", ({ conversation_id: conversationId, note }) => state.panes.get(conversationId)?.upsertNote(note));
  socket.on("notification.created", ({ notification }) => notifications.add(notification));
  socket.on("case.updated", (payload) => document.dispatchEvent(new CustomEvent("case.updated", { detail: payload })));
}

function onNewMessage({ conversation_id: conversationId, message }) {
  alertNewMessage(state.conversations.get(conversationId) || state.panes.get(conversationId)?.conversation, message,
    { looking: visibleIds().includes(conversationId), open: openConversation });
  onMessage({ conversation_id: conversationId, message });
}

function onMessage({ conversation_id: conversationId, message }) {
  const pane = state.panes.get(conversationId);
  if (!pane) return;
  pane.upsert(message);
  if (message.direction === "in") markReadSoon(conversationId);
}

async function resync() {
  notifications.reload();
  views.refresh();
  await loadConversations();
  await Promise.all([...state.panes.values()].map((pane) => pane.load()));
}

// ---- keyboard and controls ----------------------------------------------------------------------------

function isTyping(target) {
  return target.closest("input, textarea, select, [contenteditable]") !== null;
}

function onShortcut(event) {
  if (event.key === "Escape" && event.target.closest(".composer-text") && state.active) {
    dom.list.querySelector(`[data-conversation-id="${state.active}"]`)?.focus(); // back to the list
    return;
  }
  if (event.key === "/" && !isTyping(event.target) && !event.ctrlKey && !event.metaKey) {
    event.preventDefault();
    dom.search.focus();
    dom.search.select();
    return;
  }
  if (!event.altKey || event.ctrlKey || event.metaKey) return;
  const key = event.code;
  if (/^Digit[1-9]$/.test(key)) {
    const id = state.tabs[Number(key.slice(5)) - 1];
    if (id) { event.preventDefault(); activate(id); }
  } else if (key === "KeyW" && state.active) {
    event.preventDefault();
    closeConversation(state.active);
  } else if (key === "KeyS") {
    event.preventDefault();
    toggleSplit();
  } else if (key === "KeyN" && state.active) {
    event.preventDefault();
    state.panes.get(state.active).toggleNote();
  } else if (key === "KeyB") {
    event.preventDefault();
    notifications.toggle();
  }
}

function bindControls() {
  bindListKeys(dom.list, openConversation);
  dom.loadMore.addEventListener("click", () => loadConversations({ more: true }));
  dom.split.addEventListener("click", toggleSplit);
  let searchTimer = null;
  dom.search.addEventListener("input", () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => { state.query = dom.search.value.trim(); loadConversations(); }, 250);
  });
  dom.search.addEventListener("keydown", (event) => {
    if (event.key === "Escape") { dom.search.value = ""; state.query = ""; loadConversations(); dom.search.blur(); }
    if (event.key === "ArrowDown") { event.preventDefault(); dom.list.querySelector(".conv-item")?.focus(); }
  });
  dom.filters.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-status]");
    if (!button) return;
    state.status = button.dataset.status;
    for (const other of dom.filters.querySelectorAll("button")) {
      other.setAttribute("aria-pressed", String(other === button));
    }
    loadConversations();
  });
  dom.channel.addEventListener("change", () => { state.channel = dom.channel.value; loadConversations(); });
  dom.requestType.addEventListener("change", () => { state.requestType = dom.requestType.value; loadConversations(); });
  document.addEventListener("keydown", onShortcut);
  window.addEventListener("focus", () => visibleIds().forEach((id) => {
    if (state.conversations.get(id)?.unread_count) markRead(id);
  }));
}

bindControls();
pruneDrafts();
views.refresh();
dom.panes.addEventListener("conversation-changed", (event) => upsertConversation(event.detail));
mountServiceQueue(document.querySelector(".sidebar"), openConversation);
initAssignment({ openConversation, upsertConversation, reportError });
refreshLayout();
connectRealtime();
startCountdowns();
loadConversations();
