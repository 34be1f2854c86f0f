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
import {atBottom, h} from "./dom.js";
import {t} from "./i18n.js";

export const MAX_LIVE = 30; // previews in the document at a time
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

/** The JSON description of a link, from the cache or the server; null when there is none. */
export function describe(url) {
  let promise = cache.get(url);
  if (promise) {
    cache.delete(url); // most recently used goes last
  } else {
    promise = api.call("embed", {url}).catch(() => null);
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
  const thumb = safeUrl(doc.thumbnail_url);
  if (doc.type === "photo" && thumb) {
    return h("div", {class: "embed embed--photo"},
      link(url, {class: "embed__photo", "aria-label": title || t("Image")}, image(thumb, title, "embed__img")));
  }
  const u = new URL(url);
  if (doc.type === "video" && u.origin === location.origin && VIDEO_EXT.test(u.pathname)) {
    return h("div", {class: "embed embed--video"},
      h("video", {class: "embed__video", src: url, controls: true, preload: "metadata", poster: thumb,
        "aria-label": title || t("Video")}));
  }
  const description = String(doc.description || "");
  if (doc.type === "link" || (!description && !thumb && (!title || title === url))) return null;
  const provider = String(doc.provider_name || u.hostname);
  return h("div", {class: "embed embed--card"},
    thumb ? link(url, {class: "embed__thumb", tabindex: "-1", "aria-hidden": "true"}, image(thumb, "", "embed__img")) : null,
    h("div", {class: "embed__meta"},
      h("p", {class: "embed__provider"}, provider),
      link(url, {class: "embed__title"}, title || url),
      description ? h("p", {class: "embed__desc"}, description) : null));
}
