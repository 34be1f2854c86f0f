// The message list of a conversation, with windowed rendering: at most MAX_MESSAGES message
// elements exist at a time, whatever a page holds. Scrolling up pages back with `before_id`,
// scrolling down after a jump pages forward with `after_id` (message ids: exact pages, however
// many messages share a second), and the far side of the window is dropped as it grows.
// Reading aids work inside that window: consecutive messages of one sender share one nick and
// time (`msg--cont`), and runs of joins, parts, quits and nick changes fold into one line
// that expands on click (see readingPrefs.joins); both are kept right as the window moves.
import {atBottom, h} from "../dom.js";
import {attachEmbeds} from "../embeds.js";
import {t} from "../i18n.js";
import {formatMessage, nickColorClass} from "../irc/format.js";
import {readingPrefs} from "../prefs.js";
import {cursor, dayKey, dayLabel, fullTime, parseTs, timeOfDay} from "../time.js";

export const MAX_MESSAGES = 300; // the DOM bound: message elements kept in the window
export const PAGE_SIZE = 100; // messages per history request (the API allows up to 200)
const EDGE_PX = 800; // load more when the view is this close to an end of the window
const MAX_UNREAD_PAGES = 20; // how far "Jump to first unread" pages back
const GROUP_MS = 5 * 60 * 1000; // one sender's messages closer than this show the nick and time once
const GROUPED_TYPES = new Set(["private", "preformat"]); // actions and notices always show their nick

export class MessageLog {
  /**
   * fetchPage(params) -> Promise<{messages, before_id?, after_id?}>
   * myNick() -> the user's nick on this connection (own messages are styled apart)
   * isOwn(msg) -> whether the user wrote it (also under an earlier nick); by default from myNick()
   * onLiveEdge() -> called when the newest messages are in view (to mark the conversation read)
   * onNick(nick, element) -> a nick in the log was clicked (the nick menu)
   * joinsMode() -> "fold", "show" or "hide" for joins, parts, quits and nick changes
   */
  constructor({fetchPage, myNick, isOwn, onLiveEdge, label, subscribed, onNick, joinsMode}) {
    this.fetchPage = fetchPage;
    this.myNick = myNick;
    this.isOwn = isOwn || ((m) => Boolean(m.from) && m.from.toLowerCase() === String(this.myNick() || "").toLowerCase());
    this.onLiveEdge = onLiveEdge || (() => {});
    this.onNick = onNick || null;
    this.joinsMode = joinsMode || (() => readingPrefs.joins);
    this.mode = this.joinsMode();
    // Whether the websocket delivers this conversation's events now: a page fetched before that
    // may miss what was logged until then, so catchUp() is needed (see `synced`).
    this.subscribed = subscribed || (() => true);
    this.synced = false; // no message can be missing after the newest one from a page
    this.items = [];
    // The ids of the logged messages in the window: a line's event may come after a page that
    // already has it (the server writes the line, then publishes the event), so it shows once.
    this.ids = new Set();
    this.hasOlder = false;
    this.hasNewer = false;
    this.loading = null; // "older" | "newer" | "open" while a request runs
    this.generation = 0;
    this.pendingLive = [];
    this.marker = null; // {el, item} the "New messages" line
    this.unreadCount = 0; // unread messages when the conversation was opened
    this.unreadId = null; // the id of the first of them, from the server (exact, also after a flood)
    this.unreadBeyond = 0; // unread messages older than the window (counted, without an id)
    this.catchUpAfterOpen = false;
    this.catchUpAgain = false; // the socket opened again while a catch-up was loading
    this.newBelow = 0;

    this.list = h("div", {class: "log__list"});
    this.topStatus = h("div", {class: "log__edge log__edge--top"});
    this.scroller = h("div", {
      class: "log", role: "log", "aria-label": label || t("Messages"), "aria-live": "polite",
      "aria-relevant": "additions", tabindex: "0",
    }, this.topStatus, this.list);
    this.unreadButton = h("button", {type: "button", class: "jump jump--unread", hidden: true,
      onclick: () => this.jumpToUnread()}, "↑ ", t("Jump to first unread"));
    this.latestButton = h("button", {type: "button", class: "jump jump--latest", hidden: true,
      onclick: () => this.jumpToLatest()}, t("Jump to latest"), " ↓");
    this.el = h("div", {class: "log-wrap"}, this.scroller, this.unreadButton, this.latestButton);
    this.scroller.addEventListener("scroll", () => this.onScroll(), {passive: true});
    this.list.addEventListener("click", (e) => this.onListClick(e));
  }

