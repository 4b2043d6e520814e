// The sandbox customer phone: write to the service as a customer on WhatsApp, on Messenger, under the Page's post
// and on X, and see what the service sends back. Every customer text goes in with textContent only.

import { get, post, request } from "./api.js";
import { autoText, el, icon } from "./dom.js";
import { clockTime, fileSize, fullTime } from "./format.js";

const POLL_MS = 1000;
const DEFAULTS = { phone: "212600000001", name: "Sandbox customer" };
const MEDIA_KINDS = ["image", "video", "audio", "document", "sticker"];
const CHANNELS = [
  { id: "whatsapp", label: "WhatsApp" },
  { id: "messenger", label: "Messenger" },
  { id: "page", label: "Page" },
  { id: "x", label: "X" },
];

// ---- the page: settings shared by every channel, the channel switch, one view at a time ---------------------

const phoneInput = el("input", { type: "tel", name: "phone", value: localStorage.getItem("sandbox.phone") || DEFAULTS.phone,
  inputmode: "numeric", autocomplete: "off", "aria-label": "Customer phone number" });
const nameInput = el("input", { type: "text", name: "name", value: localStorage.getItem("sandbox.name") || DEFAULTS.name,
  dir: "auto", autocomplete: "off", "aria-label": "Customer display name" });
const avatar = el("span", { class: "avatar" }, "CS");
const title = el("strong", {}, "Customer service");
const subtitle = el("span", {});
const header = el("header", { class: "phone-header" }, avatar, el("span", { class: "phone-title" }, title, subtitle));
const switcher = el("nav", { class: "channel-switch", "aria-label": "Channel" });
const viewSlot = el("div", { class: "phone-view" });
const errorBox = el("div", { class: "phone-error", role: "alert", hidden: true });
const phoneElement = document.getElementById("phone");

phoneElement.append(header, switcher,
  el("div", { class: "phone-settings" },
    el("label", {}, "Phone number", phoneInput),
    el("label", {}, "Display name", nameInput)),
  viewSlot, errorBox);

function phone() {
  return phoneInput.value.replace(/[\s+]/g, "");
}

function customerName() {
  return nameInput.value.trim() || DEFAULTS.name;
}

function showError(message) {
  errorBox.hidden = !message;
  errorBox.textContent = message || "";
}

function at(seconds) {
  return new Date(seconds * 1000).toISOString();
}

function timeElement(seconds) {
  const iso = at(seconds);
  return el("time", { datetime: iso, title: fullTime(iso) }, clockTime(iso));
}

// ---- shared pieces ----------------------------------------------------------------------------------------

function fileUrl(mediaId) {
  return `/sandbox/api/files/${encodeURIComponent(mediaId)}`;
}

