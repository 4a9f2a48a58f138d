// The history view: search every case (state, scenario, grid, camera, time range, text) through
// /api/search/cases, page by page, and export the same filtered view as CSV.
import { api, el, fmtTime, t } from "./common.js";
import { caseTitle, scenarioName } from "./scenarios.js";

const STATES = ["reported", "accepted", "dispatched", "arrived", "resolved", "closed",
  "evaluated", "rejected", "escalated"];
const KINDS = ["thrown_object", "fire_lane", "intrusion", "crowding", "loitering",
  "line_crossing", "camera_offline", "smoke", "water_level", "manual"];
const COLUMNS = ["id", "title", "stateLabel", "kind", "grid", "camera", "opened"];
let cursor = null;
let openCase = () => {};

function options(select, values, label) {
  select.append(...values.map((v) => el("option", { value: v }, label(v))));
}

/** Fill the selects; `onOpen(id)` shows a case when its row is clicked. */
export function setupHistory(grids, cameras, onOpen) {
  openCase = onOpen;
  const form = document.getElementById("search");
  options(form.state, STATES, t);
  options(form.kind, KINDS, scenarioName);
  options(form.grid, grids.features.map((f) => f.id), (id) => id);
  options(form.camera, cameras.map((c) => c.id), (id) => id);
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    search(false);
  });
  form.addEventListener("change", exportLink);
  document.getElementById("search-more").addEventListener("click", () => search(true));
  exportLink();
}

/** The form as query parameters (datetime-local is the browser's local time: sent with its zone). */
function params() {
  const form = document.getElementById("search");
  const q = new URLSearchParams();
  for (const name of ["state", "kind", "grid", "camera", "q"]) {
    const value = form[name].value.trim();
    if (value) q.set(name, value);
  }
  for (const name of ["since", "until"]) {
    if (form[name].value) q.set(name, new Date(form[name].value).toISOString());
  }
  return q;
}

function exportLink() {
  document.getElementById("export").href = `/api/search/cases.csv?${params()}`;
}

function row(c) {
  return el("tr", { dataset: { id: c.id }, tabindex: 0, onclick: () => openCase(c.id),
    onkeydown: (e) => { if (e.key === "Enter") openCase(c.id); } },
  el("td", {}, `#${c.id}`), el("td", {}, caseTitle(c)),
  el("td", {}, el("span", { class: "state", dataset: { state: c.state } }, t(c.state))),
  el("td", {}, scenarioName(c.kind)), el("td", {}, c.grid_id ?? "–"),
  el("td", {}, c.camera_id ?? c.sensor_id ?? "–"), el("td", {}, fmtTime(c.opened_at)));
}

/** Run the search (more: the next page of the same one). */
export async function search(more) {
  const q = params();
  q.set("limit", "50");
  if (more && cursor) q.set("cursor", cursor);
  exportLink();
  const error = document.getElementById("search-error");
  error.textContent = "";
  try {
    const page = await api(`/api/search/cases?${q}`);
    const table = document.getElementById("search-table");
    table.tHead.replaceChildren(el("tr", {}, ...COLUMNS.map((k) => el("th", {}, t(k)))));
    const rows = page.items.map(row);
    if (more) table.tBodies[0].append(...rows);
    else table.tBodies[0].replaceChildren(...rows);
    cursor = page.next_cursor;
    document.getElementById("search-more").hidden = cursor === null;
    document.getElementById("search-total").textContent = `${t("found")} ${page.total} ${t("casesUnit")}`;
  } catch (exc) {
    error.textContent = `${t("failed")}: ${exc.message}`;
  }
}


/** After a language switch: the options' and rows' labels. */
export function relabelHistory() {
  const form = document.getElementById("search");
  for (const o of form.state.options) if (o.value) o.textContent = t(o.value);
  for (const o of form.kind.options) if (o.value) o.textContent = scenarioName(o.value);
  if (!document.getElementById("history-view").hidden) search(false);
}