  destroy() {
    this.generation += 1;
    cancelAnimationFrame(this.scrollFrame);
  }

  // --- loading -----------------------------------------------------------------------

  /**
   * Open at the message `aroundId` (or the time `around`, from older links), else at the newest
   * messages. `unread` messages are new, the first of them is `unreadId` (when the server knows
   * it): the "New messages" line goes there and the log opens at it, around it when it is older
   * than the newest page. `latest` opens at the newest messages all the same.
   */
  async open({aroundId = null, around = null, unread = 0, unreadId = null, latest = false} = {}) {
    this.mode = this.joinsMode();
    if (aroundId) around = null;
    const target = aroundId || around;
    const gen = ++this.generation;
    this.items = [];
    this.ids.clear();
    this.list.replaceChildren();
    this.marker = null;
    this.unreadCount = target ? 0 : unread;
    this.unreadId = this.unreadCount > 0 ? unreadId || null : null;
    this.unreadBeyond = 0;
    this.newBelow = 0;
    this.pendingLive = [];
    this.catchUpAfterOpen = false;
    this.catchUpAgain = false;
    const subscribed = this.subscribed();
    this.loading = "open";
    this.setBusy(true);
    this.topStatus.textContent = t("Loading...");
    let page;
    let focusId = null; // opened around the first unread message
    try {
      if (aroundId) page = await this.fetchPage({around_id: aroundId, limit: PAGE_SIZE});
      else if (around) page = await this.fetchPage({around, limit: PAGE_SIZE});
      else {
        page = await this.fetchPage({limit: Math.min(200, Math.max(60, this.unreadCount + 5))});
        const unreadId = this.unreadId;
        if (!latest && unreadId && page.before_id && !page.messages.some((m) => m.id === unreadId)) {
          // More unread messages than a page (a flood): open at the first of them instead.
          const there = await this.fetchPage({around_id: unreadId, limit: PAGE_SIZE});
          if (there.messages.some((m) => m.id === unreadId)) {
            page = there;
            focusId = unreadId;
          }
        }
      }
    } catch (err) {
      if (gen !== this.generation) return;
      this.loading = null;
      this.setBusy(false);
      this.topStatus.textContent = "";
      this.addLocal("error", err.message);
      return;
    }
    if (gen !== this.generation) return;
    this.loading = null;
    this.synced = subscribed;
    this.hasOlder = Boolean(page.before_id);
    this.hasNewer = Boolean((target || focusId) && page.after_id);
    this.appendItems(this.windowOf(page.messages, aroundId || focusId, around && parseTs(around)));
    // Before the live lines that came meanwhile: they are not in the count.
    if (this.unreadCount > 0) this.placeUnreadMarker();
    if (!this.hasNewer) this.flushPending();
    this.updateTop();
    this.setBusy(false);
    if (target) this.showTarget(aroundId, around && parseTs(around));
    else if (this.marker && !latest) this.marker.el.scrollIntoView({block: "start"});
    else this.scrollToBottom();
    // More unread messages than one page, and no id to open at: page back to the first of them.
    if (this.unreadBeyond > 0 && !latest) await this.jumpToUnread();
    else this.afterChange();
    if (this.catchUpAfterOpen && gen === this.generation) await this.catchUp();
  }

