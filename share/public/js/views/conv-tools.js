// The tools in a conversation's header (issue 13): edit the topic where you may, start a video
// call on the server's video_service, and download the history as plain text.
//
// The topic may be edited by channel operators (~ & @ %), and by anyone in a channel without
// mode +t. A non-operator's app asks for the channel's modes once per page (/mode; the server
// tab notes the answer, as for a typed /mode) and follows the "changed mode" lines after that. The video room is <video_service><room> with the room
// named after the connection and the conversation, as in Convos 8.07; the link opens in a new
// tab and goes into the input box, to send to the others. A connection that could not connect
// (no network, a wrong address) says so under the title, with why and a link to edit it.
import {h} from "../dom.js";
import {t} from "../i18n.js";
import {convKey} from "../store.js";
import {formDialog, field} from "./dialogs.js";

const TOPIC_MAX = 390; // what fits in one IRC line with "TOPIC #channel :"
const OPERATOR_MODES = new Set(["q", "a", "o", "h"]);
const channelModes = new Map(); // conversation key -> Set of mode letters, while the page is open
const asked = new Set(); // keys whose modes were asked for

export class ConversationTools {
  /** view: the ConversationView (connectionId, conversationId, isChannel, isServer, send, composer). */
  constructor(view) {
    this.view = view;
    this.app = view.app;
    this.listeners = [];
    this.editButton = view.isChannel ? this.iconButton("edit", t("Edit topic"), () => this.editTopic()) : null;
    this.videoLink = !view.isServer ? h("a", {class: "icon-btn conv__tool", target: "_blank", rel: "noopener noreferrer",
      hidden: true, onclick: () => this.inviteToVideo()},
    h("span", {class: "icon icon--video", "aria-hidden": "true"}), h("span", {class: "sr-only"}, t("Video call"))) : null;
    if (this.videoLink) this.videoLink.title = t("Video call");
    this.downloadButton = !view.isServer ? this.iconButton("download", t("Download history"), () => this.downloadDialog()) : null;
    this.el = h("div", {class: "conv__tools"}, this.editButton, this.videoLink, this.downloadButton);
    this.notice = h("p", {class: "conn-notice", role: "status", hidden: true});
    view.frozen.after(this.notice);
    this.topicForm = null;
    if (view.participants) this.on(view.participants.el, "count", () => this.render());
    const serverKey = convKey(view.connectionId);
    this.on(this.app.store, "message", (e) => {
      const {key, msg} = e.detail;
      const m = key === serverKey && /^(\S+) changed mode ([+-][A-Za-z+-]*)/.exec(msg.message || "");
      if (m && m[1].toLowerCase() === view.conversationId && channelModes.has(view.key)) {
        applyModes(channelModes.get(view.key), m[2]);
        this.render();
      }
    });
  }

  on(target, type, fn) {
    target.addEventListener(type, fn);
    this.listeners.push(() => target.removeEventListener(type, fn));
  }

  destroy() {
    for (const off of this.listeners) off();
  }

  iconButton(icon, label, onclick) {
    return h("button", {type: "button", class: "icon-btn conv__tool", "aria-label": label, title: label, onclick},
      h("span", {class: `icon icon--${icon}`, "aria-hidden": "true"}));
  }

  /** Called by the view's renderHeader: show what the user may do now. */
  render() {
    const {view} = this;
    const conv = this.app.store.get(view.key);
    const conn = this.app.store.connection(view.connectionId);
    this.renderNotice(conn);
    const live = Boolean(conv && !conv.frozen && conn && conn.state === "connected");
    if (this.editButton) {
      this.editButton.hidden = !(live && this.mayEditTopic());
      if (live && !this.isOperator() && !asked.has(view.key)) this.loadModes();
    }
    if (this.videoLink) {
      const href = videoUrl(this.app.user && this.app.user.video_service, view.connectionId, view.displayName());
      this.videoLink.hidden = !href;
      if (href) this.videoLink.href = href;
    }
  }

  /** "Could not connect to host: why." and "Edit connection", while a connection that should be
   * up is down with a reason (what the server said when it gave up or will try again). */
  renderNotice(conn) {
    const down = conn && conn.state === "disconnected" && conn.message && conn.wanted_state !== "disconnected"
      && !/^Disconnected\.?$/.test(conn.message);
    this.notice.hidden = !down;
    if (!down) return this.notice.replaceChildren();
    const reason = conn.message.replace(/\s*Reconnecting in [\d.]+s\.\.\.$/, "");
    this.notice.replaceChildren(
      h("span", {class: "conn-notice__title"}, t("Could not connect to %1.", hostOf(conn.url) || conn.name)), " ",
      t(reason), " ",
      h("a", {href: this.app.url(`/settings/connection?connection_id=${encodeURIComponent(conn.connection_id)}`)},
        t("Edit connection")));
  }

  isOperator() {
    const me = this.app.store.myNick(this.view.connectionId).toLowerCase();
    const mine = (this.app.store.sortedParticipants(this.view.key) || []).find((p) => p.nick.toLowerCase() === me);
    return Boolean(mine && OPERATOR_MODES.has(mine.mode));
  }

  mayEditTopic() {
    if (this.isOperator()) return true;
    const modes = channelModes.get(this.view.key);
    return Boolean(modes && !modes.has("t"));
  }