function kindOf(mime) {
  const major = (mime || "").split("/")[0];
  return ["image", "video", "audio"].includes(major) ? major : "document";
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

function fileElement(file) {
  return file ? mediaElement(kindOf(file.mime_type), file.url, file.filename, file.size) : null;
}

function statusMark(state) {
  const status = { sending: "queued", sent: "sent", failed: "failed" }[state] || "sent";
  return el("span", { class: `status status-${status}`, dataset: { status }, title: state },
    icon({ queued: "clock", sent: "tick", failed: "alert" }[status], "status-icon"));
}

/** A composer: a text box, an optional file, Enter sends. `onSend(text, file)` resolves when taken. */
function makeComposer({ placeholder, accept = null, onSend }) {
  const textInput = el("textarea", { rows: 1, dir: "auto", placeholder, "aria-label": placeholder });
  const fileInput = el("input", { type: "file", class: "visually-hidden", tabindex: "-1", "aria-hidden": "true",
    "aria-label": "File to send", accept });
  const attachButton = el("button", { type: "button", class: "icon-button", title: "Attach a file",
    "aria-label": "Attach a file" }, icon("paperclip"));
  const sendButton = el("button", { type: "submit", class: "phone-send", title: "Send", "aria-label": "Send" },
    icon("send"));
  const fileRow = el("div", { class: "phone-file", hidden: true });
  const context = el("div", { class: "phone-context", hidden: true });
  const form = el("form", { class: "phone-composer" }, attachButton, fileInput, textInput, sendButton);
  let chosenFile = null;

  const chooseFile = (file) => {
    chosenFile = file || null;
    fileRow.hidden = !chosenFile;
    if (!chosenFile) { fileRow.replaceChildren(); fileInput.value = ""; return; }
    const remove = el("button", { type: "button", class: "chip-remove", "aria-label": "Remove the file" }, icon("close"));
    remove.addEventListener("click", () => chooseFile(null));
    fileRow.replaceChildren(el("span", { class: "file-chip" }, icon("file"), autoText("span", chosenFile.name, "chip-name"),
      el("span", { class: "chip-size" }, fileSize(chosenFile.size)), remove));
  };
  const send = async () => {
    const text = textInput.value.trim();
    if (!text && !chosenFile) return;
    const file = chosenFile;
    sendButton.disabled = true;
    try {
      await onSend(text, file);
      textInput.value = "";
      chooseFile(null);
      showError(null);
    } catch (error) {
      showError(error.message);
    } finally {
      sendButton.disabled = false;
      textInput.focus();
    }
  };
  form.addEventListener("submit", (event) => { event.preventDefault(); send(); });
  textInput.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) { event.preventDefault(); send(); }
  });
  attachButton.addEventListener("click", () => fileInput.click());
  fileInput.addEventListener("change", () => chooseFile(fileInput.files[0]));
  attachButton.hidden = accept === false;
  return {
    elements: [context, fileRow, form],
    textInput,
    /** Show what the next send does (replying to, editing...), with a way to cancel it. */
    setContext(label, onCancel) {
      context.hidden = !label;
      context.replaceChildren();
      if (!label) return;
      const cancel = el("button", { type: "button", class: "chip-remove", "aria-label": "Cancel" }, icon("close"));
      cancel.addEventListener("click", () => { onCancel(); textInput.focus(); });
      context.append(autoText("span", label, "phone-context-text"), cancel);
    },
  };
}

/** The body of a customer's send: JSON, or multipart when there is a file. */
function sendBody(fields, file) {
  if (!file) return { json: fields };
  const form = new FormData();
  Object.entries(fields).forEach(([key, value]) => form.append(key, value));
  form.append("file", file, file.name);
  return { form };
}

function webhookRefused(answer) {
  if (answer.webhook_status !== 200) throw new Error(`The webhook answered ${answer.webhook_status}.`);
}

function scrollAtEnd(container) {
  return container.scrollHeight - container.scrollTop - container.clientHeight < 60;
}

function keepAtEnd(container, wasAtEnd) {
  if (!wasAtEnd) return;
  container.scrollTop = container.scrollHeight;
  for (const image of container.querySelectorAll("img")) {
    image.addEventListener("load", () => { container.scrollTop = container.scrollHeight; }, { once: true });
  }
}

/** A view that polls one URL while shown and redraws only when the answer changed. */
class PolledView {
  constructor() {
    this.timer = null;
    this.generation = 0;
    this.lastAnswer = null;
  }

  url() { return ""; }

  draw() {}

  start() {
    this.stop();
    this.lastAnswer = null;
    this.poll();
  }

  stop() {
    clearTimeout(this.timer);
    this.generation += 1;
  }

  async refresh() {
    const answer = await get(this.url());
    const text = JSON.stringify(answer);
    if (text !== this.lastAnswer) {
      this.lastAnswer = text;
      this.draw(answer);
    }
  }

  async poll() {
    const generation = this.generation;
    try {
      await this.refresh();
    } catch (error) {
      if (generation === this.generation) showError(error.message);
    } finally {
      if (generation === this.generation) this.timer = setTimeout(() => this.poll(), POLL_MS);
    }
  }
}

// ---- WhatsApp -----------------------------------------------------------------------------------------------