  /**
   * The items of a page, at most MAX_MESSAGES of them (a page asked for with a timestamp is
   * widened to whole seconds, up to a thousand more): the newest, or those around `id` (or the
   * time `ms`). Dropping an end sets hasOlder or hasNewer, so it is fetched again by id.
   */
  windowOf(messages, id, ms) {
    if (messages.length <= MAX_MESSAGES) return messages.map((m) => this.item(m));
    let at = messages.length - 1;
    if (id || ms != null) {
      const i = messages.findIndex((m) => (id ? m.id === id : parseTs(m.ts) >= ms));
      at = i < 0 ? messages.length - 1 : i;
    }
    const start = Math.max(0, Math.min(at - MAX_MESSAGES / 2, messages.length - MAX_MESSAGES));
    if (start > 0) this.hasOlder = true;
    if (start + MAX_MESSAGES < messages.length) {
      this.hasNewer = true;
      this.pendingLive = [];
    }
    return messages.slice(start, start + MAX_MESSAGES).map((m) => this.item(m));
  }

  /** Load the page before the window; while one loads, the same promise. */
  loadOlder() {
    if (this.loading === "older") return this.inflight;
    if (!this.hasOlder || this.loading || !this.edgeCursor(1)) return Promise.resolve();
    this.inflight = this.fetchOlder();
    return this.inflight;
  }

  async fetchOlder() {
    const gen = this.generation;
    this.loading = "older";
    this.setBusy(true);
    const page = await this.fetchPage({before_id: this.edgeCursor(1), limit: PAGE_SIZE}).catch(() => null);
    if (gen !== this.generation) return;
    this.loading = null;
    this.setBusy(false);
    if (!page) return;
    this.hasOlder = Boolean(page.before_id);
    // Never more than the window, whatever the page holds: the part next to it.
    const items = page.messages.slice(-MAX_MESSAGES).map((m) => this.item(m));
    if (items.length < page.messages.length) this.hasOlder = true;
    this.prependItems(items);
    for (let i = items.length - 1; i >= 0 && this.unreadBeyond > 0; i--) {
      if (!this.countsAsUnread(items[i])) continue;
      this.unreadBeyond -= 1;
      if (this.unreadBeyond === 0) this.setMarker(items[i]);
    }
    if (this.items.length > MAX_MESSAGES) this.trimBottom(this.items.length - MAX_MESSAGES);
    this.updateTop();
    this.afterChange();
  }

  async loadNewer() {
    if (!this.hasNewer || this.loading || !this.edgeCursor(-1)) return;
    const gen = this.generation;
    this.loading = "newer";
    this.setBusy(true);
    const page = await this.fetchPage({after_id: this.edgeCursor(-1), limit: PAGE_SIZE}).catch(() => null);
    if (gen !== this.generation) return;
    this.loading = null;
    this.setBusy(false);
    if (!page) return;
    this.hasNewer = Boolean(page.after_id);
    const items = page.messages.slice(0, MAX_MESSAGES).map((m) => this.item(m));
    if (items.length < page.messages.length) this.hasNewer = true;
    this.appendBounded(items);
    if (!this.hasNewer) {
      this.flushPending();
      this.newBelow = 0;
    }
    this.afterChange();
  }