  async loadModes() {
    const {key} = this.view;
    asked.add(key);
    try {
      const reply = await this.app.socket.send(this.view.connectionId, this.view.conversationId, "/mode");
      if (!reply.errors && typeof reply.mode === "string") {
        channelModes.set(key, applyModes(new Set(), reply.mode.split(/\s/)[0]));
        this.render();
      } else {
        asked.delete(key);
      }
    } catch {
      asked.delete(key); // ask again next time; meanwhile only operators get the button
    }
  }

  /** The topic line becomes a small form: Enter saves (/topic), Escape cancels. */
  editTopic() {
    const {view} = this;
    if (this.topicForm) return this.topicForm.querySelector("input").focus();
    const conv = this.app.store.get(view.key);
    const input = h("input", {name: "topic", type: "text", value: (conv && conv.topic) || "", maxlength: String(TOPIC_MAX),
      "aria-label": t("Topic"), autocomplete: "off", class: "topic-form__input"});
    const close = () => {
      this.topicForm.remove();
      this.topicForm = null;
      view.topic.classList.remove("conv__topic--editing");
      this.editButton.focus();
    };
    const error = h("p", {class: "form__error", role: "alert", hidden: true});
    const form = h("form", {class: "topic-form"}, input,
      h("button", {type: "submit", class: "btn btn--small"}, t("Save")),
      h("button", {type: "button", class: "btn btn--small btn--quiet", onclick: close}, t("Cancel")), error);
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const text = input.value.trim();
      if (!text) {
        error.textContent = t("Write a topic.");
        error.hidden = false;
        return;
      }
      if (await view.send(`/topic ${text}`)) close();
    });
    input.addEventListener("keydown", (e) => { if (e.key === "Escape") { e.preventDefault(); close(); } });
    this.topicForm = form;
    view.topic.classList.add("conv__topic--editing");
    view.topic.after(form);
    input.focus();
    input.select();
  }

  /** The call's link goes into the input box, to send to the others (the link opens by itself). */
  inviteToVideo() {
    const href = this.videoLink.href;
    setTimeout(() => this.view.composer.insert(`${href} `), 0);
  }

  /** A month, or from one day to another; the server streams the text (exportConversation). */
  downloadDialog() {
    const {view} = this;
    const now = new Date();
    const month = h("input", {type: "month", name: "month", value: now.toISOString().slice(0, 7), required: true});
    const from = h("input", {type: "date", name: "from", value: now.toISOString().slice(0, 10)});
    const to = h("input", {type: "date", name: "to", value: now.toISOString().slice(0, 10)});
    const kind = (value, label, checked) => h("label", {class: "choice"},
      h("input", {type: "radio", name: "kind", value, checked, onchange: sync}), " ", label);
    const byMonth = kind("month", t("One month"), true);
    const byRange = kind("range", t("From one day to another"), false);
    const monthField = field(t("Month"), month);
    const rangeFields = h("div", {class: "download-range", hidden: true}, field(t("From"), from), field(t("To"), to));
    function sync() {
      const range = byRange.querySelector("input").checked;
      monthField.hidden = range;
      rangeFields.hidden = !range;
      month.required = !range;
      from.required = to.required = range;
    }
    formDialog({
      title: t("Download history of %1", view.displayName()),
      submitLabel: t("Download"),
      fields: [h("fieldset", {class: "form__fieldset"}, h("legend", {}, t("Time")), h("div", {class: "choices"}, byMonth, byRange)),
        monthField, rangeFields, h("p", {class: "form__hint"}, t("Plain text, one line per message, times in UTC."))],
      onSubmit: async (form, dialog) => {
        const range = byRange.querySelector("input").checked;
        const params = range ? {from: from.value, to: to.value} : {month: month.value};
        const url = new URL(this.app.api.request("exportConversation", {connection_id: view.connectionId,
          conversation_id: view.conversationId, ...params}).url, location.href);
        // Ask first (and stop reading at once), so an error shows here instead of downloading it.
        const abort = new AbortController();
        const check = await fetch(url, {credentials: "same-origin", signal: abort.signal});
        if (!check.ok) {
          const body = await check.json().catch(() => null);
          throw new Error(body && body.errors ? t(body.errors[0].message) : t("Something went wrong (HTTP %1).", check.status));
        }
        abort.abort();
        const a = h("a", {href: url.href, download: "", hidden: true});
        document.body.append(a);
        a.click();
        a.remove();
        dialog.close();
      },
    });
  }
}

/** `host:port` of a connection URL (irc://, ircs://), for people to read; "" when it does not parse. */
export function hostOf(url) {
  try {
    const u = new URL(String(url).replace(/^ircs?:/, "http:"));
    return u.port ? `${u.hostname}:${u.port}` : u.hostname;
  } catch {
    return "";
  }
}

/** Apply "+nt-s" to a set of mode letters. */
function applyModes(set, change) {
  let sign = "+";
  for (const c of change) {
    if (c === "+" || c === "-") sign = c;
    else if (sign === "+") set.add(c);
    else set.delete(c);
  }
  return set;
}

/** <video_service><room>, the room named after the connection and the conversation; "" without a service. */
export function videoUrl(service, connectionId, name) {
  if (!service) return "";
  let base;
  try {
    base = new URL(String(service));
  } catch {
    return "";
  }
  if (base.protocol !== "https:" && base.protocol !== "http:") return "";
  const room = `${connectionId}-${name}`.replace(/[^A-Za-z0-9]+/g, "-").replace(/^-+|-+$/g, "").toLowerCase();
  if (!room) return "";
  return base.href.replace(/\/*$/, "/") + encodeURIComponent(`convos-${room}`);
}
