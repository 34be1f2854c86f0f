// Small DOM helpers. Text always goes in through textContent / text nodes, never innerHTML,
// so nothing from the server or a message can become markup.

/**
 * h("button", {class: "btn", type: "button", onclick: fn, "aria-label": t("Close")}, "x")
 * Attributes: `class`, `dataset` (object), `on<event>` (function), booleans (true = present),
 * anything else via setAttribute. Children: nodes, strings (as text), null/false (skipped), arrays.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") el.className = Array.isArray(value) ? value.filter(Boolean).join(" ") : value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else if (key === "value" && "value" in el) el.value = value;
    else if (value === true) el.setAttribute(key, "");
    else el.setAttribute(key, String(value));
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}

export function replaceChildren(el, ...children) {
  clear(el);
  return append(el, children);
}

let idSeq = 0;
export function uid(prefix = "id") {
  idSeq += 1;
  return `${prefix}-${idSeq}`;
}

/** Announce text to screen readers through one shared polite live region. */
export function announce(text) {
  let region = document.getElementById("announcer");
  if (!region) {
    region = h("div", {id: "announcer", class: "sr-only", "aria-live": "polite", role: "status"});
    document.body.append(region);
  }
  region.textContent = "";
  // A new text node in a later task is announced even when the text repeats.
  setTimeout(() => { region.textContent = text; }, 50);
}

/** Is the element scrolled to (within `slack` px of) the bottom? */
export function atBottom(el, slack = 40) {
  return el.scrollHeight - el.scrollTop - el.clientHeight <= slack;
}

export function debounce(fn, ms) {
  let timer = null;
  let last = [];
  const wrapped = (...args) => {
    clearTimeout(timer);
    last = args;
    timer = setTimeout(() => { timer = null; fn(...args); }, ms);
  };
  wrapped.cancel = () => { clearTimeout(timer); timer = null; };
  /** Run a pending call now (and only then). */
  wrapped.flush = () => {
    if (timer === null) return;
    wrapped.cancel();
    fn(...last);
  };
  return wrapped;
}
