// Once WhatsApp's 24-hour window has closed only an approved template reaches the customer: the composer shows
// this picker instead of a text box that would fail. Templates in the conversation's language come first; the
// agent fills the template's values and sees the message as the customer will read it.

import { autoText, el } from "./dom.js";
import { t } from "./i18n.js";

const NUMBERED = /\{\{\s*(\d+)\s*\}\}/g;

/** Fill a template's {{1}}, {{2}}... with the values typed so far; a missing one shows as [1]. */
export function fillTemplate(body, values) {
  return body.replace(NUMBERED, (whole, number) => values[Number(number) - 1]?.trim() || `[${number}]`);
}

/** A picker: `load()` resolves to the API's {items}; `send(choice)` sends {name, language, parameters}. */
export function createTemplatePicker({ load, send }) {
  const select = el("select", { class: "template-select", "aria-label": t("Approved template") });
  const fields = el("div", { class: "template-fields" });
  const preview = autoText("p", "", "template-preview");
  const sendButton = el("button", { type: "button", class: "button-primary template-send" }, t("Send the template"));
  const status = el("p", { class: "template-status", role: "status" });
  const element = el("div", { class: "template-picker", hidden: true },
    el("label", { class: "template-label" }, t("Approved template"), " ", select), fields, preview, status, sendButton);
  let items = null;
  let loading = null;
  let inputs = [];

  const usable = () => (items || []).filter((item) => item.usable);
  const current = () => usable()[Number(select.value)] || null;
  const values = () => inputs.map((input) => input.value);
  const complete = () => Boolean(current()) && values().every((value) => value.trim());

  const drawPreview = () => {
    const template = current();
    preview.textContent = template ? fillTemplate(template.body, values()) : "";
    sendButton.disabled = !complete();
  };
  const drawFields = () => {
    const template = current();
    inputs = Array.from({ length: template?.parameters || 0 }, (_, index) => el("input", {
      type: "text", class: "template-value", dir: "auto", maxlength: 1024,
      placeholder: template.examples?.[index] || "", "aria-label": t("Value {number}", { number: index + 1 }),
    }));
    for (const input of inputs) input.addEventListener("input", drawPreview);
    fields.replaceChildren(...inputs.map((input, index) => el("label", { class: "template-field" },
      el("span", { class: "template-number" }, `{{${index + 1}}}`), input)));
    drawPreview();
  };
  const drawList = () => {
    const choices = usable();
    select.replaceChildren(...choices.map((item, index) => el("option", { value: String(index) },
      `${item.name} · ${item.language}${item.suits_conversation ? " ★" : ""}`)));
    const unusable = (items || []).length - choices.length;
    status.textContent = !choices.length ? t("No approved template can be sent from here.")
      : unusable ? t("{count} more templates need a file or a value the inbox cannot fill.", { count: unusable }) : "";
    drawFields();
  };
  const open = () => {
    loading ||= load().then((answer) => { items = answer.items; drawList(); }).catch((failure) => {
      loading = null;
      status.textContent = failure.message || t("The templates could not be loaded.");
    });
    return loading;
  };

  select.addEventListener("change", drawFields);
  sendButton.addEventListener("click", async () => {
    const template = current();
    if (!complete()) return;
    sendButton.disabled = true;
    status.textContent = "";
    try {
      await send({ name: template.name, language: template.language, parameters: values() });
      for (const input of inputs) input.value = "";
    } catch (failure) {
      status.textContent = failure.message || t("The template could not be sent.");
    } finally {
      drawPreview();
    }
  });

  return {
    element,
    /** Show or hide the picker; the list is fetched the first time it shows. */
    show(visible) {
      element.hidden = !visible;
      if (visible) open();
    },
  };
}
