// /search?q=...: search the history of every conversation (GET /api/search). `#channel` and
// `@nick` words in the box narrow the search (the server reads them). Results come newest
// first; "Load older" pages back with the `before` cursor. A result opens its conversation
// at that message (/chat/<cid>/<conversation>?around=<ts>), with the messages around it.
import {h, uid} from "../dom.js";
import {t} from "../i18n.js";
import {markWords, searchWords} from "../highlight.js";
import {formatMessage, nickColorClass} from "../irc/format.js";
import {convKey, pathFor} from "../store.js";
import {fullTime, parseTs} from "../time.js";

const PAGE_SIZE = 50;
const MAX_RESULTS = 500; // "Load older" stops here: the page stays small

const formatters = new Map();
function shortTime(ms) {
  const sameYear = new Date(ms).getFullYear() === new Date().getFullYear();
  const key = sameYear ? "y" : "n";
  if (!formatters.has(key)) {
    const options = {month: "short", day: "numeric", hour: "2-digit", minute: "2-digit"};
    if (!sameYear) options.year = "numeric";
    formatters.set(key, new Intl.DateTimeFormat(document.documentElement.lang || undefined, options));
  }
  return formatters.get(key).format(new Date(ms));
}

/** The app path that opens a message in its conversation, with context: by its id, or its time. */
export function messagePath(msg) {
  const key = convKey(msg.connection_id, msg.conversation_id || "");
  return msg.id ? `${pathFor(key)}?around_id=${encodeURIComponent(msg.id)}`
    : `${pathFor(key)}?around=${encodeURIComponent(msg.ts)}`;
}

/**
 * A message found by search (or a notification) as a list item: the conversation (a link to
 * the message), the time, the nick and the text, like a chat line. A click anywhere on the
 * item that is not on a link opens the message too.
 */
export function resultItem(app, msg, {className = "", words = []} = {}) {
  const {store} = app;
  const key = convKey(msg.connection_id, msg.conversation_id || "");
  const conv = store.get(key);
  const conn = store.connection(msg.connection_id);
  const name = conv ? conv.name : msg.conversation_id || (conn ? conn.name : msg.connection_id);
  const multi = store.connections.size > 1 && conn;
  const ms = parseTs(msg.ts);
  const path = messagePath(msg);
  const type = msg.type || "private";
  const from = type === "action" ? `* ${msg.from}` : type === "notice" ? `-${msg.from}-` : msg.from;
  const item = h("li", {class: ["result", `msg--${type}`, msg.highlight && "result--highlight", className]},
    h("div", {class: "result__head"},
      h("a", {class: "result__conv", href: app.url(path)}, name, multi ? h("span", {class: "result__network"}, ` · ${conn.name}`) : null),
      h("time", {class: "result__time", datetime: new Date(ms).toISOString(), title: fullTime(ms)}, shortTime(ms))),
    h("div", {class: "result__line"},
      h("span", {class: ["msg__from", nickColorClass(msg.from)]}, from || "*"),
      " ",
      h("span", {class: "msg__text"}, formatMessage(msg.message))));
  // The words searched for, marked in the text (text nodes split, never markup).
  if (words.length) markWords(item.querySelector(".msg__text"), words);
  item.addEventListener("click", (e) => {
    if (e.target.closest("a") || String(window.getSelection() || "")) return;
    app.router.go(path);
  });
  return item;
}

export class SearchView {
  constructor(app, query = new URLSearchParams()) {
    this.app = app;
    this.q = (query.get("q") || "").trim();
    this.generation = 0;
    this.count = 0;
    this.before = null;
    const inputId = uid("search");
    const hintId = uid("search-hint");
    this.input = h("input", {id: inputId, type: "search", name: "q", value: this.q, autocomplete: "off",
      spellcheck: "false", enterkeyhint: "search", "aria-describedby": hintId,
      placeholder: t("Words, #channel, @nick")});
    this.form = h("form", {class: "search__form", role: "search", onsubmit: (e) => this.submit(e)},
      h("label", {for: inputId, class: "sr-only"}, t("Search messages")),
      this.input,
      h("button", {type: "submit", class: "btn"}, t("Search")));
    this.status = h("p", {class: "search__status", role: "status"});
    this.results = h("ol", {class: "results", "aria-label": t("Search results")});
    this.moreButton = h("button", {type: "button", class: "btn btn--quiet", hidden: true, onclick: () => this.load(true)},
      t("Load older"));
    this.el = h("section", {class: "page search", "aria-labelledby": "search-title"},
      h("header", {class: "conv__header"}, app.chat.menuButton(),
        h("div", {class: "conv__titles"}, h("h1", {id: "search-title", class: "conv__name", tabindex: "-1"}, t("Search")))),
      h("div", {class: "page__body"},
        this.form,
        h("p", {id: hintId, class: "form__hint"},
          t("Finds messages with these words, newest first. Add #channel to search one conversation, @nick for what someone said.")),
        this.status,
        this.results,
        h("p", {class: "page__actions"}, this.moreButton)));
    document.title = this.q ? `${t("Search")}: ${this.q} - Convos` : `${t("Search")} - Convos`;
  }

  mount() {
    if (this.q) this.load(false);
  }

  destroy() {
    this.generation += 1;
  }

  focus() {
    this.input.focus();
    if (this.q) this.input.select();
  }

  submit(e) {
    e.preventDefault();
    const q = this.input.value.trim();
    if (!q) return;
    const path = `/search?q=${encodeURIComponent(q)}`;
    if (q === this.q) this.load(false); // the same words again: search again
    else this.app.router.go(path);
  }

  async load(older) {
    const gen = ++this.generation;
    if (!older) {
      this.results.replaceChildren();
      this.count = 0;
      this.before = null;
    }
    this.moreButton.hidden = true;
    this.results.setAttribute("aria-busy", "true");
    this.status.textContent = t("Searching...");
    let page;
    try {
      page = await this.app.api.call("searchMessages", {match: this.q, limit: PAGE_SIZE, before_id: older ? this.before : null});
    } catch (err) {
      if (gen !== this.generation) return;
      this.results.setAttribute("aria-busy", "false");
      this.status.textContent = err.message;
      this.status.classList.add("search__status--error");
      if (older) this.moreButton.hidden = false;
      return;
    }
    if (gen !== this.generation) return;
    this.status.classList.remove("search__status--error");
    this.results.setAttribute("aria-busy", "false");
    const messages = page.messages || [];
    const first = this.results.children.length;
    const words = searchWords(this.q);
    this.results.append(...messages.map((m) => resultItem(this.app, m, {words})));
    this.count += messages.length;
    this.before = page.before_id || null;
    this.moreButton.hidden = page.end || !this.before || this.count >= MAX_RESULTS;
    let text;
    if (!this.count) text = t("No messages found.");
    else if (this.moreButton.hidden) text = this.count === 1 ? t("1 message found.") : t("%1 messages found.", this.count);
    else text = t("Showing the newest %1 messages.", this.count);
    this.status.textContent = text;
    // After "Load older", the focus goes to the first new result's link.
    if (older && this.results.children[first]) this.results.children[first].querySelector("a").focus();
  }
}
