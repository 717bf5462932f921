// The dashboard API (docs/bridge.md, "Dashboard API"). Same-origin requests carry the session
// cookie and the page key (X-Dockhand-Key); POST and DELETE send nothing else special, the
// browser adds Origin.
//
// The page key: the login redirect puts it in the URL fragment (#key=…), which no server ever
// receives; it is kept in this origin's localStorage, which no other localhost port can read.
// The session cookie alone is not enough for the API: cookies are shared by every localhost port.

const KEY_STORE = "dockhand.pageKey";

/** Takes the page key from the login redirect's fragment, then removes the fragment. */
export function adoptPageKey(loc = globalThis.location, storage = globalThis.localStorage, hist = globalThis.history) {
  const m = /^#key=([0-9a-f]{16,128})$/.exec(loc?.hash || "");
  if (!m) return;
  try { storage.setItem(KEY_STORE, m[1]); } catch { /* storage off: the API will say so */ }
  hist?.replaceState(null, "", loc.pathname + loc.search);
}

/** The page key, or "" when this page has none. */
export function pageKey(storage = globalThis.localStorage) {
  try { return storage.getItem(KEY_STORE) || ""; } catch { return ""; }
}

if (typeof location !== "undefined") adoptPageKey();

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
  const init = { method, credentials: "same-origin", signal, headers: { "X-Dockhand-Key": pageKey() } };
  if (json !== undefined) {
    init.headers["Content-Type"] = "application/json";
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

/** ws:// URL for a path on this origin, with the page key (a WebSocket cannot send headers). */
export function wsUrl(path) {
  const sep = path.includes("?") ? "&" : "?";
  return (location.protocol === "https:" ? "wss://" : "ws://") + location.host + path +
    sep + "key=" + encodeURIComponent(pageKey());
}
