// The reply box of a conversation: text, one file, Enter to send, Shift+Enter for a new line.

import { autoText, el, icon } from "./dom.js";
import { fileSize } from "./format.js";

/** Build a composer; `send(text, file)` returns a promise that rejects with an ApiError to show. */
export function createComposer(send) {
  const textarea = el("textarea", {
    class: "composer-text", rows: 1, dir: "auto", placeholder: "Write a reply…", title: "Enter sends, Shift+Enter starts a new line",
    "aria-label": "Reply",
  });
  const fileInput = el("input", { type: "file", class: "visually-hidden", tabindex: "-1", "aria-hidden": "true" });
  const attach = el("button", { type: "button", class: "icon-button", title: "Attach a file", "aria-label": "Attach a file" },
    icon("paperclip"));
  const sendButton = el("button", { type: "submit", class: "button-primary send-button", title: "Send (Enter)" },
    icon("send"), el("span", {}, "Send"));
  const chip = el("div", { class: "file-chip", hidden: true });
  const error = el("div", { class: "composer-error", role: "alert", hidden: true });
  const form = el("form", { class: "composer" }, error, chip,
    el("div", { class: "composer-row" }, attach, fileInput, textarea, sendButton));

  let file = null;
  const setFile = (chosen) => {
    file = chosen || null;
    chip.hidden = !file;
    chip.replaceChildren();
    if (!file) return;
    const remove = el("button", { type: "button", class: "chip-remove", "aria-label": "Remove the file" }, icon("close"));
    remove.addEventListener("click", () => { setFile(null); fileInput.value = ""; textarea.focus(); });
    chip.append(icon("file"), autoText("span", file.name, "chip-name"),
      el("span", { class: "chip-size" }, fileSize(file.size)), remove);
  };
  const showError = (message) => {
    error.hidden = !message;
    error.textContent = message || "";
  };
  const grow = () => {
    textarea.style.height = "auto"; // CSSOM, allowed by style-src 'self' (only markup styles are refused)
    textarea.style.height = `${Math.min(textarea.scrollHeight, 200)}px`;
  };

  const submit = async () => {
    const text = textarea.value.trim();
    if (!text && !file) return;
    sendButton.disabled = true;
    form.classList.add("is-sending");
    try {
      await send(text, file);
      textarea.value = "";
      setFile(null);
      fileInput.value = "";
      showError(null);
      grow();
    } catch (failure) {
      showError(failure.message || "The message could not be sent.");
    } finally {
      sendButton.disabled = false;
      form.classList.remove("is-sending");
      textarea.focus();
    }
  };

  attach.addEventListener("click", () => fileInput.click());
  fileInput.addEventListener("change", () => setFile(fileInput.files[0]));
  textarea.addEventListener("input", () => { grow(); showError(null); });
  textarea.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      submit();
    }
  });
  textarea.addEventListener("paste", (event) => {
    const pasted = [...(event.clipboardData?.files || [])][0];
    if (pasted) { event.preventDefault(); setFile(pasted); }
  });
  form.addEventListener("submit", (event) => { event.preventDefault(); submit(); });
  form.addEventListener("dragover", (event) => { event.preventDefault(); form.classList.add("is-dropping"); });
  form.addEventListener("dragleave", () => form.classList.remove("is-dropping"));
  form.addEventListener("drop", (event) => {
    event.preventDefault();
    form.classList.remove("is-dropping");
    if (event.dataTransfer?.files?.[0]) setFile(event.dataTransfer.files[0]);
  });

  return { element: form, focus: () => textarea.focus() };
}
