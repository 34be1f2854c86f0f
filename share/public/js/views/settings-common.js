// What the settings and admin pages share: the page frame with its navigation, forms that
// show the API's errors next to the field they are about, a confirmation dialog and a copy
// button.
import {h, uid} from "../dom.js";
import {t} from "../i18n.js";

export function isAdmin(app) {
  return Boolean(app.user && Array.isArray(app.user.roles) && app.user.roles.includes("admin"));
}

/** "Server settings - Convos" or "... - Convos for Daily Planet" (organization_name). */
export function pageTitle(app, title) {
  const org = app.config.organizationName;
  return `${title} - ${org && org !== "Convos" ? `Convos for ${org}` : "Convos"}`;
}

function settingsLinks(app) {
  const links = [["/settings/account", t("Account")], ["/settings/files", t("Files")]];
  if (isAdmin(app)) {
    links.push(["/settings/users", t("Users")], ["/settings/server", t("Server settings")],
      ["/settings/connection-profiles", t("Connection profiles")]);
  }
  return links;
}

/** A settings page: header (menu button, heading), the settings navigation and a body. */
export class SettingsPage {
  constructor(app, title, path) {
    this.app = app;
    this.title = title;
    this.listeners = [];
    const titleId = uid("settings-title");
    this.body = h("div", {class: "page__body settings"});
    this.el = h("section", {class: "page", "aria-labelledby": titleId},
      h("header", {class: "conv__header"}, app.chat.menuButton(),
        h("div", {class: "conv__titles"}, h("h1", {id: titleId, class: "conv__name", tabindex: "-1"}, title))),
      h("nav", {class: "settings-nav", "aria-label": t("Settings")},
        h("ul", {}, settingsLinks(app).map(([href, label]) => h("li", {},
          h("a", {href: app.url(href), class: "settings-nav__link", "aria-current": href === path ? "page" : null}, label))))),
      this.body);
    document.title = pageTitle(app, title);
  }

  on(target, type, fn) {
    target.addEventListener(type, fn);
    this.listeners.push(() => target.removeEventListener(type, fn));
  }

  mount() {}

  destroy() {
    for (const off of this.listeners) off();
  }

  focus() {
    this.el.querySelector("h1").focus();
  }
}

/** A titled part of a settings page. */
export function section(title, ...children) {
  const id = uid("section");
  return h("section", {class: "settings-section", "aria-labelledby": id}, h("h2", {id}, title), ...children);
}

/**
 * A form whose submit runs `onSubmit()`. An error from the API is shown next to the field its
 * `path` names (`/body/password`, `/wanted_state`, ...), or at the buttons; `fieldFor(name)`
 * may map a path's last part to an input. A string returned by onSubmit is shown as success.
 */
export function settingsForm({fields, submitLabel, onSubmit, fieldFor = null, extraButtons = []}) {
  const status = h("p", {class: "form__status", role: "status"});
  const error = h("p", {class: "form__error", role: "alert", hidden: true});
  const submit = h("button", {type: "submit", class: "btn"}, submitLabel);
  const form = h("form", {class: "form settings-form", novalidate: false}, ...fields, error,
    h("div", {class: "form__actions form__actions--start"}, submit, ...extraButtons, status));
  const clearErrors = () => {
    error.hidden = true;
    for (const el of form.querySelectorAll(".form__field-error")) el.remove();
    for (const el of form.querySelectorAll("[aria-invalid]")) {
      el.removeAttribute("aria-invalid");
      const described = (el.getAttribute("aria-describedby") || "").split(" ").filter((id) => !id.endsWith("-error"));
      if (described.length) el.setAttribute("aria-describedby", described.join(" "));
      else el.removeAttribute("aria-describedby");
    }
  };
  form.showError = (err) => {
    const name = String(err.path || "").split("/").filter(Boolean).pop();
    const input = name && ((fieldFor && fieldFor(name)) || form.querySelector(`[name="${CSS.escape(name)}"]`));
    if (input) {
      const id = `${input.id || uid("input")}-error`;
      const message = h("p", {class: "form__error form__field-error", id}, err.message);
      const box = input.closest(".form__field") || input;
      box.after(message);
      input.setAttribute("aria-invalid", "true");
      input.setAttribute("aria-describedby", [input.getAttribute("aria-describedby"), id].filter(Boolean).join(" "));
      input.focus();
    } else {
      error.textContent = err.message;
      error.hidden = false;
    }
  };
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearErrors();
    status.textContent = "";
    submit.disabled = true;
    submit.setAttribute("aria-busy", "true");
    try {
      const message = await onSubmit(form);
      if (typeof message === "string") status.textContent = message;
    } catch (err) {
      form.showError(err);
    } finally {
      submit.disabled = false;
      submit.removeAttribute("aria-busy");
    }
  });
  form.addEventListener("input", () => { status.textContent = ""; });
  return form;
}

