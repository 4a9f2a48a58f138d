// The zone editor: pick a camera, see its snapshot, draw polygons and lines in normalised
// 0..1 coordinates, and save them with PATCH /api/cameras/{id} (the hub applies them hot).
import { api, el, langButton, start, t } from "./common.js";

const NS = "http://www.w3.org/2000/svg";
let cameras = [];
let camera = null;
let zones = [];
let draft = [];

function svg(tag, attrs) {
  const node = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  return node;
}

const pts = (points) => points.map(([x, y]) => `${x * 1000},${y * 1000}`).join(" ");

function draw() {
  const overlay = document.getElementById("overlay");
  overlay.replaceChildren();
  for (const z of zones) {
    const tag = z.kind === "line" ? "polyline" : "polygon";
    overlay.append(svg(tag, { points: pts(z.points), class: `zone zone-${z.kind}` }));
  }
  if (draft.length) {
    overlay.append(svg("polyline", { points: pts(draft), class: "zone draft" }));
    for (const [x, y] of draft) overlay.append(svg("circle", { cx: x * 1000, cy: y * 1000, r: 8,
      class: "vertex" }));
  }
  document.getElementById("zone-list").replaceChildren(...zones.map((z, i) => el("li", {},
    `${z.id} · ${t(z.kind)} · ${z.label ?? ""} (${z.points.length}) `,
    el("button", { type: "button", onclick: () => { zones.splice(i, 1); draw(); } }, t("del")))));
}

function kind() {
  return document.querySelector("input[name=kind]:checked").value;
}

function finish() {
  const k = kind();
  if (draft.length < (k === "line" ? 2 : 3)) return;
  const used = new Set(zones.map((z) => z.id));
  let n = zones.length + 1;
  while (used.has(`zone-${n}`)) n += 1;
  const label = document.getElementById("zone-label").value.trim() || null;
  zones.push({ id: `zone-${n}`, kind: k, points: draft, label });
  draft = [];
  draw();
}

async function pick(id) {
  camera = cameras.find((c) => c.id === id);
  zones = structuredClone(camera?.zones ?? []);
  draft = [];
  const img = document.getElementById("snapshot");
  img.hidden = false;
  document.getElementById("no-snapshot").hidden = true;
  img.onerror = () => {
    img.hidden = true;
    document.getElementById("no-snapshot").hidden = false;
  };
  img.src = `/api/cameras/${encodeURIComponent(id)}/snapshot.jpg?t=${Date.now()}`;
  draw();
}

async function save() {
  const status = document.getElementById("status");
  try {
    const saved = await api(`/api/cameras/${encodeURIComponent(camera.id)}`, {
      method: "PATCH", body: { zones },
    });
    camera.zones = saved?.zones ?? zones;
    status.textContent = t("saved");
  } catch (exc) {
    status.textContent = `${t("failed")}: ${exc.message}`;
  }
}

async function main() {
  await start("zones");
  langButton(document.getElementById("lang"), draw);
  cameras = await api("/api/cameras");
  const select = document.getElementById("camera");
  select.replaceChildren(...cameras.map((c) => el("option", { value: c.id }, `${c.name} (${c.id})`)));
  select.addEventListener("change", () => pick(select.value));
  document.getElementById("overlay").addEventListener("click", (event) => {
    const box = event.currentTarget.getBoundingClientRect();
    const x = Math.min(1, Math.max(0, (event.clientX - box.left) / box.width));
    const y = Math.min(1, Math.max(0, (event.clientY - box.top) / box.height));
    draft.push([Number(x.toFixed(4)), Number(y.toFixed(4))]);
    draw();
  });
  document.getElementById("finish").addEventListener("click", finish);
  document.getElementById("save").addEventListener("click", save);
  if (cameras.length) await pick(cameras[0].id);
  // Drawing is live only now: a click before the camera list loaded would be lost.
  for (const id of ["finish", "save"]) document.getElementById(id).disabled = !cameras.length;
}

main();
