// The marketing team's campaigns page: the list, a new campaign (CSV or directory audience, a text or an
// approved template), its audience report and preview before anything is sent, the controls, and a live
// progress bar fed by campaign.progress over Socket.IO (no reload), outcomes, interrupted sends, exports.

import { get, post, request } from "./api.js";
import { autoText, el } from "./dom.js";
import { t } from "./i18n.js";
import { connectLive } from "./live.js";

const TEXT = {
  statuses: {
    draft: t("Draft"), scheduled: t("Scheduled"), running: t("Running"),
    paused: t("Paused"), done: t("Done"), cancelled: t("Cancelled"),
  },
  reading: t("Reading the audience…"),
  noCampaigns: t("No campaign yet."),
  noInterrupted: t("No interrupted send."),
  noBadRows: t("No bad row."),
  withFile: (name, kib) => t("Sent with the file {name} ({kib} KiB), the text as its caption.", { name, kib }),
  wordActions: { stop: t("stop"), start: t("start") },
  removeWord: (word) => t("Remove {word}", { word }),
  resend: t("Resend"),
  resent: t("Resent"),
  chooseCsv: t("Choose a CSV file."),
  noTemplate: t("No approved template on this account."),
  rateCap: (rate) => t("At most {rate} per second on this account.", { rate }),
  parameter: (number) => t("Value {number}", { number }),
  columns: (names) => t("Variables: {names}", { names }),
  progress: (done, total, rate, left) => t("{done} of {total} handled, {rate} per second now, {left} left",
    { done, total, rate, left }),
  unknownLeft: t("unknown time"),
  figures: {
    recipients: t("Recipients"), rows: t("Rows read"), bad: t("Bad rows"), duplicates: t("Duplicates"),
    opted_out: t("Opted out"), skipped: t("Missing values"),
    pending: t("Pending"), sent: t("Sent"), delivered: t("Delivered"), read: t("Read"), failed: t("Failed"),
    interrupted: t("Interrupted"), replied: t("Replied"),
  },
  failedBecause: (code, count) => t("failed {code}: {count}", { code, count }),
};
const FILTER_VARIABLES = ["name", "prenom", "cil", "contract"];
const CONTROLS = { draft: ["schedule", "start", "cancel"], scheduled: ["start", "pause", "cancel"],
  running: ["pause", "cancel"], paused: ["resume", "cancel"], done: [], cancelled: [] };

const root = document.getElementById("campaigns");
const form = document.getElementById("campaign-form");
const dom = {
  list: document.querySelector("#campaign-list tbody"),
  error: document.getElementById("campaign-error"),
  connection: document.getElementById("connection"),
  newSection: document.getElementById("campaign-new"),
  detail: document.getElementById("campaign-detail"),
  title: document.getElementById("detail-title"),
  status: document.getElementById("detail-status"),
  waiting: document.getElementById("detail-waiting"),
  report: document.getElementById("audience-report"),
  badRows: document.querySelector("#bad-rows tbody"),
  preview: document.getElementById("preview"),
  controls: document.getElementById("controls"),
  scheduleAt: document.getElementById("schedule-at"),
  progress: document.getElementById("progress"),
  bar: document.querySelector("#progress .campaign-progress-bar"),
  progressText: document.getElementById("progress-text"),
  outcomes: document.getElementById("outcomes"),
  interrupted: document.querySelector("#interrupted tbody"),
  csv: document.getElementById("export-csv"),
  xlsx: document.getElementById("export-xlsx"),
  columns: document.getElementById("campaign-columns"),
  parameters: document.getElementById("template-parameters"),
};
let current = null; // the campaign shown
let csvText = null;
let csvColumns = [];
let templates = [];

function showError(error) {
  dom.error.textContent = error.message || String(error);
  dom.error.hidden = false;
}

function figures(list, pairs) {
  list.replaceChildren(...pairs.flatMap(([key, value]) => [el("dt", {}, TEXT.figures[key] || key),
    el("dd", { dataset: { figure: key } }, String(value ?? 0))]));
}

function duration(seconds) {
  if (seconds === null || seconds === undefined) return TEXT.unknownLeft;
  const minutes = Math.floor(seconds / 60);
  return minutes ? `${minutes} min ${seconds % 60} s` : `${seconds} s`;
}

// ---------------------------------------------------------------- the list

