// Two-factor codes (TOTP): the setup (QR code, secret, a code to confirm, the recovery codes)
// used by the login page and the account settings, and the settings section around it.
import {h} from "../dom.js";
import {t} from "../i18n.js";
import {field} from "./dialogs.js";
import {settingsForm} from "./settings-common.js";

/** The setup, in `box`: shows the QR code and secret, confirms a code, lists the recovery codes. */
export async function twoFactorSetup(app, box, onDone) {
  const started = await app.api.call("startTwoFactor", {});
  const code = h("input", {name: "code", inputmode: "numeric", autocomplete: "one-time-code", required: true,
    pattern: "[0-9 ]{6,7}", maxlength: "7"});
  box.replaceChildren(
    h("p", {}, t("Scan this QR code with an authenticator app, or type the secret into it.")),
    h("img", {class: "two-factor__qr", src: started.qr, alt: t("QR code of the two-factor secret"), width: "200", height: "200"}),
    h("p", {}, t("Secret:"), " ", h("code", {class: "two-factor__secret"}, started.secret)),
    settingsForm({
      fields: [field(t("Code from the app"), code)],
      submitLabel: t("Turn on"),
      onSubmit: async () => {
        const res = await app.api.call("confirmTwoFactor", {body: {code: code.value.replace(/\s/g, "")}});
        const done = h("button", {type: "button", class: "btn"}, t("I have saved them"));
        done.addEventListener("click", () => onDone(res));
        box.replaceChildren(
          h("p", {role: "status"}, t("Two-factor codes are on.")),
          h("p", {}, t("Save these recovery codes somewhere safe. Each works once in place of a code; they are shown only now.")),
          h("ul", {class: "two-factor__recovery"}, ...res.recovery_codes.map((c) => h("li", {}, h("code", {}, c)))),
          done);
        done.focus();
      },
    }));
  code.focus();
}

/** The account settings section: the status, set up or turn off. */
export function twoFactorSection(app) {
  const box = h("div", {class: "two-factor"});
  const render = async () => {
    const status = await app.api.call("getTwoFactor", {});
    if (!status.enabled) {
      const start = h("button", {type: "button", class: "btn"}, t("Set up two-factor codes"));
      start.addEventListener("click", () => twoFactorSetup(app, box, render).catch((err) => {
        box.append(h("p", {class: "form__error", role: "alert"}, err.message));
      }));
      box.replaceChildren(h("p", {}, t("Two-factor codes are off.")), start);
      return;
    }
    const password = h("input", {name: "password", type: "password", autocomplete: "current-password", required: true});
    box.replaceChildren(
      h("p", {}, t("Two-factor codes are on. %1 recovery codes left.", status.recovery_codes_left)),
      status.required ? h("p", {}, t("Your admin requires them.")) : settingsForm({
        fields: [field(t("Current password"), password)],
        submitLabel: t("Turn off two-factor codes"),
        onSubmit: async () => {
          await app.api.call("removeTwoFactor", {body: {password: password.value}});
          await render();
        },
      }));
  };
  render().catch((err) => box.replaceChildren(h("p", {class: "form__error", role: "alert"}, err.message)));
  return box;
}
