// The service worker (spec §7.7), served at <base>/sw.js by convos/web/pages.py, which puts
// self.CONVOS_SW = {version, cache, base, assets} in front of this file.
//   <base>/assets/...        cache first (the cache name changes whenever an asset changes)
//   pages (/, /chat/..., ...) network first, else the cached page, else the cached app shell
//   <base>/api (the spec), /api/i18n/...  network first, so the app can start offline
//   other /api/..., /events, /logout, /file/..., other origins, non-GET   not touched
//   <base>/sw/info            answered here: {"mode":"production","version":...}
// Web Push (docs/push.md): `push` shows what the server sent, a click on it opens the
// conversation at the message, and `pushsubscriptionchange` tells the server the new endpoint.
/* eslint-env serviceworker */

const CONFIG = self.CONVOS_SW || {version: "0", cache: "convos-0", base: "", assets: []};
const BASE = CONFIG.base;
const SHELL = `${BASE}/`;

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CONFIG.cache);
    // One missing file must not stop the worker from installing.
    await Promise.all([...CONFIG.assets, SHELL].map((url) => cache.add(url).catch(() => null)));
    await self.skipWaiting();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    const names = await caches.keys();
    await Promise.all(names.filter((n) => n.startsWith("convos-") && n !== CONFIG.cache).map((n) => caches.delete(n)));
    await self.clients.claim();
  })());
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (BASE && url.pathname !== BASE && !url.pathname.startsWith(`${BASE}/`)) return;
  const path = url.pathname.slice(BASE.length) || "/";

  if (path === "/sw/info") {
    event.respondWith(new Response(JSON.stringify({mode: "production", version: CONFIG.version}),
      {headers: {"Content-Type": "application/json"}}));
  } else if (path.startsWith("/assets/")) {
    event.respondWith(cacheFirst(request, url));
  } else if (path === "/api" || path === "/api.json" || path.startsWith("/api/i18n/")) {
    event.respondWith(networkFirst(request, null));
  } else if (/^\/(api|events|logout|file|video|sw\.js)(\/|$|\.)/.test(path)) {
    // The API and the websocket must see the network (and its errors) as they are.
  } else if (request.mode === "navigate" || !/\.[a-z0-9]+$/i.test(path)) {
    event.respondWith(networkFirst(request, SHELL));
  }
});

/** Assets: from the cache (without the ?v= query), else the network (and then cached). */
async function cacheFirst(request, url) {
  const cache = await caches.open(CONFIG.cache);
  const key = url.origin + url.pathname;
  const cached = await cache.match(key);
  if (cached) return cached;
  const response = await fetch(request);
  if (response.ok && response.type === "basic") cache.put(key, response.clone());
  return response;
}

/** Pages and the API description: the network, else what was cached, else the app shell. */
async function networkFirst(request, fallback) {
  const cache = await caches.open(CONFIG.cache);
  try {
    const response = await fetch(request);
    if (response.ok && response.type === "basic" && !response.redirected) cache.put(request, response.clone());
    return response;
  } catch (err) {
    const cached = await cache.match(request, {ignoreSearch: true}) || (fallback && await cache.match(fallback));
    if (cached) return cached;
    throw err;
  }
}

// --- Web Push -------------------------------------------------------------------------------

self.addEventListener("push", (event) => {
  event.waitUntil(showPush(event.data));
});

/** The server's JSON (convos/push/policy.py): title, body, tag, path. */
async function showPush(data) {
  let doc = {};
  try {
    doc = (data && data.json()) || {};
  } catch {
    doc = {};
  }
  await self.registration.showNotification(String(doc.title || "Convos"), {
    body: String(doc.body || ""),
    // One notification per conversation: a newer one (with its count) replaces it.
    tag: String(doc.tag || "convos"),
    renotify: true,
    icon: `${BASE}/assets/images/icon-192.png`,
    data: {path: safePath(doc.path), kind: String(doc.kind || ""), message_id: String(doc.message_id || "")},
  });
}

/** A path inside the app: "/..." but not "//host/..." (that would leave the site). */
function safePath(path) {
  return typeof path === "string" && /^\/(?![/\\])/.test(path) ? path : "/chat";
}

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  event.waitUntil(openFromNotification(event.notification));
});

/** A window of the app is focused and sent to the notification's page; without one, one opens. */
async function openFromNotification(notification) {
  const path = safePath(notification.data && notification.data.path);
  const windows = await self.clients.matchAll({type: "window", includeUncontrolled: true});
  const app = windows.find((client) => {
    const url = new URL(client.url);
    return url.origin === self.location.origin && (!BASE || url.pathname === BASE || url.pathname.startsWith(`${BASE}/`));
  });
  if (!app) return self.clients.openWindow(`${BASE}${path}`);
  try {
    await app.focus();
  } catch {
    // Only allowed while handling the click; the page still goes to the conversation.
  }
  app.postMessage({event: "convos:open", path});
  return app;
}
// For the UI test, which has no way to click a system notification (t/test_ui_push.py).
self.convosOpenFromNotification = openFromNotification;

self.addEventListener("pushsubscriptionchange", (event) => {
  event.waitUntil(resubscribe(event.oldSubscription, event.newSubscription));
});

/** The browser renewed (or dropped) the subscription: subscribe again if needed, tell the server. */
async function resubscribe(old, fresh) {
  let subscription = fresh;
  if (!subscription) {
    let key = old && old.options && old.options.applicationServerKey;
    if (!key) {
      const res = await fetch(`${BASE}/api/push/key`, {credentials: "same-origin"});
      if (!res.ok) return;
      key = (await res.json()).public_key;
    }
    subscription = await self.registration.pushManager.subscribe({userVisibleOnly: true, applicationServerKey: key});
  }
  await fetch(`${BASE}/api/push/subscriptions`, {
    method: "POST",
    credentials: "same-origin",
    headers: {"Content-Type": "application/json"},
    body: JSON.stringify({subscription: subscription.toJSON()}),
  });
}
