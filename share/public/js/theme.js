// The colour scheme (light, dark or auto) and the convos_js cookie. The choice is kept in
// localStorage and in the cookie (base64 of JSON with theme, colorScheme and lang, spec §7.5),
// which the server reads too (for <html lang>). <html data-theme> always holds the scheme in
// use, so "auto" follows prefers-color-scheme as it changes.

const STORAGE_KEY = "convos:theme";
const COOKIE = "convos_js";
const SCHEMES = ["auto", "light", "dark"];
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

/** "auto", "light" or "dark". */
export function themePreference() {
  let value = null;
  try { value = localStorage.getItem(STORAGE_KEY); } catch { /* private mode */ }
  if (!SCHEMES.includes(value)) value = readCookie().colorScheme;
  return SCHEMES.includes(value) ? value : "auto";
}

export function currentScheme(preference = themePreference()) {
  if (preference === "auto") return DARK.matches ? "dark" : "light";
  return preference;
}

/** Remember the choice and apply it at once. */
export function setThemePreference(preference, basePath = "") {
  if (!SCHEMES.includes(preference)) preference = "auto";
  try { localStorage.setItem(STORAGE_KEY, preference); } catch { /* private mode */ }
  writeCookie({theme: "convos", colorScheme: preference}, basePath);
  applyTheme(preference);
}

export function applyTheme(preference = themePreference()) {
  const scheme = currentScheme(preference);
  const root = document.documentElement;
  root.dataset.theme = scheme;
  root.dataset.themePreference = preference;
  const meta = document.querySelector('meta[name="theme-color"]');
  if (meta) meta.setAttribute("content", getComputedStyle(root).getPropertyValue("--bg").trim() || meta.getAttribute("content"));
}

// "auto" follows the system while the page is open.
DARK.addEventListener("change", () => {
  if (themePreference() === "auto") applyTheme("auto");
});
