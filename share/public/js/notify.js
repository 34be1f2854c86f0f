// Desktop notifications (the Notification API) for mentions and private messages, shown only
// while the page is hidden and only when the user both allowed them in the browser and left
// the setting on. Permission is asked from a button (requestPermission()), never on load.
import {t} from "./i18n.js";
import {stripFormatting} from "./irc/format.js";
import {isChannel, pathFor, convKey} from "./store.js";

const ENABLED_KEY = "convos.desktopNotifications";
const MAX_BODY = 200;

export const desktopNotifications = {
  /** Does this browser have the Notification API at all? */
  get supported() {
    return typeof window.Notification === "function";
  },

  /** "granted", "denied", "default" or "unsupported". */
  get permission() {
    return this.supported ? Notification.permission : "unsupported";
  },

  /** The user's setting (on unless turned off); kept in localStorage. */
  get enabled() {
    try { return localStorage.getItem(ENABLED_KEY) !== "0"; } catch { return true; }
  },

  set enabled(value) {
    try { localStorage.setItem(ENABLED_KEY, value ? "1" : "0"); } catch { /* private mode */ }
    window.dispatchEvent(new CustomEvent("convos:desktop-notifications"));
  },

  /** Will a notification show (when the page is hidden)? */
  get active() {
    return this.enabled && this.permission === "granted";
  },

  /**
   * The switch on the notifications page and in the settings: on when notifications will
   * show. Turning it on asks the browser first when it has not allowed them (from a click).
   */
  async turn(on) {
    if (on && this.permission !== "granted") return this.requestPermission();
    this.enabled = on;
    return this.permission;
  },

  /** Ask the browser for permission; call it from a click. Resolves with the permission. */
  async requestPermission() {
    if (!this.supported) return "unsupported";
    let result;
    try {
      result = await Notification.requestPermission();
    } catch {
      result = Notification.permission;
    }
    if (result === "granted") this.enabled = true;
    else window.dispatchEvent(new CustomEvent("convos:desktop-notifications"));
    return result;
  },
};

/** Should this websocket message raise a desktop notification? */
export function wantsNotification(store, key, msg) {
  if (!msg || msg.status || !msg.conversation_id) return false;
  const from = String(msg.from || "");
  if (!from || from.toLowerCase() === store.myNick(msg.connection_id).toLowerCase()) return false;
  if (!["private", "action", "notice"].includes(msg.type || "private")) return false;
  const conv = store.get(key);
  const privateConv = !isChannel(conv ? conv.name : msg.conversation_id);
  // A muted conversation notifies only for mentions.
  if (conv && conv.muted) return Boolean(msg.highlight);
  return Boolean(msg.highlight) || privateConv;
}

/**
 * Listen to the store's "message" events and notify while the page is hidden. Returns a
 * function that stops listening. `app` needs `store`, `router` and `url`.
 */
export function startDesktopNotifications(app) {
  const onMessage = (e) => {
    const {key, msg} = e.detail;
    if (document.visibilityState === "visible" || !desktopNotifications.active) return;
    if (!wantsNotification(app.store, key, msg)) return;
    const conv = app.store.get(key);
    const name = conv ? conv.name : msg.conversation_id;
    const title = isChannel(name) ? t("%1 in %2", msg.from, name) : msg.from;
    let body = stripFormatting(msg.message);
    if (msg.type === "action") body = `* ${msg.from} ${body}`;
    if (body.length > MAX_BODY) body = `${body.slice(0, MAX_BODY)}…`;
    const ts = typeof msg.ts === "string" ? msg.ts : new Date().toISOString();
    let n;
    try {
      // Every open tab gets the same event: the tag lets the system show it once.
      n = new Notification(title, {body, tag: `${convKey(msg.connection_id, msg.conversation_id)}\u0000${msg.id || ts}`,
        icon: app.url("/assets/images/convos.svg")});
    } catch {
      return; // some browsers only allow notifications from a service worker
    }
    n.addEventListener("click", () => {
      window.focus();
      app.router.go(msg.id ? `${pathFor(key)}?around_id=${encodeURIComponent(msg.id)}`
        : `${pathFor(key)}?around=${encodeURIComponent(ts)}`);
      n.close();
    });
  };
  app.store.addEventListener("message", onMessage);
  return () => app.store.removeEventListener("message", onMessage);
}