class WhatsAppView {
  constructor() {
    this.received = new Map(); // id -> item the service sent to this phone
    this.reported = new Set(); // ids already reported read
    this.own = []; // what this phone sent, kept client-side: {key, phone, text, file, at, state, error}
    this.timer = null;
    this.generation = 0;
    this.chat = el("div", { class: "phone-chat", role: "log", "aria-live": "polite", "aria-label": "Chat" });
    this.composer = makeComposer({ placeholder: "Message", onSend: (text, file) => this.send(text, file) });
    this.element = el("div", { class: "channel-view", dataset: { view: "whatsapp" } }, this.chat,
      ...this.composer.elements);
  }

  header() {
    return { theme: "whatsapp", avatar: "CS", title: "Customer service", subtitle: `WhatsApp sandbox · +${phone()}` };
  }

  start() {
    this.stop();
    this.received = new Map();
    this.reported = new Set();
    this.render();
    this.poll();
  }

  stop() {
    clearTimeout(this.timer);
    this.generation += 1;
  }

  /** What the service sent, from the Cloud API request body it posted. */
  receivedContent(item) {
    const body = item.body || {};
    const kind = body.type || item.type;
    if (kind === "text") return [autoText("p", body.text?.body, "text")];
    if (MEDIA_KINDS.includes(kind) && body[kind]) {
      const media = body[kind];
      return [mediaElement(kind, fileUrl(media.id), media.filename),
        media.caption ? autoText("p", media.caption, "text") : null];
    }
    if (kind === "template") {
      return [el("span", { class: "msg-label" }, "Template"), autoText("p", item.text || body.template?.name, "text")];
    }
    if (kind === "interactive") return [autoText("p", body.interactive?.body?.text, "text"), this.choices(body)];
    if (kind === "reaction") return [autoText("p", `Reacted ${body.reaction?.emoji || ""}`, "text")];
    return [el("p", { class: "text text-secondary" }, `[${kind || "message"}]`)];
  }

  /** The buttons or list rows of an interactive message, each a tap that answers the service. */
  choices(body) {
    const interactive = body.interactive || {};
    const action = interactive.action || {};
    const list = interactive.type === "list";
    const options = list
      ? (action.sections || []).flatMap((section) => section.rows || [])
      : (action.buttons || []).map((button) => button.reply || {});
    return el("div", { class: "phone-choices", role: "group" }, options.map((option) => {
      const button = el("button", { type: "button", class: "phone-choice", title: option.description || "" },
        autoText("span", option.title || option.id));
      button.addEventListener("click", () => this.send(option.title || option.id, null,
        { reply_id: option.id, reply_title: option.title || "", reply_kind: list ? "list" : "button" }));
      return button;
    }));
  }

  render() {
    const entries = [
      ...[...this.received.values()].map((item) => ({ at: item.received_at,
        node: () => el("div", { class: "bubble", dataset: { id: item.id } }, ...this.receivedContent(item),
          el("div", { class: "meta" }, timeElement(item.received_at))) })),
      ...this.own.filter((m) => m.phone === phone()).map((m) => ({ at: m.at,
        node: () => el("div", { class: "bubble from-me", dataset: { key: m.key } },
          m.file ? mediaElement(m.file.kind, m.file.url, m.file.name, m.file.size) : null,
          m.text ? autoText("p", m.text, "text") : null,
          m.error ? el("p", { class: "msg-error" }, m.error) : null,
          el("div", { class: "meta" }, timeElement(m.at), statusMark(m.state))) })),
    ].sort((a, b) => a.at - b.at);
    const wasAtEnd = scrollAtEnd(this.chat);
    this.chat.replaceChildren(...entries.map((entry) => entry.node()));
    if (!entries.length) {
      this.chat.append(el("p", { class: "phone-empty" },
        "Write to customer service: your message reaches the agents' inbox."));
    }
    keepAtEnd(this.chat, wasAtEnd);
  }

