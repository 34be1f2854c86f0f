// What the server tells the app through <meta> tags in share/templates/app.html (spec §4.13).

function meta(name) {
  const el = document.querySelector(`meta[name="${name}"]`);
  return el ? el.getAttribute("content") || "" : "";
}

function decodeB64(value) {
  try { return new TextDecoder().decode(Uint8Array.from(atob(value), (c) => c.charCodeAt(0))); }
  catch { return ""; }
}

// convos:base_url is absolute and ends with "/": http://example.com/convos/. Every URL the app
// builds starts from it, so the app works under a sub path behind a reverse proxy (spec §1.5).
const baseUrl = new URL(meta("convos:base_url") || "/", location.href);
if (!baseUrl.pathname.endsWith("/")) baseUrl.pathname += "/";

export const config = {
  baseUrl: baseUrl.href,
  // "/convos" or "" for the root
  basePath: baseUrl.pathname.replace(/\/$/, ""),
  contact: decodeB64(meta("convos:contact")),
  csrf: meta("csrf"),
  existingUser: meta("convos:existing_user") === "yes",
  firstUser: meta("convos:first_user") === "yes",
  openToPublic: meta("convos:open_to_public") === "yes",
  oidcName: meta("convos:oidc_name"),
  organizationName: meta("contactorganization") || "Convos",
  organizationUrl: meta("contactnetworkaddress"),
  startApp: meta("convos:start_app"),
  status: Number(meta("convos:status") || 200),
  version: meta("version"),
};

/** An absolute path under the base path: url("/chat") -> "/convos/chat". */
export function url(path) {
  return config.basePath + (path.startsWith("/") ? path : `/${path}`);
}

/** ws(s)://host/base/events for the page's own host (the server checks the Origin). */
export function eventsUrl() {
  const u = new URL("events", config.baseUrl);
  // The socket must go to the host the page came from, or the session cookie is not sent.
  u.host = location.host;
  u.protocol = location.protocol === "https:" ? "wss:" : "ws:";
  return u.href;
}
