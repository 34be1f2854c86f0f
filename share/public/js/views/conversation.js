// One open conversation (or a connection's server tab): header with topic, the message log,
// the input box and, for channels, the participants.
import {debounce, h, uid} from "../dom.js";
import {t} from "../i18n.js";
import {commandOf, rewrite} from "../irc/commands.js";
import {formatMessage} from "../irc/format.js";
import {readingPrefs} from "../prefs.js";
import {convKey, isChannel, splitKey} from "../store.js";
import {Composer} from "./composer.js";
import {ConversationTools, hostOf} from "./conv-tools.js";
import {MessageLog} from "./messages.js";
import {closeNickMenu, openNickMenu} from "./nick-menu.js";
import {ParticipantsView} from "./participants.js";

const NAMES_REFRESH_MS = 3000;
const WHOIS_MAX_AGE_S = 300; // spec §5.2: no new /whois when the last one is younger
const LIST_POLL_MS = 1000; // /list asks again at most this often while the list is coming
const LIST_MAX_POLLS = 300; // and gives up after this many answers (the server waits for it too)
const OPERATOR_MODES = new Set(["q", "a", "o", "h"]); // who gets kick, ban, op and voice in the nick menu

export class ConversationView {
  /**
   * app: {api, store, socket, router, chat}; key from convKey(); opens at the message `aroundId`
   * (or the time `around`, from older links) when given.
   */
  constructor(app, key, {around = null, aroundId = null} = {}) {
    this.app = app;
    this.key = key;
    [this.connectionId, this.conversationId] = splitKey(key);
    this.around = around;
    this.aroundId = aroundId;
    this.isServer = this.conversationId === "";
    this.needsMarkRead = true;
    const conv = app.store.get(key);
    this.isChannel = !this.isServer && isChannel(conv ? conv.name : this.conversationId);
    this.listeners = [];

    this.log = new MessageLog({
      label: t("Messages in %1", this.displayName()),
      fetchPage: (params) => this.fetchPage(params),
      myNick: () => app.store.myNick(this.connectionId),
      isOwn: (msg) => app.store.isOwn(this.connectionId, msg.from, msg.ts),
      onLiveEdge: () => this.markReadSoon(),
      subscribed: () => Boolean(app.chat && app.chat.socketReady),
      onNick: (nick, el) => this.nickMenu(nick, el),
    });
    this.composer = new Composer({
      key,
      label: this.isServer ? t("Send a raw command to %1", this.displayName()) : t("Message %1", this.displayName()),
      onSend: (text) => this.send(text),
      candidates: () => this.candidates(),
      onPage: (dir) => this.log.scroller.scrollBy({top: dir * this.log.scroller.clientHeight * 0.9}),
      api: app.api,
    });
    this.participants = this.isChannel
      ? new ParticipantsView({store: app.store, key, onPick: (nick, el) => this.nickMenu(nick, el)})
      : null;

    this.titleId = uid("conv-title");
    this.title = h("h1", {class: "conv__name", id: this.titleId});
    this.topic = h("p", {class: "conv__topic"});
    this.frozen = h("p", {class: "conv__frozen", role: "status"});
    this.participantsCount = h("span", {class: "conv__count"});
    this.participantsButton = this.participants && h("button", {
      type: "button", class: "icon-btn conv__participants-toggle", "aria-controls": this.participants.el.id,
      "aria-expanded": "false", onclick: () => this.toggleParticipants(),
    }, h("span", {class: "icon icon--users", "aria-hidden": "true"}), h("span", {class: "btn-label"}, t("Participants")),
    this.participantsCount);
    this.closeLabel = h("span", {class: "btn-label"}, this.isServer ? t("Connect") : t("Leave"));
    this.closeButton = h("button", {type: "button", class: "btn btn--quiet conv__close",
      onclick: () => this.closeConversation()},
    h("span", {class: ["icon", this.isServer ? "icon--power" : "icon--leave"], "aria-hidden": "true"}), this.closeLabel);
    // Muted: no unread count and no desktop notification; mentions still count (kept by the server).
    // The label is for screen readers only on phones (.btn-label), where the bell is enough.
    this.muteIcon = h("span", {class: "icon icon--bell", "aria-hidden": "true"});
    this.muteLabel = h("span", {class: "btn-label"}, t("Mute"));
    this.muteButton = this.isServer ? null : h("button", {type: "button", class: "icon-btn conv__mute",
      "aria-pressed": "false", onclick: () => this.toggleMute()}, this.muteIcon, this.muteLabel);
    this.header = h("header", {class: "conv__header"},
      app.chat.menuButton(),
      h("div", {class: "conv__titles"}, this.title, this.topic, this.frozen),
      (this.tools = new ConversationTools(this)).el,
      this.muteButton, this.participantsButton, this.closeButton);
    this.el = h("section", {class: ["conv", this.participants && "conv--with-participants"], "aria-labelledby": this.titleId},
      this.header,
      h("div", {class: "conv__body"},
        h("div", {class: "conv__main"}, this.log.el, this.composer.el),
        this.participants && this.participants.el));

    if (this.participants) {
      this.participants.el.addEventListener("count", (e) => { this.participantsCount.textContent = ` (${e.detail})`; });
    }
    this.markReadSoon = debounce(() => this.markRead(), 300);
    this.refreshNames = debounce(() => this.loadNames(), NAMES_REFRESH_MS);
    this.on(app.store, "message", (e) => this.onMessage(e.detail));
    this.on(app.store, "conversation", (e) => { if (e.detail.key === this.key || e.detail.key === convKey(this.connectionId)) this.renderHeader(); });
    this.on(app.store, "sidebar", () => this.renderHeader());
    this.on(document, "visibilitychange", () => { if (document.visibilityState === "visible") this.log.afterChange(); });
    this.on(window, "convos:prefs", () => this.log.setJoinsMode(readingPrefs.joins));
    this.renderHeader();
  }