  async poll() {
    const generation = this.generation;
    try {
      const { items } = await get(`/sandbox/api/messages?phone=${encodeURIComponent(phone())}`);
      if (generation !== this.generation) return;
      const fresh = items.filter((item) => !this.received.has(item.id));
      for (const item of fresh) this.received.set(item.id, item);
      if (fresh.length) {
        this.render();
        this.reportRead(fresh.map((item) => item.id));
      }
    } catch (error) {
      if (generation === this.generation) showError(error.message);
    } finally {
      if (generation === this.generation) this.timer = setTimeout(() => this.poll(), POLL_MS);
    }
  }

  /** The phone has shown these messages: the service gets "read" statuses for them. */
  async reportRead(ids) {
    const unreported = ids.filter((id) => !this.reported.has(id));
    if (!unreported.length) return;
    unreported.forEach((id) => this.reported.add(id));
    try {
      await post("/sandbox/api/read", { json: { phone: phone(), ids: unreported } });
    } catch (error) {
      unreported.forEach((id) => this.reported.delete(id)); // asked again with the next new message
      showError(`Read receipts not sent: ${error.message}`);
    }
  }

  async send(text, file, reply = null) {
    const message = {
      key: `own-${Date.now()}-${Math.random()}`, phone: phone(), text, at: Date.now() / 1000, state: "sending",
      file: file && { kind: kindOf(file.type), name: file.name, size: file.size, url: URL.createObjectURL(file) },
    };
    this.own.push(message);
    this.render();
    try {
      const fields = { phone: phone(), name: customerName(), text, ...(reply || {}) };
      const answer = await post("/sandbox/api/messages", sendBody(fields, file));
      message.state = answer.webhook_status === 200 ? "sent" : "failed";
      if (answer.webhook_status !== 200) message.error = `The webhook answered ${answer.webhook_status}.`;
    } catch (error) {
      message.state = "failed";
      message.error = error.message;
    } finally {
      this.render();
    }
  }
}

// ---- Messenger ----------------------------------------------------------------------------------------------

/** A chat bubble of a server-kept record: {id, from, text, file, at, status, error}. */
function recordBubble(item, mine) {
  return el("div", { class: `bubble${mine ? " from-me" : ""}`, dataset: { id: item.id } },
    fileElement(item.file),
    item.text ? autoText("p", item.text, "text") : null,
    item.error ? el("p", { class: "msg-error" }, item.error) : null,
    el("div", { class: "meta" }, timeElement(item.at), mine ? statusMark(item.status) : null));
}

class MessengerView extends PolledView {
  constructor() {
    super();
    this.reported = new Set();
    this.chat = el("div", { class: "phone-chat", role: "log", "aria-live": "polite", "aria-label": "Messenger chat" });
    this.composer = makeComposer({ placeholder: "Aa", onSend: (text, file) => this.send(text, file) });
    this.element = el("div", { class: "channel-view", dataset: { view: "messenger" } }, this.chat,
      ...this.composer.elements);
  }

  header() {
    return { theme: "messenger", avatar: "SC", title: "Service client (sandbox)", subtitle: "Messenger · Page" };
  }

  url() { return `/sandbox/api/messenger?phone=${encodeURIComponent(phone())}`; }

  start() {
    this.reported = new Set();
    super.start();
  }

  draw({ items }) {
    const wasAtEnd = scrollAtEnd(this.chat);
    const nodes = items.map((item) => {
      if (item.from !== "page" || !item.private_reply_to) return recordBubble(item, item.from === "customer");
      const bubble = recordBubble(item, false);
      bubble.classList.add("private-reply");
      bubble.prepend(el("span", { class: "msg-label" }, "Private reply to your comment"),
        autoText("div", item.private_reply_to.text || "", "quote"));
      return bubble;
    });
    this.chat.replaceChildren(...nodes);
    if (!nodes.length) {
      this.chat.append(el("p", { class: "phone-empty" }, "Send the Page a message: it reaches the agents' inbox."));
    }
    keepAtEnd(this.chat, wasAtEnd);
    const unread = items.filter((item) => item.from === "page" && !this.reported.has(item.id));
    if (unread.length) this.reportRead(unread.map((item) => item.id));
  }

