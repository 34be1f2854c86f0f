// The input box: Enter sends, Shift+Enter adds a line, Up/Down walk this conversation's
// history, Tab completes commands, nicks, channels and :emoji:, and a popover lists the
// commands matching what is typed after "/". Files are uploaded from the button, by dropping
// them on the conversation or by pasting them; their links go in at the caret.
import {h, uid} from "../dom.js";
import {t} from "../i18n.js";
import {findCommand, matchCommands} from "../irc/commands.js";
import {matchEmoji} from "../input/emoji.js";
import {uploadFile} from "../upload.js";

const HISTORY_SIZE = 100;
const histories = new Map(); // conversation key -> sent lines, oldest first (for this tab's life)
const drafts = new Map(); // conversation key -> unsent text

export class Composer {
  /**
   * onSend(text) sends a line; candidates() -> {nicks: [...], channels: [...]} for completion;
   * onPage(direction) scrolls the message list (PageUp/PageDown); api (js/api.js) uploads files.
   */
  constructor({key, label, onSend, candidates, onPage, api = null}) {
    this.key = key;
    this.api = api;
    this.listeners = [];
    this.onSend = onSend;
    this.candidates = candidates;
    this.onPage = onPage || (() => {});
    this.historyPos = null;
    this.savedDraft = "";
    this.completion = null;

    const inputId = uid("composer");
    this.popoverId = uid("commands");
    this.popover = h("ul", {class: "popover", id: this.popoverId, role: "listbox", hidden: true,
      "aria-label": t("Matching commands")});
    this.textarea = h("textarea", {
      id: inputId, class: "composer__input", rows: "1", placeholder: label, autocomplete: "off",
      spellcheck: "true", enterkeyhint: "send", "aria-autocomplete": "list", "aria-controls": this.popoverId,
      "aria-expanded": "false", "aria-keyshortcuts": "Enter Shift+Enter Tab ArrowUp ArrowDown",
    });
    this.textarea.value = drafts.get(key) || "";
    this.sendButton = h("button", {type: "submit", class: "btn composer__send"}, t("Send"));
    this.fileInput = h("input", {type: "file", multiple: true, class: "sr-only", tabindex: "-1", "aria-hidden": "true",
      onchange: () => {
        this.uploadFiles([...this.fileInput.files]);
        this.fileInput.value = "";
      }});
    this.uploadButton = api && h("button", {type: "button", class: "icon-btn composer__upload", title: t("Upload a file"),
      "aria-label": t("Upload a file"), onclick: () => this.fileInput.click()},
    h("span", {class: "icon icon--attach", "aria-hidden": "true"}));
    this.uploads = h("div", {class: "uploads", role: "status"});
    this.el = h("form", {class: "composer", "aria-busy": "false", onsubmit: (e) => { e.preventDefault(); this.submit(); }},
      this.popover,
      this.uploads,
      h("label", {for: inputId, class: "sr-only"}, label),
      this.uploadButton, api && this.fileInput,
      this.textarea,
      this.sendButton);
    this.textarea.addEventListener("keydown", (e) => this.onKeyDown(e));
    this.textarea.addEventListener("input", () => this.onInput());
    this.textarea.addEventListener("blur", () => setTimeout(() => this.hidePopover(), 150));
    if (api) {
      this.textarea.addEventListener("paste", (e) => this.onPaste(e));
      // Files dropped anywhere on the open conversation are uploaded to it.
      for (const type of ["dragenter", "dragover", "dragleave", "drop"]) this.on(document, type, (e) => this.onDrag(e));
    }
  }

  on(target, type, fn) {
    target.addEventListener(type, fn);
    this.listeners.push(() => target.removeEventListener(type, fn));
  }

  destroy() {
    this.destroyed = true;
    drafts.set(this.key, this.textarea.value);
    for (const off of this.listeners) off();
  }

  focus() {
    this.resize();
    this.textarea.focus({preventScroll: true});
  }

  /** Put text at the caret (a nick clicked in the participants list). */
  insert(text) {
    const ta = this.textarea;
    const start = ta.selectionStart;
    const before = ta.value.slice(0, start);
    const sep = before && !/\s$/.test(before) ? " " : "";
    ta.setRangeText(sep + text, start, ta.selectionEnd, "end");
    this.onInput();
    this.focus();
  }