  /**
   * The websocket delivers events now (it opened, or opened again): fetch what was logged after
   * the newest message known to be complete, so nothing logged before the socket listened is
   * missing, then the lines that came live after it. Reopens when that is more than a page.
   */
  async catchUp() {
    if (this.loading === "open") {
      this.catchUpAfterOpen = true;
      return;
    }
    if (this.loading === "catchup") {
      // Its page may have been read before this socket listened: one more after it.
      this.catchUpAgain = true;
      return;
    }
    if (this.loading === "older") await this.inflight;
    if (this.loading || this.hasNewer) return; // paging forward by id reaches the end anyway
    let edge = -1; // the newest logged message from a page (or from the socket before it dropped)
    for (let k = this.items.length - 1; k >= 0; k--) {
      const item = this.items[k];
      if (!item.live && !item.msg.status && item.msg.id) {
        edge = k;
        break;
      }
    }
    // No logged message in the window (an empty conversation, or only live lines so far): the
    // newest page, merged with the live lines, which reopening would wipe (joins, topic changes
    // and command results are in no log).
    const params = edge < 0 ? {limit: PAGE_SIZE} : {after_id: this.items[edge].msg.id, limit: 200};
    const gen = this.generation;
    this.loading = "catchup";
    let page = null;
    try {
      page = await this.fetchPage(params);
    } catch {
      page = null;
    }
    if (gen !== this.generation) return;
    this.loading = null;
    if (page && edge >= 0 && page.after_id) return this.open();
    if (page && edge < 0 && page.before_id) this.hasOlder = true;
    const stick = atBottom(this.scroller);
    if (page) {
      // The page holds the live lines after the edge too, in log order, with what came before them.
      const tail = this.items.splice(edge + 1);
      for (const item of tail) this.removeItem(item);
      const ids = new Set(page.messages.map((m) => m.id));
      const kept = tail.filter((i) => !i.msg.id || !ids.has(i.msg.id));
      this.appendBounded([...page.messages.map((m) => this.item(m)), ...kept]);
      this.synced = true;
    }
    this.flushPending();
    if (stick) this.scrollToBottom();
    this.afterChange();
    if (this.catchUpAgain) {
      this.catchUpAgain = false;
      await this.catchUp();
    }
  }

  /** The websocket closed: what the window shows is complete up to now; the gap comes after it. */
  socketLost() {
    if (!this.synced) return;
    for (const item of this.items) item.live = false;
    this.synced = false;
  }

  async jumpToLatest() {
    if (this.hasNewer) await this.open({unread: this.unreadCount, unreadId: this.unreadId, latest: true});
    else this.scrollToBottom();
    this.newBelow = 0;
    this.afterChange();
  }

  async jumpToUnread() {
    if (!this.marker && this.unreadId) {
      // The first unread message is not in the window: open there.
      await this.open({unread: this.unreadCount, unreadId: this.unreadId});
      return;
    }
    const gen = this.generation;
    for (let i = 0; this.unreadBeyond > 0 && this.hasOlder && i < MAX_UNREAD_PAGES; i++) {
      await this.loadOlder();
      if (gen !== this.generation) return;
    }
    if (this.unreadBeyond > 0 && this.items.length) this.setMarker(this.items.find((item) => !item.msg.status) || this.items[0]);
    this.unreadBeyond = 0;
    if (this.marker) this.marker.el.scrollIntoView({block: "start"});
    this.afterChange();
  }

  // --- live --------------------------------------------------------------------------

  /** A message from the websocket (or a live-only status line). */
  addLive(msg) {
    if (msg.id && !msg.status && this.ids.has(msg.id)) return; // a page had it already
    if (this.loading === "open" || this.loading === "newer" || this.loading === "catchup") {
      this.pendingLive.push(msg);
      return;
    }
    if (this.hasNewer) {
      this.newBelow += 1;
      this.updateButtons();
      return;
    }
    const stick = atBottom(this.scroller);
    this.appendBounded([this.item(msg, true)]);
    if (stick) this.scrollToBottom();
    else this.newBelow += 1;
    this.afterChange();
  }

  /** A line only this browser sees: command results and errors. Returns it, for updateLocal(). */
  addLocal(type, text) {
    const msg = {status: true, local: true, type, message: text, from: "", ts: new Date().toISOString()};
    this.addLive(msg);
    return msg;
  }

  /** Change the text of a line from addLocal() (a progress line), if it is still shown. */
  updateLocal(msg, text) {
    msg.message = text;
    const item = this.items.find((i) => i.msg === msg);
    const el = item && item.el.querySelector(".msg__text");
    if (el) el.replaceChildren(formatMessage(text));
  }