  /** Messenger reports what the person has seen with a read watermark. */
  async reportRead(ids) {
    ids.forEach((id) => this.reported.add(id));
    try {
      await post("/sandbox/api/messenger/read", { json: { phone: phone() } });
    } catch (error) {
      ids.forEach((id) => this.reported.delete(id));
      showError(`Read receipt not sent: ${error.message}`);
    }
  }

  async send(text, file) {
    const answer = await post("/sandbox/api/messenger", sendBody({ phone: phone(), name: customerName(), text }, file));
    await this.refresh();
    webhookRefused(answer);
  }
}

// ---- the Page's post and its comments -----------------------------------------------------------------------

class PageView extends PolledView {
  constructor() {
    super();
    this.replyTo = null; // {id, name}
    this.editing = null; // comment id
    this.feed = el("div", { class: "phone-chat fb-feed", "aria-label": "The Page's post and its comments" });
    this.composer = makeComposer({ placeholder: "Write a comment…", accept: "image/*",
      onSend: (text, file) => this.send(text, file) });
    this.element = el("div", { class: "channel-view", dataset: { view: "page" } }, this.feed,
      ...this.composer.elements);
  }

  header() {
    return { theme: "facebook", avatar: "f", title: "Facebook", subtitle: "The Page's post · comment as yourself" };
  }

  url() { return `/sandbox/api/page?phone=${encodeURIComponent(phone())}`; }

  draw({ post, comments }) {
    const wasAtEnd = scrollAtEnd(this.feed);
    const children = new Map();
    for (const comment of comments) {
      const list = children.get(comment.parent_id) || [];
      list.push(comment);
      children.set(comment.parent_id, list);
    }
    const thread = (parentId) => (children.get(parentId) || []).map((comment) =>
      el("div", { class: "fb-thread" }, this.commentElement(comment), el("div", { class: "fb-replies" },
        thread(comment.id))));
    this.feed.replaceChildren(
      el("article", { class: "fb-post", dataset: { postId: post.id } },
        el("header", { class: "fb-post-head" }, el("span", { class: "avatar" }, "SC"),
          el("span", {}, autoText("strong", post.page), el("span", { class: "fb-time" }, timeElement(post.created_time)))),
        autoText("p", post.text, "fb-post-text")),
      el("div", { class: "fb-comments" }, thread(post.id)));
    keepAtEnd(this.feed, wasAtEnd);
  }

  commentElement(comment) {
    const actions = el("div", { class: "fb-actions" }, timeElement(comment.created_time));
    const replyButton = el("button", { type: "button", class: "link-button" }, "Reply");
    replyButton.addEventListener("click", () => this.startReply(comment));
    actions.append(replyButton);
    if (comment.mine) {
      const edit = el("button", { type: "button", class: "link-button" }, "Edit");
      edit.addEventListener("click", () => this.startEdit(comment));
      const remove = el("button", { type: "button", class: "link-button" }, "Delete");
      remove.addEventListener("click", () => this.remove(comment));
      actions.append(edit, remove);
    }
    if (comment.history?.length) actions.append(el("span", { class: "fb-flag" }, "Edited"));
    if (comment.hidden) actions.append(el("span", { class: "fb-flag fb-hidden" }, "Hidden by the Page"));
    const classes = ["fb-comment", comment.mine ? "is-mine" : "", comment.by_page ? "by-page" : ""];
    return el("div", { class: classes.join(" ").trim(), dataset: { commentId: comment.id } },
      el("span", { class: "avatar avatar-small" }, comment.by_page ? "SC" : (comment.from?.name || "?").slice(0, 1)),
      el("div", { class: "fb-comment-body" },
        el("div", { class: "fb-bubble" }, autoText("strong", comment.from?.name || "", "fb-author"),
          comment.message ? autoText("p", comment.message, "fb-text") : null,
          fileElement(comment.file)),
        actions));
  }

