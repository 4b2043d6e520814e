// The sandbox customer phone: write to the service as a WhatsApp customer and see what it sends back.

import { get, post } from "./api.js";
import { autoText, el, icon } from "./dom.js";
import { clockTime, fileSize } from "./format.js";

const POLL_MS = 1000;
const DEFAULTS = { phone: "212600000001", name: "Sandbox customer" };
const MEDIA_KINDS = ["image", "video", "audio", "document", "sticker"];

const state = {
  received: new Map(), // id -> item the service sent to this phone
  reported: new Set(), // ids already reported read
  own: [], // what this phone sent, kept client-side: {key, text, file, at, state, error}
  pollTimer: null,
  generation: 0, // bumps when the phone number changes, so late answers for the old number are dropped
};

// ---- the page -----------------------------------------------------------------------------------------

const phoneInput = el("input", { type: "tel", name: "phone", value: localStorage.getItem("sandbox.phone") || DEFAULTS.phone,
  inputmode: "numeric", autocomplete: "off", "aria-label": "Customer phone number" });
const nameInput = el("input", { type: "text", name: "name", value: localStorage.getItem("sandbox.name") || DEFAULTS.name,
  dir: "auto", autocomplete: "off", "aria-label": "Customer display name" });
const subtitle = el("span", {});
const chat = el("div", { class: "phone-chat", role: "log", "aria-live": "polite", "aria-label": "Chat" });
const errorBox = el("div", { class: "phone-error", role: "alert", hidden: true });
const fileRow = el("div", { class: "phone-file", hidden: true });
const textInput = el("textarea", { rows: 1, dir: "auto", placeholder: "Message", "aria-label": "Message" });
const fileInput = el("input", { type: "file", class: "visually-hidden", tabindex: "-1", "aria-hidden": "true",
  "aria-label": "File to send" });
const attachButton = el("button", { type: "button", class: "icon-button", title: "Attach a file",
  "aria-label": "Attach a file" }, icon("paperclip"));
const sendButton = el("button", { type: "submit", class: "phone-send", title: "Send", "aria-label": "Send" }, icon("send"));
const composer = el("form", { class: "phone-composer" }, attachButton, fileInput, textInput, sendButton);

document.getElementById("phone").append(
  el("header", { class: "phone-header" },
    el("span", { class: "avatar" }, "CS"),
    el("span", { class: "phone-title" }, el("strong", {}, "Customer service"), subtitle)),
  el("div", { class: "phone-settings" },
    el("label", {}, "Phone number", phoneInput),
    el("label", {}, "Display name", nameInput)),
  chat, errorBox, fileRow, composer);

function phone() {
  return phoneInput.value.replace(/[\s+]/g, "");
}

function showError(message) {
  errorBox.hidden = !message;
  errorBox.textContent = message || "";
}

// ---- drawing the chat ---------------------------------------------------------------------------------

function fileUrl(mediaId) {
  return `/sandbox/api/files/${encodeURIComponent(mediaId)}`;
}

function mediaElement(kind, url, filename, size) {
  if (kind === "image" || kind === "sticker") return el("img", { src: url, alt: filename || "Image", class: "photo" });
  if (kind === "video") return el("video", { src: url, controls: true, preload: "metadata", class: "video" });
  if (kind === "audio") return el("audio", { src: url, controls: true, preload: "metadata", class: "audio" });
  return el("a", { class: "document", href: url, download: filename || "document" },
    el("span", { class: "document-icon" }, icon("file")),
    el("span", { class: "document-text" }, autoText("span", filename || "Document", "document-name"),
      el("span", { class: "document-size" }, fileSize(size))));
}

/** What the service sent, from the Cloud API request body it posted. */
function receivedContent(item) {
  const body = item.body || {};
  const kind = body.type || item.type;
  if (kind === "text") return [autoText("p", body.text?.body, "text")];
  if (MEDIA_KINDS.includes(kind) && body[kind]) {
    const media = body[kind];
    return [mediaElement(kind, fileUrl(media.id), media.filename), media.caption ? autoText("p", media.caption, "text") : null];
  }
  if (kind === "template") return [el("span", { class: "msg-label" }, "Template"), autoText("p", body.template?.name, "text")];
  if (kind === "interactive") return [autoText("p", body.interactive?.body?.text, "text")];
  if (kind === "reaction") return [autoText("p", `Reacted ${body.reaction?.emoji || ""}`, "text")];
  return [el("p", { class: "text text-secondary" }, `[${kind || "message"}]`)];
}

function receivedBubble(item) {
  return el("div", { class: "bubble", dataset: { id: item.id } }, ...receivedContent(item),
    el("div", { class: "meta" }, el("time", {}, clockTime(new Date(item.received_at * 1000).toISOString()))));
}

function ownBubble(message) {
  const kind = message.file ? message.file.kind : null;
  const status = { sending: "queued", sent: "sent", failed: "failed" }[message.state];
  return el("div", { class: "bubble from-me", dataset: { key: message.key } },
    message.file ? mediaElement(kind, message.file.url, message.file.name, message.file.size) : null,
    message.text ? autoText("p", message.text, "text") : null,
    message.error ? el("p", { class: "msg-error" }, message.error) : null,
    el("div", { class: "meta" }, el("time", {}, clockTime(new Date(message.at * 1000).toISOString())),
      el("span", { class: `status status-${status}`, dataset: { status }, title: message.state },
        icon({ queued: "clock", sent: "tick", failed: "alert" }[status], "status-icon"))));
}

