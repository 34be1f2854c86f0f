// Administration: server settings (GET/POST /api/settings, with the disk usage) and connection
// profiles (GET/POST/DELETE /api/connection-profiles, see docs/irc.md "Connection profiles").
import {h} from "../dom.js";
import {t} from "../i18n.js";
import {field} from "./dialogs.js";
import {SettingsPage, confirmDialog, formatBytes, pageTitle, section, settingsForm} from "./settings-common.js";

/** One line per active sign-in provider: its title and the settings that tell it apart. */
function providerText(p) {
  const parts = [t(p.title)];
  if (p.header) parts.push(t("header %1 from %2", p.header, p.trusted.join(", ")));
  if (p.url) parts.push(p.url);
  if (p.issuer) parts.push(p.issuer);
  if (p.name === "totp") parts.push(p.required ? t("required for everyone") : t("optional"));
  return parts.join(" · ");
}

export class ServerSettingsView extends SettingsPage {
  constructor(app) {
    super(app, t("Server settings"), "/settings/server");
    this.disk = h("div", {}, h("p", {}, t("Loading...")));
    this.formBox = h("div", {});
    this.error = h("p", {class: "form__error", role: "alert", hidden: true});
    this.listener = h("div", {});
    this.updates = h("p", {role: "status"}, t("You are running Convos %1.", app.config.version));
    this.providers = h("ul", {class: "settings-list auth-providers"});
    this.body.append(this.error,
      section(t("Server settings"), this.formBox),
      section(t("Sign-in providers"), this.providers),
      section(t("Disk usage"), this.disk),
      this.listener,
      section(t("Version"), this.updates,
        h("button", {type: "button", class: "btn btn--small btn--quiet", onclick: () => this.checkForUpdates()}, t("Check for updates"))));
  }

  async mount() {
    try {
      const settings = await this.app.api.call("getSettings");
      this.formBox.replaceChildren(this.buildForm(settings));
      this.renderDisk(settings.disk_usage || {});
      if (settings.irc_listener) this.renderListener(settings.irc_listener);
      const {providers} = await this.app.api.call("getAuthProviders");
      this.providers.replaceChildren(...providers.map((p) => h("li", {"data-provider": p.name}, providerText(p))));
    } catch (err) {
      this.error.textContent = err.message;
      this.error.hidden = false;
      this.disk.replaceChildren();
    }
  }

  buildForm(s) {
    const text = (name, value, attrs = {}) => h("input", {name, type: "text", autocomplete: "off", value: value || "", ...attrs});
    const check = (name, value) => h("input", {name, type: "checkbox", checked: Boolean(value)});
    const f = {
      organization_name: text("organization_name", s.organization_name),
      organization_url: text("organization_url", s.organization_url, {inputmode: "url", spellcheck: "false", placeholder: "https://example.com"}),
      contact: text("contact", s.contact, {placeholder: "mailto:admin@example.com"}),
      open_to_public: check("open_to_public", s.open_to_public),
      default_connection: text("default_connection", s.default_connection, {spellcheck: "false", placeholder: "irc://irc.libera.chat:6697/%23convos"}),
      forced_connection: check("forced_connection", s.forced_connection),
      video_service: text("video_service", s.video_service, {inputmode: "url", spellcheck: "false", placeholder: "https://meet.jit.si/"}),
    };
    return settingsForm({
      fields: [
        field(t("Organization name"), f.organization_name),
        field(t("Organization URL"), f.organization_url),
        field(t("Contact"), f.contact, t("How to reach the people running this server, for example mailto:admin@example.com.")),
        field(t("Registration is open to public"), f.open_to_public, t("Without it, people need an invite link to register.")),
        field(t("Default connection"), f.default_connection, t("The IRC server new users are connected to.")),
        field(t("Only allow the default connection"), f.forced_connection),
        field(t("Video service"), f.video_service),
      ],
      submitLabel: t("Save"),
      onSubmit: async () => {
        const body = {};
        for (const [name, input] of Object.entries(f)) body[name] = input.type === "checkbox" ? input.checked : input.value.trim();
        // null is "not given"; an emptied contact goes to the server, which says what it wants.
        if (!body.contact && !s.contact) body.contact = null;
        const saved = await this.app.api.call("updateSettings", {body});
        this.applied(saved);
        return t("Saved.");
      },
    });
  }

