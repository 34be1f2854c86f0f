// Modal dialogs on native <dialog> (focus trap, Escape and the backdrop come from the browser).
import {h, uid} from "../dom.js";
import {t} from "../i18n.js";
import {convKey, isChannel} from "../store.js";

/** A modal dialog with a form; `onSubmit(form, dialog)` may throw to show an error. */
export function formDialog({title, fields, submitLabel, onSubmit, className = ""}) {
  const titleId = uid("dialog-title");
  const error = h("p", {class: "form__error", role: "alert", hidden: true});
  const submit = h("button", {type: "submit", class: "btn"}, submitLabel);
  const form = h("form", {class: "form", method: "dialog"},
    ...fields, error,
    h("div", {class: "form__actions"},
      h("button", {type: "button", class: "btn btn--quiet", onclick: () => dialog.close()}, t("Cancel")),
      submit));
  const dialog = h("dialog", {class: ["dialog", className], "aria-labelledby": titleId},
    h("h2", {id: titleId, class: "dialog__title"}, title), form);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    error.hidden = true;
    submit.disabled = true;
    try {
      await onSubmit(form, dialog);
    } catch (err) {
      error.textContent = err.message;
      error.hidden = false;
    } finally {
      submit.disabled = false;
    }
  });
  dialog.addEventListener("close", () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
  return dialog;
}

export function field(label, input, hint = null) {
  const id = input.id || uid("field");
  input.id = id;
  const hintEl = hint ? h("p", {class: "form__hint", id: `${id}-hint`}, hint) : null;
  if (hintEl) input.setAttribute("aria-describedby", hintEl.id);
  if (input.type === "checkbox") return h("div", {class: "form__field form__field--check"}, input, h("label", {for: id}, label), hintEl);
  return h("div", {class: "form__field"}, h("label", {for: id}, label), input, hintEl);
}

/** "Add conversation": /join #channel or /query nick over the websocket. */
export function addConversationDialog(app, connectionId) {
  const connections = app.store.sortedConnections();
  if (!connections.length) return addConnectionDialog(app);
  const select = h("select", {name: "connection_id"},
    ...connections.map((c) => h("option", {value: c.connection_id, selected: c.connection_id === connectionId}, c.name)));
  const name = h("input", {name: "name", required: true, autocomplete: "off", placeholder: "#convos",
    spellcheck: "false"});
  return formDialog({
    title: t("Add conversation"),
    submitLabel: t("Add"),
    fields: [
      field(t("Connection"), select),
      field(t("Channel or nick"), name, t("A name starting with # joins a channel; a nick starts a private conversation.")),
    ],
    onSubmit: async (form, dialog) => {
      const target = name.value.trim();
      if (!target || /[\s,]/.test(target)) throw new Error(t("Write one channel or nick, without spaces."));
      const cid = select.value;
      const message = isChannel(target) ? `/join ${target}` : `/query ${target}`;
      const reply = await app.socket.send(cid, "", message);
      if (reply.errors && reply.errors.length) throw new Error(t(reply.errors[0].message));
      const conversationId = reply.conversation_id || target.toLowerCase();
      const key = convKey(cid, conversationId);
      if (!app.store.get(key)) app.store.upsertConversation({connection_id: cid, conversation_id: conversationId, name: reply.name || target});
      dialog.close();
      app.router.go(app.chat.pathFor(key));
    },
  });
}

