// Log in and register (also from an invite link /register?email&exp&token, and the first
// user's setup). Errors from the API are shown as they come: errors[0].message.
import {url} from "../config.js";
import {h, uid} from "../dom.js";
import {t} from "../i18n.js";
import {field} from "./dialogs.js";

function authPage(title, ...content) {
  const titleId = uid("auth-title");
  document.title = `${title} - Convos`;
  return h("div", {class: "auth"},
    h("div", {class: "auth__box", role: "region", "aria-labelledby": titleId},
      // The product's own look: the logo, the name and what it is, above every form.
      h("div", {class: "auth__hero"},
        h("img", {class: "auth__logo", src: url("/assets/images/convos.svg"), alt: "", width: "48", height: "48"}),
        h("div", {},
          h("p", {class: "auth__brand"}, "Convos"),
          h("p", {class: "auth__tagline"}, t("Group chat in your browser. Convos stays on IRC for you, so you never miss what was said while you were away.")))),
      h("div", {class: "auth__body"},
        h("h1", {id: titleId, class: "auth__title"}, title),
        ...content)));
}

function authForm({fields, submitLabel, onSubmit}) {
  const error = h("p", {class: "form__error", role: "alert", hidden: true});
  const submit = h("button", {type: "submit", class: "btn btn--wide"}, submitLabel);
  const form = h("form", {class: "form", novalidate: false}, ...fields, error, h("div", {class: "form__actions"}, submit));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    error.hidden = true;
    submit.disabled = true;
    submit.setAttribute("aria-busy", "true");
    try {
      await onSubmit();
    } catch (err) {
      error.textContent = err.message;
      error.hidden = false;
      const bad = err.path && form.querySelector(`[name="${CSS.escape(err.path.split("/").pop())}"]`);
      (bad || form.querySelector("input")).focus();
    } finally {
      submit.disabled = false;
      submit.removeAttribute("aria-busy");
    }
  });
  return form;
}

export class LoginView {
  constructor(app) {
    const email = h("input", {name: "email", type: "email", required: true, autocomplete: "username", autofocus: true});
    const password = h("input", {name: "password", type: "password", required: true, autocomplete: "current-password"});
    const canRegister = app.config.openToPublic || app.config.firstUser;
    this.el = authPage(t("Log in"),
      authForm({
        fields: [field(t("Email"), email), field(t("Password"), password)],
        submitLabel: t("Log in"),
        onSubmit: async () => {
          const user = await app.api.call("loginUser", {body: {email: email.value.trim(), password: password.value}});
          await app.loggedIn(user);
        },
      }),
      canRegister
        ? h("p", {class: "auth__alt"}, t("No account yet?"), " ", h("a", {href: app.url("/register")}, t("Register")))
        : h("p", {class: "auth__alt"}, t("Forgot your password, or need an account? Ask your Convos admin for a link.")));
  }

  mount() {}
  destroy() {}
  focus() { this.el.querySelector("input").focus(); }
}

export class RegisterView {
  constructor(app, query) {
    const {config} = app;
    const invite = query.get("token") && query.get("email") && query.get("exp");
    const email = h("input", {name: "email", type: "email", required: true, autocomplete: "username",
      value: query.get("email") || "", readonly: invite ? true : null});
    const password = h("input", {name: "password", type: "password", required: true, minlength: "10",
      autocomplete: "new-password"});
    let title = t("Register");
    let intro = null;
    if (invite && config.existingUser) {
      title = t("Choose a new password");
      intro = t("Set a new password for %1.", query.get("email"));
    } else if (config.firstUser) {
      title = t("Set up Convos");
      intro = t("Create the first account. It becomes the administrator of this Convos.");
    } else if (!invite && !config.openToPublic) {
      this.el = authPage(t("Register"),
        h("p", {}, t("Registration is not open to the public. Ask your Convos admin for an invite link.")),
        h("p", {class: "auth__alt"}, h("a", {href: app.url("/login")}, t("Log in"))));
      return;
    }
    this.el = authPage(title,
      intro ? h("p", {class: "auth__intro"}, intro) : null,
      authForm({
        fields: [field(t("Email"), email),
          field(t("Password"), password, t("At least 10 characters."))],
        submitLabel: invite && config.existingUser ? t("Save password") : t("Register"),
        onSubmit: async () => {
          const body = {email: email.value.trim(), password: password.value};
          if (invite) Object.assign(body, {token: query.get("token"), exp: query.get("exp")});
          const user = await app.api.call("registerUser", {body});
          await app.loggedIn(user);
        },
      }),
      config.firstUser ? null
        : h("p", {class: "auth__alt"}, t("Already have an account?"), " ", h("a", {href: app.url("/login")}, t("Log in"))));
  }

  mount() {}
  destroy() {}
  focus() { const input = this.el.querySelector("input:not([readonly])"); if (input) input.focus(); }
}