async function loadList() {
  try {
    const { items } = await get("/api/v1/campaigns");
    dom.list.replaceChildren(...(items.length ? items.map((campaign) => {
      const row = el("tr", { dataset: { campaignId: campaign.id, status: campaign.status }, class: "campaign-row" },
        autoText("td", campaign.name), el("td", {}, TEXT.statuses[campaign.status] || campaign.status),
        el("td", { class: "num" }, String(campaign.counts?.sent ?? 0)),
        el("td", { class: "num" }, String(campaign.audience_report?.recipients ?? "–")));
      row.addEventListener("click", () => show(campaign.id));
      return row;
    }) : [el("tr", { class: "board-empty" }, el("td", { colspan: 4 }, TEXT.noCampaigns))]));
  } catch (error) {
    showError(error);
  }
}

// ---------------------------------------------------------------- a new campaign

function audienceColumns() {
  return form.audience_kind.value === "filters" ? FILTER_VARIABLES : csvColumns;
}

function drawColumns() {
  const names = audienceColumns();
  dom.columns.textContent = names.length ? TEXT.columns(names.map((name) => `{{ ${name} }}`).join(", ")) : "";
  drawParameters();
}

function drawParameters() {
  const template = templates[Number(form.template.value)];
  const names = audienceColumns();
  dom.parameters.replaceChildren(...Array.from({ length: template?.parameters || 0 }, (_, index) => el("label", {},
    TEXT.parameter(index + 1), " ",
    el("select", { name: "parameter", dataset: { number: index + 1 } },
      ...names.map((name) => el("option", { value: name, selected: name === names[index + 1] }, name))))));
}

// What the chosen account allows: its rate cap, message tags (Messenger), approved templates (WhatsApp).
function drawAccount() {
  const option = form.account_id.selectedOptions[0];
  const tags = (option?.dataset.tags || "").split(" ").filter(Boolean);
  const maxRate = option?.dataset.maxRate || root.dataset.maxRate;
  form.rate.max = maxRate;
  form.rate.value = maxRate;
  document.getElementById("rate-note").textContent = TEXT.rateCap(maxRate);
  document.getElementById("tag-choice").hidden = !tags.length;
  for (const choice of form.tag.options) choice.hidden = Boolean(choice.value) && !tags.includes(choice.value);
  if (!tags.includes(form.tag.value)) form.tag.value = "";
  const templatesOffered = Boolean(option?.dataset.templates);
  document.getElementById("template-choice").hidden = !templatesOffered;
  if (!templatesOffered) form.message_kind.value = "text";
  document.getElementById("file-choice").hidden = !option?.dataset.files;
}

async function loadTemplates() {
  const option = form.account_id.selectedOptions[0];
  drawAccount();
  templates = [];
  form.template.replaceChildren();
  if (!option || !option.dataset.templates) return drawParameters();
  try {
    templates = (await get(`/api/v1/channel-accounts/${option.value}/templates`)).items.filter((item) => item.usable);
  } catch (error) {
    showError(error);
  }
  form.template.replaceChildren(...(templates.length
    ? templates.map((item, index) => el("option", { value: index }, `${item.name} (${item.language}) – ${item.body}`))
    : [el("option", { value: "" }, TEXT.noTemplate)]));
  drawParameters();
}

form.csv.addEventListener("change", async () => {
  const file = form.csv.files[0];
  csvText = file ? await file.text() : null;
  const header = (csvText || "").replace(/^\ufeff/, "").split(/\r?\n/, 1)[0];
  const delimiter = (header.match(/;/g) || []).length > (header.match(/,/g) || []).length ? ";" : ",";
  csvColumns = header ? header.split(delimiter).map((name) => name.trim().toLowerCase()) : [];
  form.audience_kind.value = "csv";
  drawColumns();
});
form.addEventListener("change", (event) => {
  if (event.target.name === "audience_kind") drawColumns();
  if (event.target.name === "template") drawParameters();
  if (event.target.name === "account_id") loadTemplates();
});

