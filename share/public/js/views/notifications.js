// /chat/notifications: the messages that mentioned you (GET /api/notifications, shown newest
// first), "Mark all as read" (POST /api/notifications/read; every tab clears its badges on the
// `notifications_read` event) and the desktop notification switch (js/notify.js).
import {h, uid} from "../dom.js";
import {t} from "../i18n.js";
import {desktopNotifications} from "../notify.js";
import {isChannel} from "../store.js";
import {resultItem} from "./search.js";

const LIMIT = 100;

export class NotificationsView {
  constructor(app) {
    this.app = app;
    this.listeners = [];
    this.generation = 0;
    // Mentions that came while a load was on its way: its answer may be older than they are.
    this.arrived = [];
    this.status = h("p", {class: "search__status", role: "status"});
    this.list = h("ol", {class: "results", "aria-label": t("Mentions")});
    this.markButton = h("button", {type: "button", class: "btn btn--small", onclick: () => this.markAllRead()},
      t("Mark all as read"));
    this.count = h("span", {class: "notifications__count"});

    const checkId = uid("desktop");
    this.enabledBox = h("input", {id: checkId, type: "checkbox", onchange: () => {
      desktopNotifications.turn(this.enabledBox.checked).then(() => this.renderDesktop());
    }});
    this.allowButton = h("button", {type: "button", class: "btn btn--small btn--quiet",
      onclick: () => desktopNotifications.requestPermission()}, t("Allow desktop notifications"));
    this.desktopStatus = h("p", {class: "form__hint"});
    this.desktop = h("section", {class: "notifications__desktop", "aria-labelledby": `${checkId}-title`},
      h("h2", {id: `${checkId}-title`, class: "page__subtitle"}, t("Desktop notifications")),
      h("div", {class: "form__field form__field--check"}, this.enabledBox,
        h("label", {for: checkId}, t("Show a desktop notification for mentions and private messages while Convos is in the background"))),
      this.desktopStatus,
      h("p", {class: "page__actions"}, this.allowButton));

    this.el = h("section", {class: "page notifications", "aria-labelledby": "notifications-title"},
      h("header", {class: "conv__header"}, app.chat.menuButton(),
        h("div", {class: "conv__titles"},
          h("h1", {id: "notifications-title", class: "conv__name", tabindex: "-1"}, t("Notifications"))),
        this.markButton),
      h("div", {class: "page__body"},
        h("p", {class: "notifications__summary"}, this.count),
        this.status,
        this.list,
        this.desktop));
    this.on(app.store, "sidebar", () => this.renderCount());
    this.on(app.store, "message", (e) => this.onMessage(e.detail));
    this.on(window, "convos:desktop-notifications", () => this.renderDesktop());
    this.on(document, "visibilitychange", () => this.renderDesktop());
    this.renderCount();
    this.renderDesktop();
    document.title = `${t("Notifications")} - Convos`;
  }

  on(target, type, fn) {
    target.addEventListener(type, fn);
    this.listeners.push(() => target.removeEventListener(type, fn));
  }

  mount() {
    this.load();
  }

  /** The websocket listens now: a mention from before that is in the list only after a reload. */
  socketReady() {
    this.load();
  }

  destroy() {
    this.generation += 1;
    for (const off of this.listeners) off();
  }

  focus() {
    this.el.querySelector("h1").focus();
  }

  async load() {
    const gen = ++this.generation;
    this.arrived = [];
    this.list.setAttribute("aria-busy", "true");
    this.status.textContent = t("Loading...");
    let body;
    try {
      body = await this.app.api.call("notificationMessages", {limit: LIMIT});
    } catch (err) {
      if (gen !== this.generation) return;
      this.status.textContent = err.message;
      this.list.setAttribute("aria-busy", "false");
      return;
    }
    if (gen !== this.generation) return;
    // The API gives them oldest first; the newest are the interesting ones.
    const messages = [...(body.messages || [])].reverse();
    const ids = new Set(messages.map((m) => m.id).filter(Boolean));
    const newer = this.arrived.filter((m) => !m.id || !ids.has(m.id));
    this.arrived = [];
    this.list.replaceChildren(...[...newer, ...messages].slice(0, LIMIT).map((m) => resultItem(this.app, m)));
    this.list.setAttribute("aria-busy", "false");
    this.renderEmpty();
  }

  renderEmpty() {
    this.status.textContent = this.list.children.length ? "" : t("Nobody has mentioned you yet.");
    this.renderCount();
  }

  /** A mention arriving while the page is open goes on top. */
  onMessage({key, msg}) {
    if (!msg || msg.status || !msg.highlight) return;
    const conv = this.app.store.get(key);
    if (!conv || !isChannel(conv.name)) return;
    const mention = {...msg, conversation_id: conv.conversation_id};
    if (this.list.getAttribute("aria-busy") === "true") this.arrived.unshift(mention);
    this.list.prepend(resultItem(this.app, mention));
    while (this.list.children.length > LIMIT) this.list.lastElementChild.remove();
    this.renderEmpty();
  }

  renderCount() {
    const n = this.app.store.notificationCount();
    // The list holds read mentions too: with none unread, say so about the list, not "no mentions".
    this.count.textContent = n > 1 ? t("%1 unread mentions.", n) : n === 1 ? t("1 unread mention.")
      : this.list.children.length ? t("All mentions are read.") : "";
  }

  async markAllRead() {
    this.markButton.disabled = true;
    try {
      await this.app.api.call("markNotificationsAsRead");
      this.app.store.notificationsRead();
    } catch (err) {
      this.status.textContent = err.message;
    } finally {
      this.markButton.disabled = false;
    }
  }

  renderDesktop() {
    const dn = desktopNotifications;
    const permission = dn.permission;
    // The same switch as in the settings: on when notifications will show.
    this.enabledBox.checked = dn.active;
    this.enabledBox.disabled = permission === "unsupported" || permission === "denied";
    this.allowButton.hidden = permission !== "default";
    this.desktopStatus.textContent = {
      unsupported: t("This browser cannot show desktop notifications."),
      denied: t("Your browser blocks notifications from Convos. Allow them in the browser's site settings."),
      default: t("Your browser asks you first."),
      granted: t("Your browser allows notifications from Convos."),
    }[permission];
  }
}