  flushPending() {
    const pending = this.pendingLive;
    this.pendingLive = [];
    if (!pending.length) return;
    // Live events that arrived while a page was loading may be in that page too.
    const seen = new Set(this.items.slice(-PAGE_SIZE * 2).map((i) => i.dedupe));
    const fresh = [];
    for (const item of pending.map((m) => this.item(m, true))) {
      if (!item.msg.status && seen.has(item.dedupe)) continue;
      seen.add(item.dedupe);
      fresh.push(item);
    }
    this.appendBounded(fresh);
  }

  // --- window ------------------------------------------------------------------------

  /**
   * The id of the oldest (`1`) or newest (`-1`) logged message in the window. Live-only lines
   * (joins, command results) are not in the log, so they have no id and never count.
   */
  edgeCursor(end) {
    const n = this.items.length;
    for (let k = 0; k < n; k++) {
      const item = this.items[end > 0 ? k : n - 1 - k];
      if (!item.msg.status && item.msg.id) return item.msg.id;
    }
    return null;
  }

  /** `live`: from the websocket, not from a page (see catchUp()). */
  item(msg, live = false) {
    const ms = parseTs(msg.ts);
    return {msg, ms, sec: cursor(ms), day: dayKey(ms), dedupe: msg.id || `${cursor(ms)}\n${msg.from}\n${msg.message}`,
      el: null, live};
  }

  /**
   * Append, then drop the oldest items beyond MAX_MESSAGES. When the new items alone fill the
   * window, only the newest of them are rendered (nothing is built just to be dropped).
   */
  appendBounded(items) {
    if (items.length >= MAX_MESSAGES) {
      for (const item of this.items) this.removeItem(item);
      this.items = [];
      this.list.replaceChildren();
      if (items.length > MAX_MESSAGES) this.hasOlder = true;
      items = items.slice(-MAX_MESSAGES);
      this.appendItems(items);
      this.updateTop();
      return;
    }
    this.appendItems(items);
    if (this.items.length > MAX_MESSAGES) this.trimTop(this.items.length - MAX_MESSAGES);
  }

  appendItems(items) {
    if (!items.length) return;
    const frag = document.createDocumentFragment();
    let prev = this.items[this.items.length - 1] || null;
    for (const item of items) {
      item.el = this.render(item, prev);
      this.foldAfter(item, prev);
      if (item.msg.id && !item.msg.status) this.ids.add(item.msg.id);
      frag.append(item.el);
      prev = item;
    }
    this.items.push(...items);
    this.list.append(frag);
  }

  prependItems(items) {
    if (!items.length) return;
    const oldFirst = this.items[0];
    const frag = document.createDocumentFragment();
    let prev = null;
    for (const item of items) {
      item.el = this.render(item, prev);
      this.foldAfter(item, prev);
      if (item.msg.id && !item.msg.status) this.ids.add(item.msg.id);
      frag.append(item.el);
      prev = item;
    }
    const before = this.scroller.scrollHeight;
    const top = this.scroller.scrollTop;
    this.list.prepend(frag);
    this.items.unshift(...items);
    if (oldFirst) {
      this.setDaySeparator(oldFirst, prev);
      this.setGroup(oldFirst, prev);
      this.link(prev, oldFirst);
    }
    // Keep what the user was reading where it was.
    this.scroller.scrollTop = top + (this.scroller.scrollHeight - before);
  }

  /** Drop `count` of the oldest items (paging back by id from the new edge loses nothing). */
  trimTop(count) {
    const k = Math.min(count, this.items.length);
    if (k <= 0 || k >= this.items.length) return;
    const before = this.scroller.scrollHeight;
    const top = this.scroller.scrollTop;
    for (const item of this.items.slice(0, k)) this.removeItem(item);
    this.items.splice(0, k);
    this.hasOlder = true;
    this.setDaySeparator(this.items[0], null);
    this.setGroup(this.items[0], null);
    this.scroller.scrollTop = top - (before - this.scroller.scrollHeight);
    this.updateTop();
  }

  /** Drop `count` of the newest items. */
  trimBottom(count) {
    const k = this.items.length - Math.min(count, this.items.length);
    if (k <= 0 || k >= this.items.length) return;
    for (const item of this.items.slice(k)) this.removeItem(item);
    this.items.splice(k);
    this.hasNewer = true;
    this.pendingLive = [];
  }

