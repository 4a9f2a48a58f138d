// The camera wall: each camera's live picture, grouped by grid and filterable, with its health
// (state, fps, last frame age) and a red frame while it has an open case. Tiles refresh a
// resized snapshot once a second rather than holding an MJPEG stream each: a browser opens at
// most 6 HTTP/1.1 connections to one host, so a 9-tile wall of streams would leave tiles (and
// the API calls) waiting forever. A tile refreshes only while shown and the page is visible.
// Click a tile for the big picture (one MJPEG stream) and its recent alerts.
import { api, el, fmtTime, langButton, start, t } from "./common.js";
import { caseTitle, setZoneLabels } from "./scenarios.js";

const OPEN = ["reported", "escalated", "accepted", "dispatched", "arrived", "resolved"];
const POLL_MS = 5000;
const TILE_MS = 1000;
const TILE_WIDTH = 480;
const tiles = new Map(); // camera id -> {camera, node, img, health}
let cameras = [];

const stream = (id, q) => `/api/cameras/${encodeURIComponent(id)}/stream.mjpg?${q}`;
const snapshot = (id) => `/api/cameras/${encodeURIComponent(id)}/snapshot.jpg?width=${TILE_WIDTH}`
  + `&t=${Date.now()}`;

function tile(camera) {
  const img = el("img", { alt: camera.name });
  const health = el("figcaption", { class: "tile-health" }, "…");
  const node = el("figure", { class: "tile", tabindex: 0, dataset: { camera: camera.id,
    open: "0", state: "starting" }, onclick: () => big(camera),
  onkeydown: (e) => { if (e.key === "Enter") big(camera); } },
  img, el("figcaption", { class: "tile-name" }, `${camera.name} · ${camera.id}`), health);
  const entry = { camera, node, img, health, running: false };
  const next = () => setTimeout(() => refreshTile(entry), TILE_MS);
  img.addEventListener("load", next);
  img.addEventListener("error", next); // 503 until the camera has a picture: try again
  tiles.set(camera.id, entry);
  return node;
}

function render() {
  const grid = document.getElementById("wall-grid").value;
  const text = document.getElementById("wall-filter").value.trim().toLowerCase();
  const shown = cameras.filter((c) => c.enabled && (!grid || c.grid_id === grid)
    && (!text || `${c.id} ${c.name}`.toLowerCase().includes(text)));
  const groups = new Map();
  for (const c of shown) {
    if (!groups.has(c.grid_id ?? "–")) groups.set(c.grid_id ?? "–", []);
    groups.get(c.grid_id ?? "–").push(c);
  }
  document.getElementById("wall").replaceChildren(...[...groups].map(([g, list]) =>
    el("section", { class: "wall-group", dataset: { grid: g } }, el("h2", {}, `${t("grid")} ${g}`),
      el("div", { class: "tiles" }, ...list.map((c) => tiles.get(c.id)?.node ?? tile(c))))));
  streams();
}

function wanted(entry) {
  return document.visibilityState === "visible" && entry.node.isConnected;
}

/** Load the tile's next picture; its load (or error) schedules the one after. */
function refreshTile(entry) {
  entry.running = wanted(entry);
  if (entry.running) entry.img.src = snapshot(entry.camera.id);
}

/** Start the shown tiles' refresh; hidden ones stop at their next turn. */
function streams() {
  for (const entry of tiles.values()) {
    if (!entry.running && wanted(entry)) refreshTile(entry);
  }
}

async function pollHealth() {
  await Promise.all([...tiles.values()].filter((x) => x.node.isConnected).map(async (x) => {
    try {
      const h = await api(`/api/cameras/${encodeURIComponent(x.camera.id)}/health`);
      x.node.dataset.state = h.state;
      const age = h.last_frame_age_s == null ? "–" : `${h.last_frame_age_s.toFixed(1)} s`;
      x.health.textContent = `${t(`cam_${h.state}`)} · ${h.fps_in.toFixed(1)} fps · ${age}`;
    } catch (exc) {
      x.node.dataset.state = "starting";
      x.health.textContent = t("cam_starting");
    }
  }));
}

async function pollCases() {
  const q = new URLSearchParams(OPEN.map((s) => ["state", s]));
  q.set("limit", "500");
  const page = await api(`/api/cases?${q}`);
  const open = new Set(page.items.map((c) => c.camera_id).filter(Boolean));
  for (const [id, x] of tiles) x.node.dataset.open = open.has(id) ? "1" : "0";
}

async function poll() {
  try {
    await Promise.all([pollHealth(), pollCases()]);
  } finally {
    setTimeout(poll, POLL_MS);
  }
}

async function big(camera) {
  const dialog = document.getElementById("wall-big");
  document.getElementById("wall-big-title").textContent = `${camera.name} · ${camera.id}`;
  document.getElementById("wall-big-img").src = stream(camera.id, "fps=5&width=1280");
  dialog.showModal();
  const page = await api(`/api/search/cases?camera=${encodeURIComponent(camera.id)}&limit=10`);
  document.getElementById("wall-big-cases").replaceChildren(...page.items.map((c) => el("li", {},
    `#${c.id} ${caseTitle(c)} · `, el("span", { class: "state" }, t(c.state)),
    ` · ${fmtTime(c.opened_at)}`)));
}

async function main() {
  await start("wall");
  cameras = await api("/api/cameras");
  setZoneLabels(cameras);
  const grids = [...new Set(cameras.map((c) => c.grid_id).filter(Boolean))].sort();
  document.getElementById("wall-grid").append(...grids.map((g) => el("option", { value: g }, g)));
  document.getElementById("wall-grid").addEventListener("change", render);
  document.getElementById("wall-filter").addEventListener("input", render);
  const dialog = document.getElementById("wall-big");
  dialog.addEventListener("close", () => document.getElementById("wall-big-img").removeAttribute("src"));
  document.getElementById("wall-big-close").addEventListener("click", () => dialog.close());
  document.addEventListener("visibilitychange", streams);
  langButton(document.getElementById("lang"), () => pollHealth());
  render();
  poll();
}

main();
