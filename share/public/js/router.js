// History-API routing under the base path. Paths given to go() and handlers are relative to
// the base path ("/chat/irc-libera/%23convos"); links inside the app are intercepted.

export class Router {
  constructor(basePath, onRoute) {
    this.basePath = basePath;
    this.onRoute = onRoute;
  }

  start() {
    window.addEventListener("popstate", () => this.dispatch());
    document.addEventListener("click", (e) => this.onClick(e));
    this.dispatch();
  }

  /** {path, segments (decoded), query} of the current location. */
  current() {
    let path = location.pathname;
    if (this.basePath && path.startsWith(this.basePath)) path = path.slice(this.basePath.length);
    if (!path.startsWith("/")) path = `/${path}`;
    const segments = path.split("/").filter(Boolean).map((s) => {
      try { return decodeURIComponent(s); } catch { return s; }
    });
    return {path, segments, query: new URLSearchParams(location.search)};
  }

  go(path, {replace = false} = {}) {
    const target = this.basePath + path;
    if (target === location.pathname + location.search) return this.dispatch();
    if (replace) history.replaceState({}, "", target);
    else history.pushState({}, "", target);
    return this.dispatch();
  }

  dispatch() {
    return this.onRoute(this.current());
  }

  onClick(e) {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    const a = e.target.closest && e.target.closest("a[href]");
    if (!a || a.target || a.hasAttribute("download") || a.dataset.external) return;
    const u = new URL(a.href, location.href);
    if (u.origin !== location.origin) return;
    let path = u.pathname;
    if (this.basePath) {
      if (!path.startsWith(`${this.basePath}/`)) return;
      path = path.slice(this.basePath.length);
    }
    if (/^\/(api|assets|logout|events|file)\b/.test(path)) return;
    e.preventDefault();
    this.go(path + u.search);
  }
}