  removeItem(item) {
    if (item.msg.id && !item.msg.status) this.ids.delete(item.msg.id);
    this.unfold(item);
    if (this.marker && this.marker.item === item) {
      this.marker.el.remove();
      this.marker = null;
    }
    item.el.remove();
  }

  // --- rendering -----------------------------------------------------------------------

  render(item, prev) {
    const {msg} = item;
    const type = msg.status ? msg.type : (msg.type || "private");
    const own = !msg.status && this.isOwn(msg);
    const el = h("div", {class: ["msg", `msg--${type}`, msg.status && "msg--status", own && "msg--own",
      msg.highlight && "msg--highlight", this.continues(item, prev) && "msg--cont"],
    dataset: msg.id ? {ts: item.sec, id: msg.id} : {ts: item.sec}});
    const time = h("time", {class: "msg__time", datetime: new Date(item.ms).toISOString(), title: fullTime(item.ms)},
      timeOfDay(item.ms));
    const links = [];
    const text = h("span", {class: "msg__text"}, formatMessage(msg.message, {onLink: (u) => links.push(u)}));
    // Other people's nicks open the nick menu (a click; keyboard users have the participants list).
    const nick = (...label) => (msg.from && !own && this.onNick
      ? h("button", {type: "button", class: ["msg__from", "msg__nick", nickColorClass(msg.from)], tabindex: "-1",
        "aria-haspopup": "menu", dataset: {nick: msg.from}}, ...label)
      : h("span", {class: ["msg__from", nickColorClass(msg.from)]}, ...label));
    if (msg.status) {
      el.append(time, h("span", {class: "msg__from msg__from--status", "aria-hidden": "true"}, "•"), text);
    } else if (type === "action") {
      el.append(time, nick("* ", msg.from), text);
    } else if (type === "notice") {
      el.append(time, nick("-", msg.from, "-"), text);
    } else {
      el.append(time, nick(msg.from || "*"), text);
    }
    if (msg.highlight) el.prepend(h("span", {class: "sr-only"}, t("Mention:"), " "));
    this.setDaySeparator(item, prev, el);
    if (links.length) attachEmbeds(el, links, msg);
    return el;
  }

  /** Does this message continue the one before it (same sender, a few minutes later, same day)? */
  continues(item, prev) {
    if (!prev || item.msg.status || prev.msg.status || !item.msg.from) return false;
    if (!GROUPED_TYPES.has(item.msg.type || "private") || !GROUPED_TYPES.has(prev.msg.type || "private")) return false;
    return prev.day === item.day && item.ms >= prev.ms && item.ms - prev.ms < GROUP_MS
      && String(prev.msg.from).toLowerCase() === String(item.msg.from).toLowerCase();
  }

  setGroup(item, prev) {
    item.el.classList.toggle("msg--cont", this.continues(item, prev));
  }

  // --- folding joins and parts ---------------------------------------------------------
  // A run is two or more neighbouring status lines of one day with `msg.fold` (join, part, quit,
  // nick): {items, counts, open, el}. Its summary line sits in the first item's element (after
  // the day's line), the others are hidden while it is closed (CSS). Runs grow and shrink with
  // the window, so the work per message is constant, whatever the window holds.

  foldable(item) {
    return Boolean(item.msg.status && item.msg.fold);
  }

  /** `item` was rendered right after `prev`. */
  foldAfter(item, prev) {
    if (this.mode === "hide" && this.foldable(item)) item.el.classList.add("msg--hidden");
    if (prev) this.link(prev, item);
  }