function body() {
  const data = { name: form.name.value, account_id: Number(form.account_id.value), rate_per_second: Number(form.rate.value) };
  if (!document.getElementById("tag-choice").hidden && form.tag.value) data.tag = form.tag.value;
  if (form.audience_kind.value === "csv") {
    if (!csvText) throw new Error(TEXT.chooseCsv);
    data.audience = { csv: csvText };
  } else {
    const filters = {};
    for (const name of ["zone", "segment", "language", "cil_prefix"]) if (form[name].value.trim()) filters[name] = form[name].value.trim();
    const tags = form.tags.value.split(",").map((tag) => tag.trim()).filter(Boolean);
    if (tags.length) filters.tags = tags;
    data.audience = { filters };
  }
  if (form.message_kind.value === "text") {
    data.text = form.text.value;
  } else {
    const template = templates[Number(form.template.value)];
    const parameters = [...dom.parameters.querySelectorAll("select")].map((select) => select.value);
    data.template = { name: template?.name, language: template?.language, parameters };
  }
  return data;
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  dom.error.hidden = true;
  try {
    let campaign = await post("/api/v1/campaigns", { json: body() });
    const file = form.message_kind.value === "text" && !document.getElementById("file-choice").hidden && form.file.files[0];
    if (file) {
      const upload = new FormData();
      upload.append("file", file);
      try {
        campaign = await request(`/api/v1/campaigns/${campaign.id}/file`, { method: "PUT", form: upload });
      } catch (error) {
        // The file was refused: no draft is left behind without it (fix the file, then create the campaign again).
        await post(`/api/v1/campaigns/${campaign.id}/cancel`).catch(() => {});
        await loadList();
        throw error;
      }
    }
    form.reset();
    csvText = null;
    csvColumns = [];
    drawAccount();
    drawColumns();
    await loadList();
    show(campaign.id);
  } catch (error) {
    showError(error);
  }
});

document.getElementById("new-campaign").addEventListener("click", () => {
  dom.detail.hidden = true;
  dom.newSection.hidden = false;
  current = null;
  form.name.focus();
});

// ---------------------------------------------------------------- one campaign

let pollTimer = null;
let shown = 0; // answers to older requests (read before a pause, say) never overwrite newer ones

async function show(id) {
  window.clearTimeout(pollTimer);
  const asked = ++shown;
  try {
    const campaign = await get(`/api/v1/campaigns/${id}`);
    if (asked !== shown) return;
    current = campaign;
    dom.newSection.hidden = true;
    dom.detail.hidden = false;
    drawDetail(campaign);
    await drawInterrupted(campaign.id);
    if (!campaign.audience_report) pollTimer = window.setTimeout(() => show(id), 1000); // the event may come first
  } catch (error) {
    showError(error);
  }
}

function drawDetail(campaign) {
  dom.detail.dataset.campaignId = campaign.id;
  dom.title.textContent = campaign.name;
  drawStatus(campaign.status);
  const report = campaign.audience_report;
  dom.waiting.textContent = report ? "" : TEXT.reading;
  dom.detail.dataset.ready = report ? "true" : "false";
  figures(dom.report, report ? ["recipients", "rows", "bad", "duplicates", "opted_out", "skipped"]
    .map((key) => [key, report[key]]) : []);
  const bad = report?.bad_rows || [];
  dom.badRows.replaceChildren(...(bad.length
    ? bad.map((row) => el("tr", {}, el("td", { class: "num" }, String(row.line)), autoText("td", row.reason)))
    : [el("tr", { class: "board-empty" }, el("td", { colspan: 2 }, TEXT.noBadRows))]));
  dom.preview.replaceChildren(...(campaign.preview || []).map((item) => el("li", {},
    el("span", { class: "campaign-address", dir: "ltr" }, item.address), " ", autoText("span", item.text))));
  const file = document.getElementById("campaign-file");
  file.hidden = !campaign.file;
  file.textContent = campaign.file ? TEXT.withFile(campaign.file.filename, Math.ceil(campaign.file.size / 1024)) : "";
  drawProgress({ counts: campaign.progress?.counts || {}, ...campaign.progress, status: campaign.status });
  const outcomes = campaign.outcomes || {};
  figures(dom.outcomes, [["sent", campaign.counts?.sent], ["delivered", outcomes.delivered], ["read", outcomes.read],
    ["failed", campaign.counts?.failed], ["interrupted", campaign.counts?.interrupted], ["replied", outcomes.replied]]);
  for (const [code, count] of Object.entries(outcomes.failed_by_reason || {})) {
    dom.outcomes.append(el("dt", {}, ""), el("dd", { dataset: { reason: code } }, TEXT.failedBecause(code, count)));
  }
  dom.csv.href = `/api/v1/campaigns/${campaign.id}/export?format=csv`;
  dom.xlsx.href = `/api/v1/campaigns/${campaign.id}/export?format=xlsx`;
}

function drawStatus(status) {
  dom.detail.dataset.status = status;
  dom.status.className = `pill pill-campaign-${status}`;
  dom.status.textContent = TEXT.statuses[status] || status;
  const allowed = CONTROLS[status] || [];
  const ready = Boolean(current?.audience_report);
  for (const button of dom.controls.querySelectorAll("button")) {
    button.hidden = !allowed.includes(button.dataset.action);
    button.disabled = !ready;
  }
  dom.scheduleAt.closest("label").hidden = !allowed.includes("schedule");
}

