// The contact panel of a conversation: who the customer is on every channel, their other conversations, contacts
// that may be the same customer (and merging them, once confirmed), and the contact's details.

import { ApiError, get, request } from "./api.js";
import { channelBadge, channelKind, platformBadge } from "./conversation-list.js";
import { directorySection, historySection } from "./directory-link.js";
import { autoText, el, icon } from "./dom.js";
import { fullTime, shortTime, statusName } from "./format.js";
import { t } from "./i18n.js";

const FIELDS = [
  ["name", t("Name")],
  ["phone", t("Phone")],
  ["email", t("E-mail")],
  ["cil", t("CIL")],
  ["contract", t("Contract")],
  ["cin", t("CIN")],
  ["address", t("Address")],
  ["language", t("Language")],
];
const REASONS = { phone: t("same phone"), email: t("same e-mail"), cil: t("same CIL"), contract: t("same contract") };

function displayName(contact) {
  return contact.name || contact.phone || contact.email || t("Contact {id}", { id: contact.id });
}

export class ContactPanel {
  constructor({ onOpenConversation, onClose }) {
    this.onOpenConversation = onOpenConversation;
    this.contactId = null;
    this.conversationId = null;
    this.editing = false;
    this.generation = 0;
    const close = el("button", { type: "button", class: "icon-button", "aria-label": t("Close the contact panel") },
      icon("close"));
    close.addEventListener("click", () => onClose());
    this.body = el("div", { class: "contact-body" });
    this.element = el("aside", { class: "contact-panel", hidden: true, "aria-label": t("Contact") },
      el("header", { class: "contact-head" }, el("h3", {}, t("Contact")), close), this.body);
  }

  isOpen() {
    return !this.element.hidden;
  }

  close() {
    this.element.hidden = true;
    this.editing = false;
    this.generation += 1;
  }

  /** Show a contact (again); `quiet` refreshes without disturbing an edit in progress. */
  async open(contactId, conversationId, quiet = false) {
    if (quiet && this.editing && contactId === this.contactId) return;
    const generation = ++this.generation;
    this.element.hidden = false;
    if (contactId !== this.contactId) {
      this.editing = false;
      this.body.replaceChildren(el("p", { class: "contact-note" }, t("Loading…")));
    }
    this.contactId = contactId;
    this.conversationId = conversationId;
    try {
      const [contact, suggestions] = await Promise.all([
        get(`/api/v1/contacts/${contactId}`),
        get(`/api/v1/contacts/${contactId}/suggestions`),
      ]);
      if (generation === this.generation) this.render(contact, suggestions.items);
    } catch (error) {
      if (generation !== this.generation) return;
      const message = error instanceof ApiError ? error.message : t("The contact could not be loaded.");
      this.body.replaceChildren(el("p", { class: "contact-note contact-error", role: "alert" }, message));
    }
  }

  render(contact, suggestions, notice = null) {
    this.history = el("section", { class: "contact-section" });
    this.contact = contact;
    this.suggestions = suggestions;
    this.body.replaceChildren(...[
      notice ? el("p", { class: "contact-notice", role: "status" }, notice) : null,
      this.editing ? this.form(contact) : this.details(contact),
      this.section(t("Customer directory"), directorySection(contact, () => this.open(contact.id, this.conversationId))),
      this.section(t("On every channel"), contact.identities.length
        ? el("ul", { class: "contact-identities" }, contact.identities.map((identity) => this.identity(identity)))
        : el("p", { class: "contact-note" }, t("No channel yet."))),
      this.section(t("Conversations"), el("ul", { class: "contact-conversations" },
        contact.conversations.map((conversation) => this.conversation(conversation)))),
      this.section(t("Maybe the same customer"), suggestions.length
        ? el("ul", { class: "contact-suggestions" }, suggestions.map((item) => this.suggestion(item)))
        : el("p", { class: "contact-note" }, t("No other contact shares a phone, an e-mail, a CIL or a contract."))),
      this.history,
    ].filter(Boolean)); // replaceChildren would write a null as the text "null"
    historySection(contact.id).then((list) => this.history.replaceChildren(el("h4", {}, t("Changes")), list));
  }

  section(title, content) {
    return el("section", { class: "contact-section" }, el("h4", {}, title), content);
  }

  details(contact) {
    const edit = el("button", { type: "button", class: "button-small" }, t("Edit"));
    edit.addEventListener("click", () => { this.editing = true; this.render(this.contact, this.suggestions); });
    const rows = FIELDS.filter(([name]) => name !== "name" && contact[name]).flatMap(([name, label]) => [
      el("dt", {}, label),
      autoText("dd", contact[name], `contact-field contact-${name}`),
    ]);
    return el("div", { class: "contact-card-head" },
      el("div", { class: "contact-title" }, autoText("strong", displayName(contact), "contact-name"), edit),
      rows.length ? el("dl", { class: "contact-fields" }, rows)
        : el("p", { class: "contact-note" }, t("No details yet: add a phone, an e-mail, a CIL or a contract.")));
  }

