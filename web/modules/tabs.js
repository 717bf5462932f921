// Extension tabs: one iframe per opened extension, loaded from a fresh ticket URL
// (POST /api/extensions/{id}/ticket) and registered with the postMessage bridge under the
// ticket URL's origin. Opened tabs stay alive (hidden) while the user looks elsewhere.
import { h, mount, note, extIcon, button } from "./dom.js";
import { api, seg } from "./api.js";
import { frameOrigin } from "./bridge.js";

// No top navigation for extensions. Chromium warns that allow-scripts + allow-same-origin can
// escape a sandbox: true only for a frame on the shell's own origin, which frameOrigin refuses.
const SANDBOX = "allow-scripts allow-same-origin allow-forms allow-popups allow-popups-to-escape-sandbox allow-downloads allow-modals";

export function createTabs(container, bridge) {
  const open = new Map(); // extension id -> {wrap, body, iframe}

  function build(ext) {
    const body = h("div.ext-body", {});
    const title = ext.ui?.title || ext.title;
    const wrap = h("section.ext-tab", { "aria-label": title },
      h("div.ext-head", {}, extIcon(ext, "ext-icon-sm"), h("h1", { tabindex: "-1", text: title }),
        h("span.muted.small", { text: ext.version ? `${ext.id} ${ext.version}` : ext.id }),
        ext.dev?.ui_source ? h("span.badge.warn.dev-badge", { text: `dev: ${ext.dev.ui_source}`, title: `Loaded from the dev server; dockhand dev reset ${ext.id} goes back to the installed UI` }) : null,
        button("Reload", () => load(ext), "small")),
      body);
    return { wrap, body, iframe: null };
  }

  async function load(ext) {
    const t = open.get(ext.id);
    if (t.iframe) { bridge.unregister(t.iframe); t.iframe = null; }
    mount(t.body, note("Opening…"));
    try {
      const { url } = await api.post(`/api/extensions/${seg(ext.id)}/ticket`);
      const origin = frameOrigin(url, location.origin);
      const iframe = h("iframe.ext-frame", { title: ext.ui?.title || ext.title, sandbox: SANDBOX, allow: "clipboard-read; clipboard-write", referrerpolicy: "origin" });
      mount(t.body, iframe);
      bridge.register(iframe, origin, { id: ext.id, title: ext.ui?.title || ext.title });
      t.iframe = iframe;
      iframe.src = url;
    } catch (e) {
      mount(t.body, note(`Cannot open ${ext.id}: ${e.message}`, "error"), button("Try again", () => load(ext)));
    }
  }

  function show(ext) {
    for (const [id, t] of open) t.wrap.hidden = id !== ext.id;
    if (open.has(ext.id)) return;
    const t = build(ext);
    open.set(ext.id, t);
    container.append(t.wrap);
    load(ext);
  }

  function close(id) {
    const t = open.get(id);
    if (!t) return;
    if (t.iframe) bridge.unregister(t.iframe);
    t.wrap.remove();
    open.delete(id);
  }

  return {
    show,
    close,
    hideAll() { for (const t of open.values()) t.wrap.hidden = true; },
    /** Close the tabs of extensions that are gone, disabled or without UI. */
    sync(extensions) {
      const live = new Set(extensions.filter((e) => e.enabled && e.ui).map((e) => e.id));
      for (const id of [...open.keys()]) if (!live.has(id)) close(id);
    },
  };
}
