// The qualification bar and the case panel of a conversation: request type, family, nature and service from the
// catalogue (saved with PATCH), Resolve (the server's 422 reason shown), the case's number, state, timeline,
// "Send case number", escalation, answer elements, hand-back, reply proposals and their approval.

import { ApiError, get, post, request } from "./api.js";
import { autoText, el } from "./dom.js";
import { caseStateName, fullTime, proposalStateName, requestTypeName, statusName } from "./format.js";
import { t } from "./i18n.js";

const REQUEST_TYPES = [["", t("Request type…")], ...["information", "claim", "request"].map((v) => [v, requestTypeName(v)])];
const EVENT_LABELS = {
  case_opened: t("Case opened"),
  qualified: t("Qualified"),
  follow_up: t("Follow-up"),
  escalated: t("Escalated"),
  element: t("Answer element"),
  handed_back: t("Handed back"),
  proposal: t("Reply proposed"),
  proposal_approved: t("Reply approved and sent"),
  proposal_rejected: t("Reply rejected"),
  state_changed: t("State changed"),
  case_number_sent: t("Case number sent"),
  status_changed: t("Status changed"),
};

let cataloguePromise = null;

/** The active catalogue, fetched once per page. */
export function loadCatalogue() {
  cataloguePromise ||= get("/api/v1/catalogue").catch((error) => { cataloguePromise = null; throw error; });
  return cataloguePromise;
}

function me() {
  const data = document.getElementById("app")?.dataset || {};
  return { id: Number(data.userId), role: data.userRole || "" };
}

function options(select, items, chosen, placeholder) {
  select.replaceChildren(el("option", { value: "" }, placeholder),
    ...items.map((item) => el("option", { value: String(item.id), selected: item.id === chosen }, item.name)));
}

function messageOf(error) {
  return error instanceof ApiError ? error.message : t("Something went wrong; try again.");
}

export class CasePanel {
  constructor(conversation) {
    this.conversation = conversation;
    this.user = me();
    this.writer = ["agent", "supervisor", "admin"].includes(this.user.role);
    this.approver = ["supervisor", "reviewer"].includes(this.user.role);
    this.catalogue = null;
    this.case = null;
    this.requestType = el("select", { "aria-label": t("Request type"), disabled: !this.writer });
    this.family = el("select", { "aria-label": t("Family"), disabled: !this.writer });
    this.nature = el("select", { "aria-label": t("Nature"), disabled: !this.writer });
    this.service = el("select", { "aria-label": t("Treating service"), disabled: !this.writer });
    this.save = el("button", { type: "button", class: "button-small", hidden: !this.writer }, t("Save"));
    this.resolve = el("button", { type: "button", class: "button-small", hidden: !this.writer }, t("Resolve"));
    this.error = el("p", { class: "case-error", role: "alert", hidden: true });
    this.caseBox = el("div", { class: "case-box", hidden: true });
    for (const select of [this.requestType, this.family]) select.addEventListener("change", () => this.renderChoices());
    this.save.addEventListener("click", () => this.patch({}));
    this.resolve.addEventListener("click", () => this.patch({ status: "resolved" }));
    this.element = el("div", { class: "case-panel" },
      el("div", { class: "qualification", role: "group", "aria-label": t("Qualification") },
        this.requestType, this.family, this.nature, this.service, this.save, this.resolve),
      this.error, this.caseBox);
    this.onCaseUpdated = (event) => {
      if (this.conversation.case && event.detail?.case_id === this.conversation.case.id) this.loadCase();
    };
    document.addEventListener("case.updated", this.onCaseUpdated);
    loadCatalogue().then((catalogue) => { this.catalogue = catalogue; this.renderChoices(true); })
      .catch((error) => this.showError(messageOf(error)));
    this.loadCase();
  }

