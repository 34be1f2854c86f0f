// The "Reading" part of the account settings: how joins, parts, quits and nick changes show
// in conversations (folded into one line, in full, or hidden). Kept with the account and in
// this browser (js/prefs.js); open conversations follow at once.
import {h, uid} from "../dom.js";
import {t} from "../i18n.js";
import {readingPrefs} from "../prefs.js";

export function readingField(app) {
  const name = uid("joins");
  const current = readingPrefs.joins;
  const options = [["fold", t("Folded into one line")], ["show", t("In full")], ["hide", t("Hidden")]].map(([value, label]) => {
    const input = h("input", {type: "radio", name, value, checked: value === current,
      onchange: async () => {
        readingPrefs.joins = value;
        // Kept with the account too, so other browsers follow.
        try {
          await app.api.call("savePreferences", {body: {joins: value}});
          status.textContent = "";
        } catch (err) {
          status.textContent = err.message;
        }
      }});
    return h("label", {class: "choice"}, input, " ", label);
  });
  const hintId = uid("hint");
  const status = h("p", {class: "form__status", role: "status"});
  return h("div", {class: "form settings-form"},
    h("fieldset", {class: "form__fieldset", "aria-describedby": hintId},
      h("legend", {}, t("Joins, parts and nick changes")), h("div", {class: "choices"}, options),
      h("p", {class: "form__hint", id: hintId}, t("Folded: a run of them shows as one line, such as “3 joined, 1 left”; a click shows them."))), status);
}