  on(target, type, fn) {
    target.addEventListener(type, fn);
    this.listeners.push(() => target.removeEventListener(type, fn));
  }

  /** Start: load history, ask for the participants, mark as read. */
  mount() {
    const conv = this.app.store.get(this.key);
    const target = this.aroundId || this.around;
    const opened = this.log.open({aroundId: this.aroundId, around: this.around, unread: target ? 0 : (conv ? conv.unread || 0 : 0),
      unreadId: conv ? conv.first_unread_id || null : null});
    this.replayErrors(opened);
    this.lastFrozen = conv ? conv.frozen : "";
    if (this.isChannel) this.loadNames();
    else if (!this.isServer) this.loadWhois();
    document.title = `${this.displayName()} - Convos`;
  }

  destroy() {
    this.destroyed = true;
    closeNickMenu();
    for (const off of this.listeners) off();
    // Leaving right after a message came: it was read all the same, so tell the server now.
    this.markReadSoon.flush();
    this.refreshNames.cancel();
    clearInterval(this.ticker);
    this.log.destroy();
    this.composer.destroy();
    this.tools.destroy();
    if (this.participants) this.participants.destroy();
  }

  focus() {
    this.composer.focus();
  }

  displayName() {
    const conv = this.app.store.get(this.key);
    if (conv && conv.name) return conv.name;
    const conn = this.app.store.connection(this.connectionId);
    return this.conversationId || (conn ? conn.name : this.connectionId);
  }

  renderHeader() {
    const store = this.app.store;
    const conv = store.get(this.key);
    const conn = store.connection(this.connectionId);
    if (!conv || !conn) return;
    this.title.textContent = this.displayName();
    if (this.isServer) {
      const state = displayState(conn);
      // A lost connection that tries again by itself: say when, counting down.
      const left = state === "reconnecting" ? Math.ceil((conn.reconnect_at - Date.now()) / 1000) : 0;
      const label = left > 0 ? t("Reconnecting in %1 s", left) : stateLabel(state);
      this.topic.replaceChildren(h("span", {class: `state state--${state}`}, label), " · ", hostOf(conn.url));
      this.closeLabel.textContent = state === "reconnecting" ? t("Reconnect now")
        : state === "connected" || state === "connecting" ? t("Disconnect") : t("Connect");
      if (state === "reconnecting" && !this.ticker) this.ticker = setInterval(() => this.renderHeader(), 1000);
      else if (state !== "reconnecting" && this.ticker) this.ticker = clearInterval(this.ticker);
    } else {
      this.topic.replaceChildren(formatMessage(conv.topic || ""));
    }
    this.topic.hidden = !this.topic.textContent;
    this.frozen.textContent = !this.isServer && conv.frozen ? t(conv.frozen) : "";
    this.frozen.hidden = !this.frozen.textContent;
    if (this.muteButton) {
      this.muteButton.setAttribute("aria-pressed", conv.muted ? "true" : "false");
      this.muteLabel.textContent = conv.muted ? t("Muted") : t("Mute");
      this.muteIcon.className = conv.muted ? "icon icon--bell-off" : "icon icon--bell";
      this.muteButton.title = conv.muted ? t("Muted: no unread count and no notifications, but mentions still count.") : "";
    }
    if (this.participantsButton) {
      const n = this.participants.size();
      this.participantsCount.textContent = n ? ` (${n})` : "";
    }
    this.tools.render();
    // Joined (again): the participants may have changed meanwhile.
    if (this.isChannel && this.lastFrozen && !conv.frozen) this.loadNames();
    this.lastFrozen = conv.frozen;
  }

