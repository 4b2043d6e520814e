// Assignment in the browser: availability in the top bar, "Take next", and in each pane who holds the
// conversation, Take / Assign or transfer / Take over, its timeline, and a live sign when someone else takes it.

import { ApiError, get, post, request } from "./api.js";
import { autoText, el } from "./dom.js";
import { fullTime } from "./format.js";
import { t } from "./i18n.js";

const app = document.getElementById("app");
const me = { id: Number(app?.dataset.userId), role: app?.dataset.userRole };
const ACTING = ["agent", "supervisor", "admin"];

let people = null; // {users, teams}, fetched once when a transfer form first opens

async function directory() {
  if (!people) {
    const [users, teams] = await Promise.all([get("/api/v1/users"), get("/api/v1/teams")]);
    people = { users: users.items.filter((u) => u.active && ACTING.includes(u.role)), teams: teams.items };
  }
  return people;
}

const KIND_LABELS = {
  queued: t("In the queue"),
  assigned: t("Assigned"),
  transferred: t("Transferred"),
  taken_over: t("Taken over"),
  returned_to_queue: t("Back to the queue"),
  prequalified: t("Pre-qualified by the customer's menu choice"),
  routed: t("Routed"),
  meter_reading: t("Meter reading recorded"),
};
const AVAILABILITY_NAMES = { online: t("Online"), away: t("Away"), offline: t("Offline") };

/** Why the system gave a conversation back to the queue (inbox/assignment.py, inbox/sla.py). */
const REASON_LABELS = {
  away: t("away too long"),
  offline: t("went offline"),
  breached: t("commitment breached"),
};

function nameOf(id) {
  if (id === null || id === undefined) return null;
  return people?.users.find((u) => u.id === id)?.name || t("user {id}", { id });
}

/** One timeline event as a short system line: what happened, then to whom, which team, by whom, why (each part
 * is translated whole, and the three languages keep this order). */
function describe(event) {
  const data = event.data || {};
  const parts = [KIND_LABELS[event.kind] || event.kind.replaceAll("_", " ")];
  if (data.to) parts.push(t("to {name}", { name: nameOf(data.to) }));
  if (data.reading) parts.push(data.reading);
  if (data.team && ["transferred", "queued", "routed"].includes(event.kind)) {
    const team = people?.teams.find((found) => found.id === data.team)?.name || data.team;
    parts.push(t("(team {team})", { team }));
  }
  if (event.actor) parts.push(t("by {name}", { name: event.actor.name }));
  else if (data.auto) parts.push(t("automatically"));
  if (data.reason) parts.push(`(${REASON_LABELS[data.reason] || data.reason})`);
  return parts.join(" ");
}

/** The assignment strip of one conversation pane. */
export class AssignmentBar {
  constructor(conversation, { onChanged }) {
    this.conversation = conversation;
    this.onChanged = onChanged;
    this.summary = el("span", { class: "assign-summary" });
    this.actions = el("span", { class: "assign-actions" });
    this.notice = el("div", { class: "assign-notice", role: "status", hidden: true });
    this.form = el("form", { class: "assign-form", hidden: true });
    this.timeline = el("ol", { class: "assign-timeline", hidden: true, "aria-label": t("Timeline") });
    this.element = el("div", { class: "assign-bar" },
      el("div", { class: "assign-row" }, this.summary, this.actions), this.notice, this.form, this.timeline);
    this.render();
  }

  /** The conversation changed live: redraw, and say so when someone else now handles it. */
  update(conversation) {
    const before = this.conversation.assignee?.id ?? null;
    const after = conversation.assignee?.id ?? null;
    this.conversation = conversation;
    if (before !== after && after !== me.id && !this.justActed) {
      this.showNotice(after ? t("Now handled by {name}", { name: conversation.assignee.name }) : t("Back in the queue"));
    } else if (after === me.id) {
      this.notice.hidden = true;
    }
    this.justActed = false;
    this.render();
    if (!this.timeline.hidden) this.loadTimeline();
  }

  showNotice(text) {
    this.notice.replaceChildren(autoText("span", text), el("button", {
      type: "button", class: "button-quiet", onclick: () => { this.notice.hidden = true; },
    }, t("Dismiss")));
    this.notice.hidden = false;
  }

  render() {
    const c = this.conversation;
    const holder = !c.assignee ? t("Waiting in the queue")
      : c.assignee.id === me.id ? t("Handled by you") : t("Handled by {name}", { name: c.assignee.name });
    this.summary.replaceChildren(autoText("span", holder, "assign-holder"),
      c.team ? autoText("span", t("Team {name}", { name: c.team.name }), "pill") : el("span", { class: "pill" }, t("General queue")));
    const buttons = [];
    const held = ["open", "pending"].includes(c.status);
    if (held && ACTING.includes(me.role)) {
      if (!c.assignee) buttons.push(this.button(t("Take"), () => this.assign({ assignee: me.id })));
      if (me.role !== "agent" || c.assignee?.id === me.id) {
        buttons.push(this.button(t("Assign / transfer…"), () => this.openForm()));
      }
      if (me.role !== "agent" && c.assignee && c.assignee.id !== me.id) {
        buttons.push(this.button(t("Take over"), () => this.assign({ assignee: me.id })));
      }
    }
    buttons.push(this.button(t("Timeline"), () => this.toggleTimeline(), { "aria-expanded": String(!this.timeline.hidden) }));
    this.actions.replaceChildren(...buttons);
  }

