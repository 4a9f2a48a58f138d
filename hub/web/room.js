// The monitoring room: live feed, case board, map, case detail with actions, statistics.
import { Board, BOARD_STATES } from "./board.js";
import { api, el, fmtTime, lang, langButton, start, t } from "./common.js";
import { foldRepeats, renderEvidence, repeatLabel } from "./evidence.js";
import { relabelHistory, search, setupHistory } from "./history.js";
import { refreshReview, setReviewListener } from "./review.js";
import { caseTitle, noteText, scenarioName, setZoneLabels } from "./scenarios.js";
import { LiveFeed } from "./live.js";
import { GridMap } from "./map.js";
import { renderStats } from "./stats.js";

const FEED_MAX = 200;
const LOUD_SEVERITY = 3;
const PATROL_POLL_MS = 5000;
const board = new Board(document.getElementById("columns"), select);
const map = new GridMap(document.getElementById("map"), select);
const dirty = new Set();
let flushing = false;
let muted = localStorage.getItem("gridhub.muted") === "1";
let audio = null;
let detail = null;
let evidenceNode = null; // kept across re-renders, so a playing clip is not reloaded

async function loadOpenCases() {
  let cursor = null;
  do {
    const q = new URLSearchParams(BOARD_STATES.map((s) => ["state", s]));
    q.set("limit", "500");
    if (cursor) q.set("cursor", cursor);
    const page = await api(`/api/cases?${q}`);
    for (const c of page.items) show(c);
    cursor = page.next_cursor;
  } while (cursor);
  recolour();
}

function show(c) {
  board.upsert(c);
  map.setCase(c, BOARD_STATES.includes(c.state));
}

function recolour() {
  const counts = new Map();
  for (const { case: c } of board.cards.values()) {
    if (c.grid_id) counts.set(c.grid_id, (counts.get(c.grid_id) ?? 0) + 1);
  }
  map.colourGrids(counts);
}

function onEvent(event) {
  addToFeed(event);
  if (event.action === "report" && event.severity >= LOUD_SEVERITY) beep();
  dirty.add(event.case_id);
  if (!flushing) {
    flushing = true;
    setTimeout(flush, 30);
  }
}

/** Refetch the cases that changed since the last flush (a burst of events is one fetch each). */
async function flush() {
  const ids = [...dirty];
  dirty.clear();
  for (let i = 0; i < ids.length; i += 8) {
    await Promise.all(ids.slice(i, i + 8).map(async (id) => {
      try {
        const c = await api(`/api/cases/${id}`);
        show(c);
        retitleFeed(c);
        if (detail?.id === id) renderDetail(c);
      } catch (exc) {
        if (exc.status !== 404) console.warn("case", id, exc);
      }
    }));
  }
  recolour();
  refreshReview(); // the tab's count follows too
  flushing = false;
  if (dirty.size) {
    flushing = true;
    setTimeout(flush, 30);
  }
}

function addToFeed(event) {
  const list = document.getElementById("feed");
  const item = el("li", { class: `feed-item sev-${event.severity}`, dataset: { case: event.case_id } },
    el("button", { type: "button", onclick: () => select(event.case_id) },
      el("time", { datetime: event.at }, fmtTime(event.at, false)), " ",
      el("b", { class: "feed-title" }, `#${event.case_id} ${feedTitle(event)}`), " ",
      el("span", { class: "badge", "data-i18n": event.action }, t(event.action)),
      el("span", { class: "feed-meta" }, ` ${event.grid_id ?? ""} · ${event.actor}`)));
  list.prepend(item);
  while (list.childElementCount > FEED_MAX) list.lastElementChild.remove();
}

function feedTitle(event) {
  const known = board.cards.get(event.case_id)?.case;
  return known ? caseTitle(known) : scenarioName(event.kind);
}

function retitleFeed(c) {
  for (const b of document.querySelectorAll(`#feed [data-case='${c.id}'] .feed-title`)) {
    b.textContent = `#${c.id} ${caseTitle(c)}`;
  }
}