  /** The page's own copy of the settings (title, registration link) follows at once. */
  applied(saved) {
    const {config} = this.app;
    config.organizationName = saved.organization_name || "Convos";
    config.organizationUrl = saved.organization_url || "";
    config.openToPublic = Boolean(saved.open_to_public);
    const meta = document.querySelector('meta[name="contactorganization"]');
    if (meta) meta.setAttribute("content", config.organizationName);
    document.title = pageTitle(this.app, this.title);
  }

  renderDisk(d) {
    const size = Number(d.block_size) || 0;
    if (!size || !d.blocks_total) {
      this.disk.replaceChildren(h("p", {}, t("Unknown.")));
      return;
    }
    const used = d.blocks_used * size;
    const total = d.blocks_total * size;
    const label = t("%1 of %2 used", formatBytes(used), formatBytes(total));
    this.disk.replaceChildren(...[
      h("meter", {class: "disk__meter", min: "0", max: String(total), value: String(used), low: String(total * 0.8),
        high: String(total * 0.9), optimum: "0", "aria-label": t("Disk usage")}),
      h("p", {}, label, d.dev ? ` (${d.dev})` : ""),
      d.inodes_total ? h("p", {class: "form__hint"}, t("Files: %1 of %2 used", Number(d.inodes_used).toLocaleString(),
        Number(d.inodes_total).toLocaleString())) : null,
    ].filter(Boolean));
  }

  /** Where native IRC clients attach, and the certificate they pin (docs/irc-listener.md). */
  renderListener(l) {
    this.listener.replaceChildren(section(t("IRC listener"),
      h("p", {}, t("Native IRC clients attach at %1.", (l.addresses || []).join(", "))),
      l.fingerprint ? h("p", {}, l.certificate === "self-signed" ? t("Self-signed certificate, SHA-256 fingerprint:")
        : t("Certificate SHA-256 fingerprint:"), " ", h("code", {class: "listener__fingerprint"}, l.fingerprint)) : null));
  }

  async checkForUpdates() {
    try {
      const res = await this.app.api.call("checkForUpdates");
      this.updates.textContent = res.check === "off" ? t("Update checks are off.")
        : res.check !== "done" ? t("Could not check for updates.")
        : res.available !== res.running ? t("Convos %1 is available.", res.available_version || res.available)
        : t("Convos is up to date.");
    } catch (err) {
      this.updates.textContent = err.message;
    }
  }
}

export class ProfilesView extends SettingsPage {
  constructor(app) {
    super(app, t("Connection profiles"), "/settings/connection-profiles");
    this.list = h("div", {class: "table-wrap"}, h("p", {}, t("Loading...")));
    this.listError = h("p", {class: "form__error", role: "alert", hidden: true});
    this.editor = h("div", {});
    this.body.append(
      h("p", {}, t("Settings per IRC server. Users only see the shared profiles and the default one; a profile made for a user's connection is shown here while a connection uses it. The default profile is the connection new users get.")),
      section(t("Connection profiles"), this.listError, this.list,
        h("p", {}, h("button", {type: "button", class: "btn btn--small", onclick: () => this.edit(null)}, t("Add profile")))),
      this.editor);
  }

  mount() {
    this.load();
  }

  async load() {
    try {
      const {profiles} = await this.app.api.call("listConnectionProfiles");
      this.profiles = profiles || [];
      this.render();
    } catch (err) {
      this.showListError(err);
    }
  }

  showListError(err) {
    this.listError.textContent = err.message;
    this.listError.hidden = false;
  }