  button(label, onclick, attributes = {}) {
    return el("button", { type: "button", class: "button-quiet", onclick, ...attributes }, label);
  }

  async assign(body) {
    try {
      this.justActed = true;
      const conversation = await post(`/api/v1/conversations/${this.conversation.id}/assign`, { json: body });
      this.form.hidden = true;
      this.notice.hidden = true;
      this.onChanged(conversation);
    } catch (error) {
      this.justActed = false;
      this.showNotice(error instanceof ApiError ? error.message : t("The assignment failed."));
    }
  }

  async openForm() {
    if (!this.form.hidden) { this.form.hidden = true; return; }
    let found;
    try {
      found = await directory();
    } catch (error) {
      this.showNotice(error.message);
      return;
    }
    const person = (u) => t("{name} ({availability}, {load}/{capacity})", {
      name: u.name, availability: AVAILABILITY_NAMES[u.availability] || u.availability, load: u.load, capacity: u.capacity,
    });
    const target = el("select", { name: "target", "aria-label": t("Assign to"), required: true },
      el("optgroup", { label: t("Agents") }, ...found.users.filter((u) => u.id !== this.conversation.assignee?.id)
        .map((u) => el("option", { value: `user:${u.id}`, dir: "auto" }, person(u)))),
      el("optgroup", { label: t("Teams") },
        ...found.teams.map((team) => el("option", { value: `team:${team.id}`, dir: "auto" }, team.name))),
      el("option", { value: "queue" }, t("Back to the queue")));
    const note = el("input", { name: "note", type: "text", maxlength: "2000", placeholder: t("Note (why, what was done)"),
      "aria-label": t("Note"), dir: "auto" });
    this.form.replaceChildren(target, note, el("button", { type: "submit" }, t("Transfer")),
      this.button(t("Cancel"), () => { this.form.hidden = true; }));
    this.form.onsubmit = (event) => {
      event.preventDefault();
      const [kind, id] = target.value.split(":");
      const body = kind === "user" ? { assignee: Number(id) } : kind === "team" ? { team: Number(id) } : { assignee: null };
      if (note.value.trim()) body.note = note.value.trim();
      this.assign(body);
    };
    this.form.hidden = false;
    target.focus();
  }

  async toggleTimeline() {
    this.timeline.hidden = !this.timeline.hidden;
    this.render();
    if (!this.timeline.hidden) await this.loadTimeline();
  }

  async loadTimeline() {
    try {
      await directory().catch(() => null);
      const { items } = await get(`/api/v1/conversations/${this.conversation.id}/timeline`);
      this.timeline.replaceChildren(...items.map((event) => el("li", { class: "assign-event" },
        el("time", { datetime: event.created_at }, fullTime(event.created_at)), " ",
        autoText("span", describe(event)),
        event.data?.note ? autoText("q", event.data.note, "assign-note") : null)));
    } catch (error) {
      this.timeline.replaceChildren(el("li", {}, error.message));
    }
  }
}

/** The top bar's availability selector and the "Take next" button above the list. */
export function initAssignment({ openConversation, upsertConversation, reportError }) {
  if (!ACTING.includes(me.role)) return;
  const select = el("select", { id: "availability", class: "availability", "aria-label": t("Your availability") },
    ...["online", "away", "offline"].map((s) => el("option", { value: s }, AVAILABILITY_NAMES[s])));
  select.addEventListener("change", async () => {
    try {
      await request("/api/v1/me/availability", { method: "PUT", json: { status: select.value } });
      select.dataset.status = select.value;
    } catch (error) {
      reportError(error);
    }
  });
  document.querySelector(".topbar .who")?.before(select);
  get("/api/v1/users").then(({ items }) => {
    const mine = items.find((u) => u.id === me.id);
    if (mine) { select.value = mine.availability; select.dataset.status = mine.availability; }
  }).catch(() => {});
  if (me.role === "admin") return;
  const next = el("button", { id: "take-next", type: "button", class: "take-next", title: t("Take the longest-waiting conversation (Alt+T)") },
    t("Take next"));

  const takeNext = async () => {
    try {
      const conversation = await post("/api/v1/conversations/next");
      upsertConversation(conversation);
      openConversation(conversation.id);
    } catch (error) {
      reportError(error);
    }
  };
  next.addEventListener("click", takeNext);
  document.querySelector(".sidebar-head")?.prepend(next);
  document.addEventListener("keydown", (event) => {
    if (event.altKey && !event.ctrlKey && !event.metaKey && event.code === "KeyT") {
      event.preventDefault();
      takeNext();
    }
  });
}