/** "Add connection": a minimal form; the full connection editor comes with the settings. */
export function addConnectionDialog(app) {
  const host = h("input", {name: "host", required: true, autocomplete: "off", placeholder: "irc.libera.chat", spellcheck: "false"});
  const port = h("input", {name: "port", type: "number", min: "1", max: "65535", value: "6697", inputmode: "numeric"});
  const tls = h("input", {name: "tls", type: "checkbox", checked: true});
  const defaultNick = String(app.store.user && app.store.user.email || "").split("@")[0].replace(/\W/g, "_");
  const nick = h("input", {name: "nick", required: true, autocomplete: "off", value: defaultNick, spellcheck: "false"});
  tls.addEventListener("change", () => {
    if (tls.checked && port.value === "6667") port.value = "6697";
    else if (!tls.checked && port.value === "6697") port.value = "6667";
  });
  return formDialog({
    title: t("Add connection"),
    submitLabel: t("Add connection"),
    fields: [
      field(t("Server"), host),
      field(t("Port"), port),
      field(t("Secure connection (TLS)"), tls),
      field(t("Nick"), nick),
    ],
    onSubmit: async (form, dialog) => {
      const hostname = host.value.trim();
      if (!/^[A-Za-z0-9.\-:[\]]+$/.test(hostname)) throw new Error(t("Write a host name, like irc.libera.chat."));
      const params = new URLSearchParams({tls: tls.checked ? "1" : "0", nick: nick.value.trim()});
      const url = `irc://${hostname}${port.value ? `:${Number(port.value)}` : ""}?${params}`;
      const conn = await app.api.call("createConnection", {body: {url}});
      app.store.connectionAnswer(conn);
      dialog.close();
      app.router.go(app.chat.pathFor(convKey(conn.connection_id, "")));
    },
  });
}

/** Ctrl+K: type to filter the conversations, Enter opens the selected one. */
export function quickSwitchDialog(app) {
  const input = h("input", {type: "search", autocomplete: "off", spellcheck: "false", role: "combobox",
    "aria-expanded": "true", "aria-autocomplete": "list"});
  const listId = uid("switch-list");
  const list = h("ul", {class: "switch__list", id: listId, role: "listbox", "aria-label": t("Conversations")});
  input.setAttribute("aria-controls", listId);
  let matches = [];
  let index = 0;
  const all = app.store.navOrder().map((key) => {
    const conv = app.store.get(key);
    const conn = app.store.connection(conv.connection_id);
    return {key, name: conv.name || conv.conversation_id, network: conn ? conn.name : "", unread: conv.unread || 0};
  });
  const render = () => {
    const q = input.value.trim().toLowerCase();
    // Names starting with the text first, then names containing it, then the network's name.
    const rank = (c) => {
      const i = c.name.toLowerCase().replace(/^[#&]/, "").indexOf(q);
      if (i === 0 || c.name.toLowerCase().startsWith(q)) return 0;
      return i > 0 ? 1 : 2;
    };
    matches = all.filter((c) => c.name.toLowerCase().includes(q) || c.network.toLowerCase().includes(q))
      .map((c, i) => ({...c, rank: q ? rank(c) : 0, i}))
      .sort((a, b) => a.rank - b.rank || (b.unread > 0) - (a.unread > 0) || a.i - b.i);
    index = Math.min(index, Math.max(matches.length - 1, 0));
    list.replaceChildren(...matches.slice(0, 30).map((c, i) => h("li", {
      role: "option", id: `${listId}-${i}`, "aria-selected": i === index ? "true" : "false",
      class: ["switch__item", i === index && "switch__item--active"],
      onmousedown: (e) => { e.preventDefault(); index = i; choose(); },
    }, h("span", {}, c.name), " ", h("span", {class: "switch__network"}, c.network),
    c.unread ? h("span", {class: "badge"}, String(c.unread)) : null)));
    if (matches.length) input.setAttribute("aria-activedescendant", `${listId}-${index}`);
    else input.removeAttribute("aria-activedescendant");
  };
  const choose = () => {
    const c = matches[index];
    if (!c) return;
    dialog.close();
    app.router.go(app.chat.pathFor(c.key));
  };
  input.addEventListener("input", () => { index = 0; render(); });
  input.addEventListener("keydown", (e) => {
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      const n = Math.min(matches.length, 30);
      if (n) index = (index + (e.key === "ArrowDown" ? 1 : -1) + n) % n;
      render();
    } else if (e.key === "Enter") {
      e.preventDefault();
      choose();
    }
  });
  const titleId = uid("dialog-title");
  const label = h("label", {for: uid("x"), class: "sr-only"}, t("Go to conversation"));
  input.id = label.htmlFor;
  const dialog = h("dialog", {class: "dialog dialog--switch", "aria-labelledby": titleId},
    h("h2", {id: titleId, class: "dialog__title"}, t("Go to conversation")), label, input, list);
  dialog.addEventListener("close", () => dialog.remove());
  document.body.append(dialog);
  render();
  dialog.showModal();
  input.focus();
  return dialog;
}
