// /settings/...: the account page (password, highlight keywords, notifications, theme,
// language, the list of connections) and the routes of the other settings pages.
import {h, uid} from "../dom.js";
import {currentLanguage, t} from "../i18n.js";
import {inlineMedia, setInlineMedia} from "../embeds.js";
import {desktopNotifications} from "../notify.js";
import {convKey, pathFor} from "../store.js";
import {loadCustomCss, readCookie, setThemePreference, themePreference, writeCookie} from "../theme.js";
import {AdminOnlyView, UsersView} from "./admin.js";
import {appPasswordsSection} from "./app-passwords.js";
import {ProfilesView, ServerSettingsView} from "./admin-server.js";
import {displayState, stateLabel} from "./conversation.js";
import {addConversationDialog, field} from "./dialogs.js";
import {PlaceholderView} from "./placeholder.js";
import {twoFactorSection} from "./two-factor.js";
import {ConnectionEditorView} from "./settings-connection.js";
import {readingField} from "./settings-reading.js";
import {SettingsPage, confirmDialog, isAdmin, section, settingsForm} from "./settings-common.js";
import {PushSettings} from "./settings-push.js";

const MIN_PASSWORD = 10;

/** The view for /settings/<segments>; `null` when the path should go to /settings/account. */
export function settingsView(app, segments, query) {
  const [page, sub] = segments;
  if (!page) return null;
  if (page === "account") return new AccountSettingsView(app);
  if (page === "connection") {
    // /settings/connection?connection_id=<cid> edits; /settings/connection/add[?uri=irc://...] adds.
    const cid = sub === "add" ? "" : query.get("connection_id") || "";
    return new ConnectionEditorView(app, cid, {uri: query.get("uri") || ""});
  }
  if (page === "conversation") return new AddConversationView(app, query.get("connection_id") || "", query.get("conversation_id") || "");
  const admin = {users: UsersView, server: ServerSettingsView, "connection-profiles": ProfilesView}[page];
  if (admin) return isAdmin(app) ? new admin(app) : new AdminOnlyView(app);
  return new PlaceholderView(app, t("Page not found"));
}

export class AccountSettingsView extends SettingsPage {
  constructor(app) {
    super(app, t("Account settings"), "/settings/account");
    const user = app.user || {};
    this.connectionList = h("ul", {class: "settings-list"});
    this.body.append(
      section(t("Account"),
        h("dl", {class: "settings-facts"},
          h("dt", {}, t("Email")), h("dd", {}, user.email || ""),
          isAdmin(app) ? [h("dt", {}, t("Role")), h("dd", {}, t("Admin"))] : null)),
      section(t("Change password"), this.passwordForm()),
      section(t("Two-factor codes"), twoFactorSection(app)),
      section(t("Sessions"), this.sessionsField()),
      appPasswordsSection(app),
      section(t("Highlight keywords"), this.keywordsForm()),
      // Not a form to submit, but laid out like one: as wide as the other fields.
      section(t("Appearance"), h("div", {class: "form settings-form"}, this.themeField(), this.languageField(),
        this.mediaField())),
      section(t("Custom CSS"), this.customCssForm()),
      section(t("Reading"), readingField(this.app)),
      section(t("Notifications"), this.notificationsField()),
      section(t("Push notifications"), new PushSettings(app, (target, type, fn) => this.on(target, type, fn)).el),
      section(t("Connections"), this.connectionList,
        h("p", {}, h("a", {class: "btn btn--small", href: app.url("/settings/connection/add")}, t("Add connection")))));
    this.on(app.store, "sidebar", () => this.renderConnections());
    this.renderConnections();
  }

  passwordForm() {
    const current = h("input", {name: "current_password", type: "password", autocomplete: "current-password",
      required: true});
    const password = h("input", {name: "password", type: "password", autocomplete: "new-password", required: true,
      minlength: String(MIN_PASSWORD)});
    const repeat = h("input", {name: "password_repeat", type: "password", autocomplete: "new-password", required: true});
    const email = h("input", {type: "email", name: "email", autocomplete: "username", value: this.app.user.email,
      hidden: true, readonly: true});
    return settingsForm({
      fields: [email, field(t("Current password"), current),
        field(t("New password"), password, t("At least 10 characters.")), field(t("Repeat password"), repeat)],
      submitLabel: t("Change password"),
      onSubmit: async (form) => {
        if (password.value.length < MIN_PASSWORD) {
          throw Object.assign(new Error(t("The password must be at least %1 characters long.", MIN_PASSWORD)), {path: "/password"});
        }
        if (password.value !== repeat.value) throw Object.assign(new Error(t("Passwords do not match.")), {path: "/password_repeat"});
        // The server ends every other session; this one gets a new cookie and stays logged in.
        await this.app.api.call("updateUser", {email: this.app.user.email,
          body: {password: password.value, current_password: current.value}});
        form.reset();
        email.value = this.app.user.email;
        return t("Your password was changed.");
      },
    });
  }

