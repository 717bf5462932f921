// #/extensions: the installed extensions, with enable/disable, logs, details and uninstall.
import { h, mount, note, pageHead, badge, button, extIcon, facts } from "./dom.js";
import { api, seg } from "./api.js";
import { href } from "./router.js";
import { confirmDialog } from "./modal.js";
import { sanitizeHtml, looksLikeHtml, safeHref } from "./sanitize.js";
import { describeCall, callTime } from "./devcalls.js";
import { updateExtension } from "./update-actions.js";

const VM_KIND = { running: "ok", degraded: "warn", stopped: "err", disabled: "muted" };

/** Whether a running backend's socket is there: vm.service answers 503 until it is. */
const SOCKET_NOTE = {
  missing: "Socket not created yet",
  "not-listening": "Socket not listening",
  denied: "Socket not reachable: run dockhand doctor",
};
export function socketBadge(ext) {
  const socket = ext.vm?.socket;
  const text = ext.vm?.containers && socket ? SOCKET_NOTE[socket.state] : undefined;
  return text ? badge(`${text} (${socket.name})`, "warn") : null;
}

export function render(root, _route, ctx) {
  const list = h("div.cards", {});
  mount(root, pageHead("Extensions", button("Refresh", () => ctx.refreshExtensions())), list);

  const draw = () => {
    const exts = ctx.extensions;
    if (exts === null) return mount(list, note("Loading…"));
    if (!exts.length) {
      return mount(list, h("div.empty", {},
        h("p", { text: "No extension is installed yet." }),
        h("p", {}, "Install one from a terminal: ", h("code", { text: "dockhand install docker/volumes-backup-extension" }))));
    }
    mount(list, exts.map((e) => card(e, ctx)));
  };
  draw();
  return { update: draw };
}

function card(ext, ctx) {
  const domId = seg(ext.id).replace(/%/g, "_");
  const panelId = `panel-${domId}`;
  const panel = h("div.card-panel", { hidden: true, id: panelId });
  let shown = null;
  const toggles = {};
  const toggle = (name, fill) => async () => {
    shown = shown === name ? null : name;
    for (const [n, b] of Object.entries(toggles)) b.setAttribute("aria-expanded", String(n === shown));
    panel.hidden = !shown;
    if (!shown) return;
    const mine = shown;
    mount(panel, note("Loading…"));
    let content;
    try { content = await fill(); } catch (e) { content = note(e.message, "error"); }
    if (shown === mine) mount(panel, content);
  };
  const act = (label, fn, cls) => button(label, async (ev) => {
    ev.target.disabled = true;
    try { await fn(); } catch (e) { ctx.toast("error", e.message); } finally { ev.target.disabled = false; }
  }, cls);

  const id = seg(ext.id);
  const setEnabled = (on) => async () => {
    await api.post(`/api/extensions/${id}/${on ? "enable" : "disable"}`);
    ctx.toast("success", `${ext.title} ${on ? "enabled" : "disabled"}`);
    await ctx.refreshExtensions();
  };
  const uninstall = async () => {
    const r = await confirmDialog({
      title: `Uninstall ${ext.title}?`,
      message: `This removes ${ext.id}: its containers, files and host binaries.`,
      checkbox: "Also remove its volumes (their data is lost)",
      confirmLabel: "Uninstall", danger: true,
    });
    if (!r.ok) return;
    await api.del(`/api/extensions/${id}?volumes=${r.checked}`);
    ctx.toast("success", `${ext.title} uninstalled`);
    await ctx.refreshExtensions();
  };

  const badges = [
    ext.enabled ? badge("Enabled", "ok") : badge("Disabled"),
    ext.vm ? badge(`Backend ${ext.vm.state}${ext.vm.containers ? ` (${ext.vm.containers})` : ""}`, VM_KIND[ext.vm.state] || "muted") : badge("No backend"),
    socketBadge(ext),
    ext.host_binaries?.length ? badge(`Host: ${ext.host_binaries.join(", ")}`) : null,
    ext.update_available ? badge(`Update ${ext.update_available}`, "warn") : null,
    ext.dev?.ui_source ? badge(`Dev mode: UI from ${ext.dev.ui_source}`, "warn") : null,
    ext.dev?.debug ? badge("Bridge log on", "warn") : null,
  ];
  return h("article.card", { "aria-labelledby": `ext-${domId}` },
    h("div.card-main", {},
      extIcon(ext),
      h("div.card-text", {},
        h("h2", { id: `ext-${domId}` }, ext.enabled && ext.ui ? h("a", { href: href.ext(ext.id), text: ext.title }) : ext.title),
        h("p.muted", { text: [ext.id, ext.vendor, ext.version && `version ${ext.version}`].filter(Boolean).join(" · ") }),
        h("div.badges", {}, badges))),
    h("div.card-actions", {},
      ext.enabled && ext.ui ? h("a.btn.primary", { href: href.ext(ext.id), text: "Open" }) : null,
      ext.update_available ? act(`Update to ${ext.update_available}`, () => updateExtension(ext, ctx), "primary") : null,
      ext.enabled ? act("Disable", setEnabled(false)) : act("Enable", setEnabled(true)),
      (toggles.details = toggleButton("Details", toggle("details", () => details(ext)), panelId)),
      ext.vm ? (toggles.logs = toggleButton("Logs", toggle("logs", () => logs(ext)), panelId)) : null,
      ext.dev?.debug ? (toggles.calls = toggleButton("Bridge log", toggle("calls", () => bridgeLog(ext)), panelId)) : null,
      act("Uninstall…", uninstall, "danger")),
    panel);
}