/** Resolves true when the user confirms. A native <dialog>: focus trap and Escape for free. */
export function confirmDialog({title, text, confirmLabel}) {
  return new Promise((resolve) => {
    const titleId = uid("dialog-title");
    let answer = false;
    const cancel = h("button", {type: "button", class: "btn btn--quiet", onclick: () => dialog.close()}, t("Cancel"));
    const dialog = h("dialog", {class: "dialog", role: "alertdialog", "aria-labelledby": titleId},
      h("h2", {id: titleId, class: "dialog__title"}, title),
      text ? h("p", {}, text) : null,
      h("div", {class: "form__actions"}, cancel,
        h("button", {type: "button", class: "btn btn--destructive", onclick: () => { answer = true; dialog.close(); }}, confirmLabel)));
    dialog.addEventListener("close", () => { dialog.remove(); resolve(answer); });
    document.body.append(dialog);
    dialog.showModal();
    cancel.focus();
  });
}

/** A button that copies the value of `input` and says so. */
export function copyButton(input, label = t("Copy")) {
  const said = h("span", {class: "form__status", role: "status"});
  const button = h("button", {type: "button", class: "btn btn--small btn--quiet", onclick: async () => {
    said.textContent = (await copyText(input)) ? t("Copied to the clipboard.") : t("Select the text and copy it.");
  }}, label);
  return h("span", {class: "copy"}, button, said);
}

async function copyText(input) {
  try {
    await navigator.clipboard.writeText(input.value);
    return true;
  } catch {
    // No clipboard API (an insecure page) or no permission: copy the selection instead.
    input.focus();
    input.select();
    try { return document.execCommand("copy"); } catch { return false; }
  }
}

/** A read-only text field with a copy button, for links and fingerprints. */
export function copyField(label, value, hint = null) {
  const id = uid("copy");
  const input = h("input", {id, type: "text", readonly: true, value, class: "copy__value", spellcheck: "false",
    onfocus: (e) => e.target.select()});
  const hintEl = hint ? h("p", {class: "form__hint", id: `${id}-hint`}, hint) : null;
  if (hintEl) input.setAttribute("aria-describedby", hintEl.id);
  return h("div", {class: "form__field copy-field"}, h("label", {for: id}, label),
    h("div", {class: "copy__row"}, input, copyButton(input)), hintEl);
}

/** A date and time in the page's language. */
export function formatDateTime(value) {
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return String(value || "");
  return date.toLocaleString(document.documentElement.lang || undefined, {dateStyle: "medium", timeStyle: "short"});
}

/** 1536 -> "1.5 KB" (powers of 1024, as df does). */
export function formatBytes(bytes) {
  const units = ["B", "KB", "MB", "GB", "TB", "PB"];
  let value = Number(bytes) || 0;
  let i = 0;
  while (value >= 1024 && i < units.length - 1) {
    value /= 1024;
    i += 1;
  }
  return `${value.toLocaleString(document.documentElement.lang || undefined, {maximumFractionDigits: i ? 1 : 0})} ${units[i]}`;
}
