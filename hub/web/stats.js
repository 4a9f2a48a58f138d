// The statistics view: /api/stats/cases by grid, scenario or camera, as bars and a table.
import { api, el, t } from "./common.js";

const COLUMNS = ["cases", "false_alarms", "closed", "accept_s_avg", "arrive_s_avg",
  "accept_sla_compliance", "false_alarm_rate"];

function cell(key, value) {
  if (value === null || value === undefined) return "–";
  const n = Number(value); // averages come as decimal strings
  if (key.endsWith("_rate") || key.endsWith("compliance")) return `${Math.round(n * 100)}%`;
  if (key.endsWith("_avg")) return n.toFixed(0);
  return String(value);
}

export async function renderStats() {
  const group = document.getElementById("stats-group").value;
  const days = Number(document.getElementById("stats-days").value);
  const since = new Date(Date.now() - days * 86400_000).toISOString();
  const rows = await api(`/api/stats/cases?${new URLSearchParams({ group, since })}`);
  const most = Math.max(1, ...rows.map((r) => r.cases));
  document.getElementById("stats-chart").replaceChildren(...rows.map((r) =>
    el("div", { class: "bar-row" }, el("span", { class: "bar-key" }, r.key),
      el("span", { class: "bar", style: `width:${(r.cases / most) * 70}%` },
        el("span", { class: "bar-false", style: `width:${(r.false_alarms / r.cases) * 100}%` })),
      el("span", {}, `${r.cases}`))));
  const head = el("tr", {}, el("th", {}, t(group)),
    ...COLUMNS.map((c) => el("th", {}, t(c === "closed" ? "closed_n" : c))));
  const body = rows.map((r) => el("tr", {}, el("td", {}, r.key),
    ...COLUMNS.map((c) => el("td", {}, cell(c, r[c])))));
  document.getElementById("stats-table").replaceChildren(el("thead", {}, head),
    el("tbody", {}, ...body));
}
