// What needs attention, outside the sidebar: the unread and mention count in the tab's title,
// a badge drawn on the favicon (a canvas, as a data: URL: the CSP allows data: images) and
// the dot on the phone's menu button (js/views/chat.js). Muted conversations count only their
// mentions; server tabs do not count. Kept current from the store's "sidebar" events, also while the tab is hidden.
import {isChannel} from "./store.js";

const ICON_SIZE = 64;

/** {unread, mentions} over every conversation, as the title and the favicon show them. */
export function attentionCounts(store) {
  let unread = 0;
  let mentions = 0;
  for (const conv of store.conversations.values()) {
    if (!conv.conversation_id) continue; // server tabs: the MOTD and notices are not worth a count
    const n = conv.unread || 0;
    const m = conv.notifications || 0;
    const privateConv = conv.conversation_id && !isChannel(conv.name);
    if (conv.muted) {
      unread += m;
      mentions += m;
      continue;
    }
    unread += n;
    mentions += privateConv ? n : m;
  }
  return {unread, mentions};
}

/** "(@2 · 12) " before the title; "(12) " without mentions; nothing when all is read. */
export function titlePrefix({unread, mentions}) {
  if (!unread && !mentions) return "";
  const many = (n) => (n > 999 ? "999+" : String(n));
  return mentions ? `(@${many(mentions)} · ${many(Math.max(unread, mentions))}) ` : `(${many(unread)}) `;
}

const PREFIX_RE = /^\((?:@[0-9+]+ · )?[0-9+]+\) /;

export class Attention {
  constructor(app) {
    this.app = app;
    this.counts = {unread: 0, mentions: 0};
    this.iconLink = document.querySelector("link[rel~='icon']");
    this.iconHref = this.iconLink ? this.iconLink.getAttribute("href") : "";
    this.iconType = this.iconLink ? this.iconLink.getAttribute("type") || "" : "";
    this.image = null;
    this.drawn = "";
    this.onChange = () => {
      // Not requestAnimationFrame: it does not run while the tab is hidden, when this matters most.
      if (this.timer) return;
      this.timer = setTimeout(() => { this.timer = null; this.update(); }, 50);
    };
    app.store.addEventListener("sidebar", this.onChange);
    app.store.addEventListener("reset", this.onChange);
    // Views set document.title when they open: put the counts back in front of it.
    const title = document.querySelector("title") || document.head.appendChild(document.createElement("title"));
    this.observer = new MutationObserver(() => this.applyTitle());
    this.observer.observe(title, {childList: true, characterData: true, subtree: true});
    this.update();
  }

  destroy() {
    clearTimeout(this.timer);
    this.app.store.removeEventListener("sidebar", this.onChange);
    this.app.store.removeEventListener("reset", this.onChange);
    this.observer.disconnect();
    this.counts = {unread: 0, mentions: 0};
    this.applyTitle();
    if (this.iconLink) {
      this.iconLink.setAttribute("href", this.iconHref);
      this.iconLink.setAttribute("type", this.iconType);
    }
  }

  update() {
    this.counts = attentionCounts(this.app.store);
    this.applyTitle();
    this.drawIcon();
    if (this.app.chat) this.app.chat.setMenuDot(this.counts);
  }

  applyTitle() {
    const base = document.title.replace(PREFIX_RE, "");
    const want = titlePrefix(this.counts) + base;
    if (document.title !== want) document.title = want;
  }

  /** The logo with a red (mentions) or dark (unread) badge and the count; the plain logo when all is read. */
  drawIcon() {
    if (!this.iconLink) return;
    const {unread, mentions} = this.counts;
    const label = mentions ? (mentions > 9 ? "9+" : String(mentions)) : unread ? (unread > 9 ? "9+" : String(unread)) : "";
    const key = `${mentions ? "m" : "u"}${label}`;
    if (key === this.drawn) return;
    this.drawn = key;
    if (!label) {
      this.iconLink.setAttribute("href", this.iconHref);
      this.iconLink.setAttribute("type", this.iconType);
      this.iconLink.removeAttribute("data-badge");
      return;
    }
    const draw = () => {
      if (this.drawn !== key) return; // a newer count came while the logo loaded
      const canvas = document.createElement("canvas");
      canvas.width = ICON_SIZE;
      canvas.height = ICON_SIZE;
      const ctx = canvas.getContext("2d");
      if (!ctx) return;
      if (this.image && this.image.naturalWidth) ctx.drawImage(this.image, 0, 0, ICON_SIZE, ICON_SIZE);
      const r = 19;
      const cx = ICON_SIZE - r;
      const cy = ICON_SIZE - r;
      ctx.beginPath();
      ctx.arc(cx, cy, r, 0, 2 * Math.PI);
      ctx.fillStyle = mentions ? "#c62828" : "#1f2328";
      ctx.fill();
      ctx.lineWidth = 3;
      ctx.strokeStyle = "#ffffff";
      ctx.stroke();
      ctx.fillStyle = "#ffffff";
      ctx.font = `bold ${label.length > 1 ? 22 : 28}px sans-serif`;
      ctx.textAlign = "center";
      ctx.textBaseline = "middle";
      ctx.fillText(label, cx, cy + 1);
      this.iconLink.setAttribute("type", "image/png");
      this.iconLink.setAttribute("href", canvas.toDataURL("image/png"));
      this.iconLink.setAttribute("data-badge", key);
    };
    if (this.image) {
      if (this.image.complete) draw();
      else this.image.addEventListener("load", draw, {once: true});
      return;
    }
    this.image = new Image();
    this.image.addEventListener("load", draw, {once: true});
    this.image.addEventListener("error", draw, {once: true});
    this.image.src = this.iconHref;
  }
}
