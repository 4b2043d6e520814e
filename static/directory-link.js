// The customer directory in a conversation's contact panel: the linked entry (CIL, contracts, zone, segment)
// with an unlink, or a search by CIL, contract, phone or name and a confirmed link; the change history.

import { ApiError, get, post, request } from "./api.js";
import { autoText, el } from "./dom.js";
import { fullTime } from "./format.js";
import { t } from "./i18n.js";

// The history's field and source names (API values) as people read them.
const FIELD_NAMES = {
  name: t("Name"), phone: t("Phone"), email: t("E-mail"), cil: t("CIL"), contract: t("Contract"), cin: t("CIN"),
  address: t("Address"), language: t("Language"), contracts: t("Contracts"), zone: t("Zone"), segment: t("Segment"),
  created: t("Created"),
};
const SOURCE_NAMES = { import: t("CSV import"), link: t("Directory link"), api: t("API"), inbox: t("Inbox") };

/** The directory section of the contact panel; `onChanged()` reloads the panel after a link or an unlink. */
export function directorySection(contact, onChanged) {
  const box = el("div", { class: "directory" });
  const error = el("p", { class: "contact-error", role: "alert", hidden: true });
  const fail = (failure) => {
    error.hidden = false;
    error.textContent = failure instanceof ApiError ? failure.message : t("The directory cannot be reached.");
  };
  if (contact.customer) {
    const entry = contact.customer;
    const unlink = el("button", { type: "button", class: "button-small" }, t("Unlink"));
    unlink.addEventListener("click", async () => {
      try {
        await request(`/api/v1/contacts/${contact.id}/customer`, { method: "DELETE" });
        onChanged();
      } catch (failure) { fail(failure); }
    });
    box.append(el("dl", { class: "contact-fields directory-entry" },
      el("dt", {}, t("CIL")), autoText("dd", entry.cil),
      el("dt", {}, t("Name")), autoText("dd", entry.name || "—"),
      el("dt", {}, t("Contracts")), autoText("dd", (entry.contracts || []).join(", ") || "—"),
      el("dt", {}, t("Zone")), autoText("dd", entry.zone || "—"),
      el("dt", {}, t("Segment")), el("dd", {}, entry.segment === "key_account" ? t("Key account") : t("Individual"))),
    unlink, error);
    return box;
  }
  const input = el("input", { type: "search", class: "directory-search", placeholder: t("CIL, contract, phone or name"),
    "aria-label": t("Search the customer directory"), dir: "auto", autocomplete: "off" });
  const results = el("ul", { class: "directory-results" });
  let timer = null;
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const words = input.value.trim();
      if (words.length < 2) { results.replaceChildren(); return; }
      try {
        const { items } = await get(`/api/v1/customers?${new URLSearchParams({ q: words, limit: "8" })}`);
        results.replaceChildren(...(items.length ? items.map((entry) => result(entry)) : [
          el("li", { class: "contact-note" }, t("No directory entry matches."))]));
      } catch (failure) { fail(failure); }
    }, 250);
  });
  const result = (entry) => {
    const contracts = entry.contracts || [];
    const choose = contracts.length > 1
      ? el("select", { "aria-label": t("Contract") },
        ...contracts.map((number) => el("option", { value: number, dir: "auto" }, number)))
      : null;
    const link = el("button", { type: "button", class: "button-small" }, t("Link"));
    link.addEventListener("click", async () => {
      if (!window.confirm(t("Link this contact to CIL {cil}? Its CIL and contract are copied.", { cil: entry.cil }))) return;
      try {
        const body = { customer_id: entry.id };
        if (choose) body.contract = choose.value;
        await post(`/api/v1/contacts/${contact.id}/customer`, { json: body });
        onChanged();
      } catch (failure) { fail(failure); }
    });
    return el("li", { class: "directory-result" },
      autoText("span", entry.cil, "directory-cil"), autoText("span", entry.name || "—"),
      autoText("span", entry.zone || "", "directory-zone"), choose, link);
  };
  box.append(input, results, error);
  return box;
}

/** The contact's change history: who changed which field, when, from what to what. */
export async function historySection(contactId) {
  const list = el("ul", { class: "contact-history" });
  try {
    const { items } = await get(`/api/v1/contacts/${contactId}/changes`);
    list.append(...(items.length ? items.map((change) => el("li", {},
      el("time", { datetime: change.created_at }, fullTime(change.created_at)), " ",
      autoText("strong", change.user?.name || SOURCE_NAMES[change.source] || change.source), " ",
      t("{field}:", { field: FIELD_NAMES[change.field] || change.field }), " ",
      autoText("span", change.old ?? "—", "history-old"), " ", t("→"), " ",
      autoText("span", change.new ?? "—")))
      : [el("li", { class: "contact-note" }, t("No change yet."))]));
  } catch {
    list.append(el("li", { class: "contact-note" }, t("The history could not be loaded.")));

  }
  return list;
}