  /** Errors are not logged (a 401 after a message): show the latest ones the store kept, after
   * the page, unless newer messages came since (they would be out of place). */
  async replayErrors(opened) {
    const errors = this.app.store.recentErrors(this.key);
    if (!errors.length) return;
    await opened;
    const last = this.log.items.filter((i) => !i.msg.status).pop();
    const shown = new Set(this.log.items.map((i) => i.msg));
    for (const msg of errors) {
      if (!shown.has(msg) && (!last || Date.parse(msg.ts) >= last.ms)) this.log.addLive(msg);
    }
  }

  async toggleMute() {
    const conv = this.app.store.get(this.key);
    if (!conv) return;
    try {
      const answer = await this.app.api.call("updateConversation", {connection_id: this.connectionId,
        conversation_id: this.conversationId, body: {muted: !conv.muted}});
      this.app.store.upsertConversation({connection_id: this.connectionId, conversation_id: this.conversationId,
        muted: Boolean(answer.muted)});
    } catch (err) {
      this.log.addLocal("error", err.message);
    }
  }

  /** The nick menu of `nick`, opened from `anchor` (a nick in the log or the participants list). */
  nickMenu(nick, anchor) {
    const items = [
      {id: "query", label: t("Private conversation"), run: () => this.send(`/query ${nick}`)},
      {id: "whois", label: t("Whois"), run: () => this.send(`/whois ${nick}`)},
      {id: "mention", label: t("Mention"),
        run: () => this.composer.insert(this.composer.textarea.value.trim() ? `${nick} ` : `${nick}: `)},
    ];
    const map = this.isChannel ? this.app.store.participants.get(this.key) : null;
    const me = map && map.get(this.app.store.myNick(this.connectionId).toLowerCase());
    if (me && OPERATOR_MODES.has(me.mode)) {
      const them = map.get(nick.toLowerCase());
      const mode = them ? them.mode : "";
      items.push("-",
        mode === "o"
          ? {id: "deop", label: t("Take operator"), run: () => this.send(`/mode -o ${nick}`)}
          : {id: "op", label: t("Give operator"), run: () => this.send(`/mode +o ${nick}`)},
        mode === "v"
          ? {id: "devoice", label: t("Take voice"), run: () => this.send(`/mode -v ${nick}`)}
          : {id: "voice", label: t("Give voice"), run: () => this.send(`/mode +v ${nick}`)},
        {id: "kick", label: t("Kick"), run: () => this.send(`/kick ${nick}`)},
        {id: "ban", label: t("Ban"), run: () => this.send(`/mode +b ${nick}!*@*`)});
    }
    openNickMenu({nick, anchor, items});
  }

  toggleParticipants() {
    const open = !this.el.classList.contains("conv--participants-open");
    this.el.classList.toggle("conv--participants-open", open);
    this.participantsButton.setAttribute("aria-expanded", open ? "true" : "false");
  }

  fetchPage(params) {
    const {api} = this.app;
    if (this.isServer) return api.call("connectionMessages", {connection_id: this.connectionId, ...params});
    return api.call("conversationMessages", {connection_id: this.connectionId, conversation_id: this.conversationId, ...params});
  }

  onMessage({key, msg}) {
    if (key !== this.key) return;
    this.log.addLive(msg);
    if (msg.status && ["join", "part", "nick", "mode"].includes(msg.type) && this.isChannel) this.refreshNames();
    if (!msg.status) {
      const own = (msg.from || "").toLowerCase() === this.app.store.myNick(this.connectionId).toLowerCase();
      if (!own) this.needsMarkRead = true;
    }
  }