  /** "Log out everywhere": ends every session of the account, this one included. */
  sessionsField() {
    const hintId = uid("hint");
    const error = h("p", {class: "form__error", role: "alert", hidden: true});
    const button = h("button", {type: "button", class: "btn btn--destructive", "aria-describedby": hintId,
      onclick: async () => {
        const ok = await confirmDialog({title: t("Log out everywhere?"),
          text: t("Ends every session of your account, on every device, this one included."),
          confirmLabel: t("Log out everywhere")});
        if (!ok) return;
        error.hidden = true;
        try {
          await this.app.api.call("deleteSessions");
        } catch (err) {
          if (err.status !== 401) {
            error.textContent = err.message;
            error.hidden = false;
            return;
          }
        }
        location.assign(this.app.url("/login"));
      }}, t("Log out everywhere"));
    return h("div", {},
      h("p", {class: "form__hint", id: hintId}, t("Ends every session of your account, on every device, this one included.")),
      error, h("div", {class: "form__actions form__actions--start"}, button));
  }

  keywordsForm() {
    const keywords = h("input", {name: "highlight_keywords", type: "text", autocomplete: "off",
      value: (this.app.user.highlight_keywords || []).join(", ")});
    return settingsForm({
      fields: [field(t("Highlight keywords"), keywords,
        t("Messages with your nick or one of these words notify you. Separate the words with commas."))],
      submitLabel: t("Save"),
      onSubmit: async () => {
        const list = keywords.value.split(",").map((w) => w.trim()).filter(Boolean);
        const user = await this.app.api.call("updateUser", {email: this.app.user.email, body: {highlight_keywords: list}});
        this.app.user.highlight_keywords = user.highlight_keywords || list;
        keywords.value = this.app.user.highlight_keywords.join(", ");
        return t("Saved.");
      },
    });
  }

  /** Light, dark, the system's choice or one of the themes (GET /api/themes); applied at once. */
  themeField() {
    const name = uid("theme");
    const current = themePreference();
    const choice = (value, label, scheme) => {
      const input = h("input", {type: "radio", name, value, checked: value === current,
        onchange: () => setThemePreference(value, this.app.config.basePath, scheme)});
      return h("label", {class: "choice"}, input, " ", label);
    };
    const themes = h("div", {class: "choices theme-choices"});
    const options = [["light", t("Light")], ["dark", t("Dark")], ["auto", t("Auto")]].map(([value, label]) => choice(value, label));
    this.app.api.call("listThemes").then((res) => {
      const list = (res.themes || []).filter((theme) => theme.id !== "convos");
      themes.replaceChildren(...list.map((theme) => choice(theme.id, theme.name, theme.color_scheme)));
    }).catch(() => {});
    const hintId = uid("hint");
    return h("fieldset", {class: "form__fieldset", "aria-describedby": hintId},
      h("legend", {}, t("Theme")), h("div", {class: "choices"}, options), themes,
      h("p", {class: "form__hint", id: hintId}, t("Auto follows the system setting.")));
  }

  /** Pictures, videos and link thumbnails in conversations, or none (kept with the account). */
  mediaField() {
    const error = h("p", {class: "form__error", role: "alert", hidden: true});
    const box = h("input", {type: "checkbox", name: "inline_media", checked: inlineMedia(),
      onchange: async () => {
        error.hidden = true;
        setInlineMedia(box.checked);
        try {
          await this.app.api.call("savePreferences", {body: {inline_media: box.checked}});
        } catch (err) {
          error.textContent = err.message;
          error.hidden = false;
        }
      }});
    return h("div", {}, field(t("Show pictures and videos in conversations"), box,
      t("Pictures from other sites come through Convos, never from your browser. At most 5 MB each.")), error);
  }