  /**
   * Send the text. It stays in the box until the server has accepted it (onSend resolves to
   * anything but false), so nothing typed is lost when it cannot be sent; meanwhile the form is
   * busy and Enter does not send again.
   */
  async submit() {
    const text = this.textarea.value;
    if (!text.trim() || this.sending) return;
    const list = histories.get(this.key) || [];
    if (list[list.length - 1] !== text) list.push(text);
    if (list.length > HISTORY_SIZE) list.shift();
    histories.set(this.key, list);
    this.historyPos = null;
    this.sending = true;
    this.el.setAttribute("aria-busy", "true");
    let accepted = false;
    try {
      accepted = (await this.onSend(text)) !== false;
    } finally {
      this.sending = false;
      this.el.setAttribute("aria-busy", "false");
    }
    if (!accepted) return;
    // Accepted: clear the box, unless it was edited meanwhile (then the edit is the user's).
    if (this.destroyed) {
      if (drafts.get(this.key) === text) drafts.delete(this.key);
    } else if (this.textarea.value === text) {
      this.textarea.value = "";
      drafts.delete(this.key);
      this.onInput();
    }
  }

  onKeyDown(e) {
    if (e.isComposing) return;
    const ta = this.textarea;
    if (e.key === "Enter" && !e.shiftKey && !e.altKey && !e.ctrlKey && !e.metaKey) {
      e.preventDefault();
      this.submit();
    } else if (e.key === "Tab" && !e.altKey && !e.ctrlKey && !e.metaKey) {
      // An empty box lets Tab move the focus, so keyboard users are never trapped here.
      if (this.complete(e.shiftKey ? -1 : 1)) e.preventDefault();
    } else if (e.key === "ArrowUp" && !e.altKey && !e.shiftKey && !ta.value.slice(0, ta.selectionStart).includes("\n")) {
      if (this.walkHistory(-1)) e.preventDefault();
    } else if (e.key === "ArrowDown" && !e.altKey && !e.shiftKey && !ta.value.slice(ta.selectionEnd).includes("\n")) {
      if (this.walkHistory(1)) e.preventDefault();
    } else if (e.key === "Escape" && !this.popover.hidden) {
      e.preventDefault();
      e.stopPropagation();
      this.hidePopover();
    } else if (e.key === "PageUp" || e.key === "PageDown") {
      e.preventDefault();
      this.onPage(e.key === "PageUp" ? -1 : 1);
    }
  }

  onInput() {
    this.completion = null;
    this.resize();
    this.updatePopover();
  }

  resize() {
    const ta = this.textarea;
    if (!ta.isConnected) return;
    ta.style.height = "auto"; // CSSOM, allowed by the CSP (no style attribute in markup)
    ta.style.height = `${Math.min(ta.scrollHeight, 200)}px`;
  }

  // --- uploads -------------------------------------------------------------------------

  dropZone() {
    return this.el.closest(".conv") || this.el;
  }

  onDrag(e) {
    const zone = this.dropZone();
    const dt = e.dataTransfer;
    if (!dt || ![...dt.types].includes("Files")) return;
    if (!zone.contains(e.target)) {
      // Outside the conversation a dropped file would replace the app: refuse it.
      if (e.type === "dragover" || e.type === "drop") {
        e.preventDefault();
        dt.dropEffect = "none";
      }
      if (e.type === "drop") zone.classList.remove("conv--drop");
      return;
    }
    e.preventDefault();
    if (e.type === "dragenter" || e.type === "dragover") {
      dt.dropEffect = "copy";
      zone.classList.add("conv--drop");
    } else if (e.type === "dragleave") {
      if (!e.relatedTarget || !zone.contains(e.relatedTarget)) zone.classList.remove("conv--drop");
    } else {
      zone.classList.remove("conv--drop");
      this.uploadFiles([...dt.files]);
    }
  }

  onPaste(e) {
    const data = e.clipboardData;
    const files = data ? [...data.files] : [];
    // Text is pasted as usual, also when the clipboard has a picture of it (office programs).
    if (!files.length || [...data.types].includes("text/plain")) return;
    e.preventDefault();
    this.uploadFiles(files);
  }

  /** Upload one file after the other; each link goes in at the caret when it is done. */
  async uploadFiles(files) {
    for (const file of files) await this.uploadOne(file);
  }

  async uploadOne(file) {
    const name = file.name || t("pasted file");
    const bar = h("progress", {max: "100", value: "0", "aria-label": t("Uploading %1", name)});
    const text = h("span", {class: "upload__text"}, t("Uploading %1", name));
    const row = h("div", {class: "upload"}, text, bar);
    this.uploads.append(row);
    try {
      const stored = await uploadFile(this.api, file, {onProgress: (part) => { bar.value = Math.round(part * 100); }});
      row.remove();
      if (this.destroyed) {
        // The conversation was left meanwhile: the link waits in its draft.
        const draft = drafts.get(this.key) || "";
        drafts.set(this.key, draft && !/\s$/.test(draft) ? `${draft} ${stored.url}` : draft + stored.url);
      } else {
        this.insert(stored.url);
      }
    } catch (err) {
      bar.remove();
      row.classList.add("upload--error");
      row.setAttribute("role", "alert");
      text.textContent = t("Could not upload %1: %2", name, err.message);
      row.append(h("button", {type: "button", class: "icon-btn upload__close", "aria-label": t("Dismiss"),
        onclick: () => { row.remove(); this.focus(); }}, "×"));
    }
  }

