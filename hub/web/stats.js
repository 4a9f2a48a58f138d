// The statistics view: /api/stats/cases by grid, scenario or camera, as bars and a table.
import { api, el, t } from "./common.js";
import { scenarioName } from "./scenarios.js";

const COLUMNS = ["cases", "false_alarms", "closed", "accept_s_avg", "arrive_s_avg",
  "accept_sla_compliance", "false_alarm_rate"];

function cell(key, value) {
  if (value === null || value === undefined) return "–";
  const n = Number(value); // averages come as decimal strings
  if (key.endsWith("_rate") || key.endsWith("compliance")) return `${Math.round(n * 100)}%`;
  if (key.endsWith("_avg")) return n.toFixed(0);
  return String(value);
}

function label(group, key) {
  if (group === "kind") return scenarioName(key);
  if (group === "grid_kind") {
    const [grid, kind] = key.split("/");
    return `${grid}/${scenarioName(kind)}`;
  }
  return key;
}

/** False alarms per camera (or sensor) and detector, with their reasons: a noisy camera shows. */
async function renderFalseAlarms(since) {
  const rows = await api(`/api/stats/false-alarms?${new URLSearchParams({ since })}`);
  const head = el("tr", {}, ...["camera", "kind", "cases", "false_alarms", "false_alarm_rate",
    "rejectReason"].map((k) => el("th", {}, t(k))));
  const reasons = (r) => Object.entries(r.reasons).map(([k, v]) => `${t(`reason_${k}`)} ×${v}`)
    .join("，") || "–";
  const body = rows.map((r) => el("tr", { dataset: { source: r.source, kind: r.kind } },
    el("td", {}, r.source), el("td", {}, scenarioName(r.kind)), el("td", {}, `${r.cases}`),
    el("td", {}, `${r.false_alarms}`), el("td", {}, cell("false_alarm_rate", r.false_alarm_rate)),
    el("td", { class: "reasons" }, reasons(r))));
  document.getElementById("false-alarm-table").replaceChildren(el("thead", {}, head),
    el("tbody", {}, ...body));
}

export async function renderStats() {
  const group = document.getElementById("stats-group").value;
  const days = Number(document.getElementById("stats-days").value);
  const since = new Date(Date.now() - days * 86400_000).toISOString();
  const rows = await api(`/api/stats/cases?${new URLSearchParams({ group, since })}`);
  const most = Math.max(1, ...rows.map((r) => r.cases));
  document.getElementById("stats-chart").replaceChildren(...rows.map((r) =>
    el("div", { class: "bar-row" }, el("span", { class: "bar-key" }, label(group, r.key)),
      el("span", { class: "bar", style: `width:${(r.cases / most) * 70}%` },
        el("span", { class: "bar-false", style: `width:${(r.false_alarms / r.cases) * 100}%` })),
      el("span", {}, `${r.cases}`))));
  const head = el("tr", {}, el("th", {}, t(group)),
    ...COLUMNS.map((c) => el("th", {}, t(c === "closed" ? "closed_n" : c))));
  const body = rows.map((r) => el("tr", {}, el("td", {}, label(group, r.key)),
    ...COLUMNS.map((c) => el("td", {}, cell(c, r[c])))));
  document.getElementById("stats-table").replaceChildren(el("thead", {}, head),
    el("tbody", {}, ...body));
  await renderFalseAlarms(since);
}
