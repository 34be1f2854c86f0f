// /settings/files: the user's uploads and pastes (GET /api/files, newest first, 60 a page,
// paged with after/next/prev), each with a link, and deleting them after a confirmation
// (DELETE /api/files/<uid>/<id,id,...>). docs/files.md has the details.
import {h, uid} from "../dom.js";
import {t} from "../i18n.js";
import {fullTime, parseTs} from "../time.js";

const LIMIT = 60;

let dateFormat = null;
function shortDate(ms) {
  if (!dateFormat) {
    try {
      dateFormat = new Intl.DateTimeFormat(document.documentElement.lang || undefined, {dateStyle: "medium", timeStyle: "short"});
    } catch {
      dateFormat = new Intl.DateTimeFormat(undefined, {dateStyle: "medium", timeStyle: "short"});
    }
  }
  return dateFormat.format(new Date(ms));
}

export function formatSize(bytes) {
  const units = ["byte", "kilobyte", "megabyte", "gigabyte"];
  let value = Number(bytes) || 0;
  let i = 0;
  while (value >= 1000 && i < units.length - 1) {
    value /= 1000;
    i += 1;
  }
  try {
    return new Intl.NumberFormat(document.documentElement.lang || undefined, {style: "unit", unit: units[i],
      unitDisplay: i ? "short" : "long", maximumFractionDigits: i ? 1 : 0}).format(value);
  } catch {
    return `${Math.round(value)} ${["B", "kB", "MB", "GB"][i]}`;
  }
}