  /** The user's own CSS, kept with the account and linked as a stylesheet (GET /api/custom-css). */
  customCssForm() {
    const css = h("textarea", {name: "css", rows: "6", spellcheck: "false", autocomplete: "off",
      maxlength: "32768", class: "custom-css"});
    fetch(this.app.url("/api/custom-css"), {credentials: "same-origin"})
      .then((res) => (res.ok ? res.text() : "")).then((text) => { if (!css.value) css.value = text; }).catch(() => {});
    return settingsForm({
      fields: [field(t("Custom CSS"), css, t("Applies to this account on every device. At most 32 KiB."))],
      submitLabel: t("Save"),
      onSubmit: async () => {
        await this.app.api.call("saveCustomCss", {body: {css: css.value}});
        loadCustomCss(String(Date.now()));
        return t("Saved.");
      },
    });
  }

  /** The language of the app: the browser's, or one chosen here (kept in the convos_js cookie). */
  languageField() {
    const chosen = readCookie().lang || "";
    const select = h("select", {name: "lang"}, h("option", {value: ""}, t("Browser default")));
    const status = h("p", {class: "form__status", role: "status"});
    select.value = chosen;
    this.app.api.call("getDictionary", {lang: currentLanguage()}).then((dict) => {
      const names = Object.entries(dict.available_languages || {}).map(([code, meta]) => {
        const team = String(meta.language_team || code).replace(/\s*<.*$/, "").trim();
        return [code, team || code];
      }).sort((a, b) => a[1].localeCompare(b[1]));
      select.append(...names.map(([code, label]) => h("option", {value: code, lang: code}, label)));
      select.value = chosen;
    }).catch(() => {});
    select.addEventListener("change", () => {
      writeCookie({lang: select.value || null}, this.app.config.basePath);
      status.textContent = t("Loading...");
      // Every text of the app is translated when it is built: start again in the new language.
      location.reload();
    });
    return h("div", {}, field(t("Language"), select), status);
  }

  notificationsField() {
    const n = desktopNotifications;
    const box = h("input", {type: "checkbox", name: "desktop_notifications"});
    const note = h("p", {class: "form__hint", role: "status"});
    const render = () => {
      box.checked = n.active; // the same switch as on the notifications page
      box.disabled = !n.supported || n.permission === "denied";
      note.textContent = !n.supported ? t("This browser cannot show desktop notifications.")
        : n.permission === "denied" ? t("Notifications are blocked by the browser.")
          : t("Mentions and private messages, while Convos is in the background.");
    };
    box.addEventListener("change", async () => {
      await n.turn(box.checked);
      render();
    });
    this.on(window, "convos:desktop-notifications", render);
    render();
    return h("div", {}, field(t("Desktop notifications"), box), note);
  }

  renderConnections() {
    const {store} = this.app;
    const items = store.sortedConnections().map((conn) => h("li", {class: "settings-list__item"},
      h("span", {class: `state-dot state-dot--${displayState(conn)}`, "aria-hidden": "true"}),
      h("span", {class: "settings-list__name"}, conn.name),
      h("span", {class: "settings-list__meta"}, stateLabel(displayState(conn))),
      h("a", {class: "btn btn--small btn--quiet", href: this.app.url(`/settings/connection?connection_id=${encodeURIComponent(conn.connection_id)}`),
        "aria-label": t("Edit connection %1", conn.name)}, t("Edit"))));
    this.connectionList.replaceChildren(...(items.length ? items : [h("li", {}, t("No connections yet."))]));
  }
}

/** /settings/conversation?connection_id=&conversation_id= (where /register?uri=irc://... sends
 * you): the conversation if it exists, else "Add conversation" filled in. */
class AddConversationView extends SettingsPage {
  constructor(app, connectionId, conversationId) {
    super(app, t("Add conversation"), "");
    this.connectionId = connectionId;
    this.conversationId = conversationId;
    this.body.append(h("p", {}, h("button", {type: "button", class: "btn", onclick: () => this.openDialog()}, t("Add conversation"))));
  }

  mount() {
    const key = convKey(this.connectionId, this.conversationId);
    // After the route has been shown, not while it is being shown.
    setTimeout(() => {
      if (this.conversationId && this.app.store.get(key)) this.app.router.go(pathFor(key), {replace: true});
      else this.openDialog();
    }, 0);
  }

  openDialog() {
    const dialog = addConversationDialog(this.app, this.connectionId);
    const name = dialog && dialog.querySelector("input[name=name]");
    if (name) name.value = this.conversationId;
  }
}
