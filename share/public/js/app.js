// Entry point: read the page's meta tags, load translations and the API description, then
// route. Error pages rendered by the server (convos:start_app is empty) are left as they are.
import {Api} from "./api.js";
import {config, eventsUrl, url} from "./config.js";
import {h} from "./dom.js";
import {configureEmbeds, setInlineMedia} from "./embeds.js";
import {loadI18n, t} from "./i18n.js";
import {Attention} from "./attention.js";
import {readingPrefs} from "./prefs.js";
import {startDesktopNotifications} from "./notify.js";
import {startFocusReports} from "./push.js";
import {Router} from "./router.js";
import {EventSocket} from "./socket.js";
import {ChatStore} from "./store.js";
import {LoginView, RegisterView} from "./views/auth.js";
import {ChatView} from "./views/chat.js";
import {FilesView} from "./views/files.js";
import {HelpView} from "./views/help.js";
import {NotificationsView} from "./views/notifications.js";
import {PlaceholderView} from "./views/placeholder.js";
import {SearchView} from "./views/search.js";
import {settingsView} from "./views/settings.js";
import {applyTheme, loadCustomCss} from "./theme.js";

const app = {
  config,
  url,
  api: null,
  store: new ChatStore(),
  socket: null,
  router: null,
  chat: null,
  user: null,
  root: null,
  page: null,
};
window.convos = app; // for the browser console and the end-to-end tests

async function boot() {
  applyTheme();
  document.body.classList.replace("no-js", "js");
  if (config.startApp !== "chat") return;
  registerServiceWorker();
  await loadI18n(config.basePath);
  app.api = new Api(config.basePath);
  try {
    await app.api.load();
    configureEmbeds({api: app.api});
    app.user = await fetchUser();
    if (app.user) await loadAppearance();
  } catch (err) {
    fatal(err.message);
    return;
  }
  app.root = h("div", {id: "app", class: "app"});
  document.getElementById("app").replaceWith(app.root);
  app.router = new Router(config.basePath, route);
  app.router.start();
}

async function fetchUser() {
  try {
    return await app.api.call("getUser", {connections: true, conversations: true});
  } catch (err) {
    if (err.status === 401) return null;
    throw err;
  }
}

/** The user's own CSS, and the preferences kept with the account (before any message shows). */
async function loadAppearance() {
  loadCustomCss();
  try {
    const prefs = await app.api.call("getPreferences");
    setInlineMedia(prefs.inline_media !== false);
    if (prefs.joins) readingPrefs.joins = prefs.joins;
  } catch {
    // The choice this browser remembers stays.
  }
}

/** After logging in or registering: load everything and open the chat. The page replaces
 * /login or /register in the history, so Back does not return to it and an invite token does
 * not stay in the history. */
app.loggedIn = async () => {
  app.user = await fetchUser();
  if (app.user) await loadAppearance();
  await app.router.go("/chat", {replace: true});
};

function route(where) {
  const done = routeTo(where);
  // Where this tab looks, for Web Push (push.js).
  window.dispatchEvent(new CustomEvent("convos:route"));
  return done;
}

function routeTo({segments, query}) {
  const [first, ...rest] = segments;
  if (first === "login" || first === "register") {
    if (app.user && !(first === "register" && query.get("token"))) return app.router.go("/chat", {replace: true});
    // Nobody can log in before the first account exists: set it up.
    if (first === "login" && config.firstUser && !app.user) return app.router.go("/register", {replace: true});
    stopChat();
    return showPage(first === "login" ? new LoginView(app) : new RegisterView(app, query));
  }
  if (!app.user) return app.router.go(config.firstUser ? "/register" : "/login", {replace: true});
  if (!first || first === "index.html") return app.router.go("/chat", {replace: true});
  const chat = startChat();
  if (first === "chat" && rest.length === 1 && rest[0] === "notifications") return chat.showView(new NotificationsView(app));
  if (first === "chat") return chat.showChat(rest, query);
  if (first === "help") return chat.showView(new HelpView(app));
  if (first === "search") return chat.showView(new SearchView(app, query));
  if (first === "settings" && rest.length === 1 && rest[0] === "files") return chat.showView(new FilesView(app, query));
  if (first === "settings") {
    const view = settingsView(app, rest, query);
    return view ? chat.showView(view) : app.router.go("/settings/account", {replace: true});
  }
  return chat.showView(new PlaceholderView(app, t("Page not found")));
}

function showPage(view) {
  if (app.page) app.page.destroy();
  app.page = view;
  app.root.replaceChildren(h("main", {class: "page-main"}, view.el));
  view.mount();
  view.focus();
}

function startChat() {
  if (app.chat) return app.chat;
  if (app.page) app.page.destroy();
  app.page = null;
  app.store.load(app.user);
  app.socket = new EventSocket(eventsUrl());
  app.chat = new ChatView(app);
  app.stopNotifications = startDesktopNotifications(app);
  app.stopFocusReports = startFocusReports(app);
  app.attention = new Attention(app);
  app.root.replaceChildren(app.chat.el);
  app.socket.open();
  return app.chat;
}

function stopChat() {
  if (!app.chat) return;
  app.chat.destroy();
  app.stopNotifications();
  app.stopFocusReports();
  app.attention.destroy();
  app.socket.stop();
  app.chat = null;
  app.socket = null;
}

/** The service worker makes the app installable and start offline; browsers only allow it on
 * https and on localhost (isSecureContext). */
function registerServiceWorker() {
  if (!("serviceWorker" in navigator) || !window.isSecureContext) return;
  navigator.serviceWorker.register(url("/sw.js"), {scope: `${config.basePath}/`})
    .catch((err) => console.warn("No service worker:", err));
}

function fatal(message) {
  const box = document.querySelector("#app .shell__box") || document.body;
  box.replaceChildren(h("h1", {}, t("Convos could not start")), h("p", {}, message),
    h("a", {class: "btn", href: url("/")}, t("Try again")));
}

boot();
