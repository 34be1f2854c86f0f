// Translations. Every string the UI shows goes through t("English text"), so a translator can
// find them all with `grep -o 't("[^"]*")'`. The dictionary comes from GET /api/i18n/<lang>
// (GNU gettext .po files on the server); a missing entry falls back to the English text.
// Placeholders are %1, %2...: t("Joined %1.", nick).

let dictionary = {};
let language = "en";

export function t(text, ...args) {
  const translated = Object.prototype.hasOwnProperty.call(dictionary, text) && dictionary[text] ? dictionary[text] : text;
  if (!args.length) return translated;
  return translated.replace(/%(\d+)/g, (all, n) => (args[n - 1] !== undefined ? String(args[n - 1]) : all));
}

export function currentLanguage() {
  return language;
}

/** The page's language (<html lang>, negotiated by the server), else the browser's. */
export function preferredLanguage() {
  return document.documentElement.getAttribute("lang") || navigator.language || "en";
}

/** Load the dictionary; never fails: English is always there. */
export async function loadI18n(basePath, lang = preferredLanguage()) {
  language = lang;
  if (/^en\b/i.test(lang)) return;
  try {
    const res = await fetch(`${basePath}/api/i18n/${encodeURIComponent(lang)}`, {
      credentials: "same-origin", headers: {Accept: "application/json"},
    });
    if (!res.ok) return;
    const body = await res.json();
    if (body && typeof body.dictionary === "object") dictionary = body.dictionary;
  } catch (err) {
    console.warn("Could not load translations", err);
  }
}
