// The connection editor: /settings/connection?connection_id=<cid> and /settings/connection/add.
// The parts of the IRC URL (docs/irc.md) are form fields; saving puts them back together for
// POST /api/connections or POST /api/connection/{cid}. URL parameters without a field of their
// own (local_address, forced...) are kept as they were.
import {h} from "../dom.js";
import {t} from "../i18n.js";
import {convKey, pathFor} from "../store.js";
import {displayState, stateLabel} from "./conversation.js";
import {field} from "./dialogs.js";
import {SettingsPage, confirmDialog, copyField, section, settingsForm} from "./settings-common.js";

const URL_RE = /^(ircs?):\/\/(?:([^:@/?#]*)(?::([^@/?#]*))?@)?(\[[^\]/?#]*\]|[^:/?#]*)(?::(\d*))?(\/[^?#]*)?(?:\?([^#]*))?/i;
// Parameters the form edits; everything else in the query is passed through.
const EDITED = ["nick", "tls", "tls_verify", "sasl", "realname"];

function decode(text) {
  try { return decodeURIComponent(text); } catch { return text; }
}

/** irc://user:pass@host:port/path?query -> its parts (null for something else). */
export function parseIrcUrl(url) {
  const m = URL_RE.exec(String(url || "").trim());
  if (!m) return null;
  const [, scheme, user, pass, host, port, path, query] = m;
  const params = new URLSearchParams(query || "");
  return {
    scheme: scheme.toLowerCase(), username: decode(user || ""), password: decode(pass || ""), host: host || "",
    port: port || "", path: path && path !== "/" ? path : "", params,
  };
}

/** The reverse of parseIrcUrl; `params` keeps its order, values are percent-encoded. */
export function buildIrcUrl({scheme = "irc", username = "", password = "", host, port = "", path = "", params}) {
  const enc = (s) => encodeURIComponent(s);
  const auth = username || password ? `${enc(username)}${password ? `:${enc(password)}` : ""}@` : "";
  const query = [...(params || new URLSearchParams()).entries()].map(([k, v]) => `${enc(k)}=${enc(v)}`).join("&");
  return `${scheme}://${auth}${host}${port ? `:${port}` : ""}${path}${query ? `?${query}` : ""}`;
}

/** The form's values from a URL (with the defaults of a new connection). */
export function fieldsFromUrl(url, defaults = {}) {
  const p = parseIrcUrl(url) || {scheme: "irc", username: "", password: "", host: "", port: "", path: "", params: new URLSearchParams()};
  const tls = p.scheme === "ircs" || (p.params.has("tls") ? p.params.get("tls") !== "0" : true);
  const sasl = (p.params.get("sasl") || "").toLowerCase();
  return {
    host: p.host, port: p.port || (tls ? "6697" : "6667"), tls, tlsVerify: p.params.get("tls_verify") !== "0",
    nick: p.params.get("nick") || defaults.nick || "", username: p.username, password: p.password,
    realname: p.params.get("realname") || "", sasl: ["plain", "external"].includes(sasl) ? sasl : "none",
    path: p.path, params: p.params,
  };
}

/** The URL for the form's values; `original` supplies the parameters the form does not edit. */
export function urlFromFields(v, original = "") {
  const old = parseIrcUrl(original);
  const params = new URLSearchParams();
  if (v.nick) params.set("nick", v.nick);
  params.set("tls", v.tls ? "1" : "0");
  if (v.tls && !v.tlsVerify) params.set("tls_verify", "0");
  else if (v.tls && old && old.params.has("tls_verify") && old.params.get("tls_verify") !== "0") {
    params.set("tls_verify", old.params.get("tls_verify"));
  }
  if (v.sasl !== "none") params.set("sasl", v.sasl);
  if (v.realname) params.set("realname", v.realname);
  if (old) for (const [k, value] of old.params) if (!EDITED.includes(k)) params.append(k, value);
  return buildIrcUrl({scheme: "irc", username: v.username, password: v.password, host: v.host, port: v.port,
    path: v.path || "", params});
}

export class ConnectionEditorView extends SettingsPage {
  constructor(app, connectionId, {uri = ""} = {}) {
    const conn = connectionId ? app.store.connection(connectionId) : null;
    super(app, connectionId ? t("Edit connection") : t("Add connection"), "/settings/connection");
    this.connectionId = connectionId;
    if (connectionId && !conn) {
      this.body.append(h("p", {}, t("Connection not found.")),
        h("p", {}, h("a", {href: app.url("/settings/account")}, t("Account settings"))));
      return;
    }
    this.conn = conn;
    this.state = h("p", {class: "settings-state", role: "status"});
    this.certificate = h("div", {});
    this.form = this.buildForm(conn, uri);
    this.body.append(
      conn ? section(conn.name, this.state, this.certificate) : null,
      this.form,
      conn ? section(t("Delete connection"),
        h("p", {}, t("Deleting the connection removes its conversations and their logs.")),
        h("button", {type: "button", class: "btn btn--destructive", onclick: () => this.remove()}, t("Delete connection"))) : null);
    if (conn) {
      this.on(app.store, "sidebar", () => this.renderState());
      this.renderState();
    }
  }

  async mount() {
    if (!this.connectionId) return;
    // The store's copy may be older than the server's (a nick or tls=1 written into the URL
    // on connect): show the server's, unless the user started typing.
    try {
      const {connections} = await this.app.api.call("listConnections");
      const fresh = (connections || []).find((c) => c.connection_id === this.connectionId);
      if (!fresh) return;
      this.app.store.connectionAnswer(fresh);
      if (!this.form.dirty && fresh.url !== this.original) {
        const form = this.buildForm(this.app.store.connection(this.connectionId), "");
        this.form.replaceWith(form);
        this.form = form;
      }
    } catch { /* the store's copy will do */ }
  }

  defaults() {
    const {user} = this.app;
    const nick = String(user && user.email || "").split("@")[0].replace(/\W/g, "_") || "guest";
    return {nick};
  }

  buildForm(conn, uri) {
    const {user} = this.app;
    const forced = Boolean(user && user.forced_connection);
    const source = conn ? conn.url : uri || (user && user.default_connection) || "";
    const v = fieldsFromUrl(source, this.defaults());
    this.original = conn ? conn.url : "";
    const channel = conn ? "" : decode((v.path || "").replace(/^\//, ""));
    if (!conn) v.path = "";

    const f = {
      host: h("input", {name: "host", required: true, autocomplete: "off", spellcheck: "false", value: v.host,
        placeholder: "irc.libera.chat", readonly: forced}),
      port: h("input", {name: "port", type: "number", min: "1", max: "65535", inputmode: "numeric", value: v.port,
        readonly: forced}),
      tls: h("input", {name: "tls", type: "checkbox", checked: v.tls}),
      tlsVerify: h("input", {name: "tls_verify", type: "checkbox", checked: v.tlsVerify}),
      nick: h("input", {name: "nick", required: true, autocomplete: "off", spellcheck: "false", value: v.nick}),
      sasl: h("select", {name: "sasl"},
        h("option", {value: "none"}, t("None")),
        h("option", {value: "plain"}, t("Plain (username and password)")),
        h("option", {value: "external"}, t("External (client certificate)"))),
      username: h("input", {name: "username", autocomplete: "off", spellcheck: "false", value: v.username}),
      password: h("input", {name: "password", type: "password", autocomplete: "new-password", value: v.password}),
      realname: h("input", {name: "realname", autocomplete: "off", value: v.realname}),
      channel: h("input", {name: "conversation_id", autocomplete: "off", spellcheck: "false", value: channel,
        placeholder: "#convos"}),
      commands: h("textarea", {name: "on_connect_commands", rows: "4", spellcheck: "false"}),
      name: h("input", {name: "name", autocomplete: "off", spellcheck: "false", maxlength: "64",
        value: conn ? conn.name || "" : "", placeholder: conn ? "" : "libera"}),
      wanted: h("select", {name: "wanted_state"},
        h("option", {value: "connected"}, t("Connected")),
        h("option", {value: "disconnected"}, t("Disconnected"))),
    };
    f.sasl.value = v.sasl;
    f.commands.value = (conn && conn.on_connect_commands || []).join("\n");
    f.wanted.value = conn && conn.wanted_state === "disconnected" ? "disconnected" : "connected";
    const syncTls = () => { f.tlsVerify.disabled = !f.tls.checked; };
    f.tls.addEventListener("change", () => {
      if (f.tls.checked && f.port.value === "6667") f.port.value = "6697";
      else if (!f.tls.checked && f.port.value === "6697") f.port.value = "6667";
      syncTls();
    });
    syncTls();
    this.fields = f;

    const byPath = {url: f.host, host: f.host, wanted_state: f.wanted, on_connect_commands: f.commands,
      conversation_id: f.channel, name: f.name};
    const form = settingsForm({
      fields: [
        forced ? h("p", {class: "form__hint"}, t("This Convos only allows connections to %1.", v.host)) : null,
        h("div", {class: "form__row"},
          h("div", {class: "form__grow"}, field(t("Host"), f.host)),
          field(t("Port"), f.port)),
        field(t("Secure connection (TLS)"), f.tls),
        field(t("Verify certificate"), f.tlsVerify, t("Turn off only for a server with a self-signed certificate.")),
        field(t("Nick"), f.nick),
        field(t("Name"), f.name, t("Shown in the sidebar. IRC clients attach to the connection by it. Optional: made from the host.")),
        conn ? null : field(t("Channel to join"), f.channel, t("Optional. More channels can be joined later.")),
        h("fieldset", {class: "form__fieldset"}, h("legend", {}, t("Log in to the server")),
          field(t("SASL authentication"), f.sasl),
          field(t("Username"), f.username),
          field(t("Password"), f.password, t("Without SASL, the password is sent with PASS."))),
        field(t("Real name"), f.realname),
        field(t("On-connect commands"), f.commands, t("One command per line, run in order after connecting.")),
        field(t("Wanted state"), f.wanted),
      ],
      submitLabel: conn ? t("Update connection") : t("Create connection"),
      fieldFor: (name) => byPath[name] || null,
      onSubmit: () => this.save(),
    });
    form.dirty = false;
    form.addEventListener("input", () => { form.dirty = true; });
    form.addEventListener("change", () => { form.dirty = true; });
    return form;
  }

  values() {
    const f = this.fields;
    return {
      host: f.host.value.trim(), port: f.port.value.trim(), tls: f.tls.checked, tlsVerify: f.tlsVerify.checked,
      nick: f.nick.value.trim(), sasl: f.sasl.value, username: f.username.value.trim(), password: f.password.value,
      realname: f.realname.value.trim(), path: this.conn ? (parseIrcUrl(this.original) || {}).path || "" : "",
    };
  }

  async save() {
    const v = this.values();
    const invalid = (message, path) => Object.assign(new Error(message), {path});
    if (!/^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)$/.test(v.host)) throw invalid(t("Write a host name, like irc.libera.chat."), "/host");
    if (v.port && !(Number(v.port) >= 1 && Number(v.port) <= 65535)) throw invalid(t("Write a port number from 1 to 65535."), "/port");
    if (!v.nick || /\s/.test(v.nick)) throw invalid(t("Write a nick without spaces."), "/nick");
    const url = urlFromFields(v, this.original);
    const commands = this.fields.commands.value.split("\n").map((line) => line.trim()).filter(Boolean);
    const body = {url, on_connect_commands: commands, wanted_state: this.fields.wanted.value};
    const name = this.fields.name.value.trim();
    if (name && name !== (this.conn && this.conn.name)) body.name = name;
    const {api, store, router} = this.app;
    if (!this.conn) {
      const channel = this.fields.channel.value.trim();
      if (channel) body.conversation_id = channel;
      const conn = await api.call("createConnection", {body});
      store.connectionAnswer(conn);
      router.go(pathFor(convKey(conn.connection_id, "")));
      return null;
    }
    const conn = await api.call("updateConnection", {connection_id: this.connectionId, body});
    store.connectionAnswer(conn);
    this.conn = store.connection(this.connectionId);
    this.original = conn.url;
    return t("Saved.");
  }

  renderState() {
    const conn = this.app.store.connection(this.connectionId);
    if (!conn) return;
    this.conn = conn;
    const state = displayState(conn);
    const nick = conn.info && conn.info.nick;
    this.state.replaceChildren(h("span", {class: `state-dot state-dot--${state}`, "aria-hidden": "true"}), " ",
      stateLabel(state), nick ? ` · ${t("Nick")}: ${nick}` : "");
    const fingerprint = conn.info && conn.info.certificate && conn.info.certificate.fingerprint;
    const shown = this.certificate.querySelector("input");
    if (!fingerprint) this.certificate.replaceChildren();
    else if (!shown || shown.value !== fingerprint) {
      this.certificate.replaceChildren(copyField(t("Certificate fingerprint"), fingerprint,
        t("Give this fingerprint to NickServ to log in with your certificate.")));
    }
  }

  async remove() {
    const conn = this.app.store.connection(this.connectionId);
    const ok = await confirmDialog({
      title: t("Delete connection"),
      text: t("Are you sure you want to delete %1?", conn ? conn.name : this.connectionId),
      confirmLabel: t("Delete"),
    });
    if (!ok) return;
    try {
      await this.app.api.call("removeConnection", {connection_id: this.connectionId});
    } catch (err) {
      // 404: already deleted (in another tab, say), which is what was asked.
      if (err.status !== 404) {
        this.form.showError(err);
        return;
      }
    }
    this.app.store.removeConnection(this.connectionId);
    this.app.router.go("/settings/account");
  }
}
