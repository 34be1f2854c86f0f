// The REST API, built from the OpenAPI document the server serves at GET /api (host and
// basePath filled in for this request), so URLs follow the base path and the spec.
import {t} from "./i18n.js";

export class ApiError extends Error {
  constructor(status, body) {
    const first = body && Array.isArray(body.errors) && body.errors[0];
    // Server messages are msgids too (docs/i18n.md), so they are shown translated.
    super(first && first.message ? t(first.message) : t("Something went wrong (HTTP %1).", status));
    this.status = status;
    this.body = body;
    this.path = first && first.path ? first.path : "/";
  }
}

export class Api {
  constructor(basePath) {
    this.basePath = basePath;
    this.apiBase = `${basePath}/api`;
    this.operations = new Map();
  }

  /** Load the OpenAPI document. Retries while the backend is starting (503). */
  async load() {
    for (let attempt = 0; ; attempt++) {
      const res = await fetch(`${this.basePath}/api`, {credentials: "same-origin", headers: {Accept: "application/json"}});
      if (res.ok) {
        this.setSpec(await res.json());
        return this;
      }
      if (res.status !== 503 || attempt > 30) throw new ApiError(res.status, await safeJson(res));
      await new Promise((resolve) => setTimeout(resolve, Math.min(500 * (attempt + 1), 3000)));
    }
  }

  setSpec(spec) {
    // basePath is the path only: requests go to the page's own origin, where the cookie is.
    if (spec.basePath) this.apiBase = spec.basePath.replace(/\/$/, "");
    const shared = spec.parameters || {};
    for (const [path, item] of Object.entries(spec.paths || {})) {
      for (const [method, op] of Object.entries(item)) {
        if (!op || !op.operationId) continue;
        const parameters = [...(item.parameters || []), ...(op.parameters || [])].map((p) => {
          if (p.$ref) return shared[p.$ref.split("/").pop()] || {};
          return p;
        });
        this.operations.set(op.operationId, {method: method.toUpperCase(), path, parameters});
      }
    }
  }

  /** The URL and fetch options of an operation; `params` fills path, query and body parameters. */
  request(operationId, params = {}) {
    const op = this.operations.get(operationId);
    if (!op) throw new Error(`Unknown API operation ${operationId}`);
    let path = op.path;
    const query = new URLSearchParams();
    let body;
    for (const p of op.parameters) {
      const value = params[p.name];
      if (p.in === "path") {
        path = path.replace(`{${p.name}}`, encodeURIComponent(value ?? ""));
      } else if (p.in === "query") {
        if (value !== undefined && value !== null && value !== "") query.set(p.name, String(value));
      } else if (p.in === "body") {
        body = params.body !== undefined ? params.body : params;
      }
    }
    const qs = query.toString();
    const init = {method: op.method, credentials: "same-origin", headers: {Accept: "application/json"}};
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return {url: `${this.apiBase}${path}${qs ? `?${qs}` : ""}`, init};
  }

  /** Call an operation; resolves with the JSON body, rejects with ApiError (errors[0].message). */
  async call(operationId, params = {}) {
    const {url, init} = this.request(operationId, params);
    let res;
    try {
      res = await fetch(url, init);
    } catch (err) {
      throw new ApiError(0, {errors: [{message: t("Could not reach Convos. Check your network connection.")}]});
    }
    const body = await safeJson(res);
    if (!res.ok) throw new ApiError(res.status, body);
    return body;
  }
}

async function safeJson(res) {
  try { return await res.json(); } catch { return {}; }
}
