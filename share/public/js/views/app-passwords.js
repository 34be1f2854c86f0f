// App passwords (GET/POST/DELETE /api/user/app-passwords): one per device, for native IRC clients
// attaching through the IRC listener (docs/irc-listener.md), so they never store the main password.
import {h} from "../dom.js";
import {t} from "../i18n.js";
import {field} from "./dialogs.js";
import {confirmDialog, section, settingsForm} from "./settings-common.js";

export function appPasswordsSection(app) {
  const list = h("ul", {class: "settings-list", "aria-label": t("App passwords")});
  const error = h("p", {class: "form__error", role: "alert", hidden: true});
  const created = h("div", {});
  const showError = (err) => {
    error.textContent = err.message;
    error.hidden = false;
  };
  const render = (items) => {
    list.replaceChildren(...(items.length ? items.map((item) => h("li", {},
      h("span", {}, item.name, " ", h("span", {class: "form__hint"}, t("made %1", (item.created || "").replace("T", " ").replace("Z", " UTC")))),
      " ",
      h("button", {type: "button", class: "btn btn--small btn--quiet btn--destructive", "aria-label": t("Revoke %1", item.name),
        onclick: async () => {
          const ok = await confirmDialog({title: t("Revoke %1?", item.name),
            text: t("The device that uses it can no longer sign in with it."), confirmLabel: t("Revoke")});
          if (!ok) return;
          try {
            await app.api.call("revokeAppPassword", {id: item.id});
            await load();
          } catch (err) {
            showError(err);
          }
        }}, t("Revoke"))))
      : [h("li", {}, t("No app passwords yet."))]));
  };
  const load = async () => {
    try {
      const res = await app.api.call("listAppPasswords");
      render(res.app_passwords || []);
    } catch (err) {
      showError(err);
    }
  };
  const name = h("input", {name: "name", type: "text", autocomplete: "off", required: true, maxlength: "64", placeholder: t("phone")});
  const form = settingsForm({
    fields: [field(t("Device name"), name)],
    submitLabel: t("Make app password"),
    onSubmit: async (f) => {
      const res = await app.api.call("createAppPassword", {body: {name: name.value.trim()}});
      f.reset();
      created.replaceChildren(h("div", {class: "form settings-form"}, field(t("New app password for %1", res.name),
        h("input", {type: "text", readonly: true, value: res.password, spellcheck: "false", class: "app-password__value"}),
        t("Copy it now: it is not shown again."))));
      await load();
      return t("Saved.");
    },
  });
  load();
  return section(t("App passwords"),
    h("p", {class: "form__hint"}, t("For IRC programs on your devices: sign in with your email and an app password instead of your password. Each can be revoked on its own.")),
    error, list, created, form);
}
