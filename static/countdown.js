// Countdowns to a conversation's nearest due time (its `sla.due_at`), ticking every second in the browser and
// coloured by state: running, at risk (within the at-risk margin), breached (past due, counting up).

import { el } from "./dom.js";
import { fullTime } from "./format.js";
import { t } from "./i18n.js";

const TEXT = {
  late: (time) => t("{time} late", { time }),
  due: (time) => t("Due {time}", { time }),
  states: { running: t("Running"), at_risk: t("At risk"), breached: t("Breached") },
};
const DEFAULT_MARGIN_MINUTES = 5;
let ticking = null;

function marginMs() {
  const minutes = Number(document.querySelector("[data-at-risk-minutes]")?.dataset.atRiskMinutes);
  return (Number.isFinite(minutes) && minutes >= 0 ? minutes : DEFAULT_MARGIN_MINUTES) * 60_000;
}

function pad(number) {
  return String(number).padStart(2, "0");
}

/** A duration as H:MM:SS (or "2d 03h" beyond a day). */
export function duration(ms) {
  const seconds = Math.floor(Math.abs(ms) / 1000);
  const days = Math.floor(seconds / 86_400);
  const hours = Math.floor((seconds % 86_400) / 3600);
  if (days) return `${days}d ${pad(hours)}h`;
  return `${hours}:${pad(Math.floor((seconds % 3600) / 60))}:${pad(seconds % 60)}`;
}

function update(node, now = Date.now()) {
  const remaining = Date.parse(node.dataset.due) - now;
  const state = remaining <= 0 ? "breached" : remaining <= marginMs() ? "at_risk" : "running";
  node.dataset.state = state;
  node.textContent = remaining <= 0 ? TEXT.late(duration(remaining)) : duration(remaining);
  node.setAttribute("aria-label", `${TEXT.states[state]}: ${node.textContent}`);
}

/** A countdown to an ISO instant. */
export function countdown(dueIso, className = "countdown") {
  const node = el("span", { class: className, dataset: { due: dueIso }, title: TEXT.due(fullTime(dueIso)) });
  update(node);
  return node;
}

/** The countdown of a conversation's commitments, or null when nothing is waited for. */
export function slaCountdown(sla, className = "countdown") {
  return sla?.due_at ? countdown(sla.due_at, className) : null;
}

/** Tick every countdown on the page once a second (started once). */
export function startCountdowns() {
  if (ticking) return;
  ticking = window.setInterval(() => {
    const now = Date.now();
    document.querySelectorAll(".countdown[data-due]").forEach((node) => update(node, now));
  }, 1000);
}
