/*
 * The shell's side of the postMessage protocol with ddclient.js (whose header documents the
 * same protocol; docs/bridge.md is the contract).
 *
 *   iframe -> shell  {dockhand: 1, id, op, args}
 *   shell -> iframe  {dockhand: 1, id, ok: true, value} | {dockhand: 1, id, ok: false, error: {message}}
 *   ops: toast {level, message} · showOpenDialog options · navigate {to, id?, tag?, name?} · openExternal {url}
 *
 * A request is handled only when event.source is the contentWindow of an iframe the shell
 * registered AND event.origin is exactly the origin of that iframe's ticket URL. The answer is
 * posted to that same origin, never "*". Anything else is ignored without an answer.
 */

/**
 * handlers: {op: async (args, ext) => value}. Returns {register, unregister, onMessage}.
 * `win` is the window to listen on (a fake in tests).
 */
export function createBridge(handlers, win = window) {
  const frames = new Map(); // iframe element -> {origin, ext}

  function register(iframe, origin, ext) { frames.set(iframe, { origin, ext }); }
  function unregister(iframe) { frames.delete(iframe); }

  function frameOf(source) {
    if (!source) return null;
    for (const [iframe, f] of frames) if (iframe.contentWindow === source) return f;
    return null;
  }

  async function onMessage(event) {
    const f = frameOf(event.source);
    if (!f || event.origin !== f.origin) return;
    const m = event.data;
    if (!m || typeof m !== "object" || m.dockhand !== 1 || typeof m.id !== "number" || typeof m.op !== "string") return;
    let reply;
    try {
      if (!Object.prototype.hasOwnProperty.call(handlers, m.op)) throw new Error(`unknown operation ${m.op}`);
      const value = await handlers[m.op](m.args && typeof m.args === "object" ? m.args : {}, f.ext);
      reply = { dockhand: 1, id: m.id, ok: true, value: value === undefined ? null : value };
    } catch (e) {
      reply = { dockhand: 1, id: m.id, ok: false, error: { message: String((e && e.message) || e) } };
    }
    event.source.postMessage(reply, f.origin);
  }

  win.addEventListener("message", onMessage);
  return { register, unregister, onMessage };
}

/** The origin an extension iframe must have: its ticket URL's, never the shell's own. */
export function frameOrigin(ticketUrl, shellOrigin) {
  const u = new URL(ticketUrl);
  if (u.protocol !== "http:" && u.protocol !== "https:") throw new Error(`ticket URL is not http: ${ticketUrl}`);
  if (u.origin === shellOrigin) throw new Error("an extension must not share the dashboard's origin");
  return u.origin;
}