async function select(id) {
  board.select(id);
  renderDetail(await api(`/api/cases/${id}`));
}

function renderDetail(c) {
  detail = c;
  const box = document.getElementById("detail");
  const note = el("textarea", { id: "action-note", rows: 2, placeholder: t("note") });
  const score = el("select", { id: "action-score", "aria-label": t("score") },
    ...[5, 4, 3, 2, 1].map((n) => el("option", { value: n }, `${n}`)));
  const dept = el("input", { id: "action-department", placeholder: t("department") });
  const buttons = c.allowed_actions.map((a) => el("button", { type: "button", class: `action action-${a}`,
      dataset: { action: a }, onclick: () => act(c.id, a, note, score, dept) }, t(a)));
  const about = c.details?.description ?? c.details?.summary;
  box.replaceChildren(...[
    el("h2", {}, `#${c.id} ${caseTitle(c)}`),
    el("p", { class: "detail-meta" }, el("span", { class: "state", dataset: { state: c.state } },
      t(c.state)), ` · ${scenarioName(c.kind)} · ${c.camera_id ?? c.sensor_id ?? "–"} · `
      + `${c.grid_id ?? "–"} · ${fmtTime(c.opened_at)}`),
    about ? el("p", {}, about) : null,
    el("div", { class: "actions" }, ...buttons),
    c.allowed_actions.length ? el("div", { class: "action-inputs" }, note,
      c.allowed_actions.includes("evaluate") ? score : null,
      c.allowed_actions.includes("handoff") ? dept : null) : null,
    el("p", { id: "action-error", class: "error", role: "alert" }),
    el("section", { id: "evidence", class: "evidence" }),
    el("h3", {}, t("audit")),
    el("ol", { class: "audit" }, ...foldRepeats(c.events).map(auditLine)),
  ].filter(Boolean));
  // Comments may carry photos: a new one reloads the evidence, other events leave it playing.
  const comments = c.events.filter((e) => e.action === "comment").length;
  const evidenceKey = `${c.id}:${c.alerts.length}:${comments}:${lang}`;
  const evidenceBox = box.querySelector("#evidence");
  // The same case keeps its evidence section, moved back in within this task, so a playing
  // clip is never out of the document long enough to be paused.
  if (evidenceNode?.dataset.case === String(c.id)) evidenceBox.replaceWith(evidenceNode);
  else {
    evidenceNode = evidenceBox;
    evidenceNode.dataset.case = c.id;
  }
  if (evidenceNode.dataset.key !== evidenceKey) {
    evidenceNode.dataset.key = evidenceKey;
    renderEvidence(c, evidenceNode); // reuses the media nodes already shown for this case
  }
}

function auditLine(e) {
  if (e.repeat) {
    return el("li", { class: "repeat", dataset: { repeat: e.repeat } },
      el("time", { datetime: e.at }, fmtTime(e.at)), ` ${repeatLabel(e.repeat, e.last)}`);
  }
  if (e.action === "alert") { // a clearing: the lane is free again, the sensor reads normal
    return el("li", { class: "cleared" }, el("time", { datetime: e.at }, fmtTime(e.at)),
      ` ${t("clearedAlert")} (${scenarioName(e.actor.replace(/_cleared$/, ""))})`);
  }
  return el("li", {}, el("time", { datetime: e.at }, fmtTime(e.at)), ` ${e.actor} · ${t(e.action)}`,
    e.from_state ? ` (${t(e.from_state)} → ${t(e.to_state)})` : ` (${t(e.to_state)})`,
    e.note ? el("q", {}, noteText(e.note)) : null);
}

