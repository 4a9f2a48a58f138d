// Case titles per language, rendered from the scenario kind and the case's details (floor,
// window column, dwell seconds, ...), never from an English sentence stored in the case.
// A kind without a template (a manual report, a plugin's own scenario) keeps its stored title.
import { lang } from "./common.js";

const NAMES = {
  zh: { thrown_object: "高空抛物", fire_lane: "消防通道占用", intrusion: "区域入侵",
    crowding: "人员聚集", loitering: "徘徊逗留", line_crossing: "越线", camera_offline: "摄像机离线",
    smoke: "烟感报警", water_level: "水位超限", manual: "人工上报" },
  en: { thrown_object: "Object thrown from height", fire_lane: "Fire lane blocked",
    intrusion: "Intrusion", crowding: "Crowding", loitering: "Loitering",
    line_crossing: "Line crossing", camera_offline: "Camera offline", smoke: "Smoke alarm",
    water_level: "Water level high", manual: "Manual report" },
};
const DIRECTIONS = { zh: { in: "进入", out: "离开", left: "向左", right: "向右", up: "向上",
  down: "向下" }, en: {} };
const zones = new Map(); // "camera|zone id" -> label

const n = (v) => Math.round(Number(v));
const TITLES = {
  zh: {
    thrown_object: (d) => [d.floor != null && `${d.floor}楼`,
      d.window_column && `第${d.window_column}列窗口`, "高空抛物"].filter(Boolean).join(" "),
    fire_lane: (d, z) => `${!z ? "消防通道" : z.includes("消防") ? z : `消防通道 ${z}`} 被占用`
      + (d.blocked_s ? ` ${n(d.blocked_s)} 秒` : ""),
    intrusion: (d, z) => `${z ?? "区域"}有人/物闯入${d.count ? `（${d.count}）` : ""}`,
    crowding: (d, z) => `${z ?? "区域"}聚集 ${d.count ?? "?"} 人（上限 ${d.max_count ?? "?"}）`,
    loitering: (d, z) => `${z ?? "区域"}徘徊逗留 ${n(d.dwell_s ?? 0)} 秒`,
    line_crossing: (d, z) => `越过${z ?? "警戒线"}${DIRECTIONS.zh[d.direction] ?? ""}`,
  },
  en: {
    thrown_object: (d) => `Object thrown from ${d.floor != null ? `floor ${d.floor}` : "height"}`
      + (d.window_column ? `, window column ${d.window_column}` : ""),
    fire_lane: (d, z) => `Fire lane${z ? ` (${z})` : ""} blocked`
      + (d.blocked_s ? ` for ${n(d.blocked_s)} s` : ""),
    intrusion: (d, z) => `Intrusion in ${z ?? "the zone"}${d.count ? ` (${d.count})` : ""}`,
    crowding: (d, z) => `${d.count ?? "?"} people in ${z ?? "the zone"} (max ${d.max_count ?? "?"})`,
    loitering: (d, z) => `Loitering in ${z ?? "the zone"} for ${n(d.dwell_s ?? 0)} s`,
    line_crossing: (d, z) => `Crossed ${z ?? "the line"}${d.direction ? ` to the ${d.direction}` : ""}`,
  },
};

/** Learn the zones' labels from GET /api/cameras, so titles name the place, not its id. */
export function setZoneLabels(cameras) {
  for (const camera of cameras) {
    for (const zone of camera.zones ?? []) {
      if (zone.label) zones.set(`${camera.id}|${zone.id}`, zone.label);
    }
  }
}

/** The scenario's name in the current language (the kind itself if unknown). */
export function scenarioName(kind) {
  return NAMES[lang][kind] ?? NAMES.zh[kind] ?? kind;
}

/** A case's (or a live event's) title in the current language. */
export function caseTitle(c) {
  const template = TITLES[lang][c.kind];
  if (!template || !c.details || c.details.reported_by) return c.kind === "manual" ? c.title : (c.title || scenarioName(c.kind));
  const d = c.details;
  const zone = d.region ? zones.get(`${c.camera_id}|${d.region}`) ?? d.region : null;
  return template(d, zone);
}

const FACTS = {
  zh: { floor: (v) => `${v}楼`, window_column: (v) => `第${v}列窗口`,
    floor_confidence: (v) => `楼层置信度 ${Math.round(v * 100)}%`,
    trajectory: (v) => `轨迹 ${v.length} 点`, blocked_s: (v) => `占用 ${n(v)} 秒`,
    objects: (v) => `${v} 个占用物`, count: (v) => `${v} 人/物`, dwell_s: (v) => `停留 ${n(v)} 秒`,
    direction: (v) => DIRECTIONS.zh[v] ?? v },
  en: { floor: (v) => `floor ${v}`, window_column: (v) => `window column ${v}`,
    floor_confidence: (v) => `floor confidence ${Math.round(v * 100)}%`,
    trajectory: (v) => `trajectory of ${v.length} points`, blocked_s: (v) => `blocked ${n(v)} s`,
    objects: (v) => `${v} object(s)`, count: (v) => `${v} inside`, dwell_s: (v) => `${n(v)} s dwell`,
    direction: (v) => `to the ${v}` },
};

/** What an alert's details say (floor, window, trajectory, blocked seconds, …) in words. */
export function alertFacts(details) {
  return Object.entries(FACTS[lang]).filter(([k]) => details?.[k] != null && details[k] !== "")
    .map(([k, say]) => say(details[k])).join(" · ");
}

// Notes the hub writes into the audit log (in English) and how each reads in Chinese.
const NOTES = [
  [/^patrol (\S+), (\d+) m$/, (m) => `巡逻员 ${m[1]}，${m[2]} 米`],
  [/^no available patrol in range$/, () => "附近无可用巡逻员"],
  [/^auto-accepted: confidence ([\d.]+) >= ([\d.]+)$/, (m) => `自动受理：置信度 ${m[1]} ≥ ${m[2]}`],
  [/^accepted to dispatch$/, () => "受理并派遣"],
  [/^handed to ([^:]+)(: ([\s\S]*))?$/, (m) => `移交 ${m[1]}${m[3] ? `：${m[3]}` : ""}`],
  [/^(\w+) deadline missed: escalated to (.+)$/,
    (m) => `${m[1] === "accept" ? "受理" : "到场"}时限已过：提级至 ${m[2]}`],
];

/** An audit note in the current language (notes people wrote are shown as they are). */
export function noteText(note) {
  if (!note || lang !== "zh") return note;
  for (const [pattern, say] of NOTES) {
    const m = note.match(pattern);
    if (m) return say(m);
  }
  return note;
}
