// The case board: a column per open state, one card per case, SLA countdowns.
// Cards are kept in a Map and updated in place, so a live event touches one card only.
import { el, fmtDuration, fmtTime, t } from "./common.js";
import { caseTitle } from "./scenarios.js";

export const BOARD_STATES = ["reported", "escalated", "accepted", "dispatched", "arrived",
  "resolved"];
const DEADLINE_OF = { reported: "accept_deadline", escalated: "accept_deadline",
  dispatched: "arrive_deadline" };
const AMBER_S = 60;

export class Board {
  constructor(root, onSelect) {
    this.root = root;
    this.onSelect = onSelect;
    this.cards = new Map(); // case id -> {case, node}
    this.columns = new Map();
    this.selected = null;
    for (const state of BOARD_STATES) {
      const list = el("div", { class: "cards", role: "list" });
      const count = el("span", { class: "count" }, "0");
      const column = el("section", { class: "column", dataset: { state } },
        el("h3", {}, el("span", { "data-i18n": state }, t(state)), " ", count), list);
      this.columns.set(state, { list, count });
      root.append(column);
    }
    setInterval(() => this.tick(), 1000);
  }

  /** Put a case on the board, move it to its state's column, or take it off when done. */
  upsert(c) {
    const entry = this.cards.get(c.id);
    if (!BOARD_STATES.includes(c.state)) {
      if (entry) this.remove(c.id);
      return;
    }
    if (!entry) {
      const node = this.render(c);
      this.cards.set(c.id, { case: c, node });
      this.insert(c, node);
    } else {
      const moved = entry.case.state !== c.state;
      entry.case = c;
      const node = this.render(c);
      node.classList.toggle("selected", this.selected === c.id);
      if (moved) {
        entry.node.remove();
        this.insert(c, node);
      } else {
        entry.node.replaceWith(node);
      }
      entry.node = node;
    }
    this.tickOne(this.cards.get(c.id));
    this.counts();
  }

  remove(id) {
    const entry = this.cards.get(id);
    if (!entry) return;
    entry.node.remove();
    this.cards.delete(id);
    this.counts();
  }

  insert(c, node) {
    // Newest first: cases arrive mostly in id order, so the head is the usual place.
    const list = this.columns.get(c.state).list;
    let before = list.firstElementChild;
    while (before && Number(before.dataset.id) > c.id) before = before.nextElementSibling;
    list.insertBefore(node, before);
  }

  render(c) {
    const node = el("button", {
      class: `card sev-${c.severity}`, type: "button", role: "listitem",
      dataset: { id: c.id, state: c.state }, onclick: () => this.onSelect(c.id),
    },
    el("span", { class: "card-id" }, `#${c.id}`),
    el("span", { class: "card-title" }, caseTitle(c)),
    el("span", { class: "card-meta" }, `${c.grid_id ?? "–"} · ${fmtTime(c.opened_at)}`),
    el("span", { class: "countdown" }));
    return node;
  }

  select(id) {
    this.cards.get(this.selected)?.node.classList.remove("selected");
    this.selected = id;
    this.cards.get(id)?.node.classList.add("selected");
  }

  counts() {
    const n = Object.fromEntries(BOARD_STATES.map((s) => [s, 0]));
    for (const { case: c } of this.cards.values()) n[c.state] += 1;
    for (const [state, { count }] of this.columns) count.textContent = String(n[state]);
  }

  tick() {
    for (const entry of this.cards.values()) this.tickOne(entry);
  }

  /** The countdown of one card: green, amber under a minute (or a third of the window), red
   * past the deadline or once the case has missed one. */
  tickOne(entry) {
    const field = DEADLINE_OF[entry.case.state];
    const deadline = field && entry.case[field];
    const box = entry.node.lastElementChild;
    if (!deadline) {
      if (box.textContent) box.textContent = "";
      entry.node.dataset.sla = "none";
      return;
    }
    const end = Date.parse(deadline);
    const left = (end - Date.now()) / 1000;
    const window = (end - Date.parse(entry.case.opened_at)) / 1000;
    // A case that has missed a deadline already (escalated a rung) stays red.
    const missed = left < 0 || entry.case.escalation_level > 0;
    const sla = missed ? "red" : left < Math.max(AMBER_S, window / 3) ? "amber" : "ok";
    const rung = entry.case.escalation_level > 0 ? ` ↑${entry.case.escalation_level}` : "";
    box.textContent = (left < 0 ? `${t("overdue")} ${fmtDuration(-left)}` : fmtDuration(left))
      + rung;
    if (entry.node.dataset.sla !== sla) entry.node.dataset.sla = sla;
  }

  /** Re-render the labels (after a language switch). */
  relabel() {
    for (const entry of this.cards.values()) {
      const node = this.render(entry.case);
      node.classList.toggle("selected", this.selected === entry.case.id);
      entry.node.replaceWith(node);
      entry.node = node;
      this.tickOne(entry);
    }
  }
}
