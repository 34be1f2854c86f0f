// Reading preferences: how joins, parts, quits and nick changes show in a conversation. Kept
// with the account (savePreferences `joins`; js/app.js loads it at start, the settings page
// saves it) and mirrored in localStorage, so a log knows it at once. A change is told to open
// views with the window event "convos:prefs", also in the browser's other tabs (from the
// "storage" event).
const JOINS_KEY = "convos.joinsAndParts";
export const JOINS_MODES = ["fold", "show", "hide"]; // folded into one line (the default), in full, hidden

export const readingPrefs = {
  /** "fold", "show" or "hide". */
  get joins() {
    let value = null;
    try { value = localStorage.getItem(JOINS_KEY); } catch { /* private mode */ }
    return JOINS_MODES.includes(value) ? value : "fold";
  },

  set joins(value) {
    if (!JOINS_MODES.includes(value)) return;
    try { localStorage.setItem(JOINS_KEY, value); } catch { /* private mode */ }
    window.dispatchEvent(new CustomEvent("convos:prefs"));
  },
};

window.addEventListener("storage", (e) => {
  if (e.key === JOINS_KEY) window.dispatchEvent(new CustomEvent("convos:prefs"));
});
