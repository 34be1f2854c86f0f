// The service worker (spec §7.7), served at <base>/sw.js by convos/web/pages.py, which puts
// self.CONVOS_SW = {version, cache, base, assets} in front of this file.
//   <base>/assets/...        cache first (the cache name changes whenever an asset changes)
//   pages (/, /chat/..., ...) network first, else the cached page, else the cached app shell
//   <base>/api (the spec), /api/i18n/...  network first, so the app can start offline
//   other /api/..., /events, /logout, /file/..., other origins, non-GET   not touched
//   <base>/sw/info            answered here: {"mode":"production","version":...}
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
