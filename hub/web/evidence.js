// The evidence of a case in the room's case panel: each alert's snapshot (click to enlarge) and
// clip (an inline, seekable <video>), repeats of one alert grouped into a line, and a reason
// wherever a file is missing. Also groups the audit log's repeated-alert lines.
import { api, el, fmtTime, t } from "./common.js";
import { alertFacts } from "./scenarios.js";

/** Alerts grouped: a new group starts whenever the alert's kind changes. */
export function groupAlerts(alerts) {
  const groups = [];
  for (const a of alerts) {
    const last = groups.at(-1);
    if (last && last.kind === a.kind) last.items.push(a);
    else groups.push({ kind: a.kind, items: [a] });
  }
  return groups;
}

/** A repeated alert's audit line (a clearing, actor `<kind>_cleared`, is not one). */
const isRepeat = (e) => e.action === "alert" && !e.actor.endsWith("_cleared");

/** Audit events with consecutive repeated-alert lines folded into one {repeat: n, last}. */
export function foldRepeats(events) {
  const out = [];
  for (const e of events) {
    const last = out.at(-1);
    if (isRepeat(e) && last?.repeat) {
      last.repeat += 1;
      last.last = e.at;
    } else {
      out.push(isRepeat(e) ? { ...e, repeat: 1, last: e.at } : e);
    }
  }
  return out;
}

/** "重复告警 ×14, last 13:17:02" */
export function repeatLabel(n, lastAt) {
  return `${t("alert")} ×${n}${t("comma")}${t("lastAt")} ${fmtTime(lastAt, false)}`;
}

function whyMissing(item) {
  return item.missing ? `${t("evidenceMissing")}: ${item.missing}` : t("evidenceGone");
}

// Media nodes of the case on show, by URL: a re-render (a repeat alert, a comment) moves the
// same <video> and <img> into the new list, so a playing clip keeps playing.
const shown = { caseId: null, nodes: new Map() };

function media(item) {
  const kept = shown.nodes.get(item.url);
  if (item.available && kept) return kept;
  const node = makeMedia(item);
  if (item.available) shown.nodes.set(item.url, node);
  return node;
}

function makeMedia(item) {
  if (!item.available) {
    return el("p", { class: "missing", dataset: { kind: item.kind } },
      `${t(item.kind === "clip" ? "clip" : "snapshot")} · ${whyMissing(item)}`);
  }
  if (item.kind === "clip" || item.media_type.startsWith("video/")) {
    return el("video", { class: "evidence-clip", src: item.url, controls: true,
      preload: "metadata", playsinline: true, muted: true });
  }
  const img = el("img", { class: "evidence-snapshot", src: item.url, alt: t("snapshot"),
    loading: "lazy", tabindex: 0, title: t("enlarge") });
  const open = () => enlarge(item.url);
  img.addEventListener("click", open);
  img.addEventListener("keydown", (e) => { if (e.key === "Enter") open(); });
  return img;
}

function enlarge(url) {
  let dialog = document.getElementById("lightbox");
  if (!dialog) {
    dialog = el("dialog", { id: "lightbox", class: "lightbox" });
    dialog.addEventListener("click", () => dialog.close());
    document.body.append(dialog);
  }
  dialog.replaceChildren(el("img", { src: url, alt: t("snapshot") }),
    el("p", { class: "hint" }, t("clickToClose")));
  dialog.showModal();
}

function alertLine(a) {
  const conf = a.confidence === null ? "" : ` · ${(a.confidence * 100).toFixed(0)}%`;
  const facts = alertFacts(a.details);
  return `${fmtTime(a.ts)} · ${a.camera_id ?? a.sensor_id ?? "–"}${conf}${facts ? ` · ${facts}` : ""}`;
}

function groupNode(group, byAlert) {
  const [first, ...rest] = group.items;
  const files = byAlert.get(first.id) ?? [];
  const node = el("li", { class: "alert-group", dataset: { alert: first.id } },
    el("div", { class: "alert-line" }, alertLine(first)),
    files.length ? el("div", { class: "evidence-media" }, ...files.map(media))
      : el("p", { class: "missing" }, t("noEvidence")));
  if (rest.length) {
    const last = rest.at(-1);
    node.append(el("details", { class: "repeats" },
      el("summary", {}, repeatLabel(rest.length, last.ts)),
      el("ol", {}, ...rest.map((a) => el("li", { dataset: { alert: a.id } }, alertLine(a), " ",
        ...(byAlert.get(a.id) ?? []).map((f) => f.available
          ? el("a", { href: f.url, target: "_blank" }, t(f.kind === "clip" ? "clip" : "snapshot"))
          : el("span", { class: "missing" }, whyMissing(f))))))));
  }
  return node;
}

/** Fill `box` with the case's alerts and their evidence (fetched now). */
export async function renderEvidence(c, box) {
  let items = [];
  let photos = [];
  try {
    [items, photos] = await Promise.all([api(`/api/cases/${c.id}/evidence`),
      api(`/api/cases/${c.id}/photos`)]);
  } catch (exc) {
    box.replaceChildren(el("p", { class: "error" }, `${t("failed")}: ${exc.message}`));
    return;
  }
  if (shown.caseId !== c.id) {
    shown.caseId = c.id;
    shown.nodes.clear();
  }
  const byAlert = new Map();
  for (const item of items) {
    if (!byAlert.has(item.alert_id)) byAlert.set(item.alert_id, []);
    byAlert.get(item.alert_id).push(item);
  }
  const extra = photos.map((p) => ({ kind: "photo", media_type: "image/jpeg", url: p.url,
    available: true, photo: p }));
  box.replaceChildren(...[
    el("h3", {}, t("evidence")),
    c.alerts.length || extra.length
      ? el("ol", { class: "alert-groups" }, ...groupAlerts(c.alerts).map((g) => groupNode(g, byAlert)))
      : el("p", { class: "empty" }, t("noAlerts")),
    extra.length ? el("h3", {}, t("photos")) : null,
    extra.length ? el("div", { class: "evidence-media photos" }, ...extra.map(media)) : null,
    ...photos.filter((p) => p.note).slice(-1).map((p) => el("p", { class: "photo-note" },
      `${p.uploaded_by}: `, el("q", {}, p.note))),
  ].filter(Boolean));
}