  /** `a` is right before `b`: put them in one run when both fold. */
  link(a, b) {
    if (this.mode !== "fold" || !a || !b || !this.foldable(a) || !this.foldable(b) || a.day !== b.day) return;
    if (a.run && a.run === b.run) return;
    if (a.run && b.run) {
      const into = a.run;
      const from = b.run;
      from.el.remove();
      into.open ||= from.open;
      for (const item of from.items) this.addToRun(into, item, false);
      this.refreshRun(into);
    } else if (a.run) {
      this.addToRun(a.run, b, false);
    } else if (b.run) {
      this.addToRun(b.run, a, true);
    } else {
      const run = {items: [], counts: {join: 0, part: 0, nick: 0}, open: false, el: null, button: null};
      run.button = h("button", {type: "button", class: "fold__toggle", "aria-expanded": "false",
        onclick: () => this.toggleRun(run)});
      run.el = h("div", {class: "fold"}, run.button);
      this.addToRun(run, a, false);
      this.addToRun(run, b, false);
    }
  }

  addToRun(run, item, front) {
    if (front) run.items.unshift(item);
    else run.items.push(item);
    item.run = run;
    run.counts[countKey(item)] += 1;
    item.el.classList.toggle("msg--folded", !run.open);
    this.placeSummary(run);
  }

  /** An item leaves the window: its run shrinks (and stops being one below two items). */
  unfold(item) {
    const run = item.run;
    if (!run) return;
    item.run = null;
    item.el.classList.remove("msg--folded", "msg--fold-head");
    const i = run.items.indexOf(item);
    if (i >= 0) run.items.splice(i, 1);
    run.counts[countKey(item)] -= 1;
    if (run.items.length < 2) {
      run.el.remove();
      for (const other of run.items) {
        other.run = null;
        other.el.classList.remove("msg--folded", "msg--fold-head");
      }
      return;
    }
    this.placeSummary(run);
  }

  placeSummary(run) {
    const head = run.items[0];
    if (run.el.parentNode !== head.el) {
      const old = run.el.parentNode;
      if (old) old.classList.remove("msg--fold-head");
      const day = head.el.firstElementChild && head.el.firstElementChild.classList.contains("msg__day")
        ? head.el.firstElementChild : null;
      if (day) day.after(run.el);
      else head.el.prepend(run.el);
      head.el.classList.add("msg--fold-head");
    }
    const c = run.counts;
    const parts = [];
    if (c.join) parts.push(t("%1 joined", c.join));
    if (c.part) parts.push(t("%1 left", c.part));
    if (c.nick) parts.push(c.nick === 1 ? t("1 nick change") : t("%1 nick changes", c.nick));
    run.button.textContent = parts.join(", ");
  }

  refreshRun(run) {
    for (const item of run.items) item.el.classList.toggle("msg--folded", !run.open);
    run.button.setAttribute("aria-expanded", run.open ? "true" : "false");
    run.el.classList.toggle("fold--open", run.open);
  }

  toggleRun(run) {
    run.open = !run.open;
    this.refreshRun(run);
    this.afterChange();
  }

  /** The setting changed: fold, show or hide again everything in the window. */
  setJoinsMode(mode) {
    if (mode === this.mode) return;
    for (const item of this.items) {
      if (item.run) item.run.el.remove();
      item.run = null;
      item.el.classList.remove("msg--folded", "msg--fold-head", "msg--hidden");
    }
    this.mode = mode;
    let prev = null;
    for (const item of this.items) {
      this.foldAfter(item, prev);
      prev = item;
    }
    this.afterChange();
  }

  onListClick(e) {
    const nick = e.target.closest(".msg__nick");
    if (nick && this.onNick) this.onNick(nick.dataset.nick, nick);
  }

  setDaySeparator(item, prev, el = item.el) {
    const want = prev ? prev.day !== item.day : !this.hasOlder;
    const has = el.firstElementChild && el.firstElementChild.classList.contains("msg__day");
    if (want && !has) el.prepend(h("div", {class: "msg__day", role: "separator"}, h("span", {}, dayLabel(item.ms))));
    else if (!want && has) el.firstElementChild.remove();
    el.classList.toggle("msg--has-day", want);
    if (want !== Boolean(has) && this.marker && this.marker.item === item && item.el === el) this.setMarker(item);
  }