  form(contact) {
    const inputs = FIELDS.map(([name, label]) => {
      const input = el("input", { name, value: contact[name] || "", dir: "auto", autocomplete: "off",
        type: name === "email" ? "email" : name === "phone" ? "tel" : "text" });
      return el("label", {}, label, input);
    });
    const error = el("p", { class: "contact-error", role: "alert", hidden: true });
    const save = el("button", { type: "submit", class: "button-primary" }, t("Save"));
    const cancel = el("button", { type: "button", class: "button-quiet" }, t("Cancel"));
    cancel.addEventListener("click", () => { this.editing = false; this.render(this.contact, this.suggestions); });
    const form = el("form", { class: "contact-form" }, ...inputs, error, el("div", { class: "contact-form-actions" },
      save, cancel));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const changes = {};
      for (const [name] of FIELDS) {
        const value = form.elements[name].value.trim();
        if (value !== (contact[name] || "")) changes[name] = value;
      }
      save.disabled = true;
      try {
        const updated = await request(`/api/v1/contacts/${contact.id}`, { method: "PATCH", json: changes });
        this.editing = false;
        const suggestions = await get(`/api/v1/contacts/${contact.id}/suggestions`);
        this.render(updated, suggestions.items, t("Saved."));
      } catch (failure) {
        error.hidden = false;
        error.textContent = failure.message || t("The contact could not be saved.");
        save.disabled = false;
      }
    });
    return form;
  }

  identity(identity) {
    const name = identity.handle ? `@${identity.handle}` : identity.display_name || identity.external_id;
    return el("li", { class: "contact-identity", dataset: { channel: identity.channel } },
      platformBadge(identity.channel),
      el("span", { class: "contact-identity-text" }, autoText("span", name, "contact-identity-name"),
        autoText("span", `${identity.account_name} · ${identity.external_id}`, "contact-identity-id")));
  }

  conversation(conversation) {
    const current = conversation.id === this.conversationId;
    const [, , label] = channelKind(conversation);
    const about = conversation.thread?.text || label;
    const item = el("button", { type: "button", class: "contact-conversation", disabled: current,
      dataset: { conversationId: conversation.id } },
    channelBadge(conversation),
    el("span", { class: "contact-conversation-text" }, autoText("span", about, "contact-conversation-about"),
      el("span", { class: "contact-conversation-meta" },
        el("span", { class: `pill pill-${conversation.status}` }, statusName(conversation.status)),
        el("time", { datetime: conversation.last_message_at, title: fullTime(conversation.last_message_at) },
          shortTime(conversation.last_message_at)),
        current ? el("span", {}, "· ", t("this one")) : null)));
    item.addEventListener("click", () => this.onOpenConversation(conversation.id));
    return el("li", {}, item);
  }

  suggestion({ contact, reasons, identities }) {
    const merge = el("button", { type: "button", class: "button-small" }, t("Merge…"));
    const actions = el("div", { class: "contact-suggestion-actions" }, merge);
    merge.addEventListener("click", () => {
      const confirm = el("button", { type: "button", class: "button-primary button-danger" }, t("Merge"));
      const cancel = el("button", { type: "button", class: "button-quiet" }, t("Cancel"));
      cancel.addEventListener("click", () => actions.replaceChildren(merge));
      confirm.addEventListener("click", () => this.merge(contact, confirm));
      actions.replaceChildren(
        autoText("p", t("Merge {other} into {contact}? Every conversation and channel of theirs moves here; this cannot be undone.",
          { other: displayName(contact), contact: displayName(this.contact) }), "contact-confirm"),
        confirm, cancel);
      confirm.focus();
    });
    return el("li", { class: "contact-suggestion", dataset: { contactId: contact.id } },
      el("div", { class: "contact-suggestion-head" }, autoText("strong", displayName(contact)),
        el("span", { class: "contact-badges" }, identities.map((identity) => platformBadge(identity.channel)))),
      el("span", { class: "contact-reasons" }, reasons.map((reason) => REASONS[reason] || reason).join(t(", "))),
      actions);
  }

  async merge(other, button) {
    button.disabled = true;
    try {
      const merged = await request(`/api/v1/contacts/${this.contact.id}/merge`,
        { method: "POST", json: { contact_id: other.id } });
      const suggestions = await get(`/api/v1/contacts/${merged.id}/suggestions`);
      this.render(merged, suggestions.items, t("{name} merged into this contact.", { name: displayName(other) }));
    } catch (failure) {
      button.disabled = false;
      button.after(el("p", { class: "contact-error", role: "alert" }, failure.message || t("The merge failed.")));

    }
  }
}
