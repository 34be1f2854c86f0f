// Web Push (docs/push.md), the page's side: subscribe this device through the service worker,
// and tell the server which conversation this tab shows while it is visible and focused, so
// nothing is pushed about it meanwhile (the websocket's `focus`, docs/websocket.md).
import {config} from "./config.js";

/** Can this browser get push notifications here? "yes", "ios-install" or "no". */
export function pushSupport() {
  const ready = "serviceWorker" in navigator && "PushManager" in window && window.isSecureContext;
  if (ready) return "yes";
  // iOS offers Web Push only to a web app added to the Home Screen (16.4 and newer).
  const ios = /iPhone|iPad|iPod/.test(navigator.userAgent) && !navigator.standalone;
  return ios ? "ios-install" : "no";
}

function keyBytes(base64url) {
  const text = atob(base64url.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - base64url.length % 4) % 4));
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

/** The push subscription of this browser, or null. */
export async function currentSubscription() {
  if (pushSupport() !== "yes") return null;
  const registration = await navigator.serviceWorker.getRegistration(`${config.basePath}/`);
  return registration ? registration.pushManager.getSubscription() : null;
}

/** Ask for permission, subscribe with the server's key, and register the device. */
export async function subscribeDevice(api, name) {
  const permission = await Notification.requestPermission();
  if (permission !== "granted") return null;
  const registration = await navigator.serviceWorker.ready;
  const {public_key: key} = await api.call("getPushKey");
  let subscription = await registration.pushManager.getSubscription();
  const sameKey = subscription && subscription.options && subscription.options.applicationServerKey
    && new Uint8Array(subscription.options.applicationServerKey).join() === keyBytes(key).join();
  if (subscription && !sameKey) {
    await subscription.unsubscribe(); // made for another server key: useless now
    subscription = null;
  }
  if (!subscription) {
    subscription = await registration.pushManager.subscribe({userVisibleOnly: true, applicationServerKey: keyBytes(key)});
  }
  return api.call("addPushSubscription", {body: {subscription: subscription.toJSON(), name}});
}

/** The conversation this tab shows while it is visible and focused, else null. */
function watched(app) {
  if (document.visibilityState !== "visible" || !document.hasFocus() || !app.router) return null;
  const [first, cid, convId] = app.router.current().segments;
  if (first !== "chat" || !cid || cid === "notifications") return null;
  return {connection_id: cid, conversation_id: (convId || "").toLowerCase()};
}

/**
 * Report where this tab looks whenever it changes (visibility, focus, the route) and again
 * after each reconnect (the server forgets a closed socket's). Also opens what a click on a
 * push notification asks for (share/public/sw.js). Returns a function that stops it.
 */
export function startFocusReports(app) {
  let sent = "";
  const report = (force = false) => {
    if (!app.socket || app.socket.state !== "open") return;
    const where = watched(app);
    const text = JSON.stringify(where);
    if (text === sent && !force) return;
    sent = text;
    app.socket.request({method: "focus", ...(where || {connection_id: null})}).catch(() => { sent = ""; });
  };
  const onChange = () => report();
  const onOpen = () => report(true);
  const onWorkerMessage = (e) => {
    if (e.data && e.data.event === "convos:open" && typeof e.data.path === "string" && /^\/(?![/\\])/.test(e.data.path)) {
      window.focus();
      app.router.go(e.data.path);
    }
  };
  document.addEventListener("visibilitychange", onChange);
  window.addEventListener("focus", onChange);
  window.addEventListener("blur", onChange);
  window.addEventListener("convos:route", onChange);
  app.socket.addEventListener("open", onOpen);
  if ("serviceWorker" in navigator) navigator.serviceWorker.addEventListener("message", onWorkerMessage);
  report();
  return () => {
    document.removeEventListener("visibilitychange", onChange);
    window.removeEventListener("focus", onChange);
    window.removeEventListener("blur", onChange);
    window.removeEventListener("convos:route", onChange);
    app.socket.removeEventListener("open", onOpen);
    if ("serviceWorker" in navigator) navigator.serviceWorker.removeEventListener("message", onWorkerMessage);
  };
}
