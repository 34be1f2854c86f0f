// Timestamps. History from the REST API has second precision without a zone
// ("2024-03-21T08:25:00", UTC); websocket events have "2024-03-21T08:25:00.123Z".
import {currentLanguage, t} from "./i18n.js";

export function parseTs(ts) {
  if (typeof ts === "number") return ts > 1e12 ? ts : ts * 1000;
  if (!ts) return Date.now();
  const s = String(ts);
  return Date.parse(/(Z|[+-]\d\d:?\d\d)$/i.test(s) ? s : `${s}Z`);
}

/** The whole-second UTC cursor the history API pages with: "2024-03-21T08:25:00". */
export function cursor(ms) {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().slice(0, 19);
}

export function dayKey(ms) {
  const d = new Date(ms);
  return `${d.getFullYear()}-${d.getMonth()}-${d.getDate()}`;
}

const formatters = new Map(); // building an Intl formatter is slow; every message needs two

function fmt(options) {
  const key = `${currentLanguage()} ${JSON.stringify(options)}`;
  if (!formatters.has(key)) {
    let f;
    try { f = new Intl.DateTimeFormat(currentLanguage(), options); } catch { f = new Intl.DateTimeFormat("en", options); }
    formatters.set(key, f);
  }
  return formatters.get(key);
}

export function timeOfDay(ms) {
  return fmt({hour: "2-digit", minute: "2-digit"}).format(new Date(ms));
}

export function fullTime(ms) {
  return fmt({dateStyle: "full", timeStyle: "medium"}).format(new Date(ms));
}

export function dayLabel(ms) {
  const now = new Date();
  if (dayKey(ms) === dayKey(now.getTime())) return t("Today");
  if (dayKey(ms) === dayKey(now.getTime() - 86400000)) return t("Yesterday");
  return fmt({weekday: "long", year: "numeric", month: "long", day: "numeric"}).format(new Date(ms));
}
