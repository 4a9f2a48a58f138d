// The review queue: new cases, newest first, each with its snapshot and one-click verdicts:
// 确认受理 (accept), 误报 (reject with a reason), 派遣 (accept and dispatch to the suggested
// patrol). Keys on a focused item: A accept, R reject, D dispatch.
import { api, el, fmtTime, t } from "./common.js";
import { caseTitle } from "./scenarios.js";

const REASONS = ["light", "animal", "weather", "shake", "authorised", "duplicate", "other"];
let onChange = () => {};
let pending = null;

/** `changed(caseDetail)` is called after each verdict, so the board can follow. */
export function setReviewListener(changed) {
  onChange = changed;
}

function suggestion(item) {
  const s = item.suggestion;
  if (!s) return el("span", { class: "suggest none" }, t("noPatrol"));
  return el("span", { class: "suggest" },
    `${t("suggested")} ${s.patrol_id} · ${Math.round(s.distance_m)} ${t("metres")}`);
}

async function verdict(item, path, body, error) {
  try {
    const c = await api(path, { method: "POST", body });
    onChange(c);
    await refreshReview();
  } catch (exc) {
    error.textContent = `${t("failed")}: ${exc.message}`;
  }
}

function actions(item) {
  const error = el("span", { class: "error", role: "alert" });
  const reason = el("select", { class: "reject-reason", "aria-label": t("rejectReason") },
    ...REASONS.map((r) => el("option", { value: r }, t(`reason_${r}`))));
  const accept = () => verdict(item, `/api/cases/${item.id}/transitions`, { action: "accept" }, error);
  const reject = () => verdict(item, `/api/review/${item.id}/reject`, { reason: reason.value }, error);
  const dispatch = () => verdict(item, `/api/review/${item.id}/dispatch`, undefined, error);
  const row = el("div", { class: "actions" },
    el("button", { type: "button", class: "action action-accept", dataset: { verdict: "accept" },
      onclick: accept }, t("acceptCase")),
    reason,
    el("button", { type: "button", class: "action action-reject", dataset: { verdict: "reject" },
      onclick: reject }, t("reject")),
    el("button", { type: "button", class: "action action-dispatch",
      dataset: { verdict: "dispatch" }, disabled: !item.suggestion, onclick: dispatch },
    t("dispatch")), error);
  return { row, keys: { a: accept, r: reject, d: dispatch } };
}

function render(item) {
  const { row, keys } = actions(item);
  const picture = item.snapshot_url
    ? el("img", { class: "review-snap", src: item.snapshot_url, alt: t("snapshot"), loading: "lazy" })
    : el("div", { class: "review-snap no-snap" }, t("noSnapshot"));
  const node = el("li", { class: `review-item sev-${item.severity}`, tabindex: 0,
    dataset: { id: item.id, state: item.state } }, picture,
  el("div", { class: "review-body" },
    el("b", {}, `#${item.id} ${caseTitle(item)}`),
    el("span", { class: "card-meta" },
      `${item.camera_id ?? item.sensor_id ?? "–"} · ${item.grid_id ?? "–"} · ${fmtTime(item.opened_at)}`),
    suggestion(item), row));
  node.addEventListener("keydown", (e) => {
    if (e.target !== node) return;
    const run = keys[e.key.toLowerCase()];
    if (run) {
      e.preventDefault();
      run();
    }
  });
  return node;
}

/** Reload the queue (coalesced: calls while one is loading share it). */
export function refreshReview() {
  pending ??= (async () => {
    try {
      const items = await api("/api/review/queue?limit=100");
      const list = document.getElementById("review-list");
      list.replaceChildren(...items.map(render));
      document.getElementById("review-empty").hidden = items.length > 0;
      document.getElementById("review-count").textContent = items.length ? `${items.length}` : "";
    } finally {
      pending = null;
    }
  })();
  return pending;
}