  startReply(comment) {
    this.editing = null;
    this.replyTo = { id: comment.id, name: comment.from?.name || "" };
    this.composer.setContext(`Replying to ${this.replyTo.name}`, () => this.clearContext());
    this.composer.textInput.focus();
  }

  startEdit(comment) {
    this.replyTo = null;
    this.editing = comment.id;
    this.composer.textInput.value = comment.message || "";
    this.composer.setContext("Editing your comment", () => { this.clearContext(); this.composer.textInput.value = ""; });
    this.composer.textInput.focus();
  }

  clearContext() {
    this.replyTo = null;
    this.editing = null;
    this.composer.setContext(null);
  }

  async remove(comment) {
    if (!window.confirm("Delete this comment?")) return;
    try {
      const answer = await request(
        `/sandbox/api/page/comments/${encodeURIComponent(comment.id)}?phone=${encodeURIComponent(phone())}`,
        { method: "DELETE" });
      webhookRefused(answer);
      showError(null);
    } catch (error) {
      showError(error.message);
    }
    await this.refresh();
  }

  async send(text, file) {
    let answer;
    if (this.editing) {
      answer = await request(`/sandbox/api/page/comments/${encodeURIComponent(this.editing)}`,
        { method: "PATCH", json: { phone: phone(), text } });
    } else {
      const fields = { phone: phone(), name: customerName(), text };
      if (this.replyTo) fields.parent_id = this.replyTo.id;
      answer = await post("/sandbox/api/page/comments", sendBody(fields, file));
    }
    this.clearContext();
    await this.refresh();
    webhookRefused(answer);
  }
}

// ---- X --------------------------------------------------------------------------------------------------------

class XView extends PolledView {
  constructor() {
    super();
    this.tab = "dms";
    this.replyTo = null; // {id, handle}
    this.account = { screen_name: "InboxSandbox" };
    this.tabs = el("div", { class: "x-tabs", role: "tablist" });
    this.dms = el("div", { class: "phone-chat x-dms", role: "log", "aria-live": "polite", "aria-label": "Direct Messages" });
    this.timeline = el("div", { class: "phone-chat x-timeline", "aria-label": "Posts" });
    this.dmComposer = makeComposer({ placeholder: "Start a message", accept: "image/*,video/*",
      onSend: (text, file) => this.sendDm(text, file) });
    this.postComposer = makeComposer({ placeholder: "Post a mention or a reply", accept: false,
      onSend: (text) => this.sendPost(text) });
    this.body = el("div", { class: "x-body" });
    this.element = el("div", { class: "channel-view", dataset: { view: "x" } }, this.tabs, this.body);
    this.drawTabs();
  }

  header() {
    return { theme: "x", avatar: "X", title: `@${this.account.screen_name}`, subtitle: "X · Direct Messages and posts" };
  }

  url() { return `/sandbox/api/x?phone=${encodeURIComponent(phone())}`; }

  drawTabs() {
    const tab = (id, label) => {
      const button = el("button", { type: "button", role: "tab", "aria-selected": String(this.tab === id),
        dataset: { tab: id } }, label);
      button.addEventListener("click", () => { this.tab = id; this.drawTabs(); });
      return button;
    };
    this.tabs.replaceChildren(tab("dms", "Messages"), tab("posts", "Posts"));
    this.body.replaceChildren(...(this.tab === "dms"
      ? [this.dms, ...this.dmComposer.elements]
      : [this.timeline, ...this.postComposer.elements]));
  }

  draw({ account, dms, tweets }) {
    this.account = account;
    let wasAtEnd = scrollAtEnd(this.dms);
    this.dms.replaceChildren(...dms.map((item) => recordBubble(item, item.from === "customer")));
    if (!dms.length) this.dms.append(el("p", { class: "phone-empty" }, `Send @${account.screen_name} a Direct Message.`));
    keepAtEnd(this.dms, wasAtEnd);
    wasAtEnd = scrollAtEnd(this.timeline);
    const byId = new Map(tweets.map((tweet) => [tweet.id, tweet]));
    this.timeline.replaceChildren(...tweets.map((tweet) => this.tweetElement(tweet, byId)));
    if (!tweets.length) {
      this.timeline.append(el("p", { class: "phone-empty" }, `Mention @${account.screen_name} in a post.`));
    }
    keepAtEnd(this.timeline, wasAtEnd);
  }

