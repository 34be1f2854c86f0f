// The websocket /events (docs/websocket.md): one per tab, JSON frames, replies matched by id.
// Reconnects with backoff (1 s, 2 s, 4 s, 8 s, then every 10 s), except after 1008 (not logged
// in) and 1011 (server error). Sends `{}` every 10 s so the server keeps the socket open.
// A request made while the socket is not open (the page just loaded, or it is reconnecting)
// waits for it to open, for up to OPEN_WAIT_MS.
import {t} from "./i18n.js";

const KEEP_ALIVE_MS = 10000;
const MAX_DELAY_MS = 10000;
const REPLY_TIMEOUT_MS = 70000; // IRC commands may wait 60 s for the server
const OPEN_WAIT_MS = 30000; // a request waits this long for the socket to open
const NO_RECONNECT = new Set([1008, 1011]);

export class EventSocket extends EventTarget {
  constructor(url) {
    super();
    this.url = url;
    this.ws = null;
    this.state = "closed"; // connecting | open | closed | stopped
    this.attempts = 0;
    this.lastCloseCode = 0;
    this.pending = new Map();
    this.waiting = []; // requests made while the socket was not open: {frame, resolve, reject, timer}
    this.seq = 0;
    this.keepAlive = null;
    this.reconnectTimer = null;
  }

  open() {
    if (this.ws || this.state === "stopped") return;
    clearTimeout(this.reconnectTimer);
    this.setState("connecting");
    const ws = new WebSocket(this.url);
    this.ws = ws;
    ws.addEventListener("open", () => {
      const reconnected = this.attempts > 0 || this.lastCloseCode !== 0;
      this.attempts = 0;
      this.setState("open");
      clearInterval(this.keepAlive);
      this.keepAlive = setInterval(() => this.raw("{}"), KEEP_ALIVE_MS);
      this.sendWaiting();
      this.dispatchEvent(new CustomEvent("open", {detail: {reconnected, lastCloseCode: this.lastCloseCode}}));
    });
    ws.addEventListener("message", (e) => this.receive(e.data));
    ws.addEventListener("close", (e) => this.closed(ws, e.code));
  }

  /** Close for good (logging out, or the server said we are not logged in). */
  stop() {
    this.setState("stopped");
    clearTimeout(this.reconnectTimer);
    clearInterval(this.keepAlive);
    this.rejectWaiting(t("You are logged out."));
    if (this.ws) this.ws.close(1000);
  }

  /** Drop the socket now and reconnect at once (the "Reconnect" button). */
  reconnectNow() {
    if (this.state === "stopped") return;
    this.attempts = 0;
    if (this.ws) this.ws.close(4000);
    else this.open();
  }

  setState(state) {
    if (this.state === state) return;
    this.state = state;
    this.dispatchEvent(new CustomEvent("state", {detail: {state, code: this.lastCloseCode}}));
  }

  closed(ws, code) {
    if (this.ws !== ws) return;
    this.ws = null;
    this.lastCloseCode = code;
    clearInterval(this.keepAlive);
    for (const {reject, timer} of this.pending.values()) {
      clearTimeout(timer);
      reject(new Error(t("The connection to Convos was lost.")));
    }
    this.pending.clear();
    if (this.state === "stopped") return;
    if (NO_RECONNECT.has(code)) {
      this.setState("stopped");
      this.rejectWaiting(t("You are logged out."));
      this.dispatchEvent(new CustomEvent("login-required", {detail: {code}}));
      return;
    }
    const delay = code === 4000 ? 0 : Math.min(1000 * 2 ** this.attempts, MAX_DELAY_MS);
    this.attempts += 1;
    this.setState("closed");
    this.dispatchEvent(new CustomEvent("close", {detail: {code, delay}}));
    this.reconnectTimer = setTimeout(() => this.open(), delay);
  }

  receive(data) {
    let frame;
    try { frame = JSON.parse(data); } catch { return; }
    if (!frame || typeof frame !== "object") return;
    if (frame.event === "handshake" && frame.errors) return; // a 1008 close follows
    // A reply carries the request's id; a `message` event's id is the message's own.
    const waiting = frame.id !== undefined && frame.event !== "message" && this.pending.get(String(frame.id));
    if (waiting) {
      this.pending.delete(String(frame.id));
      clearTimeout(waiting.timer);
      waiting.resolve(frame);
      return;
    }
    if (frame.event === "pong") return;
    this.dispatchEvent(new CustomEvent("frame", {detail: frame}));
  }

  raw(text) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(text);
  }

  /**
   * Send a request frame; resolves with the reply frame (which may carry `errors`). Before the
   * socket is open (the page just loaded, or it is reconnecting) the request waits for it, for
   * up to OPEN_WAIT_MS. Rejects when that time passes, when the socket closes before the reply
   * comes, or when the user is logged out.
   */
  request(frame) {
    return new Promise((resolve, reject) => {
      if (this.state === "stopped") {
        reject(new Error(t("You are logged out.")));
      } else if (this.ws && this.ws.readyState === WebSocket.OPEN) {
        this.transmit(frame, resolve, reject);
      } else {
        const entry = {frame, resolve, reject};
        entry.timer = setTimeout(() => {
          this.waiting = this.waiting.filter((e) => e !== entry);
          reject(new Error(t("Not connected to Convos. Trying to reconnect...")));
        }, OPEN_WAIT_MS);
        this.waiting.push(entry);
      }
    });
  }

  transmit(frame, resolve, reject) {
    this.seq += 1;
    const id = `c${this.seq}`;
    const timer = setTimeout(() => {
      this.pending.delete(id);
      reject(new Error(t("No answer from Convos.")));
    }, REPLY_TIMEOUT_MS);
    this.pending.set(id, {resolve, reject, timer});
    this.ws.send(JSON.stringify({...frame, id}));
  }

  /** The socket is open: send what waited for it, in the order it was asked. */
  sendWaiting() {
    const waiting = this.waiting;
    this.waiting = [];
    for (const {frame, resolve, reject, timer} of waiting) {
      clearTimeout(timer);
      this.transmit(frame, resolve, reject);
    }
  }

  rejectWaiting(message) {
    const waiting = this.waiting;
    this.waiting = [];
    for (const {reject, timer} of waiting) {
      clearTimeout(timer);
      reject(new Error(message));
    }
  }

  send(connectionId, conversationId, message) {
    return this.request({method: "send", connection_id: connectionId, conversation_id: conversationId, message});
  }

  load() {
    return this.request({method: "load", object: "user", params: {connections: true, conversations: true}});
  }
}