function render() {
  const entries = [
    ...[...state.received.values()].map((item) => ({ at: item.received_at, node: () => receivedBubble(item) })),
    ...state.own.filter((m) => m.phone === phone()).map((m) => ({ at: m.at, node: () => ownBubble(m) })),
  ].sort((a, b) => a.at - b.at);
  const atEnd = chat.scrollHeight - chat.scrollTop - chat.clientHeight < 60;
  chat.replaceChildren(...entries.map((entry) => entry.node()));
  if (!entries.length) {
    chat.append(el("p", { class: "phone-empty" }, "Write to customer service: your message reaches the agents' inbox."));
  }
  if (atEnd) chat.scrollTop = chat.scrollHeight;
  for (const image of chat.querySelectorAll("img")) {
    image.addEventListener("load", () => { if (atEnd) chat.scrollTop = chat.scrollHeight; });
  }
}

// ---- polling what the service sent --------------------------------------------------------------------

async function poll() {
  const generation = state.generation;
  try {
    const { items } = await get(`/sandbox/api/messages?phone=${encodeURIComponent(phone())}`);
    if (generation !== state.generation) return;
    const fresh = items.filter((item) => !state.received.has(item.id));
    for (const item of fresh) state.received.set(item.id, item);
    if (fresh.length) {
      render();
      reportRead(fresh.map((item) => item.id));
    }
  } catch (error) {
    if (generation === state.generation) showError(error.message);
  } finally {
    if (generation === state.generation) state.pollTimer = setTimeout(poll, POLL_MS);
  }
}

/** The phone has shown these messages: the service gets "read" statuses for them. */
async function reportRead(ids) {
  const unreported = ids.filter((id) => !state.reported.has(id));
  if (!unreported.length) return;
  unreported.forEach((id) => state.reported.add(id));
  try {
    await post("/sandbox/api/read", { json: { phone: phone(), ids: unreported } });
  } catch (error) {
    unreported.forEach((id) => state.reported.delete(id)); // asked again with the next new message
    showError(`Read receipts not sent: ${error.message}`);
  }
}

function restartPolling() {
  clearTimeout(state.pollTimer);
  state.generation += 1;
  state.received = new Map();
  state.reported = new Set();
  subtitle.textContent = `WhatsApp sandbox · +${phone()}`;
  showError(null);
  render();
  poll();
}

// ---- sending as the customer --------------------------------------------------------------------------

let chosenFile = null;

function chooseFile(file) {
  chosenFile = file || null;
  fileRow.hidden = !chosenFile;
  if (!chosenFile) { fileRow.replaceChildren(); fileInput.value = ""; return; }
  const remove = el("button", { type: "button", class: "chip-remove", "aria-label": "Remove the file" }, icon("close"));
  remove.addEventListener("click", () => chooseFile(null));
  fileRow.replaceChildren(el("span", { class: "file-chip" }, icon("file"), autoText("span", chosenFile.name, "chip-name"),
    el("span", { class: "chip-size" }, fileSize(chosenFile.size)), remove));
}

function fileKind(file) {
  const major = (file.type || "").split("/")[0];
  return ["image", "video", "audio"].includes(major) ? major : "document";
}

async function send() {
  const text = textInput.value.trim();
  if (!text && !chosenFile) return;
  const message = {
    key: `own-${Date.now()}-${Math.random()}`, phone: phone(), text, at: Date.now() / 1000, state: "sending",
    file: chosenFile && { kind: fileKind(chosenFile), name: chosenFile.name, size: chosenFile.size,
      url: URL.createObjectURL(chosenFile) },
  };
  const body = { phone: phone(), name: nameInput.value.trim() || DEFAULTS.name, text };
  let request;
  if (chosenFile) {
    const form = new FormData();
    Object.entries(body).forEach(([key, value]) => form.append(key, value));
    form.append("file", chosenFile, chosenFile.name);
    request = { form };
  } else {
    request = { json: body };
  }
  state.own.push(message);
  textInput.value = "";
  chooseFile(null);
  render();
  sendButton.disabled = true;
  try {
    const answer = await post("/sandbox/api/messages", request);
    message.state = answer.webhook_status === 200 ? "sent" : "failed";
    if (answer.webhook_status !== 200) message.error = `The webhook answered ${answer.webhook_status}.`;
    showError(null);
  } catch (error) {
    message.state = "failed";
    message.error = error.message;
  } finally {
    sendButton.disabled = false;
    textInput.focus();
    render();
  }
}

composer.addEventListener("submit", (event) => { event.preventDefault(); send(); });
textInput.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) { event.preventDefault(); send(); }
});
attachButton.addEventListener("click", () => fileInput.click());
fileInput.addEventListener("change", () => chooseFile(fileInput.files[0]));
phoneInput.addEventListener("change", () => { localStorage.setItem("sandbox.phone", phone()); restartPolling(); });
nameInput.addEventListener("change", () => localStorage.setItem("sandbox.name", nameInput.value.trim()));

restartPolling();