function drawProgress(progress) {
  const counts = progress.counts || {};
  const total = Object.values(counts).reduce((sum, count) => sum + count, 0);
  const left = (counts.pending || 0) + (counts.sending || 0);
  const done = total - left;
  const percent = total ? Math.round((done / total) * 100) : 0;
  dom.bar.style.inlineSize = `${percent}%`;
  dom.progress.setAttribute("aria-valuenow", String(percent));
  dom.progress.dataset.percent = String(percent);
  dom.progressText.textContent = TEXT.progress(done, total, progress.rate_per_second ?? 0,
    progress.status === "done" ? duration(0) : duration(progress.seconds_left));
  dom.progressText.dataset.counts = Object.entries(counts).map(([state, count]) => `${state}:${count}`).join(" ");
}

async function drawInterrupted(id) {
  const { items } = await get(`/api/v1/campaigns/${id}/recipients?state=interrupted`);
  dom.interrupted.replaceChildren(...(items.length ? items.map((row) => {
    const button = el("button", { type: "button", class: "button-quiet" }, TEXT.resend);
    button.addEventListener("click", async () => {
      try {
        await post(`/api/v1/campaigns/${id}/recipients/${row.id}/resend`);
        button.disabled = true;
        button.textContent = TEXT.resent;
      } catch (error) {
        showError(error);
      }
    });
    return el("tr", { dataset: { recipientId: row.id } }, el("td", { dir: "ltr" }, row.address),
      autoText("td", row.reason), el("td", {}, button));
  }) : [el("tr", { class: "board-empty" }, el("td", { colspan: 3 }, TEXT.noInterrupted))]));
}

dom.controls.addEventListener("click", async (event) => {
  const action = event.target.closest("button")?.dataset.action;
  if (!action || !current) return;
  dom.error.hidden = true;
  const asked = ++shown;
  try {
    let campaign;
    if (action === "schedule") {
      campaign = await post(`/api/v1/campaigns/${current.id}/start`, { json: { scheduled_at: dom.scheduleAt.value } });
    } else if (action === "start") {
      campaign = await post(`/api/v1/campaigns/${current.id}/start`, { json: { scheduled_at: null } });
    } else {
      campaign = await post(`/api/v1/campaigns/${current.id}/${action}`);
    }
    if (asked === shown) {
      current = campaign;
      drawDetail(campaign);
    }
    loadList();
  } catch (error) {
    showError(error);
  }
});

// ---------------------------------------------------------------- live

let refetch = null;
function onProgress(payload) {
  const row = dom.list.querySelector(`tr[data-campaign-id="${payload.campaign_id}"]`);
  if (row && payload.status) {
    row.dataset.status = payload.status;
    row.children[1].textContent = TEXT.statuses[payload.status] || payload.status;
    row.children[2].textContent = String(payload.counts?.sent ?? 0);
  }
  if (!current || current.id !== payload.campaign_id) return;
  if (payload.status && payload.status !== current.status) {
    current.status = payload.status;
    drawStatus(payload.status);
  }
  drawProgress(payload);
  // outcomes, the preview once the audience is read, interrupted rows: fetched at most once a second
  if (!refetch) refetch = window.setTimeout(() => { refetch = null; show(payload.campaign_id); }, 1000);
}

function connect() {
  connectLive(dom.connection, {
    onConnect: () => { if (current) show(current.id); },
    events: { "campaign.progress": onProgress },
  });
}

// ---------------------------------------------------------------- the stop and start words

const wordForm = document.getElementById("stop-word-form");
const wordList = document.getElementById("stop-word-list");

async function loadStopWords() {
  try {
    const { items } = await get("/api/v1/stop-words");
    wordList.replaceChildren(...items.map((item) => el("li", { dataset: { word: item.word, action: item.action } },
      autoText("span", item.word), " ", el("span", { class: "chip-size" }, TEXT.wordActions[item.action]),
      el("button", { type: "button", class: "chip-remove", "aria-label": TEXT.removeWord(item.word),
        onclick: () => removeStopWord(item.id) }, "×"))));
  } catch (error) {
    showError(error);
  }
}

async function removeStopWord(id) {
  dom.error.hidden = true;
  try {
    await request(`/api/v1/stop-words/${id}`, { method: "DELETE" });
    await loadStopWords();
  } catch (error) {
    showError(error);
  }
}

wordForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  dom.error.hidden = true;
  try {
    await post("/api/v1/stop-words", { json: { word: wordForm.word.value, action: wordForm.action.value } });
    wordForm.reset();
    await loadStopWords();
  } catch (error) {
    showError(error);
  }
});

root.dataset.loaded = "true";
loadStopWords();
loadList();
loadTemplates();
drawColumns();
connect();