  /** The conversation changed (qualification, case, status). */
  setConversation(conversation) {
    const caseChanged = conversation.case?.id !== this.conversation.case?.id
      || conversation.case?.state !== this.conversation.case?.state;
    this.conversation = conversation;
    this.renderChoices(true);
    if (caseChanged) this.loadCase();
  }

  destroy() {
    document.removeEventListener("case.updated", this.onCaseUpdated);
  }

  showError(message) {
    this.error.textContent = message || "";
    this.error.hidden = !message;
  }

  renderChoices(fromConversation = false) {
    if (!this.catalogue) return;
    const c = this.conversation;
    if (fromConversation) {
      this.requestType.replaceChildren(...REQUEST_TYPES.map(([value, label]) =>
        el("option", { value, selected: value === (c.request_type || "") }, label)));
    }
    const type = this.requestType.value;
    const families = this.catalogue.families.filter((f) => !f.request_types || !type || f.request_types.includes(type));
    const familyId = fromConversation ? c.family?.id : Number(this.family.value) || null;
    options(this.family, families, familyId, t("Family…"));
    const family = families.find((f) => f.id === Number(this.family.value));
    const natureId = fromConversation ? c.nature?.id : Number(this.nature.value) || null;
    options(this.nature, family ? family.natures : [], natureId, t("Nature…"));
    const serviceId = fromConversation ? c.service?.id : Number(this.service.value) || null;
    options(this.service, this.catalogue.services, serviceId, type === "claim" ? t("Treating service…") : t("Service (optional)"));
  }

  async patch(extra) {
    const id = (select) => Number(select.value) || null;
    const body = { request_type: this.requestType.value || null, family: id(this.family), nature: id(this.nature),
      service: id(this.service), ...extra };
    this.showError("");
    try {
      const conversation = await request(`/api/v1/conversations/${this.conversation.id}`, { method: "PATCH", json: body });
      this.setConversation(conversation);
      this.element.dispatchEvent(new CustomEvent("conversation-changed", { bubbles: true, detail: conversation }));
    } catch (error) {
      this.showError(messageOf(error));
    }
  }

  async loadCase() {
    const ref = this.conversation.case;
    if (!ref) { this.case = null; this.caseBox.hidden = true; this.caseBox.replaceChildren(); return; }
    try {
      this.case = await get(`/api/v1/cases/${ref.id}`);
      this.renderCase();
    } catch (error) {
      this.showError(messageOf(error));
    }
  }

  /** Run a case action, then show the case again (or the reason it was refused). */
  async act(url, json) {
    this.showError("");
    try {
      await post(url, json === undefined ? {} : { json });
      await this.loadCase();
    } catch (error) {
      this.showError(messageOf(error));
    }
  }

