// The app's model: the user, connections, conversations, unread counters and participants,
// kept up to date from the websocket. Views listen for these events:
//   "reset"          everything was (re)loaded
//   "sidebar"        connections or conversations, their state or counters changed
//   "conversation"   detail {key}: topic/frozen/info of one conversation changed
//   "message"        detail {key, msg}: a chat line, or a live-only status line (msg.status)
//   "participants"   detail {key}
//   "removed"        detail {key}: a conversation was closed
// notificationCount() is the total of unread mentions (the badge of the notifications page).
import {t} from "./i18n.js";

export function convKey(connectionId, conversationId = "") {
  return `${connectionId}\u0000${conversationId}`;
}

export function splitKey(key) {
  const i = key.indexOf("\u0000");
  return [key.slice(0, i), key.slice(i + 1)];
}

export function isChannel(name) {
  return /^[#&!+]/.test(name || "");
}

const MODE_RANK = {q: 0, a: 1, o: 2, h: 3, v: 4, "": 5};
const FORMER_NICKS_KEY = "convos.formerNicks"; // localStorage: nicks this user had, per connection
const MAX_FORMER_NICKS = 20;
const KEPT_ERRORS = 20; // per conversation: errors are not logged, so they are kept here for when it opens
export const MODE_PREFIX = {q: "~", a: "&", o: "@", h: "%", v: "+", "": ""};

export class ChatStore extends EventTarget {
  constructor() {
    super();
    this.user = null;
    this.connections = new Map();
    this.conversations = new Map(); // key -> conversation (server tabs have conversation_id "")
    this.participants = new Map(); // key -> Map(lc nick -> {nick, mode})
    this.activeKey = null;
    this.errors = new Map(); // key -> the latest error lines (message events that are never logged)
    this.formerNicks = loadFormerNicks(); // connection id -> [{nick (lower case), until (ms)}]
  }

  emit(type, detail = {}) {
    this.dispatchEvent(new CustomEvent(type, {detail}));
  }

  /** The `load` reply or GET /api/user?connections=true&conversations=true. */
  load(user) {
    const previous = this.conversations;
    this.user = user;
    this.connections = new Map();
    this.conversations = new Map();
    for (const c of user.connections || []) {
      this.connections.set(c.connection_id, {...c, reconnect_at: reconnectAt(c)});
      const key = convKey(c.connection_id, "");
      const old = previous.get(key);
      this.conversations.set(key, {
        connection_id: c.connection_id, conversation_id: "", name: c.name, frozen: "", topic: "",
        info: {}, unread: c.unread ?? (old ? old.unread : 0), notifications: old ? old.notifications : 0,
      });
    }
    for (const conv of user.conversations || []) this.conversations.set(convKey(conv.connection_id, conv.conversation_id), {...conv});
    this.emit("reset");
    this.emit("sidebar");
  }

  get(key) {
    return this.conversations.get(key) || null;
  }

  connection(connectionId) {
    return this.connections.get(connectionId) || null;
  }

  /** Was `from` this user when `ts` was written? The current nick, or one it had until later. */
  isOwn(connectionId, from, ts) {
    const lc = String(from || "").toLowerCase();
    if (!lc) return false;
    if (lc === this.myNick(connectionId).toLowerCase()) return true;
    const ms = Date.parse(ts);
    return (this.formerNicks[connectionId] || []).some((f) => f.nick === lc && !(ms > f.until));
  }

  rememberFormerNick(connectionId, nick, until) {
    const list = (this.formerNicks[connectionId] || []).filter((f) => f.nick !== nick.toLowerCase());
    list.push({nick: nick.toLowerCase(), until});
    this.formerNicks[connectionId] = list.slice(-MAX_FORMER_NICKS);
    try { localStorage.setItem(FORMER_NICKS_KEY, JSON.stringify(this.formerNicks)); } catch { /* private mode */ }
  }

  /** The latest error lines of a conversation (401 after a message...), which the history has not. */
  recentErrors(key) {
    return this.errors.get(key) || [];
  }

  myNick(connectionId) {
    const c = this.connection(connectionId);
    if (c && c.info && c.info.nick) return c.info.nick;
    const m = c && /[?&]nick=([^&]+)/.exec(c.url || "");
    return m ? decodeURIComponent(m[1]) : "";
  }

  sortedConnections() {
    return [...this.connections.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Channels first, then private conversations, each by name. */
  conversationsOf(connectionId) {
    return [...this.conversations.values()]
      .filter((c) => c.connection_id === connectionId && c.conversation_id !== "")
      .sort((a, b) => (isChannel(b.name) - isChannel(a.name)) || a.name.localeCompare(b.name, undefined, {sensitivity: "base"}));
  }

  /** Every tab in sidebar order: each connection, then its conversations. */
  navOrder() {
    const keys = [];
    for (const c of this.sortedConnections()) {
      keys.push(convKey(c.connection_id, ""));
      for (const conv of this.conversationsOf(c.connection_id)) keys.push(convKey(conv.connection_id, conv.conversation_id));
    }
    return keys;
  }

  setActive(key) {
    this.activeKey = key;
    this.emit("sidebar");
  }

  markedRead(key) {
    const conv = this.get(key);
    if (conv && (conv.unread || conv.notifications)) {
      conv.unread = 0;
      conv.notifications = 0;
      conv.first_unread_id = "";
      this.emit("sidebar");
    }
  }

  /** Unread mentions in all conversations. */
  notificationCount() {
    let n = 0;
    for (const conv of this.conversations.values()) n += conv.notifications || 0;
    return n;
  }

  /** Every mention was marked read (here or in another tab). */
  notificationsRead() {
    let changed = false;
    for (const conv of this.conversations.values()) {
      changed ||= Boolean(conv.notifications);
      conv.notifications = 0;
    }
    if (changed) this.emit("sidebar");
  }

  upsertConversation(data) {
    const key = convKey(data.connection_id, data.conversation_id);
    const old = this.conversations.get(key);
    this.conversations.set(key, {info: {}, topic: "", frozen: "", unread: 0, notifications: 0, ...old, ...data});
    this.emit("sidebar");
    this.emit("conversation", {key});
    return key;
  }

  removeConversation(key) {
    if (!this.conversations.delete(key)) return;
    this.participants.delete(key);
    this.errors.delete(key);
    this.emit("removed", {key});
    this.emit("sidebar");
  }

  upsertConnection(data) {
    const old = this.connections.get(data.connection_id);
    const merged = {...old, ...data};
    if ("state" in data) merged.reconnect_at = reconnectAt(data);
    this.connections.set(data.connection_id, merged);
    const key = convKey(data.connection_id, "");
    if (!this.conversations.has(key)) {
      this.conversations.set(key, {connection_id: data.connection_id, conversation_id: "", name: data.name,
        frozen: "", topic: "", info: {}, unread: data.unread || 0, notifications: 0});
    } else if (data.name) {
      this.conversations.get(key).name = data.name;  // renamed from an IRC client
    }
    this.emit("sidebar");
  }

  /** A connection in an API answer: the websocket may already have newer `state` and `info`. */
  connectionAnswer(data) {
    if (!this.connections.has(data.connection_id)) return this.upsertConnection(data);
    const rest = {...data};
    delete rest.state;
    delete rest.info;
    delete rest.reconnect_in;
    return this.upsertConnection(rest);
  }

  removeConnection(connectionId) {
    this.connections.delete(connectionId);
    for (const key of [...this.conversations.keys()]) {
      if (splitKey(key)[0] === connectionId) this.removeConversation(key);
    }
    this.emit("sidebar");
  }

  // --- participants --------------------------------------------------------------------

  setParticipants(key, list) {
    const map = new Map();
    for (const p of list || []) map.set(p.nick.toLowerCase(), {nick: p.nick, mode: p.mode || ""});
    this.participants.set(key, map);
    this.emit("participants", {key});
  }

  sortedParticipants(key) {
    const map = this.participants.get(key);
    if (!map) return null;
    return [...map.values()].sort((a, b) => (MODE_RANK[a.mode] ?? 5) - (MODE_RANK[b.mode] ?? 5)
      || a.nick.localeCompare(b.nick, undefined, {sensitivity: "base"}));
  }

  hasParticipant(key, nick) {
    const map = this.participants.get(key);
    return Boolean(map && map.has(String(nick).toLowerCase()));
  }

  // --- websocket frames ----------------------------------------------------------------

  handleFrame(frame) {
    if (frame.event === "message") this.onMessage(frame);
    else if (frame.event === "state") this.onState(frame);
  }

  onMessage(frame) {
    const cid = frame.connection_id;
    if (!this.connections.has(cid)) return;
    const convId = frame.conversation_id || "";
    let key = convKey(cid, convId);
    if (!this.conversations.has(key)) {
      // A new private conversation starts with its first message.
      key = this.upsertConversation({connection_id: cid, conversation_id: convId, name: frame.name || convId});
    }
    const conv = this.conversations.get(key);
    if (frame.type === "error" && convId) this.keepError(key, frame);
    const own = frame.from && frame.from.toLowerCase() === this.myNick(cid).toLowerCase();
    const visible = key === this.activeKey && document.visibilityState === "visible";
    if (!own && !visible && this.countsAsUnread(frame, convId)) {
      // Like the server: the first unread message is where the "New messages" line goes.
      if (!conv.unread) conv.first_unread_id = frame.id || "";
      conv.unread = (conv.unread || 0) + 1;
      // Like the server: mentions count in channels; private messages have their own badge.
      if (frame.highlight && isChannel(conv.name)) conv.notifications = (conv.notifications || 0) + 1;
      this.emit("sidebar");
    }
    this.emit("message", {key, msg: frame});
  }

  keepError(key, frame) {
    const list = this.errors.get(key) || [];
    list.push(frame);
    this.errors.set(key, list.slice(-KEPT_ERRORS));
  }

  countsAsUnread(frame, convId) {
    // A server tab gets the MOTD, notices and connection messages: not worth a badge.
    return convId !== "";
  }

  status(key, type, text, ts, extra = {}) {
    this.emit("message", {key, msg: {status: true, type, message: text, from: "", ts, ...extra}});
  }

  onState(frame) {
    const cid = frame.connection_id;
    // Changes made in another tab or device (docs/websocket.md).
    if (frame.type === "notifications_read") return this.notificationsRead();
    if (frame.type === "connection_added" && frame.connection) return this.upsertConnection(frame.connection);
    // Its state and info come with their own events, in order.
    if (frame.type === "connection_changed" && frame.connection) return this.connectionAnswer(frame.connection);
    if (frame.type === "connection_removed") return this.removeConnection(cid);
    const conn = this.connections.get(cid);
    if (!conn) return;
    const key = convKey(cid, frame.conversation_id || "");
    switch (frame.type) {
      case "read":
        this.markedRead(key);
        break;
      case "connection":
        conn.state = frame.state;
        conn.message = frame.message || ""; // why, shown when it could not connect (conv-tools.js)
        conn.reconnect_at = reconnectAt(frame);
        this.emit("sidebar");
        this.emit("conversation", {key: convKey(cid, "")});
        break;
      case "info":
        conn.info = {...(frame.info || {})};
        this.emit("sidebar");
        break;
      case "frozen": {
        const before = this.get(key);
        const data = frameWithout(frame);
        const by = data.topic_by;
        delete data.topic_by;
        if (before && key === this.activeKey && document.visibilityState === "visible") {
          // Lines still on their way to the conversation on screen (a read request raced them):
          // they show at its live edge, which marks them read, so they get no badge meanwhile.
          for (const k of ["unread", "notifications", "first_unread_id"]) data[k] = before[k];
        }
        this.upsertConversation(data);
        if (before && before.topic !== data.topic && data.topic !== undefined && before.frozen === data.frozen) {
          const text = by ? (data.topic ? t("%1 changed the topic to: %2", by, data.topic) : t("%1 removed the topic.", by))
            : (data.topic ? t("Topic is now: %1", data.topic) : t("The topic was removed."));
          this.status(key, "topic", text, frame.ts, by ? {from: by} : {});
        }
        break;
      }
      case "join": {
        const map = this.participants.get(key);
        if (map) map.set(frame.nick.toLowerCase(), {nick: frame.nick, mode: ""});
        this.status(key, "join", t("%1 joined.", frame.nick), frame.ts, {from: frame.nick, fold: "join"});
        this.emit("participants", {key});
        break;
      }
      case "part": {
        if (frame.nick && frame.nick.toLowerCase() === this.myNick(cid).toLowerCase()) {
          this.removeConversation(key);
          break;
        }
        const map = this.participants.get(key);
        if (map) map.delete(String(frame.nick).toLowerCase());
        const text = frame.kicker
          ? t("%1 was kicked by %2.", frame.nick, frame.kicker)
          : t("%1 left.", frame.nick);
        // Kicks stand out: only plain parts fold with the joins (js/views/messages.js).
        this.status(key, "part", frame.message ? `${text} (${frame.message})` : text, frame.ts,
          frame.kicker ? {from: frame.nick} : {from: frame.nick, fold: "part"});
        this.emit("participants", {key});
        break;
      }
      case "quit":
        for (const k of this.keysWithNick(cid, frame.nick)) {
          this.participants.get(k).delete(frame.nick.toLowerCase());
          const text = t("%1 quit.", frame.nick);
          this.status(k, "part", frame.message ? `${text} (${frame.message})` : text, frame.ts, {from: frame.nick, fold: "quit"});
          this.emit("participants", {key: k});
        }
        break;
      case "nick_change":
        if (this.isMyNickChange(cid, frame)) {
          this.myNickChanged(cid, frame);
          break;
        }
        for (const k of this.keysWithNick(cid, frame.old_nick)) {
          const map = this.participants.get(k);
          const p = map.get(frame.old_nick.toLowerCase());
          map.delete(frame.old_nick.toLowerCase());
          map.set(frame.new_nick.toLowerCase(), {nick: frame.new_nick, mode: p ? p.mode : ""});
          this.status(k, "nick", t("%1 is now known as %2.", frame.old_nick, frame.new_nick), frame.ts, {from: frame.new_nick, fold: "nick"});
          this.emit("participants", {key: k});
        }
        break;
      case "mode": {
        const map = this.participants.get(key);
        const m = /^([+-])([qaohv])$/.exec(frame.mode || "");
        if (map && m && frame.nick) {
          const p = map.get(frame.nick.toLowerCase());
          if (p) p.mode = m[1] === "+" ? m[2] : (p.mode === m[2] ? "" : p.mode);
        }
        this.status(key, "mode", t("%1 sets mode %2 %3", frame.from || "", frame.mode || "", frame.nick || ""), frame.ts);
        this.emit("participants", {key});
        break;
      }
      default:
        break;
    }
  }

  /** `info` with the new nick comes first (docs/websocket.md); the old nick may still be known. */
  isMyNickChange(connectionId, frame) {
    const me = this.myNick(connectionId).toLowerCase();
    return [frame.new_nick, frame.old_nick].some((n) => String(n || "").toLowerCase() === me);
  }

  /** Our own /nick: said in every conversation of the connection (the server tab logs it itself);
   * lines under the old nick stay ours. */
  myNickChanged(connectionId, frame) {
    const conn = this.connections.get(connectionId);
    if (conn && conn.info) conn.info = {...conn.info, nick: frame.new_nick};
    this.rememberFormerNick(connectionId, frame.old_nick, Date.parse(frame.ts) || Date.now());
    const text = t("You are now known as %1.", frame.new_nick);
    for (const conv of this.conversationsOf(connectionId)) {
      const key = convKey(connectionId, conv.conversation_id);
      const map = this.participants.get(key);
      const p = map && map.get(frame.old_nick.toLowerCase());
      if (p) {
        map.delete(frame.old_nick.toLowerCase());
        map.set(frame.new_nick.toLowerCase(), {nick: frame.new_nick, mode: p.mode});
        this.emit("participants", {key});
      }
      this.status(key, "nick", text, frame.ts, {from: frame.new_nick});
    }
    this.emit("sidebar");
  }

  keysWithNick(connectionId, nick) {
    const lc = String(nick || "").toLowerCase();
    const keys = [];
    for (const [key, map] of this.participants) {
      if (splitKey(key)[0] === connectionId && map.has(lc)) keys.push(key);
    }
    return keys;
  }
}

/** When a lost connection tries again (ms), from `reconnect_in` of an event or API answer; 0 if it does not wait. */
export function reconnectAt(data) {
  const seconds = Number(data && data.reconnect_in);
  return seconds > 0 ? Date.now() + seconds * 1000 : 0;
}

function loadFormerNicks() {
  try {
    const data = JSON.parse(localStorage.getItem(FORMER_NICKS_KEY) || "{}");
    return data && typeof data === "object" && !Array.isArray(data) ? data : {};
  } catch {
    return {};
  }
}

function frameWithout(frame) {
  const data = {...frame};
  delete data.event;
  delete data.type;
  delete data.ts;
  return data;
}

/** The app path of a conversation: /chat/<cid>[/<conversation_id>], each part URL-encoded. */
export function pathFor(key) {
  const [cid, convId] = splitKey(key);
  return convId ? `/chat/${encodeURIComponent(cid)}/${encodeURIComponent(convId)}` : `/chat/${encodeURIComponent(cid)}`;
}
