// The participants of a channel, with their modes (from /names, kept current by join, part,
// quit, nick and mode events). Big channels show the first MAX_SHOWN, to keep the DOM small.
import {h, uid} from "../dom.js";
import {t} from "../i18n.js";
import {nickColorClass} from "../irc/format.js";
import {MODE_PREFIX} from "../store.js";

const MAX_SHOWN = 250;
const MODE_NAMES = {q: () => t("founder"), a: () => t("admin"), o: () => t("operator"), h: () => t("half-operator"),
  v: () => t("voice")};

export class ParticipantsView {
  constructor({store, key, onPick}) {
    this.store = store;
    this.key = key;
    this.onPick = onPick;
    const headingId = uid("participants-title");
    this.count = h("span", {class: "participants__count"});
    this.list = h("ul", {class: "participants__list"});
    this.el = h("aside", {class: "participants", id: uid("participants"), "aria-labelledby": headingId},
      h("h2", {id: headingId, class: "participants__title"}, t("Participants"), " ", this.count),
      this.list);
    this.onChange = (e) => { if (e.detail.key === this.key) this.render(); };
    store.addEventListener("participants", this.onChange);
    this.render();
  }

  destroy() {
    this.store.removeEventListener("participants", this.onChange);
  }

  size() {
    const list = this.store.sortedParticipants(this.key);
    return list ? list.length : 0;
  }

  render() {
    const list = this.store.sortedParticipants(this.key);
    if (!list) {
      this.count.textContent = "";
      this.list.replaceChildren(h("li", {class: "participants__empty"}, t("Loading...")));
      return;
    }
    this.count.textContent = `(${list.length})`;
    const items = list.slice(0, MAX_SHOWN).map((p) => h("li", {},
      h("button", {type: "button", class: ["participant", nickColorClass(p.nick)],
        "aria-label": p.mode ? `${p.nick} (${MODE_NAMES[p.mode] ? MODE_NAMES[p.mode]() : p.mode})` : p.nick,
        "aria-haspopup": "menu", onclick: (e) => this.onPick(p.nick, e.currentTarget)},
      h("span", {class: "participant__mode", "aria-hidden": "true"}, MODE_PREFIX[p.mode] || ""), p.nick)));
    if (list.length > MAX_SHOWN) items.push(h("li", {class: "participants__more"}, t("...and %1 more", list.length - MAX_SHOWN)));
    this.list.replaceChildren(...items);
    this.el.dispatchEvent(new CustomEvent("count", {detail: list.length}));
  }
}