  /** A small inline form: a text area and a button; `submit(text)` runs on confirm. */
  ask(label, submit, initial = "") {
    const area = el("textarea", { rows: 3, dir: "auto", "aria-label": label });
    area.value = initial;
    const form = el("form", { class: "case-ask" }, el("label", {}, label), area,
      el("div", { class: "case-actions" }, el("button", { type: "submit", class: "button-small" }, t("OK")),
        el("button", { type: "button", class: "button-quiet", onclick: () => form.remove() }, t("Cancel"))));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      if (area.value.trim()) submit(area.value.trim()).then(() => form.remove());
    });
    this.caseBox.append(form);
    area.focus();
  }

  renderCase() {
    const kase = this.case;
    const base = `/api/v1/cases/${kase.id}`;
    const claim = kase.request_type === "claim";
    const button = (label, onclick, show = true) =>
      show ? el("button", { type: "button", class: "button-small", onclick }, label) : null;
    const actions = el("div", { class: "case-actions" },
      button(t("Send case number"), () => this.act(`/api/v1/conversations/${this.conversation.id}/case-number`),
        this.writer),
      button(t("Escalate…"), () => this.ask(t("Note for the treating service"), (note) =>
        this.act(`${base}/escalate`, { note })), this.writer && claim && !["escalated", "closed"].includes(kase.state)),
      button(t("Add answer element…"), () => this.ask(t("Answer element"), (text) =>
        this.act(`${base}/elements`, { text })), this.writer && kase.state === "escalated"),
      button(t("Hand back…"), () => this.ask(t("Note for the front office"), (note) =>
        this.act(`${base}/hand-back`, { note })), this.writer && kase.state === "escalated"),
      button(t("Propose a reply…"), () => this.ask(t("Reply to the claim (sent once approved)"), (text) =>
        this.act(`${base}/proposals`, { text, conversation_id: this.conversation.id })),
      this.writer && claim && kase.state !== "closed"),
      button(t("Close case"), () => this.patchCase("closed"), this.writer && kase.state !== "closed"));
    this.caseBox.replaceChildren(...[
      el("div", { class: "case-head" }, el("strong", { dir: "auto" }, t("Case {number}", { number: kase.number })),
        el("span", { class: `pill case-state-${kase.state}` }, caseStateName(kase.state)),
        kase.follow_ups ? el("span", { class: "pill" }, t("{count} follow-up(s)", { count: kase.follow_ups })) : null,
        kase.escalated_team ? autoText("span", t("at {team}", { team: kase.escalated_team.name }), "case-team") : null),
      actions,
      this.renderProposals(kase),
      el("ol", { class: "case-timeline", "aria-label": t("Case timeline") }, ...kase.timeline.map((event) => this.renderEvent(event))),
    ].filter(Boolean));
    this.caseBox.hidden = false;
  }

  async patchCase(state) {
    this.showError("");
    try {
      await request(`/api/v1/cases/${this.case.id}`, { method: "PATCH", json: { state } });
      await this.loadCase();
    } catch (error) {
      this.showError(messageOf(error));
    }
  }

  renderProposals(kase) {
    if (!kase.proposals.length) return null;
    return el("ul", { class: "case-proposals", "aria-label": t("Reply proposals") }, ...kase.proposals.map((p) => {
      const reviewable = this.approver && p.state === "pending" && p.author?.id !== this.user.id;
      const url = `/api/v1/proposals/${p.id}`;
      return el("li", { class: `proposal proposal-${p.state}` },
        el("div", {}, el("span", { class: "pill" }, proposalStateName(p.state)), " ",
          autoText("span", t("by {name}", { name: p.author?.name || "?" })),
          p.reviewer ? [" · ", autoText("span", t("reviewed by {name}", { name: p.reviewer.name }))] : null,
          p.comment ? [" · ", autoText("span", `“${p.comment}”`)] : null),
        autoText("p", p.text, "proposal-text"),
        reviewable ? el("div", { class: "case-actions" },
          el("button", { type: "button", class: "button-small", onclick: () => this.act(`${url}/approve`) }, t("Approve")),
          el("button", { type: "button", class: "button-small", onclick: () => this.ask(t("Edited reply"), (text) =>
            this.act(`${url}/approve`, { text }), p.text) }, t("Edit…")),
          el("button", { type: "button", class: "button-small", onclick: () => this.ask(t("Why is it rejected?"),
            (comment) => this.act(`${url}/reject`, { comment })) }, t("Reject…"))) : null);
    }));
  }

  renderEvent(event) {
    const data = event.data || {};
    const name = event.kind === "status_changed" ? statusName : caseStateName;
    const moved = event.kind === "state_changed" || event.kind === "status_changed";
    // The arrow is part of the translation: it points the reading way (← in Arabic).
    const detail = data.text || data.note || data.comment
      || (moved ? t("{old} → {new}", { old: name(data.old), new: name(data.new) }) : "");

    return el("li", { class: "case-event" },
      el("time", { datetime: event.created_at }, fullTime(event.created_at)), " ",
      el("strong", {}, EVENT_LABELS[event.kind] || event.kind),
      event.actor ? autoText("span", ` · ${event.actor.name}`) : null,
      detail ? autoText("p", detail, "case-event-detail") : null);
  }
}
