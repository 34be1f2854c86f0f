// IRC formatting codes -> DOM, safely: text only ever goes in as text nodes.
// Codes: \x02 bold, \x1d italic, \x1f underline, \x1e strike, \x11 monospace,
// \x03fg[,bg] colour (0-98, 99 = default), \x16 reverse, \x0f reset.
// Colours are classes (irc-fg-N / irc-bg-N in convos.css), never inline styles (CSP).
import {h} from "../dom.js";

const COLOR_RE = /^(\d{1,2})(?:,(\d{1,2}))?/;
const HEX_RE = /^[0-9a-f]{6}(?:,[0-9a-f]{6})?/i;
const CONTROL_RE = /[\x00-\x08\x0b-\x1f\x7f]/g; // what is left after parsing: never shown
// http(s) links only; the scheme is checked again with the URL parser below.
const LINK_RE = /\bhttps?:\/\/[^\s<>"'\x00-\x1f]+/gi;

function freshState() {
  return {bold: false, italic: false, underline: false, strike: false, mono: false, reverse: false, fg: null, bg: null};
}

/** Split a message into runs of text with the formatting that applies to each. */
export function parseFormatting(text) {
  const runs = [];
  let state = freshState();
  let buf = "";
  const flush = () => {
    if (buf) runs.push({text: buf, ...state});
    buf = "";
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    switch (c) {
      case "\x02": flush(); state = {...state, bold: !state.bold}; break;
      case "\x1d": flush(); state = {...state, italic: !state.italic}; break;
      case "\x1f": flush(); state = {...state, underline: !state.underline}; break;
      case "\x1e": flush(); state = {...state, strike: !state.strike}; break;
      case "\x11": flush(); state = {...state, mono: !state.mono}; break;
      case "\x16": flush(); state = {...state, reverse: !state.reverse}; break;
      case "\x0f": flush(); state = freshState(); break;
      case "\x04": {
        // Hex colours (\x04RRGGBB[,RRGGBB]) would need inline styles, which the CSP forbids:
        // the code and its digits are dropped and the text keeps the theme's colours.
        flush();
        const m = HEX_RE.exec(text.slice(i + 1, i + 14));
        if (m) i += m[0].length;
        break;
      }
      case "\x03": {
        flush();
        const m = COLOR_RE.exec(text.slice(i + 1, i + 6));
        if (!m) {
          state = {...state, fg: null, bg: null};
          break;
        }
        const fg = Number(m[1]);
        state = {...state, fg: fg === 99 ? null : fg};
        if (m[2] !== undefined) {
          const bg = Number(m[2]);
          state.bg = bg === 99 ? null : bg;
        }
        i += m[0].length;
        break;
      }
      default:
        buf += c;
    }
  }
  flush();
  return runs;
}

function runClasses(run) {
  const classes = [];
  if (run.bold) classes.push("irc-b");
  if (run.italic) classes.push("irc-i");
  if (run.underline) classes.push("irc-u");
  if (run.strike) classes.push("irc-s");
  if (run.mono) classes.push("irc-m");
  let {fg, bg} = run;
  if (run.reverse) {
    if (fg === null && bg === null) classes.push("irc-reverse");
    else [fg, bg] = [bg, fg];
  }
  if (fg !== null && fg <= 98) classes.push(`irc-fg-${fg}`);
  if (bg !== null && bg <= 98) classes.push(`irc-bg-${bg}`);
  return classes;
}

/** A safe link element for an http(s) URL, or null. */
export function safeLink(href, text = href) {
  let parsed;
  try { parsed = new URL(href); } catch { return null; }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") return null;
  return h("a", {href: parsed.href, target: "_blank", rel: "noopener noreferrer", class: "msg__link"}, text);
}

/** Trim punctuation that ends a sentence rather than the URL; keep balanced brackets. */
function trimUrl(raw) {
  let url = raw;
  for (;;) {
    const last = url[url.length - 1];
    if (/[.,;:!?'"*]/.test(last)) { url = url.slice(0, -1); continue; }
    const pairs = {")": "(", "]": "[", "}": "{", ">": "<"};
    if (pairs[last] && url.split(pairs[last]).length < url.split(last).length) { url = url.slice(0, -1); continue; }
    return url;
  }
}

/** Text with its URLs as links; calls onLink(url) for each (the embed hook). */
function linkify(text, onLink) {
  const out = [];
  let pos = 0;
  LINK_RE.lastIndex = 0;
  for (let m = LINK_RE.exec(text); m; m = LINK_RE.exec(text)) {
    const url = trimUrl(m[0]);
    const a = safeLink(url);
    if (!a) continue;
    if (m.index > pos) out.push(text.slice(pos, m.index));
    out.push(a);
    if (onLink) onLink(a.href);
    pos = m.index + url.length;
    LINK_RE.lastIndex = pos;
  }
  if (pos < text.length) out.push(text.slice(pos));
  return out;
}

/**
 * A DocumentFragment for an IRC message: formatting as spans with classes, links as <a>.
 * Options: onLink(url) is called for each link (phase 2 embeds attach there).
 */
export function formatMessage(text, {onLink} = {}) {
  const frag = document.createDocumentFragment();
  for (const run of parseFormatting(String(text ?? ""))) {
    const clean = run.text.replace(CONTROL_RE, "");
    if (!clean) continue;
    const parts = linkify(clean, onLink);
    const classes = runClasses(run);
    if (classes.length) {
      const span = h("span", {class: classes.join(" ")});
      span.append(...parts.map((p) => (typeof p === "string" ? document.createTextNode(p) : p)));
      frag.append(span);
    } else {
      frag.append(...parts.map((p) => (typeof p === "string" ? document.createTextNode(p) : p)));
    }
  }
  return frag;
}

/** The message without any formatting codes (for titles, notifications, completion). */
export function stripFormatting(text) {
  return parseFormatting(String(text ?? "")).map((r) => r.text).join("").replace(CONTROL_RE, "");
}

/** A stable colour class for a nick: the same nick gets the same colour in every tab. */
export function nickColorClass(nick) {
  let hash = 5381;
  const s = String(nick || "").toLowerCase();
  for (let i = 0; i < s.length; i++) hash = ((hash * 33) ^ s.charCodeAt(i)) >>> 0;
  return `nick-c${hash % 16}`;
}