async function act(id, action, note, score, dept) {
  const body = { action, note: note.value || null };
  if (action === "evaluate") body.score = Number(score.value);
  if (action === "handoff") body.department = dept.value || null;
  try {
    const c = await api(`/api/cases/${id}/transitions`, { method: "POST", body });
    show(c);
    recolour();
    renderDetail(c);
  } catch (exc) {
    document.getElementById("action-error").textContent = `${t("failed")}: ${exc.message}`;
  }
}

function beep() {
  if (muted) return;
  window.gridhubBeeps = (window.gridhubBeeps ?? 0) + 1; // counted, for tests
  try {
    audio ??= new AudioContext();
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.frequency.value = 880;
    gain.gain.setValueAtTime(0.2, audio.currentTime);
    gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + 0.6);
    osc.connect(gain).connect(audio.destination);
    osc.start();
    osc.stop(audio.currentTime + 0.6);
  } catch (exc) {
    console.warn("no sound", exc);
  }
}

function labelMute() {
  const button = document.getElementById("mute");
  button.textContent = muted ? t("unmute") : t("mute");
  button.setAttribute("aria-pressed", String(muted));
}

function setConn(state) {
  const conn = document.getElementById("conn");
  conn.dataset.state = state;
  conn.textContent = state === "open" ? t("connected") : t("lost");
}

async function pollPatrols() {
  try {
    map.setPatrols(await api("/api/patrols"));
  } finally {
    setTimeout(pollPatrols, PATROL_POLL_MS);
  }
}

function tabs() {
  const views = { board: "board-view", review: "review-view", history: "history-view",
    stats: "stats-view" };
  for (const name of Object.keys(views)) {
    document.getElementById(`tab-${name}`).addEventListener("click", () => {
      for (const [other, view] of Object.entries(views)) {
        document.getElementById(view).hidden = other !== name;
        document.getElementById(`tab-${other}`).setAttribute("aria-selected", other === name);
      }
      if (name === "stats") renderStats();
      if (name === "review") refreshReview();
      if (name === "history") search(false);
    });
  }
  document.getElementById("stats-group").addEventListener("change", renderStats);
  document.getElementById("stats-days").addEventListener("change", renderStats);
}

const HOME = { patrol: "/patrol", integrator: "/zones" };

async function main() {
  const me = await start("room");
  if (HOME[me.role]) {
    location.replace(HOME[me.role]); // the room is for operators and admins
    return;
  }
  langButton(document.getElementById("lang"), () => {
    labelMute();
    setConn(document.getElementById("conn").dataset.state);
    board.relabel();
    for (const { case: c } of board.cards.values()) retitleFeed(c);
    if (detail) renderDetail(detail);
    if (!document.getElementById("review-view").hidden) refreshReview();
    if (!document.getElementById("stats-view").hidden) renderStats();
    relabelHistory();
  });
  labelMute();
  document.getElementById("mute").addEventListener("click", () => {
    muted = !muted;
    localStorage.setItem("gridhub.muted", muted ? "1" : "0");
    audio ??= new AudioContext(); // created on a click, so the browser lets it play later
    labelMute();
  });
  tabs();
  setInterval(() => {
    document.getElementById("clock").textContent = fmtTime(new Date().toISOString());
  }, 1000);
  const grids = await api("/api/grids");
  map.setGrids(grids);
  const cameras = await api("/api/cameras");
  setZoneLabels(cameras);
  map.setCameras(cameras);
  setupHistory(grids, cameras, (id) => {
    document.getElementById("tab-board").click();
    select(id);
  });
  setReviewListener((c) => {
    show(c);
    recolour();
    if (detail?.id === c.id) renderDetail(c);
  });
  let loaded = false;
  const live = new LiveFeed(onEvent, async (state) => {
    setConn(state);
    if (state === "open" && (!loaded || live.token === null)) {
      loaded = true;
      await loadOpenCases();
      refreshReview();
    }
  });
  window.gridhubLive = live; // for tests and the curious: gridhubLive.drop()
  window.gridhubRoom = { board, map }; // for bench/dashboard.py
  live.connect();
  pollPatrols();
}

main();
