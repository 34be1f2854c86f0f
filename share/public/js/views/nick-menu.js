// The nick menu: a click on a nick in the message log or the participants list opens it. A
// real menu (role="menu", menu items as buttons): the focus goes to the first item, ↑/↓,
// Home/End move, Enter or Space picks, Escape (or Tab, or a click elsewhere) closes and puts
// the focus back where it was. One menu is open at a time.
import {h, uid} from "../dom.js";

let current = null;

/** Close the open nick menu, if any; `restore` puts the focus back on what opened it. */
export function closeNickMenu(restore = false) {
  if (!current) return;
  const {el, anchor, returnTo, cleanup} = current;
  current = null;
  cleanup();
  el.remove();
  if (anchor) anchor.setAttribute("aria-expanded", "false");
  if (restore && returnTo && returnTo.isConnected) returnTo.focus();
}

/**
 * Open a menu for `nick` next to `anchor`. `items`: [{label, run}] or "-" for a separator.
 * `returnTo`: where the focus goes after Escape (by default the anchor).
 */
export function openNickMenu({nick, anchor, items, returnTo = null}) {
  closeNickMenu();
  const titleId = uid("nick-menu");
  const buttons = [];
  const children = items.map((item) => {
    if (item === "-") return h("div", {class: "nick-menu__sep", role: "separator"});
    const button = h("button", {type: "button", class: "nick-menu__item", role: "menuitem", tabindex: "-1",
      dataset: item.id ? {action: item.id} : {},
      onclick: () => {
        closeNickMenu(true);
        item.run();
      }}, item.label);
    buttons.push(button);
    return button;
  });
  const el = h("div", {class: "nick-menu", role: "menu", "aria-labelledby": titleId},
    h("div", {class: "nick-menu__title", id: titleId}, nick), children);
  document.body.append(el);
  place(el, anchor);

  const onKey = (e) => {
    const i = buttons.indexOf(document.activeElement);
    let next = null;
    if (e.key === "ArrowDown") next = buttons[(i + 1) % buttons.length];
    else if (e.key === "ArrowUp") next = buttons[(i - 1 + buttons.length) % buttons.length];
    else if (e.key === "Home") next = buttons[0];
    else if (e.key === "End") next = buttons[buttons.length - 1];
    else if (e.key === "Escape") {
      e.preventDefault();
      e.stopPropagation();
      closeNickMenu(true);
      return;
    } else if (e.key === "Tab") {
      e.preventDefault();
      closeNickMenu(true);
      return;
    } else if (e.key.length === 1 && /\S/.test(e.key)) {
      // Type-ahead: the next item that starts with the letter.
      const k = e.key.toLowerCase();
      const order = [...buttons.slice(i + 1), ...buttons.slice(0, i + 1)];
      next = order.find((b) => b.textContent.trim().toLowerCase().startsWith(k)) || null;
    }
    if (next) {
      e.preventDefault();
      next.focus();
    }
  };
  const onPointer = (e) => {
    if (!el.contains(e.target) && e.target !== anchor) closeNickMenu();
  };
  const onScroll = (e) => { if (!el.contains(e.target)) closeNickMenu(); };
  el.addEventListener("keydown", onKey);
  document.addEventListener("pointerdown", onPointer, true);
  window.addEventListener("resize", onScroll);
  document.addEventListener("scroll", onScroll, true);
  current = {el, anchor, returnTo: returnTo || anchor, cleanup: () => {
    document.removeEventListener("pointerdown", onPointer, true);
    window.removeEventListener("resize", onScroll);
    document.removeEventListener("scroll", onScroll, true);
  }};
  if (anchor) anchor.setAttribute("aria-expanded", "true");
  if (buttons.length) buttons[0].focus();
  return el;
}

/** Below the anchor (above it when there is no room), inside the window. CSSOM: allowed by the CSP. */
function place(el, anchor) {
  const r = anchor ? anchor.getBoundingClientRect() : {left: 8, right: 8, top: 8, bottom: 8};
  const w = el.offsetWidth;
  const hgt = el.offsetHeight;
  const vw = document.documentElement.clientWidth;
  const vh = document.documentElement.clientHeight;
  const left = Math.max(4, Math.min(r.left, vw - w - 4));
  const top = r.bottom + hgt + 4 <= vh ? r.bottom + 2 : Math.max(4, r.top - hgt - 2);
  el.style.left = `${left}px`;
  el.style.top = `${top}px`;
}
