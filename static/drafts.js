// Unsent replies, kept per user and conversation in the browser's storage, so that a reload, a closed tab or
// switching conversations never loses what an agent was typing.

const PREFIX = "inbox.draft.";
const MAX_AGE_MS = 7 * 24 * 3600 * 1000; // drafts older than a week are forgotten

function storage() {
  try {
    return window.localStorage;
  } catch {
    return null; // storage disabled: drafts live only as long as the page
  }
}

/** The draft kept under a key ("user:conversation"), or "". */
export function loadDraft(key) {
  const raw = storage()?.getItem(PREFIX + key);
  if (!raw) return "";
  try {
    const { text, at } = JSON.parse(raw);
    return Date.now() - at < MAX_AGE_MS ? String(text || "") : "";
  } catch {
    return "";
  }
}

/** Keep (or, with an empty text, forget) a draft. */
export function saveDraft(key, text) {
  const store = storage();
  if (!store) return;
  try {
    if (text.trim()) store.setItem(PREFIX + key, JSON.stringify({ text, at: Date.now() }));
    else store.removeItem(PREFIX + key);
  } catch {
    // storage full: the draft stays in the text box
  }
}

/** Forget drafts older than a week (called once per page load). */
export function pruneDrafts() {
  const store = storage();
  if (!store) return;
  for (const key of Object.keys(store)) {
    if (key.startsWith(PREFIX) && !loadDraft(key.slice(PREFIX.length))) store.removeItem(key);
  }
}