  async markRead() {
    if (document.visibilityState !== "visible") return;
    const conv = this.app.store.get(this.key);
    if (!conv || !(this.needsMarkRead || conv.unread || conv.notifications)) return;
    this.needsMarkRead = false;
    this.app.store.markedRead(this.key);
    const params = {connection_id: this.connectionId, conversation_id: this.conversationId};
    // Up to the newest line shown: lines that come while this request is on its way stay unread.
    const lastId = this.log.edgeCursor(-1);
    if (lastId && !this.log.hasNewer) params.body = {last_id: lastId};
    try {
      await this.app.api.call(this.isServer ? "markConnectionAsRead" : "markConversationAsRead", params);
    } catch (err) {
      if (err.status !== 404) console.warn("Could not mark as read", err);
    }
  }

  candidates() {
    const store = this.app.store;
    const nicks = [];
    for (const p of store.sortedParticipants(this.key) || []) nicks.push(p.nick);
    if (!this.isServer && !this.isChannel) nicks.push(this.displayName());
    for (const item of this.log.items.slice(-100).reverse()) if (item.msg.from && !item.msg.status) nicks.push(item.msg.from);
    const channels = store.conversationsOf(this.connectionId).filter((c) => isChannel(c.name)).map((c) => c.name);
    return {nicks, channels};
  }

  // --- sending -------------------------------------------------------------------------

  async loadNames() {
    const conv = this.app.store.get(this.key);
    const conn = this.app.store.connection(this.connectionId);
    if (!conv || conv.frozen || !conn || conn.state !== "connected") return;
    try {
      const reply = await this.app.socket.send(this.connectionId, this.conversationId, "/names");
      if (!reply.errors && reply.participants) this.app.store.setParticipants(this.key, reply.participants);
    } catch {
      // The socket reconnects and the view asks again after a join.
    }
  }

  /** A private conversation: ask who it is (this also unfreezes it), unless we asked lately. */
  async loadWhois() {
    const conv = this.app.store.get(this.key);
    const conn = this.app.store.connection(this.connectionId);
    if (!conv || !conn || conn.state !== "connected") return;
    const asked = conv.info && Number(conv.info.ts);
    if (asked && Date.now() / 1000 - asked < WHOIS_MAX_AGE_S) return;
    try {
      await this.app.socket.send(this.connectionId, this.conversationId, `/whois ${conv.name}`);
    } catch {
      // Not important: the conversation works without it.
    }
  }

  closeConversation() {
    if (this.isServer) {
      const conn = this.app.store.connection(this.connectionId);
      const up = conn && (conn.state === "connected" || conn.state === "connecting");
      this.send(up ? "/disconnect" : "/connect");
      return;
    }
    this.send("/close");
  }

  /** Send a line or command; resolves to whether the server accepted it (the input box keeps it until then). */
  async send(text) {
    const conn = this.app.store.connection(this.connectionId);
    const message = rewrite(text, {isServerTab: this.isServer, serviceAccounts: conn ? conn.service_accounts || [] : []});
    const command = commandOf(message);
    let reply;
    try {
      reply = await this.app.socket.send(this.connectionId, this.conversationId, message);
    } catch (err) {
      this.log.addLocal("error", err.message);
      return false;
    }
    if (reply.errors && reply.errors.length) {
      this.log.addLocal("error", reply.errors[0].message ? t(reply.errors[0].message) : t("Something went wrong."));
      return false;
    }
    this.handleReply(command, reply, message);
    return true;
  }

