// The chat screen: sidebar, the open view (a conversation, help, a later-phase page), the
// socket status banner, dialogs and the keyboard shortcuts. One ChatView lives as long as the
// user is logged in; route changes swap the view in its <main>.
import {h} from "../dom.js";
import {t} from "../i18n.js";
import {convKey, pathFor, splitKey} from "../store.js";
import {ConversationView} from "./conversation.js";
import {addConnectionDialog, addConversationDialog, quickSwitchDialog} from "./dialogs.js";
import {PlaceholderView} from "./placeholder.js";
import {Sidebar} from "./sidebar.js";

const LAST_KEY = "convos.lastConversation";
const NARROW = window.matchMedia("(max-width: 50rem)");

export class ChatView {
  constructor(app) {
    this.app = app;
    this.view = null;
    this.listeners = [];
    this.banner = h("div", {class: "banner", role: "status", hidden: true});
    this.backdrop = h("div", {class: "backdrop", onclick: () => this.closeDrawer()});
    this.main = h("main", {class: "chat__main", id: "main"});
    this.sidebar = new Sidebar(app);
    this.el = h("div", {class: "chat"}, this.banner, this.sidebar.el, this.backdrop, this.main);

    const {store, socket} = app;
    this.on(store, "removed", (e) => {
      if (e.detail.key === store.activeKey) app.router.go("/chat", {replace: true});
    });
    this.on(socket, "frame", (e) => store.handleFrame(e.detail));
    this.socketReady = false; // the socket is open and its `load` answered: no event is missed now
    this.on(socket, "open", (e) => this.onSocketOpen(e.detail));
    this.on(socket, "state", () => this.renderBanner());
    this.on(socket, "close", () => this.onSocketClose());
    this.on(socket, "login-required", () => this.renderBanner());
    this.on(document, "keydown", (e) => this.onKeyDown(e));
    this.on(NARROW, "change", () => this.setDrawer(false));
    this.setDrawer(false);
  }

  on(target, type, fn) {
    target.addEventListener(type, fn);
    this.listeners.push(() => target.removeEventListener(type, fn));
  }

  destroy() {
    for (const off of this.listeners) off();
    if (this.view) this.view.destroy();
    this.sidebar.destroy();
  }

  url(path) {
    return this.app.url(path);
  }

  pathFor(key) {
    return pathFor(key);
  }

  // --- routes --------------------------------------------------------------------------

  /** /chat, /chat/<cid>, /chat/<cid>/<conversation>?around_id=<message id> (or ?around=<ts>) */
  showChat(segments, query) {
    const {store, router} = this.app;
    if (!segments.length) {
      const key = this.defaultKey();
      if (key) return router.go(this.pathFor(key), {replace: true});
      return this.show(null, new WelcomeView(this.app));
    }
    const key = convKey(segments[0], segments.slice(1).join("/"));
    if (!store.get(key)) {
      return this.show(null, new PlaceholderView(this.app, t("Conversation not found"),
        t("This conversation is not in your list. Add it with \"Add conversation\".")));
    }
    const aroundId = query.get("around_id");
    const around = aroundId ? null : query.get("around");
    if (this.view instanceof ConversationView && this.view.key === key) {
      if ((aroundId && aroundId !== this.view.aroundId) || (around && around !== this.view.around)) {
        this.view.aroundId = aroundId;
        this.view.around = around;
        this.view.log.open({aroundId, around});
      }
      this.closeDrawer();
      return;
    }
    try { localStorage.setItem(LAST_KEY, key); } catch { /* private mode */ }
    return this.show(key, new ConversationView(this.app, key, {around, aroundId}));
  }

  defaultKey() {
    const {store} = this.app;
    let last = null;
    try { last = localStorage.getItem(LAST_KEY); } catch { /* private mode */ }
    if (last && store.get(last)) return last;
    const order = store.navOrder();
    return order.find((key) => splitKey(key)[1] !== "") || order[0] || null;
  }

  /** Swap the view in <main>; the focus moves into it (the input box of a conversation). */
  show(key, view) {
    if (this.view) this.view.destroy();
    this.view = view;
    this.app.store.setActive(key);
    this.main.replaceChildren(view.el);
    view.mount();
    this.closeDrawer();
    view.focus();
  }

  showView(view) {
    this.show(null, view);
  }

  // --- drawer (narrow screens) ---------------------------------------------------------

  menuButton() {
    const button = h("button", {type: "button", class: "icon-btn menu-toggle", "aria-controls": "sidebar",
      "aria-expanded": "false", "aria-label": t("Show conversations"), onclick: () => this.setDrawer(true)},
    h("span", {class: "menu-toggle__bars", "aria-hidden": "true"}));
    this.menuButtonEl = button;
    this.setMenuDot(this.menuCounts);
    return button;
  }

  /** The dot on the menu button (phones): something unread elsewhere; red for mentions. */
  setMenuDot(counts = {unread: 0, mentions: 0}) {
    this.menuCounts = counts;
    const button = this.menuButtonEl;
    if (!button) return;
    let dot = button.querySelector(".menu-toggle__dot");
    if (!counts.unread && !counts.mentions) {
      if (dot) dot.remove();
      button.setAttribute("aria-label", t("Show conversations"));
      return;
    }
    if (!dot) dot = button.appendChild(h("span", {class: "menu-toggle__dot", "aria-hidden": "true"}));
    dot.classList.toggle("menu-toggle__dot--mention", counts.mentions > 0);
    button.setAttribute("aria-label", counts.mentions ? t("Show conversations (unread mentions)")
      : t("Show conversations (unread messages)"));
  }

