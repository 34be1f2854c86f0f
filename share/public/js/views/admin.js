// Administration, users: the list of users, invite and password reset links, turning off someone's
// two-factor codes, deleting a user.
// Only shown to admins; the API refuses everyone else anyway.
import {h} from "../dom.js";
import {t} from "../i18n.js";
import {field} from "./dialogs.js";
import {SettingsPage, confirmDialog, copyField, formatDateTime, section, settingsForm} from "./settings-common.js";

const INVITE_HOURS = 24;

export class AdminOnlyView extends SettingsPage {
  constructor(app) {
    super(app, t("Administration"), "");
    this.body.append(h("p", {}, t("Only an admin of this Convos can see this page.")));
  }
}

export class UsersView extends SettingsPage {
  constructor(app) {
    super(app, t("Users"), "/settings/users");
    this.list = h("div", {class: "table-wrap"}, h("p", {}, t("Loading...")));
    this.listError = h("p", {class: "form__error", role: "alert", hidden: true});
    this.invite = h("div", {class: "invite", "aria-live": "polite"});
    this.body.append(
      section(t("Invite"), h("p", {}, t("Create a link to register, or to choose a new password for an existing account.")),
        this.inviteForm(), this.invite),
      section(t("Users"), this.listError, this.list));
  }

  mount() {
    this.load();
  }

  async load() {
    try {
      const {users} = await this.app.api.call("getUsers");
      this.render(users || []);
    } catch (err) {
      this.listError.textContent = err.message;
      this.listError.hidden = false;
    }
  }

  inviteForm() {
    const email = h("input", {name: "email", type: "email", required: true, autocomplete: "off"});
    const hours = h("input", {name: "exp", type: "number", min: "1", max: "87600", value: String(INVITE_HOURS), inputmode: "numeric"});
    this.inviteEmail = email;
    return settingsForm({
      fields: [h("div", {class: "form__row"},
        h("div", {class: "form__grow"}, field(t("Email"), email)),
        field(t("Valid for (hours)"), hours))],
      submitLabel: t("Create invite link"),
      onSubmit: () => this.createLink(email.value.trim(), Number(hours.value) || INVITE_HOURS),
    });
  }

  async createLink(email, hours = INVITE_HOURS) {
    const res = await this.app.api.call("inviteUser", {email, exp: hours});
    this.invite.replaceChildren(...[
      copyField(res.existing ? t("Password reset link") : t("Invite link"), res.url, t("Send this link to %1.", email)),
      h("p", {class: "form__hint"}, t("The link is valid until %1.", formatDateTime(res.expires))),
      res.existing ? h("p", {class: "form__hint"}, t("%1 already has an account, so the link resets the password.", email)) : null,
    ].filter(Boolean));
    this.invite.querySelector("input").focus();
    return null;
  }

  render(users) {
    const me = this.app.user && this.app.user.email;
    const rows = users.map((u) => h("tr", {},
      h("th", {scope: "row"}, u.email),
      h("td", {}, (u.roles || []).includes("admin") ? t("Admin") : t("User")),
      h("td", {}, u.registered ? formatDateTime(u.registered) : ""),
      h("td", {}, u.remote_address || ""),
      h("td", {class: "table__actions"},
        h("button", {type: "button", class: "btn btn--small btn--quiet", "aria-label": t("Password reset link for %1", u.email),
          onclick: () => { this.inviteEmail.value = u.email; this.createLink(u.email).catch((err) => this.showListError(err)); }},
        t("Password reset link")),
        u.two_factor ? h("button", {type: "button", class: "btn btn--small btn--quiet", "aria-label": t("Turn off two-factor codes of %1", u.email),
          onclick: () => this.resetTwoFactor(u.email)}, t("Turn off two-factor codes")) : null,
        h("button", {type: "button", class: "btn btn--small btn--quiet btn--destructive", "aria-label": t("Delete %1", u.email),
          onclick: () => this.remove(u.email, u.email === me)}, t("Delete")))));
    this.list.replaceChildren(h("table", {class: "table"},
      h("caption", {class: "sr-only"}, t("Users")),
      h("thead", {}, h("tr", {},
        h("th", {scope: "col"}, t("Email")), h("th", {scope: "col"}, t("Role")), h("th", {scope: "col"}, t("Registered")),
        h("th", {scope: "col"}, t("IP address")), h("th", {scope: "col"}, h("span", {class: "sr-only"}, t("Actions"))))),
      h("tbody", {}, rows)));
  }

  showListError(err) {
    this.listError.textContent = err.message;
    this.listError.hidden = false;
    this.listError.scrollIntoView({block: "nearest"});
  }

  async resetTwoFactor(email) {
    this.listError.hidden = true;
    const ok = await confirmDialog({
      title: t("Turn off two-factor codes"),
      text: t("%1 then signs in with the password alone. Do this only when you know it is them, for example after they lost their phone and recovery codes.", email),
      confirmLabel: t("Turn off"),
    });
    if (!ok) return;
    try {
      await this.app.api.call("resetTwoFactor", {email});
    } catch (err) {
      this.showListError(err);
      return;
    }
    this.load();
  }

  async remove(email, self) {
    this.listError.hidden = true;
    const ok = await confirmDialog({
      title: t("Delete user"),
      text: self ? t("This is your own account. Deleting it removes all your connections, logs and files.")
        : t("Deleting %1 removes all their connections, logs and files.", email),
      confirmLabel: t("Delete"),
    });
    if (!ok) return;
    try {
      await this.app.api.call("deleteUser", {email});
    } catch (err) {
      // 404: someone else deleted the account first; the list is reloaded either way.
      if (err.status !== 404 || self) {
        this.showListError(err);
        return;
      }
    }
    if (self) {
      location.assign(this.app.url("/login"));
      return;
    }
    this.load();
  }
}
