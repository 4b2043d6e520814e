// The service queue: the cases escalated to one of my teams (the treating service's people), a simple list.

import { get } from "./api.js";
import { autoText, el } from "./dom.js";
import { shortTime } from "./format.js";
import { t } from "./i18n.js";

/** Show, above the conversation list, the cases escalated to my teams; `onOpen(conversationId)` opens one. */
export function mountServiceQueue(container, onOpen) {
  const role = document.getElementById("app")?.dataset.userRole;
  if (!["agent", "supervisor", "admin"].includes(role)) return;
  const list = el("ul", { class: "service-queue-list" });
  const box = el("details", { class: "service-queue", hidden: true },
    el("summary", {}, t("My service queue")), list);
  container.prepend(box);

  async function refresh() {
    let answer;
    try {
      answer = await get("/api/v1/cases?queue=service&state=escalated");
    } catch {
      return; // the queue is a convenience: the inbox itself reports connection problems
    }
    box.hidden = !answer.items.length;
    box.querySelector("summary").textContent = t("My service queue ({count})", { count: answer.items.length });
    list.replaceChildren(...answer.items.map((kase) => {
      const open = el("button", { type: "button", class: "button-quiet", dir: "auto" }, t("Case {number}", { number: kase.number }));

      open.addEventListener("click", async () => {
        const details = await get(`/api/v1/cases/${kase.id}`);
        if (details.conversations.length) onOpen(details.conversations[0].id);
      });
      return el("li", {}, open, " ", autoText("span", kase.contact.name || "", "service-queue-name"),
        " ", el("span", { class: "service-queue-time" }, shortTime(kase.updated_at)),
        kase.nature ? autoText("span", ` · ${kase.nature.name}`) : null);
    }));
  }

  document.addEventListener("case.updated", refresh);
  refresh();
}