  render() {
    const yes = (v) => (v ? t("Yes") : t("No"));
    this.list.replaceChildren(h("table", {class: "table"},
      h("caption", {class: "sr-only"}, t("Connection profiles")),
      h("thead", {}, h("tr", {},
        h("th", {scope: "col"}, t("Name")), h("th", {scope: "col"}, t("Connection URL")),
        h("th", {scope: "col"}, t("Default connection")), h("th", {scope: "col"}, t("Shared")),
        h("th", {scope: "col"}, t("Made by")), h("th", {scope: "col"}, h("span", {class: "sr-only"}, t("Actions"))))),
      h("tbody", {}, this.profiles.map((p) => h("tr", {},
        h("th", {scope: "row"}, p.id),
        h("td", {class: "table__url"}, p.url),
        h("td", {}, p.is_forced ? t("Yes, forced") : yes(p.is_default)),
        h("td", {}, yes(p.shared)),
        h("td", {}, p.created_by || ""),
        h("td", {class: "table__actions"},
          h("button", {type: "button", class: "btn btn--small btn--quiet", "aria-label": t("Edit %1", p.id),
            onclick: () => this.edit(p)}, t("Edit")),
          h("button", {type: "button", class: "btn btn--small btn--quiet btn--destructive", "aria-label": t("Delete %1", p.id),
            onclick: () => this.remove(p)}, t("Delete"))))))));
  }

  edit(p) {
    const num = (name, value, min, max) => h("input", {name, type: "number", min: String(min), max: String(max),
      inputmode: "numeric", value: value === undefined || value === null ? "" : String(value)});
    const check = (name, value) => h("input", {name, type: "checkbox", checked: Boolean(value)});
    const f = {
      url: h("input", {name: "url", required: true, autocomplete: "off", spellcheck: "false", value: p ? p.url : "",
        placeholder: "irc://irc.libera.chat:6697?tls=1"}),
      is_default: check("is_default", p && p.is_default),
      is_forced: check("is_forced", p && p.is_forced),
      shared: check("shared", p ? p.shared : true),
      max_message_length: num("max_message_length", p ? p.max_message_length : 512, 32, 2048),
      max_bulk_message_size: num("max_bulk_message_size", p ? p.max_bulk_message_size : 3, 1, 32),
      service_accounts: h("input", {name: "service_accounts", autocomplete: "off", spellcheck: "false",
        value: (p ? p.service_accounts || [] : ["chanserv", "nickserv"]).join(", ")}),
      skip_queue: check("skip_queue", p && p.skip_queue),
      webirc_password: h("input", {name: "webirc_password", type: "password", autocomplete: "new-password",
        value: p && p.webirc_password ? p.webirc_password : ""}),
    };
    const form = settingsForm({
      fields: [
        field(t("Connection URL"), f.url, t("The server's address; a profile is per host.")),
        field(t("Use as the default connection"), f.is_default),
        field(t("Only allow the default connection"), f.is_forced),
        field(t("Show to every user"), f.shared),
        field(t("Maximum message length"), f.max_message_length),
        field(t("Lines before a message is sent as a paste"), f.max_bulk_message_size),
        field(t("Service accounts"), f.service_accounts, t("Nicks separated by commas. Their messages never open a conversation.")),
        field(t("Skip the connection queue"), f.skip_queue),
        field(t("WEBIRC password"), f.webirc_password),
      ],
      submitLabel: t("Save"),
      extraButtons: [h("button", {type: "button", class: "btn btn--quiet", onclick: () => this.editor.replaceChildren()}, t("Cancel"))],
      onSubmit: async () => {
        const body = {
          url: f.url.value.trim(), is_default: f.is_default.checked, is_forced: f.is_default.checked && f.is_forced.checked,
          shared: f.shared.checked,
          service_accounts: f.service_accounts.value.split(",").map((s) => s.trim()).filter(Boolean),
          skip_queue: f.skip_queue.checked, webirc_password: f.webirc_password.value,
        };
        for (const name of ["max_message_length", "max_bulk_message_size"]) {
          if (f[name].value !== "") body[name] = Number(f[name].value);
        }
        await this.app.api.call("saveConnectionProfile", {body});
        await this.load();
        return t("Saved.");
      },
    });
    this.editor.replaceChildren(section(p ? t("Edit %1", p.id) : t("Add profile"), form));
    f.url.focus();
  }

  async remove(p) {
    this.listError.hidden = true;
    const ok = await confirmDialog({title: t("Delete connection profile"), text: t("Are you sure you want to delete %1?", p.id),
      confirmLabel: t("Delete")});
    if (!ok) return;
    try {
      await this.app.api.call("removeConnectionProfile", {id: p.id});
    } catch (err) {
      // 404: someone else deleted it first; the list is reloaded either way.
      if (err.status !== 404) {
        this.showListError(err);
        return;
      }
    }
    this.editor.replaceChildren();
    this.load();
  }
}
