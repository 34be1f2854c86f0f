// Slash commands: the server's (docs/irc.md) with help text, plus the browser-side aliases of
// spec §5.2 that the server never sees.
import {t} from "../i18n.js";

// [name, usage, description]; descriptions are functions so t() runs after the dictionary loaded.
const SERVER_COMMANDS = [
  ["me", "/me <text>", () => t("Send an action, like \"* you wave\".")],
  ["say", "/say <text>", () => t("Send the text as it is, even when it starts with /.")],
  ["msg", "/msg <nick> <text>", () => t("Send a private message.")],
  ["query", "/query <name>", () => t("Open a conversation with a nick or channel.")],
  ["join", "/join <#channel> [key]", () => t("Join a channel.")],
  ["part", "/part [name]", () => t("Leave a channel.")],
  ["close", "/close [name]", () => t("Close this or another conversation.")],
  ["nick", "/nick <nick>", () => t("Change your nick.")],
  ["whois", "/whois <nick>", () => t("Look someone up.")],
  ["names", "/names", () => t("List the participants of this channel.")],
  ["topic", "/topic [text]", () => t("Show or set the topic.")],
  ["mode", "/mode [target] <modes>", () => t("Show or change modes.")],
  ["kick", "/kick <nick> [reason]", () => t("Kick someone from this channel.")],
  ["invite", "/invite <nick> [#channel]", () => t("Invite someone to a channel.")],
  ["away", "/away [text]", () => t("Set or clear your away message.")],
  ["ison", "/ison <nick>", () => t("Check if someone is online.")],
  ["oper", "/oper <name> <password>", () => t("Log in as an IRC operator.")],
  ["list", "/list [refresh] [/word/]", () => t("List the channels on the server.")],
  ["clear", "/clear history <name>", () => t("Delete every logged message of a conversation.")],
  ["quote", "/quote <raw line>", () => t("Send a raw IRC line.")],
  ["connect", "/connect", () => t("Connect to the server.")],
  ["disconnect", "/disconnect", () => t("Disconnect from the server.")],
  ["reconnect", "/reconnect", () => t("Disconnect and connect again.")],
];

const SERVICES = {cs: "chanserv", ns: "nickserv", ms: "memoserv", hs: "hostserv", bs: "botserv", os: "operserv"};

const BROWSER_COMMANDS = [
  ["j", "/j <#channel>", () => t("Short for /join.")],
  ["raw", "/raw <line>", () => t("Short for /quote.")],
  ["shrug", "/shrug [text]", () => t("Send the text with ¯\\_(ツ)_/¯.")],
  ...Object.entries(SERVICES).map(([alias, service]) => [alias, `/${alias} <command>`, () => t("Talk to %1.", service)]),
];

export const COMMANDS = [...SERVER_COMMANDS, ...BROWSER_COMMANDS]
  .map(([name, usage, describe]) => ({name, usage, get description() { return describe(); }}));

/** Commands whose name starts with `prefix` (without the slash). */
export function matchCommands(prefix) {
  const p = prefix.toLowerCase();
  return COMMANDS.filter((c) => c.name.startsWith(p));
}

export function findCommand(name) {
  return COMMANDS.find((c) => c.name === name.toLowerCase()) || null;
}

/**
 * What to send for what the user typed. `isServerTab`: in a connection's own tab, text that is
 * not a command goes to the server as a raw line (spec §5.2), unless it is addressed to a
 * service account ("nickserv: identify ...").
 */
export function rewrite(text, {isServerTab = false, serviceAccounts = []} = {}) {
  const m = /^\s*\/([A-Za-z]+)\b ?([\s\S]*)$/.exec(text);
  if (!m) {
    if (isServerTab) {
      const service = /^(\S+):\s/.exec(text);
      if (!(service && serviceAccounts.includes(service[1]))) return `/quote ${text}`;
    }
    return text;
  }
  const name = m[1].toLowerCase();
  const rest = m[2];
  if (name === "j") return `/join ${rest}`;
  if (name === "raw") return `/quote ${rest}`;
  if (name === "shrug") return `/say ${rest ? `${rest} ` : ""}¯\\_(ツ)_/¯`;
  if (SERVICES[name]) return `/quote ${SERVICES[name]} ${rest}`;
  return text.replace(/^\s+/, "");
}

/** The command word of a (rewritten) message, lower-case, or "". */
export function commandOf(message) {
  const m = /^\/([A-Za-z]+)/.exec(message);
  return m ? m[1].toLowerCase() : "";
}
