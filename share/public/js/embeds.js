// Link previews. messages.js calls attachEmbeds() for every rendered message with links; the
// first link of a message is described by GET /api/embed (docs/embed.md) once the message
// scrolls into view, and a preview is built from the JSON fields with h(): an image for
// `photo`, a <video> for a direct video file on our own origin (the CSP allows media only from
// 'self'), otherwise a card (thumbnail, title, description, site). The `html` field is never
// used: text from a site only ever becomes text nodes.
//
// The DOM stays bounded (docs/ui.md): at most MAX_LIVE previews exist at a time; an older one
// that is out of view is swapped for an empty box of the same height (so nothing jumps) and
// comes back when its message scrolls into view again. Answers are cached per URL.
//
// Media (docs/ui.md): pictures, videos and sounds uploaded to Convos (/file/<uid>/<fid>) and
// pastes are described here from the file's own headers (a HEAD request; a paste's first
// 4 KiB), without /api/embed. Pictures from other sites only ever come through the server
// (GET /api/embed/image), so the browser never asks a third party; the page's CSP allows
// images from its own origin only. A setting turns pictures, videos and thumbnails off
// (inlineMedia: kept with the account, getPreferences, and remembered in localStorage), and
// uploads bigger than MAX_INLINE_BYTES are not shown inline.
import {config} from "./config.js";
import {atBottom, h} from "./dom.js";
import {t} from "./i18n.js";

export const MAX_LIVE = 30; // previews in the document at a time
export const MAX_INLINE_BYTES = 5 * 1024 * 1024; // as /api/embed/image's limit
const MEDIA_KEY = "convos:inline-media";
const PASTE_HEAD = 4096; // bytes of a paste read for its first lines
const PASTE_LINES = 6;
const PASTE_MORE = 64 * 1024; // "Show more" reads this much; the paste's page has the rest
const OWN_FILE = /\/file\/([^/]+)\/([A-Za-z0-9_][A-Za-z0-9_-]{0,63})(\.[\w.]{1,32})?$/;
const INLINE_IMAGE = /^image\/(png|jpeg|gif|webp)$/;
const CACHE_SIZE = 300; // described URLs kept in memory (failures too, so they are not retried)
const VIDEO_EXT = /\.(mp4|m4v|webm|ogv|mov)$/i;

let api = null;
let observer = null;
const cache = new Map(); // url -> Promise<doc | null>, in least-recently-used order
const live = new Set(); // {message, el}: previews in the document, oldest first

/** Give the module the API client (app.js does this once the API description is loaded). */
export function configureEmbeds(options) {
  api = options.api;
}

/**
 * A message element and the http(s) links found in it. Cheap: it only remembers the first
 * link and starts watching the element; the request is made when the message comes into view.
 */
export function attachEmbeds(messageEl, urls, msg) {
  if (!api || !urls || !urls.length || (msg && msg.status) || typeof IntersectionObserver !== "function") return;
  messageEl.dataset.embedUrl = urls[0];
  watch(messageEl);
}

function watch(messageEl) {
  if (!observer) {
    observer = new IntersectionObserver((entries) => {
      for (const entry of entries) {
        if (!entry.isIntersecting) continue;
        observer.unobserve(entry.target);
        show(entry.target);
      }
    });
  }
  observer.observe(messageEl);
}

/** Whether pictures, videos and thumbnails show in conversations (the setting; on by default). */
export function inlineMedia() {
  try { return localStorage.getItem(MEDIA_KEY) !== "off"; } catch { return true; }
}

export function setInlineMedia(on) {
  try { localStorage.setItem(MEDIA_KEY, on ? "on" : "off"); } catch { /* private mode */ }
  cache.clear();
}