function toggleButton(text, onclick, controls) {
  const b = button(text, onclick);
  b.setAttribute("aria-expanded", "false");
  b.setAttribute("aria-controls", controls);
  return b;
}

async function logs(ext) {
  const text = await api.text(`/api/extensions/${seg(ext.id)}/logs?tail=200`);
  const pre = h("pre.logs.short", { tabindex: "0", "aria-label": `${ext.title} backend logs`, text: text || "(no output)" });
  requestAnimationFrame(() => { pre.scrollTop = pre.scrollHeight; });
  return pre;
}

/** The extension's bridge call log (`dockhand dev debug ID`), newest last. */
async function bridgeLog(ext) {
  const log = await api.json(`/api/extensions/${seg(ext.id)}/bridge-log?tail=200`);
  const entries = log.entries || [];
  const rows = entries.map((e) => h("tr", { class: e.status >= 400 ? "call-failed" : null },
    h("td", { text: callTime(e.ts) }),
    h("td", {}, h("code", { text: e.kind || "" })),
    h("td.call", { text: describeCall(e) }),
    h("td", { text: String(e.status ?? "") }),
    h("td", { text: e.duration_ms != null ? `${Number(e.duration_ms).toFixed(1)} ms` : "" }),
    h("td", { text: e.bytes_out != null ? `${e.bytes_out} B` : "" })));
  return h("div.bridge-log", {},
    h("p.muted.small", {}, `Bridge calls of ${ext.title}, from `, h("code", { text: log.path || "" }),
      ". In a terminal: ", h("code", { text: `dockhand logs ${ext.id} --bridge -f` })),
    entries.length
      ? h("div.table-wrap", {}, h("table.calls", { "aria-label": `${ext.title} bridge calls` },
        h("thead", {}, h("tr", {}, ["Time", "Call", "What", "Status", "Took", "Sent"].map((t) => h("th", { text: t })))),
        h("tbody", {}, rows)))
      : note("No bridge call logged yet: use the extension's tab."));
}

/** Label text: HTML is sanitized, plain text keeps its line breaks. */
function labelText(value) {
  if (!value) return null;
  return looksLikeHtml(value) ? h("div.label-html", {}, sanitizeHtml(value)) : h("div.label-text", { text: value });
}

function links(json, title) {
  let arr = [];
  try { arr = JSON.parse(json || "[]"); } catch { return null; }
  const items = (Array.isArray(arr) ? arr : []).map((l) => [safeHref(l && l.url), String((l && (l.title || l.alt)) || (l && l.url) || "")]).filter(([u]) => u);
  if (!items.length) return null;
  return [h("h3", { text: title }), h("ul", {}, items.map(([u, t]) => h("li", {}, h("a", { href: u, target: "_blank", rel: "noopener noreferrer", text: t }))))];
}

async function details(ext) {
  // GET /api/extensions/{id}: the entry plus the image's "labels" (see docs/bridge.md).
  const full = await api.json(`/api/extensions/${seg(ext.id)}`);
  const L = full.labels || {};
  const publisher = safeHref(L["com.docker.extension.publisher-url"]);
  return h("div.details", {},
    facts([
      ["Image", ext.image],
      ["Digest", h("code", { text: ext.digest || "" })],
      ["Publisher", publisher ? h("a", { href: publisher, target: "_blank", rel: "noopener noreferrer", text: ext.vendor || publisher }) : ext.vendor],
      ["Categories", (L["com.docker.extension.categories"] || "").split(",").map((c) => c.trim()).filter(Boolean).join(", ")],
      ["API version", L["com.docker.desktop.extension.api.version"]],
      ["Dev mode", ext.dev ? [ext.dev.ui_source ? `UI from ${ext.dev.ui_source}` : null, ext.dev.debug ? "bridge calls logged" : null].filter(Boolean).join("; ") : null],
    ]),
    L["org.opencontainers.image.description"] ? h("p", { text: L["org.opencontainers.image.description"] }) : null,
    L["com.docker.extension.detailed-description"] ? [h("h3", { text: "Description" }), labelText(L["com.docker.extension.detailed-description"])] : null,
    L["com.docker.extension.changelog"] ? [h("h3", { text: "Changelog" }), labelText(L["com.docker.extension.changelog"])] : null,
    links(L["com.docker.extension.additional-urls"], "Links"),
    links(L["com.docker.extension.screenshots"], "Screenshots"));
}