  tweetElement(tweet, byId) {
    const author = tweet.author || {};
    const parent = tweet.in_reply_to ? byId.get(tweet.in_reply_to) : null;
    const reply = el("button", { type: "button", class: "link-button" }, "Reply");
    reply.addEventListener("click", () => {
      this.replyTo = { id: tweet.id, handle: author.screen_name };
      this.postComposer.setContext(`Replying to @${author.screen_name}`, () => {
        this.replyTo = null;
        this.postComposer.setContext(null);
      });
      this.postComposer.textInput.focus();
    });
    return el("article", { class: `tweet${tweet.mine ? " is-mine" : ""}${tweet.by_account ? " by-account" : ""}`,
      dataset: { tweetId: tweet.id } },
    el("header", { class: "tweet-head" }, autoText("strong", author.name || ""),
      el("span", { class: "tweet-handle", dir: "ltr" }, `@${author.screen_name || ""}`), timeElement(tweet.at)),
    parent ? el("div", { class: "tweet-context" }, `Replying to @${parent.author?.screen_name || ""}`) : null,
    autoText("p", tweet.text, "tweet-text"),
    fileElement(tweet.file),
    el("div", { class: "tweet-actions" }, reply, tweet.status === "failed" ? el("span", { class: "msg-error" },
      "The webhook refused it") : null));
  }

  async sendDm(text, file) {
    const answer = await post("/sandbox/api/x/dms", sendBody({ phone: phone(), name: customerName(), text }, file));
    await this.refresh();
    webhookRefused(answer);
  }

  async sendPost(text) {
    const fields = { phone: phone(), name: customerName(), text };
    if (this.replyTo) fields.in_reply_to = this.replyTo.id;
    const answer = await post("/sandbox/api/x/tweets", { json: fields });
    this.replyTo = null;
    this.postComposer.setContext(null);
    await this.refresh();
    webhookRefused(answer);
  }
}

// ---- switching channels -----------------------------------------------------------------------------------

const views = { whatsapp: new WhatsAppView(), messenger: new MessengerView(), page: new PageView(), x: new XView() };
let current = null;

function drawHeader() {
  const { theme, avatar: mark, title: heading, subtitle: line } = views[current].header();
  phoneElement.dataset.theme = theme;
  avatar.textContent = mark;
  title.textContent = heading;
  subtitle.textContent = line;
}

function show(channel, { remember = true } = {}) {
  const chosen = views[channel] ? channel : "whatsapp";
  if (current) views[current].stop();
  current = chosen;
  for (const button of switcher.querySelectorAll("button")) {
    button.setAttribute("aria-pressed", String(button.dataset.channel === chosen));
  }
  viewSlot.replaceChildren(views[chosen].element);
  drawHeader();
  showError(null);
  views[chosen].start();
  if (remember) {
    localStorage.setItem("sandbox.channel", chosen);
    history.replaceState(null, "", `#${chosen}`);
  }
}

switcher.append(...CHANNELS.map(({ id, label }) => {
  const button = el("button", { type: "button", dataset: { channel: id }, "aria-pressed": "false" },
    icon({ whatsapp: "whatsapp", messenger: "messenger", page: "facebook", x: "twitter" }[id], "channel-icon"), label);
  button.addEventListener("click", () => show(id));
  return button;
}));

phoneInput.addEventListener("change", () => { localStorage.setItem("sandbox.phone", phone()); show(current); });
nameInput.addEventListener("change", () => localStorage.setItem("sandbox.name", nameInput.value.trim()));
window.addEventListener("hashchange", () => show(location.hash.slice(1), { remember: false }));

show(location.hash.slice(1) || localStorage.getItem("sandbox.channel") || "whatsapp", { remember: false });