/** A link to a file on this Convos: {page, raw} URLs, or null. */
export function ownFile(url) {
  let u;
  try { u = new URL(url); } catch { return null; }
  if (u.origin !== location.origin || u.search || !u.pathname.startsWith(`${config.basePath}/file/`)) return null;
  const m = OWN_FILE.exec(u.pathname.slice(config.basePath.length));
  if (!m) return null;
  const page = `${u.origin}${config.basePath}/file/${m[1]}/${m[2]}`;
  return {page, raw: m[3] ? u.href.replace(/#.*$/, "") : `${page}.raw`};
}

/** An upload described from its headers, as /api/embed would, with `own` set. */
async function describeOwn(file) {
  const res = await fetch(file.raw, {method: "HEAD", credentials: "same-origin"});
  if (!res.ok) return null;
  const type = (res.headers.get("Content-Type") || "").split(";")[0].trim().toLowerCase();
  const size = Number(res.headers.get("Content-Length") || 0);
  if (type === "text/plain") {
    const head = await fetch(file.raw, {credentials: "same-origin", headers: {Range: `bytes=0-${PASTE_HEAD - 1}`}});
    if (!head.ok) return null;
    const text = await head.text();
    return {type: "paste", own: true, url: file.page, raw: file.raw, text, size};
  }
  if (INLINE_IMAGE.test(type)) return {type: "photo", own: true, url: file.page, thumbnail_url: file.raw, size};
  if (type.startsWith("video/")) return {type: "video", own: true, url: file.raw, size};
  if (type.startsWith("audio/")) return {type: "audio", own: true, url: file.raw, size};
  return null;
}

/** The JSON description of a link, from the cache or the server; null when there is none. */
export function describe(url) {
  let promise = cache.get(url);
  if (promise) {
    cache.delete(url); // most recently used goes last
  } else {
    const file = ownFile(url);
    promise = (file ? describeOwn(file) : api.call("embed", {url})).catch(() => null);
  }
  cache.set(url, promise);
  while (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value);
  return promise;
}

async function show(messageEl) {
  const url = messageEl.dataset.embedUrl;
  if (!url) return;
  const doc = await describe(url);
  if (!doc || !messageEl.isConnected) return;
  const el = renderEmbed(doc);
  if (!el) return;
  const old = messageEl.querySelector(":scope > .embed, :scope > .embed-placeholder");
  insert(messageEl, el, old);
  live.add({message: messageEl, el});
  trim();
}

/** Put the preview in; keep what the user reads in place (the log has no scroll anchoring). */
function insert(messageEl, el, old) {
  const scroller = messageEl.closest(".log");
  if (!scroller) {
    if (old) old.replaceWith(el);
    else messageEl.append(el);
    return;
  }
  const stick = atBottom(scroller);
  const above = messageEl.getBoundingClientRect().top < scroller.getBoundingClientRect().top;
  const before = scroller.scrollHeight;
  if (old) old.replaceWith(el);
  else messageEl.append(el);
  if (stick) scroller.scrollTop = scroller.scrollHeight;
  else if (above) scroller.scrollTop += scroller.scrollHeight - before;
}

/** Past MAX_LIVE previews, swap the oldest ones out of view for boxes of the same height. */
function trim() {
  for (const entry of live) {
    if (!entry.el.isConnected) live.delete(entry);
  }
  for (const entry of live) {
    if (live.size <= MAX_LIVE) break;
    if (inView(entry.message)) continue;
    const box = h("div", {class: "embed-placeholder", "aria-hidden": "true"});
    box.style.height = `${entry.el.offsetHeight}px`; // CSSOM: allowed by the CSP
    entry.el.replaceWith(box);
    live.delete(entry);
    watch(entry.message);
  }
}

function inView(el) {
  const box = el.getBoundingClientRect();
  return box.bottom > 0 && box.top < window.innerHeight;
}

function safeUrl(value) {
  if (!value) return null;
  try {
    const u = new URL(String(value));
    return u.protocol === "http:" || u.protocol === "https:" ? u.href : null;
  } catch {
    return null;
  }
}

function link(href, attrs, ...children) {
  return h("a", {href, target: "_blank", rel: "noopener noreferrer", ...attrs}, ...children);
}

/** Our own pictures as they are; another site's through the server (GET /api/embed/image). */
export function imageSrc(url) {
  const u = new URL(url);
  if (u.origin === location.origin) return u.href;
  return `${config.basePath}/api/embed/image?url=${encodeURIComponent(u.href)}`;
}

function image(src, alt, className) {
  const img = h("img", {src, alt: alt || "", loading: "lazy", referrerpolicy: "no-referrer", class: className,
    decoding: "async"});
  img.addEventListener("error", () => img.classList.add("embed__img--broken"), {once: true});
  return img;
}

/** The preview element for an /api/embed answer, or null when it would add nothing. */
export function renderEmbed(doc) {
  const url = safeUrl(doc.url);
  if (!url) return null;
  const title = String(doc.title || "");
  const media = inlineMedia();
  const thumb = media ? safeUrl(doc.thumbnail_url) : null;
  const u = new URL(url);
  const own = u.origin === location.origin;
  if (doc.type === "paste" && own) return renderPaste(doc, url);
  if (doc.own && doc.size > MAX_INLINE_BYTES) return null; // the size cap: a link is enough
  if (doc.type === "photo") {
    if (!thumb) return null;
    return h("div", {class: "embed embed--photo"},
      link(url, {class: "embed__photo", "aria-label": title || t("Image")}, image(imageSrc(thumb), title, "embed__img")));
  }
  if (doc.type === "audio" && own && doc.own) {
    return media ? h("div", {class: "embed embed--audio"}, h("audio", {class: "embed__audio", src: url, controls: true,
      preload: "none", "aria-label": title || t("Sound")})) : null;
  }
  if (doc.type === "video" && own && (doc.own || VIDEO_EXT.test(u.pathname))) {
    if (!media) return null;
    return h("div", {class: "embed embed--video"},
      h("video", {class: "embed__video", src: url, controls: true, preload: "metadata", poster: thumb && imageSrc(thumb),
        "aria-label": title || t("Video")}));
  }
  const description = String(doc.description || "");
  if (doc.type === "link" || (!description && !thumb && (!title || title === url))) return null;
  const provider = String(doc.provider_name || u.hostname);
  return h("div", {class: "embed embed--card"},
    thumb ? link(url, {class: "embed__thumb", tabindex: "-1", "aria-hidden": "true"}, image(imageSrc(thumb), "", "embed__img")) : null,
    h("div", {class: "embed__meta"},
      h("p", {class: "embed__provider"}, provider),
      link(url, {class: "embed__title"}, title || url),
      description ? h("p", {class: "embed__desc"}, description) : null));
}

/** A paste: its first lines, "Show more" (the first 64 KiB, scrollable) and a link to its page. */
function renderPaste(doc, url) {
  const all = String(doc.text || "").split("\n");
  if (all.length && all[all.length - 1] === "") all.pop();
  const cut = doc.size > PASTE_HEAD; // the last line read may be partial
  const lines = cut ? all.slice(0, -1) : all;
  const shown = lines.slice(0, PASTE_LINES);
  const pre = h("pre", {class: "embed__paste"}, shown.join("\n"));
  const more = cut || lines.length > PASTE_LINES;
  const open = link(url, {class: "embed__open"}, t("Open the paste"));
  const button = more ? h("button", {type: "button", class: "btn btn--small btn--quiet embed__more", "aria-expanded": "false",
    onclick: async () => {
      button.disabled = true;
      try {
        const res = await fetch(doc.raw, {credentials: "same-origin", headers: {Range: `bytes=0-${PASTE_MORE - 1}`}});
        const text = await res.text();
        const rest = doc.size > PASTE_MORE ? text.replace(/[^\n]*$/, "") : text;
        pre.textContent = rest.replace(/\n$/, "");
        pre.classList.add("embed__paste--open");
        button.remove();
        if (doc.size > PASTE_MORE) open.textContent = t("Open the paste for the rest");
      } catch {
        button.disabled = false;
      }
    }}, t("Show more")) : null;
  return h("div", {class: "embed embed--paste"}, pre, h("div", {class: "embed__actions"}, button, open));
}
