// The supervisor's board: agents, queues, conversations at risk or breached (live countdowns), today's figures
// per hour slot. It refetches /api/v1/board when the server says the board changed (debounced), on reconnect
// and every minute; a supervisor assigns or takes over a conversation from it.

import { get, post, request } from "./api.js";
import { autoText, el } from "./dom.js";
import { startCountdowns, countdown, duration } from "./countdown.js";
import { t } from "./i18n.js";
import { connectLive } from "./live.js";

const TEXT = {
  availability: { online: t("Online"), away: t("Away"), offline: t("Offline") },
  timers: { first_response: t("First take"), next_response: t("Next response"), answer: t("Answer") },
  states: { at_risk: t("At risk"), breached: t("Breached") },
  generalQueue: t("General queue"),
  noAgents: t("No agents."),
  noRisk: t("Nothing at risk: every conversation is within its commitments."),
  more: (shown, total) => t("The {shown} most urgent of {total} are listed.", { shown, total }),
  noHours: t("No contacts yet today."),
  unassigned: t("Unassigned"),
  assign: t("Assign"),
  takeOver: t("Take over"),
  chooseAgent: t("Choose an agent"),
  today: t("Today"),
  updated: (time) => t("Updated at {time}", { time }),
  failed: t("The board could not be loaded; retrying."),
  kinds: {
    late_first_take: t("First take later than its target"),
    late_answer: t("Answer later than one business day"),
    late_claim: t("Claim answered after J+1"),
    low_take_rate: t("Hour slot under 95% taken in time"),
  },
  noAnomalies: t("No anomaly this month."),
  save: t("Save"),
  saved: t("Saved"),
  note: t("Supervisor note"),
  inTime: (done, received) => t("{done} of {received} taken in time", { done, received }),
  lateBy: (due, done) => (done ? t("due {due}, done {done}", { due, done }) : t("due {due}, not done", { due })),
};
const DEBOUNCE_MS = 400;
const MAX_WAIT_MS = 2000;
const POLL_MS = 60_000;

const root = document.getElementById("board");
const ME = Number(root.dataset.userId);
const dom = {
  status: document.getElementById("board-status"),
  connection: document.getElementById("connection"),
  agents: document.querySelector("#board-agents tbody"),
  queues: document.querySelector("#board-queues tbody"),
  risk: document.querySelector("#board-risk tbody"),
  riskMore: document.getElementById("board-risk-more"),
  hours: document.querySelector("#board-hours tbody"),
  total: document.querySelector("#board-hours tfoot"),
  error: document.getElementById("board-error"),
  month: document.getElementById("anomaly-month"),
  anomalies: document.querySelector("#board-anomalies tbody"),
  csv: document.getElementById("anomaly-csv"),
  xlsx: document.getElementById("anomaly-xlsx"),
};
const EXPORT_URL = "/api/v1/anomalies/export";
const stamp = new Intl.DateTimeFormat(undefined, { dateStyle: "short", timeStyle: "short" });
let agents = [];

function percent(rate) {
  return rate === null || rate === undefined ? "–" : `${Math.round(rate * 1000) / 10}%`;
}

function emptyRow(columns, text) {
  return el("tr", { class: "board-empty" }, el("td", { colspan: columns }, text));
}

function sinceCell(seconds) {
  if (seconds === null || seconds === undefined) return el("td", {}, "–");
  const since = new Date(Date.now() - seconds * 1000).toISOString();
  return el("td", {}, el("span", { class: "elapsed", dataset: { since } }, duration(seconds * 1000)));
}

function renderAgents(rows) {
  dom.agents.replaceChildren(...(rows.length ? rows.map((agent) => el("tr", { dataset: { agentId: agent.id } },
    autoText("td", agent.name),
    el("td", {}, el("span", { class: `presence presence-${agent.availability}` }, TEXT.availability[agent.availability])),
    sinceCell(agent.seconds_in_state),
    el("td", { class: agent.load >= agent.capacity ? "num is-full" : "num" }, `${agent.load} / ${agent.capacity}`),
    autoText("td", agent.teams.map((team) => team.name).join(", ")))) : [emptyRow(5, TEXT.noAgents)]));
}

function renderQueues(rows) {
  dom.queues.replaceChildren(...rows.map((queue) => el("tr", { dataset: { teamId: queue.team.id ?? "" } },
    autoText("td", queue.team.id === null ? TEXT.generalQueue : queue.team.name),
    el("td", { class: "num" }, String(queue.length)),
    queue.oldest_queued_at ? sinceCell(queue.longest_wait_seconds) : el("td", {}, "–"))));
}

function actions(row) {
  const select = el("select", { "aria-label": TEXT.chooseAgent },
    el("option", { value: "" }, TEXT.chooseAgent),
    ...agents.filter((agent) => agent.id !== row.assignee?.id)
      .map((agent) => el("option", { value: agent.id }, `${agent.name} (${TEXT.availability[agent.availability]})`)));
  const assign = el("button", { type: "button", class: "button-quiet", disabled: true }, TEXT.assign);
  select.addEventListener("change", () => { assign.disabled = !select.value; });
  assign.addEventListener("click", () => act(row.conversation_id, Number(select.value)));
  const takeOver = row.assignee?.id === ME ? null
    : el("button", { type: "button", class: "button-quiet", onclick: () => act(row.conversation_id, ME) }, TEXT.takeOver);
  return el("td", { class: "board-actions" }, select, assign, takeOver);
}