  // --- history -------------------------------------------------------------------------

  walkHistory(direction) {
    const list = histories.get(this.key) || [];
    if (!list.length) return false;
    if (this.historyPos === null) {
      if (direction > 0) return false;
      this.savedDraft = this.textarea.value;
      this.historyPos = list.length;
    }
    const pos = this.historyPos + direction;
    if (pos < 0) return true;
    this.historyPos = pos;
    if (pos >= list.length) {
      this.historyPos = null;
      this.textarea.value = this.savedDraft;
    } else {
      this.textarea.value = list[pos];
    }
    const end = this.textarea.value.length;
    this.textarea.setSelectionRange(end, end);
    this.resize();
    this.updatePopover();
    return true;
  }

  // --- completion ----------------------------------------------------------------------

  /** Complete the word before the caret; repeated Tab cycles. Returns whether it did anything. */
  complete(direction) {
    const ta = this.textarea;
    let c = this.completion;
    if (!c || ta.value !== c.value || ta.selectionStart !== c.caret) {
      const caret = ta.selectionStart;
      const m = /(\S*)$/.exec(ta.value.slice(0, caret));
      const word = m[1];
      if (!word) return false;
      const start = caret - word.length;
      const options = this.options(word, start);
      if (!options.length) return true; // nothing matches: keep the focus here anyway
      c = {start, end: caret, after: ta.value.slice(ta.selectionEnd), options, index: direction > 0 ? -1 : 0};
    }
    c.index = (c.index + direction + c.options.length) % c.options.length;
    const choice = c.options[c.index];
    ta.value = ta.value.slice(0, c.start) + choice + c.after;
    c.end = c.start + choice.length;
    ta.setSelectionRange(c.end, c.end);
    c.value = ta.value;
    c.caret = c.end;
    this.completion = c;
    this.resize();
    this.updatePopover();
    this.markPopover(choice.trim());
    return true;
  }

  options(word, start) {
    const lc = word.toLowerCase();
    if (word.startsWith("/") && start === 0) return matchCommands(lc.slice(1)).map((cmd) => `/${cmd.name} `);
    if (word.startsWith(":") && word.length > 1) return matchEmoji(lc.slice(1)).map(([, emoji]) => emoji);
    const {nicks = [], channels = []} = this.candidates() || {};
    const pool = /^[#&]/.test(word) ? channels : nicks;
    const seen = new Set();
    const found = pool.filter((name) => {
      const key = name.toLowerCase();
      if (!key.startsWith(lc) || seen.has(key)) return false;
      seen.add(key);
      return true;
    });
    const suffix = /^[#&]/.test(word) || start > 0 ? " " : ": ";
    return found.map((name) => name + suffix);
  }

  // --- command popover -----------------------------------------------------------------

  updatePopover() {
    const value = this.textarea.value;
    let commands = [];
    const typing = /^\/(\w*)$/.exec(value);
    const typed = /^\/(\w+)\s/.exec(value);
    if (typing) commands = matchCommands(typing[1]).slice(0, 8);
    else if (typed && findCommand(typed[1])) commands = [findCommand(typed[1])];
    if (!commands.length) return this.hidePopover();
    this.popover.replaceChildren(...commands.map((cmd) => h("li", {
      role: "option", id: `${this.popoverId}-${cmd.name}`, "aria-selected": "false", dataset: {command: cmd.name},
      onmousedown: (e) => {
        e.preventDefault();
        this.textarea.value = `/${cmd.name} `;
        this.onInput();
        this.focus();
      },
    }, h("code", {}, cmd.usage), " ", h("span", {class: "popover__desc"}, cmd.description))));
    this.popover.hidden = false;
    this.textarea.setAttribute("aria-expanded", "true");
  }

  markPopover(choice) {
    if (this.popover.hidden) return;
    let active = null;
    for (const li of this.popover.children) {
      const selected = `/${li.dataset.command}` === choice;
      li.setAttribute("aria-selected", selected ? "true" : "false");
      if (selected) active = li;
    }
    if (active) this.textarea.setAttribute("aria-activedescendant", active.id);
  }

  hidePopover() {
    this.popover.hidden = true;
    this.textarea.setAttribute("aria-expanded", "false");
    this.textarea.removeAttribute("aria-activedescendant");
  }
}
