// Shared by every page: the API, the session, translations (zh-CN default, English), times.

import { STRINGS } from "./strings.js";

export let lang = localStorage.getItem("gridhub.lang") === "en" ? "en" : "zh";
export let site = { name: "gridhub", timezone: "Asia/Shanghai" };

export function t(key) {
  return STRINGS[lang][key] ?? STRINGS.zh[key] ?? key;
}

/** Fill every [data-i18n] element and the page language; call after switching. */
export function translate(root = document) {
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-aria]")) {
    el.setAttribute("aria-label", t(el.dataset.i18nAria));
  }
  for (const el of root.querySelectorAll("[data-i18n-placeholder]")) {
    el.placeholder = t(el.dataset.i18nPlaceholder);
  }
}

/** A button that switches the language, calling `onSwitch` after re-translating. */
export function langButton(button, onSwitch = () => {}) {
  button.addEventListener("click", () => {
    lang = lang === "zh" ? "en" : "zh";
    localStorage.setItem("gridhub.lang", lang);
    translate();
    onSwitch();
  });
}

export class ApiError extends Error {
  constructor(status, detail) {
    super(typeof detail === "string" ? detail : JSON.stringify(detail));
    this.status = status;
    this.detail = detail;
  }
}

/** Call the API with the session cookie; 401 sends the user to the login page. */
export async function api(path, { method = "GET", body } = {}) {
  const init = { method, credentials: "same-origin", headers: {} };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  if (response.status === 401 && !path.startsWith("/api/login")) {
    location.href = "/login?next=" + encodeURIComponent(location.pathname);
    return new Promise(() => {}); // the page is going away: nothing more to do here
  }
  const data = response.status === 204 ? null : await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, data?.detail ?? response.statusText);
  return data;
}

/** Who is logged in (or off to the login page), and the site's name and time zone. */
export async function start(titleKey) {
  site = await api("/api/site");
  const me = await api("/api/me");
  translate();
  document.title = `${t(titleKey)} · ${site.name}`;
  for (const el of document.querySelectorAll("[data-site-name]")) el.textContent = site.name;
  for (const el of document.querySelectorAll("[data-me]")) el.textContent = me.name;
  for (const el of document.querySelectorAll("[data-logout]")) {
    el.addEventListener("click", async () => {
      await api("/api/logout", { method: "POST" });
      location.href = "/login";
    });
  }
  return me;
}

const formats = new Map();
/** A time as the site's clock shows it (site.timezone), e.g. 11-22 14:05:09. */
export function fmtTime(iso, withDate = true) {
  if (!iso) return "–";
  const key = `${lang}|${site.timezone}|${withDate}`;
  if (!formats.has(key)) {
    formats.set(key, new Intl.DateTimeFormat(lang === "zh" ? "zh-CN" : "en-GB", {
      timeZone: site.timezone, hour12: false, hour: "2-digit", minute: "2-digit",
      second: "2-digit", ...(withDate ? { month: "2-digit", day: "2-digit" } : {}),
    }));
  }
  return formats.get(key).format(new Date(iso));
}

/** Seconds as m:ss (negative: -m:ss). */
export function fmtDuration(s) {
  const sign = s < 0 ? "-" : "";
  const a = Math.abs(Math.round(s));
  const h = Math.floor(a / 3600);
  const m = Math.floor((a % 3600) / 60);
  const ss = String(a % 60).padStart(2, "0");
  return h ? `${sign}${h}:${String(m).padStart(2, "0")}:${ss}` : `${sign}${m}:${ss}`;
}

/** Create an element: el("div", {class: "x"}, "text", child). */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (k === "dataset") Object.assign(node.dataset, v);
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const child of children) {
    if (child !== null && child !== undefined) node.append(child);
  }
  return node;
}