  /** Only other people's logged messages count as unread on the server. */
  countsAsUnread(item) {
    const m = item.msg;
    return !m.status && !this.isOwn(m);
  }

  placeUnreadMarker() {
    if (this.unreadId) {
      const first = this.items.find((i) => i.msg.id === this.unreadId);
      if (first) return this.setMarker(first);
      // Older than the window: "Jump to first unread" opens there. With the whole history in
      // the window the id names nothing any more (history cleared): count instead.
      if (this.hasOlder) return;
    }
    let left = this.unreadCount;
    for (let i = this.items.length - 1; i >= 0; i--) {
      if (!this.countsAsUnread(this.items[i])) continue;
      left -= 1;
      if (left === 0) {
        this.setMarker(this.items[i]);
        return;
      }
    }
    if (this.hasOlder) this.unreadBeyond = left;
    else if (this.items.length) this.setMarker(this.items[0]);
  }

  setMarker(item) {
    if (this.marker) this.marker.el.remove();
    const line = h("span", {}, t("New messages"));
    // On the first message of a day the day's line comes first: the message's own is hidden
    // while the marker is right above it (CSS), and a copy goes above "New messages".
    const day = item.el.firstElementChild && item.el.firstElementChild.classList.contains("msg__day")
      ? item.el.firstElementChild : null;
    const el = day
      ? h("div", {class: "unread-marker unread-marker--day"}, day.cloneNode(true),
        h("div", {class: "unread-marker__line", role: "separator"}, line))
      : h("div", {class: "unread-marker", role: "separator"}, line);
    item.el.before(el);
    this.marker = {el, item};
  }

  /** Mark and show the message with this id (or the first at or after the time `ms`). */
  showTarget(id, ms) {
    const target = (id && this.items.find((i) => i.msg.id === id))
      || (ms != null && this.items.find((i) => i.ms >= ms)) || this.items[this.items.length - 1];
    if (!target) return;
    target.el.classList.add("msg--target");
    target.el.scrollIntoView({block: "center"});
  }

  updateTop() {
    this.topStatus.textContent = this.hasOlder ? t("Loading older messages...") : t("This is the start of the history.");
    this.topStatus.classList.toggle("log__edge--start", !this.hasOlder);
  }

  setBusy(busy) {
    this.scroller.setAttribute("aria-busy", busy ? "true" : "false");
  }

  scrollToBottom() {
    this.scroller.scrollTop = this.scroller.scrollHeight;
  }

  onScroll() {
    cancelAnimationFrame(this.scrollFrame);
    this.scrollFrame = requestAnimationFrame(() => this.afterChange());
  }

  /** Load more when near an end, update the jump buttons, and tell when the live edge shows. */
  afterChange() {
    const s = this.scroller;
    if (!this.loading) {
      if (s.scrollTop < EDGE_PX && this.hasOlder) this.loadOlder();
      else if (s.scrollHeight - s.scrollTop - s.clientHeight < EDGE_PX && this.hasNewer) this.loadNewer();
    }
    if (!this.hasNewer && atBottom(s)) {
      this.newBelow = 0;
      this.onLiveEdge();
    }
    this.updateButtons();
  }

  updateButtons() {
    const s = this.scroller;
    const markerAbove = this.marker && this.marker.el.offsetTop < s.scrollTop;
    this.unreadButton.hidden = !(markerAbove || this.unreadBeyond > 0 || (this.unreadId && !this.marker));
    const far = s.scrollHeight - s.scrollTop - s.clientHeight > s.clientHeight;
    this.latestButton.hidden = !(this.hasNewer || far || this.newBelow > 0);
    this.latestButton.textContent = this.newBelow > 0
      ? `${t("New messages below")} (${this.newBelow}) ↓` : `${t("Jump to latest")} ↓`;
  }
}

/** Which count of a fold summary a status line adds to. */
function countKey(item) {
  const kind = item.msg.fold;
  return kind === "join" ? "join" : kind === "nick" ? "nick" : "part";
}
