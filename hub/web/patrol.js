// The patrol page (a phone): my current dispatch, accept / decline / arrived / resolved with a
// note (POST /api/dispatches/{id}/reply, the same replies as an MQTT device), my recent cases.
import { api, el, fmtTime, langButton, start, t } from "./common.js";
import { caseTitle } from "./scenarios.js";

const LIVE_DISPATCH = ["pending", "sent", "accepted", "arrived"];
const WORKING = ["dispatched", "arrived"];
// Dispatch state -> the replies that fit it (as the hub's REPLY_RULES allow).
const REPLIES = { pending: ["accept", "decline", "arrive"], sent: ["accept", "decline", "arrive"],
  accepted: ["arrive", "resolve", "decline"], arrived: ["resolve"] };
const POLL_MS = 3000;
let me = null;
let current = null;

async function refresh() {
  const page = await api("/api/cases?limit=20");
  let found = null;
  for (const c of page.items.filter((x) => WORKING.includes(x.state))) {
    const detail = await api(`/api/cases/${c.id}`);
    const dispatch = detail.dispatches.find((d) => d.patrol_id === me.patrol_id
      && LIVE_DISPATCH.includes(d.state));
    if (dispatch) {
      found = { case: detail, dispatch };
      break;
    }
  }
  const key = found ? `${found.dispatch.id}:${found.dispatch.state}:${found.case.state}` : "";
  if (key !== current) {
    current = key;
    if (found) found.nav = await api(`/api/cases/${found.case.id}/navigation`).catch(() => null);
    renderDispatch(found);
  }
  renderRecent(page.items);
}

function renderDispatch(found) {
  const box = document.getElementById("dispatch");
  if (!found) {
    box.replaceChildren(el("p", { class: "empty" }, t("noDispatch")));
    return;
  }
  const { case: c, dispatch: d } = found;
  const note = el("textarea", { id: "reply-note", rows: 3, placeholder: t("note") });
  const chosen = el("span", { class: "hint" }, t("noPhotos"));
  const photos = el("input", { id: "reply-photos", type: "file", accept: "image/*",
    class: "sr-only", capture: "environment", multiple: true, "aria-label": t("addPhotos"),
    onchange: () => { chosen.textContent = photos.files.length ? `${t("photos")} ×${photos.files.length}` : t("noPhotos"); } });
  const about = c.details?.description ?? c.details?.summary;
  const replies = REPLIES[d.state] ?? [];
  box.replaceChildren(...[
    found.nav?.snapshot_url ? el("img", { class: "dispatch-snap", src: found.nav.snapshot_url,
      alt: t("snapshot") }) : null,
    el("h3", {}, `#${c.id} ${caseTitle(c)}`),
    el("p", {}, el("span", { class: "state", dataset: { state: c.state } }, t(c.state)),
      ` · ${t(d.state)} · ${c.grid_id ?? "–"} · ${fmtTime(c.opened_at)}`),
    place(c, found.nav),
    about ? el("p", {}, about) : null,
    note,
    replies.includes("resolve") ? el("div", { class: "photos-input" },
      el("label", { class: "button" }, t("takePhoto"), photos), chosen) : null,
    el("div", { class: "actions big" }, ...replies.map((a) =>
      el("button", { type: "button", class: `action action-${a}`, dataset: { action: a },
        onclick: () => reply(found, a, note, photos) }, t(a === "accept" ? "take" : a)))),
    el("p", { id: "reply-error", class: "error", role: "alert" }),
  ].filter(Boolean));
}

/** Where the case is: the distance, and 导航 links for Amap, Baidu and any geo: map app. */
function place(c, nav) {
  if (c.lat === null) return el("p", {}, `${t("location")}: –`);
  const distance = nav?.distance_m != null ? el("b", { class: "distance" },
    ` ${Math.round(nav.distance_m)} ${t("metres")}`) : null;
  const link = (href, key) => el("a", { href, class: `route route-${key}`, target: "_blank",
    rel: "noopener" }, t(key));
  return el("p", { class: "place" }, `${t("location")}: ${c.lat.toFixed(5)}, ${c.lon.toFixed(5)}`,
    distance, el("span", { class: "routes" }, `${t("route")}: `,
      nav ? link(nav.amap_url, "amap") : null, nav ? link(nav.baidu_url, "baidu") : null,
      link(nav?.geo_uri ?? `geo:${c.lat},${c.lon}?q=${c.lat},${c.lon}`, "geoApp")));
}

/** Send the chosen photos as evidence of the case (multipart); throws with the hub's reason. */
async function uploadPhotos(caseId, input, note) {
  if (!input.files?.length) return;
  const form = new FormData();
  for (const file of input.files) form.append("photo", file, file.name);
  if (note) form.append("note", note);
  const response = await fetch(`/api/cases/${caseId}/photos`, { method: "POST", body: form,
    credentials: "same-origin" });
  if (!response.ok) {
    const data = await response.json().catch(() => null);
    const detail = data?.detail;  // a sentence, or for 422 the list of {loc, msg, type}
    const reason = Array.isArray(detail) ? detail.map((d) => d.msg).join("; ") : detail;
    throw new Error(typeof reason === "string" && reason ? reason : response.statusText);
  }
  input.value = "";
}

async function reply(found, action, note, photos) {
  const dispatchId = found.dispatch.id;
  try {
    if (action === "resolve") await uploadPhotos(found.case.id, photos, note.value || null);
    await api(`/api/dispatches/${dispatchId}/reply`, {
      method: "POST", body: { action, note: note.value || null },
    });
    current = null;
    await refresh();
  } catch (exc) {
    document.getElementById("reply-error").textContent = `${t("failed")}: ${exc.message}`;
  }
}

function renderRecent(items) {
  document.getElementById("recent").replaceChildren(...items.map((c) => el("li", {},
    `#${c.id} ${caseTitle(c)} · `, el("span", { class: "state", dataset: { state: c.state } },
      t(c.state)), ` · ${fmtTime(c.updated_at)}`)));
}

async function loop() {
  try {
    await refresh();
  } finally {
    setTimeout(loop, POLL_MS);
  }
}

async function main() {
  me = await start("patrolPage");
  langButton(document.getElementById("lang"), () => {
    current = null;
    refresh();
  });
  loop();
}

main();
