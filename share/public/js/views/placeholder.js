// Pages that come in a later phase (search, settings): the route exists, the page says so.
import {h} from "../dom.js";
import {t} from "../i18n.js";

export class PlaceholderView {
  constructor(app, title, text = t("This page is not ready yet.")) {
    this.el = h("section", {class: "page", "aria-labelledby": "placeholder-title"},
      h("header", {class: "conv__header"}, app.chat.menuButton(),
        h("div", {class: "conv__titles"}, h("h1", {id: "placeholder-title", class: "conv__name", tabindex: "-1"}, title))),
      h("div", {class: "page__body"}, h("p", {}, text)));
    document.title = `${title} - Convos`;
  }

  mount() {}
  destroy() {}
  focus() { this.el.querySelector("h1").focus(); }
}
