// The hook where link previews from GET /api/embed will attach (a later phase). A message
// element and the http(s) links found in it come here after the message is rendered.
// Keep it cheap: it runs for every rendered message, and messages are re-rendered as the user
// scrolls through history.
export function attachEmbeds(messageEl, urls, msg) { // eslint-disable-line no-unused-vars
  // Nothing yet.
}
