// The "Push notifications" part of the account settings (docs/push.md): subscribe this device,
// the list of devices with a remove button, a test button, the off switch, the no-text option
// and the choice of one conversation.
import {h} from "../dom.js";
import {t} from "../i18n.js";
import {currentSubscription, pushSupport, subscribeDevice} from "../push.js";
import {convKey} from "../store.js";
import {fullTime} from "../time.js";
import {field} from "./dialogs.js";

const POLICIES = () => [["mentions", t("Mentions and private messages")], ["all", t("All messages")],
  ["nothing", t("Nothing")]];

const DEVICE_KEY = "convos.pushDevice";

/** The id of this browser's device (its answer to addPushSubscription), kept in localStorage. */
function thisDevice() {
  try { return localStorage.getItem(DEVICE_KEY) || ""; } catch { return ""; }
}

function rememberDevice(id) {
  try {
    if (id) localStorage.setItem(DEVICE_KEY, id);
    else localStorage.removeItem(DEVICE_KEY);
  } catch { /* private mode */ }
}

export class PushSettings {
  constructor(app, on) {
    this.app = app;
    this.settings = null;
    this.status = h("p", {class: "form__status", role: "status"});
    this.support = h("p", {class: "form__hint"});
    this.list = h("ul", {class: "settings-list push-devices"});
    this.subscribeButton = h("button", {type: "button", class: "btn btn--small", onclick: () => this.subscribe()},
      t("Get notifications on this device"));
    this.testButton = h("button", {type: "button", class: "btn btn--small btn--quiet", onclick: () => this.test()},
      t("Send a test notification"));
    this.enabled = h("input", {type: "checkbox", name: "push_enabled", onchange: () => this.save({enabled: this.enabled.checked})});
    this.content = h("input", {type: "checkbox", name: "push_content", onchange: () => this.save({content: this.content.checked})});
    this.conversation = h("select", {name: "push_conversation", onchange: () => this.showPolicy()});
    this.policy = h("select", {name: "push_policy", onchange: () => this.savePolicy()},
      ...POLICIES().map(([value, label]) => h("option", {value}, label)));
    this.el = h("div", {class: "push-settings"},
      h("p", {class: "form__hint"}, t("Mentions, private messages and invites reach your devices even when Convos is closed.")),
      this.support,
      h("div", {class: "form__actions form__actions--start"}, this.subscribeButton, this.testButton),
      this.list,
      h("div", {class: "form settings-form"},
        field(t("Push notifications"), this.enabled),
        field(t("Send message text"), this.content, t("Off: notifications only say \"New message in #channel\".")),
        field(t("Conversation"), this.conversation), field(t("Push"), this.policy)),
      this.status);
    on(app.store, "sidebar", () => this.renderConversations());
    this.load();
  }

  async load() {
    const support = pushSupport();
    this.subscribeButton.hidden = support !== "yes";
    this.support.textContent = support === "yes" ? ""
      : support === "ios-install" ? t("On iPhone and iPad, add Convos to the Home Screen and open it from there to get notifications.")
        : t("This browser cannot get push notifications here.");
    this.support.hidden = support === "yes";
    try {
      const [devices, settings] = await Promise.all([this.app.api.call("listPushSubscriptions"),
        this.app.api.call("getPushSettings")]);
      this.settings = settings;
      this.renderDevices(devices.devices || []);
      this.renderSettings();
    } catch (err) {
      this.status.textContent = err.message;
    }
  }

  renderDevices(devices) {
    this.devices = devices;
    this.testButton.disabled = !devices.length;
    const items = devices.map((device) => h("li", {class: "settings-list__item", "data-device": device.id},
      h("span", {class: "settings-list__name"}, device.name,
        device.id === thisDevice() ? [" ", h("span", {class: "badge"}, t("this device"))] : null),
      h("span", {class: "settings-list__meta"}, [device.browser, device.service].filter(Boolean).join(", "), " · ",
        t("Added %1", fullTime(Date.parse(device.created))),
        device.last_used ? [" · ", t("Last used %1", fullTime(Date.parse(device.last_used)))] : null),
      h("button", {type: "button", class: "btn btn--small btn--danger btn--quiet", onclick: () => this.remove(device),
        "aria-label": t("Remove device %1", device.name)}, t("Remove"))));
    this.list.replaceChildren(...(items.length ? items : [h("li", {}, t("No devices get notifications yet."))]));
  }

  renderSettings() {
    this.enabled.checked = this.settings.enabled;
    this.content.checked = this.settings.content;
    this.renderConversations();
  }

  renderConversations() {
    if (!this.settings) return;
    const chosen = this.conversation.value;
    const options = [];
    for (const conn of this.app.store.sortedConnections()) {
      for (const conv of this.app.store.conversationsOf(conn.connection_id)) {
        if (!conv.conversation_id) continue;
        const key = convKey(conn.connection_id, conv.conversation_id);
        options.push(h("option", {value: key, selected: key === chosen}, `${conv.name} (${conn.name})`));
      }
    }
    this.conversation.replaceChildren(...options);
    this.conversation.disabled = this.policy.disabled = !options.length;
    this.showPolicy();
  }

  /** The choice of the conversation picked in the list. */
  showPolicy() {
    const [cid, convId] = this.selected();
    const own = (this.settings.conversations || []).find((c) => c.connection_id === cid && c.conversation_id === convId);
    this.policy.value = own ? own.policy : this.settings.default_policy;
  }

  selected() {
    const option = this.conversation.selectedOptions[0];
    if (!option) return ["", ""];
    const conv = this.app.store.get(option.value);
    return conv ? [conv.connection_id, conv.conversation_id] : ["", ""];
  }

  async savePolicy() {
    const [cid, convId] = this.selected();
    if (cid) await this.save({conversations: [{connection_id: cid, conversation_id: convId, policy: this.policy.value}]});
  }

  async save(changes) {
    this.status.textContent = "";
    try {
      this.settings = await this.app.api.call("updatePushSettings", {body: changes});
      this.renderSettings();
      this.status.textContent = t("Saved.");
    } catch (err) {
      this.status.textContent = err.message;
    }
  }

  async subscribe() {
    this.status.textContent = "";
    this.subscribeButton.disabled = true;
    try {
      const device = await subscribeDevice(this.app.api, "");
      if (device) rememberDevice(device.id);
      this.status.textContent = device ? t("This device gets notifications now.") : t("Notifications are blocked by the browser.");
    } catch (err) {
      this.status.textContent = err.message;
    } finally {
      this.subscribeButton.disabled = false;
    }
    await this.load();
  }

  async remove(device) {
    this.status.textContent = "";
    try {
      await this.app.api.call("removePushSubscription", {id: device.id});
      if (device.id === thisDevice()) {
        // This browser's own: unsubscribe it too, so its push service forgets it.
        const subscription = await currentSubscription();
        if (subscription) await subscription.unsubscribe();
        rememberDevice("");
      }
    } catch (err) {
      this.status.textContent = err.message;
    }
    await this.load();
  }

  async test() {
    this.status.textContent = "";
    this.testButton.disabled = true;
    try {
      const {devices} = await this.app.api.call("testPush");
      const failed = devices.filter((d) => !d.ok);
      this.status.textContent = !failed.length ? t("Sent to %1 devices.", devices.length)
        : failed.map((d) => t("%1: %2", d.name, d.removed ? t("removed, its subscription is gone") : d.message || d.status)).join(" ");
    } catch (err) {
      this.status.textContent = err.message;
    }
    await this.load();
  }
}