  setDrawer(open) {
    this.drawerOpen = open && NARROW.matches;
    this.el.classList.toggle("chat--drawer-open", this.drawerOpen);
    // A closed drawer must not take the keyboard focus.
    this.sidebar.el.inert = NARROW.matches && !this.drawerOpen;
    if (this.menuButtonEl) this.menuButtonEl.setAttribute("aria-expanded", this.drawerOpen ? "true" : "false");
    if (this.drawerOpen) {
      const current = this.sidebar.el.querySelector("[aria-current=page]") || this.sidebar.el.querySelector("a, button");
      if (current) current.focus();
    }
  }

  closeDrawer() {
    if (!this.drawerOpen) return;
    this.setDrawer(false);
    if (this.menuButtonEl && document.activeElement === document.body) this.menuButtonEl.focus();
  }

  // --- dialogs -------------------------------------------------------------------------

  addConversation() {
    const key = this.app.store.activeKey;
    addConversationDialog(this.app, key ? splitKey(key)[0] : null);
  }

  addConnection() {
    addConnectionDialog(this.app);
  }

  // --- keyboard ------------------------------------------------------------------------

  onKeyDown(e) {
    if (document.querySelector("dialog[open]")) return;
    const key = e.key;
    if ((e.ctrlKey || e.metaKey) && !e.altKey && key.toLowerCase() === "k") {
      e.preventDefault();
      quickSwitchDialog(this.app);
    } else if (e.altKey && !e.ctrlKey && !e.metaKey && (key === "ArrowUp" || key === "ArrowDown")) {
      e.preventDefault();
      this.step(key === "ArrowUp" ? -1 : 1, e.shiftKey);
    } else if (e.altKey && !e.ctrlKey && !e.metaKey && (e.code === "KeyU" || e.code === "KeyL")) {
      if (!(this.view instanceof ConversationView)) return;
      e.preventDefault();
      if (e.code === "KeyU") this.view.log.jumpToUnread();
      else this.view.log.jumpToLatest();
    } else if (key === "Escape" && this.drawerOpen) {
      e.preventDefault();
      this.setDrawer(false);
      if (this.menuButtonEl) this.menuButtonEl.focus();
    }
  }

  /** Alt+Up/Down: the previous/next conversation; with Shift the previous/next unread one. */
  step(direction, unreadOnly) {
    const {store, router} = this.app;
    const order = store.navOrder();
    if (!order.length) return;
    let i = order.indexOf(store.activeKey);
    for (let n = 0; n < order.length; n++) {
      i = (i + direction + order.length) % order.length;
      const conv = store.get(order[i]);
      if (!unreadOnly || (conv && conv.unread > 0)) {
        router.go(this.pathFor(order[i]));
        return;
      }
    }
  }

  // --- socket --------------------------------------------------------------------------

  /**
   * The socket (re)opened. Its `load` answer comes after every event the server had sent it, so
   * the store is current from here on; the open conversation then fetches what was logged
   * before the socket listened (after a page load: between its first page and now).
   */
  async onSocketOpen({reconnected, lastCloseCode}) {
    this.renderBanner();
    let reply;
    try {
      reply = await this.app.socket.load();
    } catch {
      return;
    }
    if (reply.errors || !reply.user) return;
    this.app.store.load(reply.user);
    this.socketReady = true;
    if (this.view instanceof ConversationView) {
      // 1013: the server dropped events for us; reload. Otherwise fetch what was missed.
      if (reconnected && lastCloseCode === 1013) this.view.log.open();
      else this.view.log.catchUp();
      if (reconnected && this.view.isChannel) this.view.loadNames();
    } else if (this.view && this.view.socketReady) {
      this.view.socketReady();
    }
  }

  onSocketClose() {
    this.socketReady = false;
    if (this.view instanceof ConversationView) this.view.log.socketLost();
    this.renderBanner();
  }

  renderBanner() {
    const {socket} = this.app;
    const banner = this.banner;
    if (socket.state === "open" || (socket.state === "connecting" && !socket.attempts)) {
      banner.hidden = true;
      return;
    }
    banner.hidden = false;
    if (socket.state === "stopped") {
      banner.replaceChildren(t("You are logged out."), " ",
        h("a", {href: this.url("/login"), dataset: {external: "1"}}, t("Log in again")));
    } else {
      banner.replaceChildren(t("Lost the connection to Convos. Reconnecting..."), " ",
        h("button", {type: "button", class: "btn btn--small", onclick: () => socket.reconnectNow()}, t("Reconnect now")));
    }
  }
}

class WelcomeView {
  constructor(app) {
    this.el = h("section", {class: "page", "aria-labelledby": "welcome-title"},
      h("header", {class: "conv__header"}, app.chat.menuButton(),
        h("div", {class: "conv__titles"}, h("h1", {id: "welcome-title", class: "conv__name", tabindex: "-1"}, t("Welcome to Convos")))),
      h("div", {class: "page__body"},
        h("p", {}, t("Add a connection to an IRC server, then join a channel or start a conversation.")),
        h("p", {class: "page__actions"},
          h("button", {type: "button", class: "btn", onclick: () => app.chat.addConnection()}, t("Add connection")),
          " ",
          h("button", {type: "button", class: "btn btn--quiet", onclick: () => app.chat.addConversation()}, t("Add conversation")))));
    document.title = "Convos";
  }

  mount() {}
  destroy() {}
  focus() { this.el.querySelector("h1").focus(); }
}
