// The camera wall: each camera's live MJPEG preview, grouped by grid and filterable, with its
// health (state, fps, last frame age) and a red frame while it has an open case. A tile's
// stream runs only while the tile is shown and the page is visible, so the wall costs the hub
// what its visible previews cost. Click a tile for the big picture and its recent alerts.
import { api, el, fmtTime, langButton, start, t } from "./common.js";
import { caseTitle, setZoneLabels } from "./scenarios.js";

const OPEN = ["reported", "escalated", "accepted", "dispatched", "arrived", "resolved"];
const POLL_MS = 5000;
const TILE = "fps=2&width=480";
const tiles = new Map(); // camera id -> {camera, node, img, health}
let cameras = [];

const stream = (id, q) => `/api/cameras/${encodeURIComponent(id)}/stream.mjpg?${q}`;

function tile(camera) {
  const img = el("img", { alt: camera.name, loading: "lazy" });
  const health = el("figcaption", { class: "tile-health" }, "…");
  const node = el("figure", { class: "tile", tabindex: 0, dataset: { camera: camera.id,
    open: "0", state: "starting" }, onclick: () => big(camera),
  onkeydown: (e) => { if (e.key === "Enter") big(camera); } },
  img, el("figcaption", { class: "tile-name" }, `${camera.name} · ${camera.id}`), health);
  tiles.set(camera.id, { camera, node, img, health });
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

/** Start the visible tiles' streams, stop the others (hidden by the filter or the page). */
function streams() {
  const visible = document.visibilityState === "visible";
  for (const { camera, node, img } of tiles.values()) {
    const want = visible && node.isConnected ? stream(camera.id, TILE) : "";
    if (want && !img.src) img.src = want;
    else if (!want && img.src) img.removeAttribute("src");
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