/** A modal "are you sure?"; resolves with true when confirmed. */
export function confirmDialog({title, text, confirmLabel}) {
  return new Promise((resolve) => {
    const titleId = uid("dialog-title");
    let answer = false;
    const dialog = h("dialog", {class: "dialog", "aria-labelledby": titleId, role: "alertdialog"},
      h("h2", {id: titleId, class: "dialog__title"}, title),
      h("p", {}, text),
      h("form", {method: "dialog", class: "form__actions"},
        h("button", {type: "submit", class: "btn btn--quiet", value: "cancel", autofocus: true}, t("Cancel")),
        h("button", {type: "submit", class: "btn btn--danger", value: "ok", onclick: () => { answer = true; }}, confirmLabel)));
    dialog.addEventListener("close", () => {
      dialog.remove();
      resolve(answer);
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}

export class FilesView {
  constructor(app, query = new URLSearchParams()) {
    this.app = app;
    this.after = query.get("after") || "";
    this.generation = 0;
    this.files = [];
    this.status = h("p", {class: "search__status", role: "status"});
    this.selectAll = h("input", {type: "checkbox", "aria-label": t("Select all files"), onchange: () => {
      for (const box of this.tbody.querySelectorAll("input[type=checkbox]")) box.checked = this.selectAll.checked;
      this.updateSelection();
    }});
    this.tbody = h("tbody", {});
    this.table = h("table", {class: "table files__table", hidden: true},
      h("caption", {class: "sr-only"}, t("Your files")),
      h("thead", {}, h("tr", {},
        h("th", {scope: "col", class: "files__check"}, this.selectAll),
        h("th", {scope: "col"}, t("Name")),
        h("th", {scope: "col"}, t("Size")),
        h("th", {scope: "col"}, t("Uploaded")),
        h("th", {scope: "col"}, h("span", {class: "sr-only"}, t("Actions"))))),
      this.tbody);
    this.deleteSelected = h("button", {type: "button", class: "btn btn--small btn--danger", disabled: true,
      onclick: () => this.remove(this.selectedIds())}, t("Delete selected"));
    this.newer = h("a", {class: "btn btn--small btn--quiet", hidden: true}, "← ", t("Newer files"));
    this.older = h("a", {class: "btn btn--small btn--quiet", hidden: true}, t("Older files"), " →");
    this.el = h("section", {class: "page files", "aria-labelledby": "files-title"},
      h("header", {class: "conv__header"}, app.chat.menuButton(),
        h("div", {class: "conv__titles"}, h("h1", {id: "files-title", class: "conv__name", tabindex: "-1"}, t("Files")))),
      h("div", {class: "page__body"},
        h("p", {class: "form__hint"},
          t("Files you uploaded and long messages sent as pastes. Anyone with a link can open the file, until you delete it.")),
        h("p", {class: "page__actions"}, this.deleteSelected),
        this.status,
        h("div", {class: "files__scroll"}, this.table),
        h("nav", {class: "page__actions files__pages", "aria-label": t("Pages")}, this.newer, this.older)));
    document.title = `${t("Files")} - Convos`;
  }

  mount() {
    this.load();
  }

  destroy() {
    this.generation += 1;
  }

  focus() {
    this.el.querySelector("h1").focus();
  }

  pagePath(after) {
    return this.app.url(after ? `/settings/files?after=${encodeURIComponent(after)}` : "/settings/files");
  }

  async load() {
    const gen = ++this.generation;
    this.status.textContent = t("Loading...");
    let body;
    try {
      body = await this.app.api.call("getFiles", {after: this.after, limit: LIMIT});
    } catch (err) {
      if (gen !== this.generation) return;
      this.status.textContent = err.message;
      return;
    }
    if (gen !== this.generation) return;
    this.files = body.files || [];
    if (!this.files.length && this.after) {
      // This page is gone (its files were deleted): start over from the newest.
      this.after = "";
      history.replaceState({}, "", this.pagePath(""));
      this.load();
      return;
    }
    this.render(body);
  }

  render(body) {
    const uidOfUser = this.app.store.user ? this.app.store.user.uid : "";
    this.tbody.replaceChildren(...this.files.map((f) => {
      const ms = parseTs(f.saved);
      const href = this.app.url(`/file/${encodeURIComponent(uidOfUser)}/${encodeURIComponent(f.id)}`);
      const box = h("input", {type: "checkbox", value: f.id, "aria-label": t("Select %1", f.name),
        onchange: () => this.updateSelection()});
      return h("tr", {dataset: {id: f.id}},
        h("td", {class: "files__check"}, box),
        h("td", {class: "files__name"}, h("a", {href, target: "_blank", rel: "noopener", dataset: {external: "1"}}, f.name)),
        h("td", {class: "files__size"}, formatSize(f.size)),
        h("td", {}, h("time", {datetime: new Date(ms).toISOString(), title: fullTime(ms)}, shortDate(ms))),
        h("td", {class: "files__actions"},
          h("button", {type: "button", class: "btn btn--small btn--quiet", "aria-label": t("Delete %1", f.name),
            onclick: () => this.remove([f.id])}, t("Delete"))));
    }));
    this.table.hidden = !this.files.length;
    this.status.textContent = this.files.length ? "" : t("You have not uploaded any files.");
    this.selectAll.checked = false;
    this.updateSelection();
    // `prev` is the `after` of the previous page (none: the first page). `next` is the first id
    // of the next page, but `after` starts *after* the id it names, so the next page starts
    // after the last file shown here (following `next` would skip a file).
    this.newer.hidden = !this.after;
    this.newer.href = this.pagePath(body.prev || "");
    const last = this.files[this.files.length - 1];
    this.older.hidden = !(body.next && last);
    if (!this.older.hidden) this.older.href = this.pagePath(last.id);
  }

  selectedIds() {
    return [...this.tbody.querySelectorAll("input[type=checkbox]:checked")].map((box) => box.value);
  }

  updateSelection() {
    const n = this.selectedIds().length;
    this.deleteSelected.disabled = n === 0;
    this.deleteSelected.textContent = n ? t("Delete selected (%1)", n) : t("Delete selected");
  }

  async remove(ids) {
    if (!ids.length) return;
    const names = ids.map((id) => (this.files.find((f) => f.id === id) || {name: id}).name);
    const ok = await confirmDialog({
      title: ids.length === 1 ? t("Delete %1?", names[0]) : t("Delete %1 files?", ids.length),
      text: t("Links to the deleted files stop working, also in messages already sent. This cannot be undone."),
      confirmLabel: t("Delete"),
    });
    if (!ok) return;
    const userUid = this.app.store.user ? this.app.store.user.uid || "0" : "0";
    try {
      const res = await this.app.api.call("deleteFiles", {uid: userUid, fid: ids.join(",")});
      const n = res.deleted ?? ids.length;
      await this.load();
      this.status.textContent = n === 1 ? t("Deleted 1 file.") : t("Deleted %1 files.", n);
    } catch (err) {
      // 404: none of them was left (deleted in another tab, say): show the list as it is now.
      if (err.status === 404) await this.load();
      this.status.textContent = err.message;
    }
    this.focus();
  }
}
