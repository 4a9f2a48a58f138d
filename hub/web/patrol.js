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
  const where = c.lat !== null ? `${c.lat.toFixed(5)}, ${c.lon.toFixed(5)}` : "–";
  const about = c.details?.description ?? c.details?.summary;
  box.replaceChildren(...[
    el("h3", {}, `#${c.id} ${caseTitle(c)}`),
    el("p", {}, el("span", { class: "state", dataset: { state: c.state } }, t(c.state)),
      ` · ${t(d.state)} · ${c.grid_id ?? "–"} · ${fmtTime(c.opened_at)}`),
    el("p", {}, `${t("location")}: ${where} `, c.lat !== null ? el("a", {
      href: `geo:${c.lat},${c.lon}?q=${c.lat},${c.lon}`, class: "route" }, t("route")) : null),
    about ? el("p", {}, about) : null,
    note,
    el("div", { class: "actions big" }, ...(REPLIES[d.state] ?? []).map((a) =>
      el("button", { type: "button", class: `action action-${a}`, dataset: { action: a },
        onclick: () => reply(d.id, a, note) }, t(a === "accept" ? "take" : a)))),
    el("p", { id: "reply-error", class: "error", role: "alert" }),
  ].filter(Boolean));
}

async function reply(dispatchId, action, note) {
  try {
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
