// The colour scheme (light, dark or auto), the theme, and the convos_js cookie. The choice is
// kept in localStorage and in the cookie (base64 of JSON with theme, colorScheme and lang, spec
// §7.5), which the server reads too (for <html lang>, data-theme and the theme's stylesheet).
// <html data-theme> always holds the scheme in use, so "auto" follows prefers-color-scheme as it
// changes. A theme (GET /api/themes: share/public/themes and CONVOS_HOME/themes) is a stylesheet,
// link#theme_primary, that sets the colour properties; its scheme is kept beside its id.
import {config} from "./config.js";

const STORAGE_KEY = "convos:theme";
const SCHEME_KEY = "convos:theme-scheme";
const COOKIE = "convos_js";
const SCHEMES = ["auto", "light", "dark"];
const THEME_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
const DARK = window.matchMedia("(prefers-color-scheme: dark)");

function b64encode(text) {
  return btoa(String.fromCharCode(...new TextEncoder().encode(text)));
}

function b64decode(text) {
  return new TextDecoder().decode(Uint8Array.from(atob(text), (c) => c.charCodeAt(0)));
}

/** The convos_js cookie as an object ({} when missing or broken). */
export function readCookie() {
  const raw = document.cookie.split(/;\s*/).find((c) => c.startsWith(`${COOKIE}=`));
  if (!raw) return {};
  try {
    const data = JSON.parse(b64decode(decodeURIComponent(raw.slice(COOKIE.length + 1))));
    return data && typeof data === "object" && !Array.isArray(data) ? data : {};
  } catch {
    return {};
  }
}

/** Merge `changes` into the cookie; a value of null removes the key. */
export function writeCookie(changes, basePath = "") {
  const data = {...readCookie(), ...changes};
  for (const [key, value] of Object.entries(data)) if (value === null || value === undefined) delete data[key];
  const secure = location.protocol === "https:" ? "; Secure" : "";
  document.cookie = `${COOKIE}=${b64encode(JSON.stringify(data))}; Path=${basePath || "/"}; Max-Age=31536000; SameSite=Lax${secure}`;
}

function isTheme(value) {
  return typeof value === "string" && THEME_ID.test(value) && !SCHEMES.includes(value) && value !== "convos";
}

function stored(key) {
  try { return localStorage.getItem(key); } catch { return null; /* private mode */ }
}

/** "auto", "light", "dark", or the id of a theme. */
export function themePreference() {
  let value = stored(STORAGE_KEY);
  if (!SCHEMES.includes(value) && !isTheme(value)) {
    const cookie = readCookie();
    value = isTheme(cookie.theme) ? cookie.theme : cookie.colorScheme;
  }
  return SCHEMES.includes(value) || isTheme(value) ? value : "auto";
}

export function currentScheme(preference = themePreference()) {
  if (preference === "auto") return DARK.matches ? "dark" : "light";
  if (isTheme(preference)) return stored(SCHEME_KEY) === "dark" || readCookie().colorScheme === "dark" ? "dark" : "light";
  return preference;
}

/** Remember the choice and apply it at once. `scheme` is a theme's color_scheme. */
export function setThemePreference(preference, basePath = "", scheme = "light") {
  if (!SCHEMES.includes(preference) && !isTheme(preference)) preference = "auto";
  const themed = isTheme(preference);
  const colorScheme = themed ? (scheme === "dark" ? "dark" : "light") : preference;
  try {
    localStorage.setItem(STORAGE_KEY, preference);
    localStorage.setItem(SCHEME_KEY, colorScheme);
  } catch { /* private mode */ }
  writeCookie({theme: themed ? preference : "convos", colorScheme}, basePath);
  applyTheme(preference);
}

export function applyTheme(preference = themePreference()) {
  const scheme = currentScheme(preference);
  const root = document.documentElement;
  root.dataset.theme = scheme;
  root.dataset.themePreference = preference;
  let link = document.getElementById("theme_primary");
  if (isTheme(preference)) {
    const href = `${config.basePath}/themes/${preference}.css`;
    if (!link) {
      link = document.createElement("link");
      link.id = "theme_primary";
      link.rel = "stylesheet";
      const custom = document.getElementById("user_css");
      document.head.insertBefore(link, custom); // before the user's own CSS, which has the last word
    }
    if (link.getAttribute("href") !== href) link.setAttribute("href", href);
  } else if (link) {
    link.remove();
  }
  const meta = document.querySelector('meta[name="theme-color"]');
  if (meta) meta.setAttribute("content", getComputedStyle(root).getPropertyValue("--bg").trim() || meta.getAttribute("content"));
}

// "auto" follows the system while the page is open.
DARK.addEventListener("change", () => {
  if (themePreference() === "auto") applyTheme("auto");
});

/** The user's own stylesheet (GET /api/custom-css), last in <head>; `version` reloads it. */
export function loadCustomCss(version = "") {
  let link = document.getElementById("user_css");
  if (!link) {
    link = document.createElement("link");
    link.id = "user_css";
    link.rel = "stylesheet";
    document.head.append(link);
  }
  link.setAttribute("href", `${config.basePath}/api/custom-css${version ? `?v=${encodeURIComponent(version)}` : ""}`);
}
