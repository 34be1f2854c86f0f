// The sidebar: connections (with their state) and their conversations (with unread and
// mention badges). On a phone it is a drawer (see ChatView).
import {h} from "../dom.js";
import {t} from "../i18n.js";
import {convKey, isChannel, pathFor} from "../store.js";
import {displayState, stateLabel} from "./conversation.js";

export class Sidebar {
  constructor(app) {
    this.app = app;
    this.list = h("div", {class: "sidebar__list"});
    this.closeButton = h("button", {type: "button", class: "icon-btn sidebar__close", "aria-label": t("Close menu"),
      onclick: () => app.chat.closeDrawer()}, "×");
    this.el = h("nav", {class: "sidebar", id: "sidebar", "aria-label": t("Conversations")},
      h("div", {class: "sidebar__head"},
        h("a", {class: "brand", href: app.url("/chat")}, "Convos"),
        this.closeButton),
      this.tools = h("ul", {class: "sidebar__tools"}),
      this.list,
      h("div", {class: "sidebar__actions"},
        h("button", {type: "button", class: "btn btn--small", onclick: () => app.chat.addConversation()},
          "+ ", t("Add conversation")),
        h("button", {type: "button", class: "btn btn--small btn--quiet", onclick: () => app.chat.addConnection()},
          "+ ", t("Add connection"))),
      h("div", {class: "sidebar__foot"},
        h("span", {class: "sidebar__user", title: app.store.user ? app.store.user.email : ""}, app.store.user ? app.store.user.email : ""),
        h("a", {href: app.url("/help"), class: "sidebar__link"}, t("Help")),
        h("a", {href: app.url(`/logout?csrf=${encodeURIComponent(app.config.csrf)}`), class: "sidebar__link",
          dataset: {external: "1"}}, t("Log out"))));
    // Busy channels change counters often: render at most once per frame.
    this.onChange = () => {
      if (!this.frame) this.frame = requestAnimationFrame(() => { this.frame = null; this.render(); });
    };
    app.store.addEventListener("sidebar", this.onChange);
    this.render();
  }

  destroy() {
    cancelAnimationFrame(this.frame);
    this.app.store.removeEventListener("sidebar", this.onChange);
  }

  render() {
    const {store} = this.app;
    // Re-rendering drops the focused element: put the focus back on the same entry.
    const focused = this.list.contains(document.activeElement) ? document.activeElement.dataset.key : null;
    const sections = store.sortedConnections().map((conn) => {
      const serverKey = convKey(conn.connection_id, "");
      const state = displayState(conn);
      const items = store.conversationsOf(conn.connection_id).map((conv) => h("li", {},
        this.link(convKey(conv.connection_id, conv.conversation_id), conv, conv.name)));
      return h("section", {class: ["conn", `conn--${state}`]},
        h("h2", {class: "conn__head"},
          this.link(serverKey, store.get(serverKey), conn.name, h("span", {class: `state-dot state-dot--${state}`,
            title: stateLabel(state), role: "img", "aria-label": stateLabel(state)}))),
        items.length ? h("ul", {class: "conn__list"}, items) : null);
    });
    if (!sections.length) {
      sections.push(h("p", {class: "sidebar__empty"}, t("No connections yet.")));
    }
    this.list.replaceChildren(...sections);
    this.renderTools();
    if (focused) {
      // Keys hold a NUL between connection and conversation: compare, do not build a selector.
      const el = [...this.list.querySelectorAll("[data-key]")].find((a) => a.dataset.key === focused);
      if (el) el.focus();
    }
  }

  /** Search, the mentions (with their badge) and files. */
  renderTools() {
    const {app} = this;
    const path = app.router ? app.router.current().path : "";
    const mentions = app.store.notificationCount();
    const focused = this.tools.contains(document.activeElement) ? document.activeElement.getAttribute("href") : null;
    const item = (href, label, badge = null) => h("li", {}, h("a", {href: app.url(href),
      class: ["nav-item", "nav-item--tool", path === href && "nav-item--active"], "aria-current": path === href ? "page" : null},
    h("span", {class: "nav-item__name"}, label), badge));
    this.tools.replaceChildren(
      item("/search", t("Search")),
      item("/chat/notifications", t("Notifications"), mentions > 0
        ? h("span", {class: "badge badge--mention"}, String(mentions > 999 ? "999+" : mentions),
          h("span", {class: "sr-only"}, " ", mentions === 1 ? t("unread mention") : t("unread mentions")))
        : null),
      item("/settings/files", t("Files")),
      item("/settings/account", t("Settings")),
      ...[this.readAllItem()].filter(Boolean));
    if (focused) {
      const el = [...this.tools.querySelectorAll("a")].find((x) => x.getAttribute("href") === focused);
      if (el) el.focus();
    }
  }

  /** "Mark all as read", while anything is unread (markAllAsRead; the read events update every tab). */
  readAllItem() {
    const {store} = this.app;
    const any = [...store.conversations.values()].some((c) => c.unread || c.notifications);
    if (!any) return null;
    return h("li", {}, h("button", {type: "button", class: "btn btn--small btn--quiet sidebar__read-all",
      onclick: () => this.markAllRead()}, t("Mark all conversations as read")));
  }

  async markAllRead() {
    const {store, api} = this.app;
    try {
      await api.call("markAllAsRead", {});
    } catch (err) {
      console.warn("Could not mark all as read", err);
      return;
    }
    for (const key of store.conversations.keys()) store.markedRead(key);
    store.notificationsRead();
  }

  /** A sidebar entry; `icon` comes after the name, so screen readers say "libera Connected". */
  link(key, conv, name, icon = null) {
    const {store} = this.app;
    const unread = conv ? conv.unread || 0 : 0;
    const mentions = conv ? conv.notifications || 0 : 0;
    const privateConv = conv && conv.conversation_id && !isChannel(conv.name);
    const muted = Boolean(conv && conv.muted);
    const active = store.activeKey === key;
    let badge = null;
    if (muted && mentions > 0) {
      // Muted: only the mentions count.
      badge = h("span", {class: "badge badge--mention"}, String(mentions > 999 ? "999+" : mentions),
        h("span", {class: "sr-only"}, " ", mentions === 1 ? t("unread mention") : t("unread mentions")));
    } else if (!muted && unread > 0) {
      badge = h("span", {class: ["badge", (mentions > 0 || privateConv) && "badge--mention"]},
        String(unread > 999 ? "999+" : unread),
        h("span", {class: "sr-only"}, " ", mentions > 1 ? t("unread, %1 mentions", mentions)
          : mentions === 1 ? t("unread, 1 mention") : t("unread")));
    }
    const mutedIcon = muted ? h("span", {class: "nav-item__muted", title: t("Muted")},
      h("span", {class: "icon icon--bell-off", "aria-hidden": "true"}), h("span", {class: "sr-only"}, " ", t("Muted"))) : null;
    return h("a", {
      href: this.app.url(pathFor(key)), class: ["nav-item", active && "nav-item--active",
        badge && "nav-item--unread", muted && "nav-item--muted", conv && conv.frozen && "nav-item--frozen"],
      "aria-current": active ? "page" : null, dataset: {key},
    }, h("span", {class: "nav-item__name"}, name), icon, mutedIcon, badge);
  }
}