function renderRisk(rows, total) {
  dom.riskMore.hidden = total <= rows.length;
  dom.riskMore.textContent = TEXT.more(rows.length, total);
  dom.risk.replaceChildren(...(rows.length ? rows.map((row) => el("tr", {
    class: `risk-${row.state}`, dataset: { conversationId: row.conversation_id, state: row.state },
  },
  autoText("td", row.contact || `#${row.conversation_id}`),
  el("td", {}, row.channel),
  autoText("td", row.assignee?.name || TEXT.unassigned),
  el("td", {}, TEXT.timers[row.timer] || row.timer),
  el("td", {}, el("span", { class: `pill pill-${row.state}` }, TEXT.states[row.state]), " ", countdown(row.due_at)),
  actions(row))) : [emptyRow(6, TEXT.noRisk)]));
}

function figures(label, slot) {
  return [autoText("th", label, "slot"), el("td", { class: "num" }, String(slot.received)),
    el("td", { class: "num" }, String(slot.taken)), el("td", { class: "num" }, String(slot.taken_in_time)),
    el("td", { class: "num" }, percent(slot.take_rate)),
    el("td", { class: slot.in_time_rate !== null && slot.in_time_rate < 0.95 ? "num is-low" : "num" },
      percent(slot.in_time_rate))];
}

function renderHours(hours, today) {
  dom.hours.replaceChildren(...(hours.length
    ? hours.map((slot) => el("tr", { dataset: { slot: slot.slot } }, ...figures(slot.slot, slot)))
    : [emptyRow(6, TEXT.noHours)]));
  dom.total.replaceChildren(el("tr", { dataset: { slot: "today" } }, ...figures(TEXT.today, today)));
}

async function refresh() {
  try {
    const board = await get("/api/v1/board");
    agents = board.agents;
    renderAgents(board.agents);
    renderQueues(board.queues);
    renderRisk(board.at_risk, board.at_risk_total);
    renderHours(board.hours, board.today);
    dom.error.hidden = true;
    dom.status.textContent = TEXT.updated(new Date(board.generated_at).toLocaleTimeString());
    root.dataset.loaded = "true";
    loadAnomalies();
  } catch (error) {
    dom.error.textContent = error.status === 401 ? error.message : TEXT.failed;
    dom.error.hidden = false;
  }
}

function when(iso) {
  return iso ? stamp.format(new Date(iso)) : "";
}

function details(anomaly) {
  const data = anomaly.data || {};
  if (anomaly.kind === "low_take_rate") return TEXT.inTime(data.taken_in_time, data.received);
  return TEXT.lateBy(when(data.due_at), when(data.done_at));
}

function noteForm(anomaly) {
  const input = el("input", { type: "text", value: anomaly.note || "", maxlength: 2000, "aria-label": TEXT.note });
  const status = el("span", { class: "anomaly-saved", role: "status" });
  const form = el("form", { class: "anomaly-note", dataset: { anomalyId: anomaly.id } }, input,
    el("button", { type: "submit", class: "button-quiet" }, TEXT.save), status);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const saved = await request(`/api/v1/anomalies/${anomaly.id}`, { method: "PATCH", json: { note: input.value || null } });
      input.value = saved.note || "";
      status.textContent = TEXT.saved;
    } catch (error) {
      status.textContent = error.message;
    }
  });
  return form;
}

function renderAnomalies(items) {
  dom.anomalies.replaceChildren(...(items.length ? items.map((anomaly) => el("tr", {
    dataset: { anomalyId: anomaly.id, kind: anomaly.kind },
  },
  el("td", {}, el("time", { datetime: anomaly.occurred_at }, when(anomaly.occurred_at))),
  el("td", {}, TEXT.kinds[anomaly.kind] || anomaly.kind),
  el("td", { class: "num" }, anomaly.conversation_id ? `#${anomaly.conversation_id}` : "–"),
  el("td", {}, details(anomaly)),
  el("td", {}, noteForm(anomaly)))) : [emptyRow(5, TEXT.noAnomalies)]));
}

async function loadAnomalies() {
  const month = dom.month.value;
  if (!/^\d{4}-\d{2}$/.test(month)) return;
  if (dom.anomalies.contains(document.activeElement)) return; // never redraw under a note being written
  dom.csv.href = `${EXPORT_URL}?month=${month}`;
  dom.xlsx.href = `${EXPORT_URL}?month=${month}&format=xlsx`;
  try {
    renderAnomalies((await get(`/api/v1/anomalies?month=${month}`)).items);
  } catch (error) {
    dom.error.textContent = error.message;
    dom.error.hidden = false;
  }
}

async function act(conversationId, assignee) {
  try {
    await post(`/api/v1/conversations/${conversationId}/assign`, { json: { assignee } });
  } catch (error) {
    dom.error.textContent = error.message;
    dom.error.hidden = false;
  }
  schedule();
}

// Trailing debounce with a ceiling: a burst of changes gives one fetch, a steady stream one every 2 s.
let timer = null;
let firstAsked = 0;
function schedule() {
  const now = Date.now();
  if (!timer) firstAsked = now;
  window.clearTimeout(timer);
  const wait = Math.max(0, Math.min(DEBOUNCE_MS, firstAsked + MAX_WAIT_MS - now));
  timer = window.setTimeout(() => { timer = null; refresh(); }, wait);
}

function tickElapsed() {
  const now = Date.now();
  document.querySelectorAll(".elapsed[data-since]").forEach((node) => {
    node.textContent = duration(now - Date.parse(node.dataset.since));
  });
}

function connect() {
  connectLive(dom.connection, { onConnect: schedule, events: { "board.changed": schedule } });
}

const today = new Date();
dom.month.value = `${today.getFullYear()}-${String(today.getMonth() + 1).padStart(2, "0")}`;
dom.month.addEventListener("change", loadAnomalies);
refresh();
connect();
startCountdowns();
window.setInterval(tickElapsed, 1000);
window.setInterval(refresh, POLL_MS);