  /**
   * /list: the server answers once the list has come, or after a moment with what it has so
   * far (`done` false). Then one line shows the progress and /list is asked again (a cached
   * list, not a new LIST to the IRC server) until the whole list is there.
   */
  async showList(reply, message) {
    const again = message.replace(/\s+refresh\b/i, "");
    let progress = null;
    for (let polls = 0; reply.done === false && polls < LIST_MAX_POLLS; polls++) {
      const text = t("Loading the channel list... %1 channels so far.", reply.n_conversations ?? 0);
      if (progress) this.log.updateLocal(progress, text);
      else progress = this.log.addLocal("notice", text);
      const asked = Date.now();
      try {
        reply = await this.app.socket.send(this.connectionId, this.conversationId, again);
      } catch (err) {
        reply = {errors: [{message: err.message}]};
      }
      if (this.destroyed) return;
      if (reply.errors && reply.errors.length) {
        this.log.addLocal("error", t(reply.errors[0].message || "Something went wrong."));
        return;
      }
      // A server that answers at once (not waiting for the list) is not asked more than once a second.
      await pause(Math.max(0, LIST_POLL_MS - (Date.now() - asked)));
      if (this.destroyed) return;
    }
    const n = reply.n_conversations ?? 0;
    if (progress) this.log.updateLocal(progress, t("%1 channels.", n));
    else this.log.addLocal("notice", t("%1 channels.", n));
    for (const c of (reply.conversations || []).slice(0, 50)) this.log.addLocal("notice", `${c.name} (${c.n_users}) ${c.topic || ""}`);
    if (reply.done === false) this.log.addLocal("notice", t("The list is still loading. Send /list again in a moment."));
  }

  handleReply(command, reply, message = "") {
    const {store, router} = this.app;
    const local = (text) => this.log.addLocal("notice", text);
    switch (command) {
      case "join":
      case "query":
        if (reply.conversation_id) {
          const key = convKey(this.connectionId, reply.conversation_id);
          if (!store.get(key)) store.upsertConversation({connection_id: this.connectionId, conversation_id: reply.conversation_id, name: reply.name || reply.conversation_id});
          router.go(this.app.chat.pathFor(key));
        }
        break;
      case "names":
        if (reply.participants) {
          store.setParticipants(this.key, reply.participants);
          local(`${t("Participants")}: ${reply.participants.map((p) => `${modeSymbol(p.mode)}${p.nick}`).join(", ")}`);
        }
        break;
      case "whois":
        local(whoisText(reply));
        break;
      case "topic":
        if (reply.topic !== undefined && !/^\/topic\s+\S/i.test(reply.message || "")) {
          local(reply.topic ? t("Topic: %1", reply.topic) : t("There is no topic."));
        }
        break;
      case "list":
        this.showList(reply, message);
        break;
      case "mode":
        if (reply.banlist || reply.exceptlist || reply.invitelist) {
          const list = reply.banlist || reply.exceptlist || reply.invitelist;
          local(list.length ? list.map((b) => b.mask).join(", ") : t("The list is empty."));
        } else if (reply.mode && !reply.mode_changed) {
          local(t("Mode of %1: %2", reply.target || this.displayName(), reply.mode));
        }
        break;
      case "away":
        local(reply.away ? t("You are marked as away.") : t("You are no longer marked as away."));
        break;
      case "ison":
        local(reply.online ? t("%1 is online.", reply.nick) : t("%1 is offline.", reply.nick));
        break;
      case "clear":
        this.log.open();
        break;
      default:
        break;
    }
  }
}

/** Wait `ms` (between two questions for a channel list that is still coming). */
function pause(ms) {
  return new Promise((resolve) => { setTimeout(resolve, ms); });
}

function modeSymbol(mode) {
  return {q: "~", a: "&", o: "@", h: "%", v: "+"}[mode] || "";
}

function whoisText(w) {
  const parts = [`${w.nick || ""} (${w.user || ""}@${w.host || ""})`];
  if (w.name) parts.push(w.name);
  if (w.server) parts.push(t("on %1", w.server));
  const channels = Object.entries(w.channels || {}).map(([name, c]) => `${modeSymbol(c.mode)}${name}`);
  if (channels.length) parts.push(t("in %1", channels.join(" ")));
  if (w.away) parts.push(t("away: %1", w.away));
  if (w.idle_for) parts.push(t("idle %1 s", w.idle_for));
  return parts.join(" · ");
}

export function stateLabel(state) {
  return {
    connected: t("Connected"), connecting: t("Connecting"), disconnected: t("Disconnected"),
    disconnecting: t("Disconnecting"), queued: t("Queued"), reconnecting: t("Reconnecting"),
  }[state] || state;
}

/** The state to show: "reconnecting" for a lost connection that waits to try again by itself. */
export function displayState(conn) {
  const state = (conn && conn.state) || "disconnected";
  return state === "disconnected" && conn.reconnect_at ? "reconnecting" : state;
}
