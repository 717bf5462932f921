// The dashboard API (docs/bridge.md, "Dashboard API"). Same-origin requests carry the session
// cookie; POST and DELETE send nothing special, the browser adds Origin.

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.name = "ApiError";
    this.status = status;
  }
}

let onUnauthorized = () => {};
/** Called once per 401 answer (the session cookie is missing or expired). */
export function setUnauthorizedHandler(fn) { onUnauthorized = fn; }

/** Encode one path segment (extension ids contain "/"). */
export const seg = (s) => encodeURIComponent(String(s));

async function request(method, path, { signal, json } = {}) {
  const init = { method, credentials: "same-origin", signal };
  if (json !== undefined) {
    init.headers = { "Content-Type": "application/json" };
    init.body = JSON.stringify(json);
  }
  const res = await fetch(path, init);
  if (res.ok) return res;
  if (res.status === 401) onUnauthorized();
  let message = `${method} ${path} answered ${res.status}`;
  try {
    const text = await res.text();
    try { message = JSON.parse(text).message || message; } catch { if (text) message = text; }
  } catch { /* keep the default */ }
  throw new ApiError(res.status, message);
}

export const api = {
  json: (path, opts) => request("GET", path, opts).then((r) => r.json()),
  text: (path, opts) => request("GET", path, opts).then((r) => r.text()),
  /** The raw response, for streamed bodies. */
  stream: (path, opts) => request("GET", path, opts),
  post: (path) => request("POST", path).then((r) => r.json()),
  /** POST with a JSON body. */
  postJson: (path, body) => request("POST", path, { json: body }).then((r) => r.json()),
  del: (path) => request("DELETE", path).then((r) => r.json()),
};

/** ws:// URL for a path on this origin. */
export function wsUrl(path) {
  return (location.protocol === "https:" ? "wss://" : "ws://") + location.host + path;
}
