// /help: the commands the input box understands and the keyboard shortcuts.
import {h} from "../dom.js";
import {t} from "../i18n.js";
import {COMMANDS} from "../irc/commands.js";

export function shortcuts() {
  return [
    ["Alt+↑ / Alt+↓", t("Previous or next conversation")],
    ["Alt+Shift+↑ / Alt+Shift+↓", t("Previous or next conversation with unread messages")],
    ["Ctrl+K", t("Go to a conversation by name")],
    ["Alt+U", t("Jump to the first unread message")],
    ["Alt+L", t("Jump to the latest message")],
    ["Enter", t("Send the message")],
    ["Shift+Enter", t("New line in the message")],
    ["Tab", t("Complete a nick, channel, /command or :emoji:")],
    ["↑ / ↓", t("Earlier or later messages you sent in this conversation")],
    ["Page Up / Page Down", t("Scroll the messages")],
    ["Escape", t("Close a dialog, the menu or the command list")],
  ];
}

export class HelpView {
  constructor(app) {
    this.el = h("section", {class: "page", "aria-labelledby": "help-title"},
      h("header", {class: "conv__header"}, app.chat.menuButton(),
        h("div", {class: "conv__titles"}, h("h1", {id: "help-title", class: "conv__name", tabindex: "-1"}, t("Help")))),
      h("div", {class: "page__body"},
        h("h2", {}, t("Keyboard shortcuts")),
        h("table", {class: "table"},
          h("thead", {}, h("tr", {}, h("th", {scope: "col"}, t("Keys")), h("th", {scope: "col"}, t("What it does")))),
          h("tbody", {}, shortcuts().map(([keys, what]) => h("tr", {}, h("td", {}, h("kbd", {}, keys)), h("td", {}, what))))),
        h("h2", {}, t("Commands")),
        h("p", {}, t("Type these in the message box. In a connection's own tab, text that is not a command is sent to the server as it is.")),
        h("table", {class: "table"},
          h("thead", {}, h("tr", {}, h("th", {scope: "col"}, t("Command")), h("th", {scope: "col"}, t("What it does")))),
          h("tbody", {}, COMMANDS.map((c) => h("tr", {}, h("td", {}, h("code", {}, c.usage)), h("td", {}, c.description)))))));
    document.title = `${t("Help")} - Convos`;
  }

  mount() {}
  destroy() {}
  focus() { this.el.querySelector("h1").focus(); }
}
