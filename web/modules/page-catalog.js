// #/catalog: the configured catalogs (docs/catalog.md): search, a category filter, details with
// screenshots, links and sanitized HTML, and Install, which shows what the extension will get
// (POST /api/install/preview: the CLI's consent summary and the image pinned to its digest) and,
// once the person confirms, installs that pinned image (POST /api/install) and nothing else. The
// allow-list is enforced by the server; its refusal (403) is shown as it comes.
import { h, mount, note, pageHead, badge, button, extIcon, facts } from "./dom.js";
import { api, seg } from "./api.js";
import { href } from "./router.js";
import { modal } from "./modal.js";
import { consentDialog, summaryRows } from "./consent.js";
import { sanitizeHtml, looksLikeHtml, safeHref } from "./sanitize.js";

// ---- pure helpers (web/modules/catalog.test.mjs) -----------------------------------------------

/** Entries whose id, title, vendor, description or categories contain `q`, in `category`. */
export function filterItems(items, q = "", category = "") {
  const needle = String(q || "").trim().toLowerCase();
  return (items || []).filter((i) => {
    if (category && !(i.categories || []).includes(category)) return false;
    if (!needle) return true;
    return [i.id, i.title, i.vendor, i.description, ...(i.categories || [])]
      .some((f) => String(f || "").toLowerCase().includes(needle));
  });
}

/** Every category of `items`, sorted, once. */
export function categoriesOf(items) {
  return [...new Set((items || []).flatMap((i) => i.categories || []))].sort();
}

/** What the version column says: the latest compatible version, or why there is none. */
export function versionText(item) {
  if (item.error) return "unavailable";
  if (!item.latest) return "no version";
  return item.compatible ? item.latest : `${item.latest} (needs API ${item.api_version || "?"})`;
}

/** {label, kind, action}: whether it is installed and what the button does. */
export function installState(item) {
  if (item.error || !item.latest) return { label: "Unavailable", kind: "err", action: null };
  if (!item.compatible) return { label: "Needs a newer dockhand", kind: "warn", action: null };
  if (item.installed == null) return { label: "Not installed", kind: "muted", action: "Install" };
  if (item.installed === item.latest) return { label: `Installed ${item.installed}`, kind: "ok", action: null };
  return { label: `Installed ${item.installed}`, kind: "ok", action: `Install ${item.latest}` };
}

export { summaryRows };

/** Screenshot [url, alt] pairs with safe URLs only. */
export function screenshots(list) {
  return (Array.isArray(list) ? list : [])
    .map((s) => [safeHref(s && s.url), String((s && s.alt) || "")])
    .filter(([u]) => u);
}

// ---- the page ----------------------------------------------------------------------------------

export function render(root, _route, ctx) {
  const state = { items: null, categories: [], q: "", category: "", error: null, problems: [] };
  const search = h("input", { type: "search", placeholder: "Search the catalog", "aria-label": "Search the catalog", id: "catalog-search" });
  const select = h("select", { "aria-label": "Category", id: "catalog-category" });
  const list = h("div.cards", { id: "catalog-list" });
  const status = h("div", { role: "status" });
  let disposed = false;

  const draw = () => {
    mount(select, h("option", { value: "", text: "All categories" }),
      state.categories.map((c) => h("option", { value: c, text: c, selected: c === state.category })));
    select.value = state.category;
    if (state.error) return mount(list, note(state.error, "error"));
    if (state.items === null) return mount(list, note("Loading…"));
    mount(status, state.problems.map((p) => note(p, "error")));
    const shown = filterItems(state.items, state.q, state.category);
    if (!state.items.length) return mount(list, h("div.empty", {}, h("p", { text: "The configured catalogs list no extension." })));
    if (!shown.length) return mount(list, note("No extension matches."));
    mount(list, shown.map((i) => card(i, ctx, load)));
  };
  const load = async (refresh = false) => {
    try {
      const r = await api.json(`/api/catalog${refresh ? "?refresh=true" : ""}`);
      state.items = r.items;
      state.categories = r.categories || categoriesOf(r.items);
      state.problems = r.problems || [];
      state.error = null;
    } catch (e) {
      state.error = e.message;
    }
    if (!disposed) draw();
  };
  search.addEventListener("input", () => { state.q = search.value; draw(); });
  select.addEventListener("change", () => { state.category = select.value; draw(); });

  mount(root, pageHead("Catalog", button("Refresh", () => load(true))),
    h("div.filters", {}, search, select), status, list);
  draw();
  load();
  return { update: draw, dispose: () => { disposed = true; } };
}

function card(item, ctx, reload) {
  const domId = "cat-" + seg(item.id).replace(/[^A-Za-z0-9_-]/g, "_");
  const panel = h("div.card-panel", { hidden: true, id: `${domId}-panel` });
  const st = installState(item);
  const detailsButton = button("Details", async () => {
    const open = panel.hidden;
    panel.hidden = !open;
    detailsButton.setAttribute("aria-expanded", String(open));
    if (!open) return;
    mount(panel, note("Loading…"));
    try { mount(panel, details(await api.json(`/api/catalog/${seg(item.id)}`))); } catch (e) { mount(panel, note(e.message, "error")); }
  });
  detailsButton.setAttribute("aria-expanded", "false");
  detailsButton.setAttribute("aria-controls", panel.id);
  const install = st.action ? button(st.action + "…", async (ev) => {
    ev.target.disabled = true;
    try {
      if (await installFlow(item, ctx)) await reload();
    } finally { ev.target.disabled = false; }
  }, "primary") : null;
  const installed = item.installed != null && ctx.extensions && ctx.extensions.find((e) => e.id === item.id);
  return h("article.card.catalog-item", { "aria-labelledby": `${domId}-title`, dataset: { id: item.id } },
    h("div.card-main", {},
      extIcon({ ...item, icon: safeHref(item.icon) }),
      h("div.card-text", {},
        h("h2", { id: `${domId}-title`, text: item.title }),
        h("p.muted", { text: [item.id, item.vendor, `latest ${versionText(item)}`].filter(Boolean).join(" · ") }),
        item.description ? h("p", { text: item.description }) : null,
        item.error ? note(item.error, "error") : null,
        h("div.badges", {}, badge(st.label, st.kind), (item.categories || []).map((c) => badge(c)), item.pinned ? badge("Pinned") : null))),
    h("div.card-actions", {},
      install,
      installed && installed.enabled && installed.ui ? h("a.btn", { href: href.ext(item.id), text: "Open" }) : null,
      detailsButton),
    panel);
}

function labelText(value) {
  if (!value) return null;
  return looksLikeHtml(value) ? h("div.label-html", {}, sanitizeHtml(value)) : h("div.label-text", { text: value });
}

function details(d) {
  const shots = screenshots(d.screenshots);
  const links = (d.links || []).map((l) => [safeHref(l.url), String(l.title || l.url || "")]).filter(([u]) => u);
  return h("div.details", {},
    facts([
      ["Reference", h("code", { text: d.reference })],
      ["Digest", d.digest ? h("code", { text: d.digest }) : null],
      ["Catalog", d.catalog],
      ["API version", d.api_version],
      ["Installed", d.installed],
    ]),
    d.detailed_description ? [h("h3", { text: "Description" }), labelText(d.detailed_description)] : null,
    shots.length ? [h("h3", { text: "Screenshots" }), h("div.screenshots", {},
      shots.map(([u, alt]) => h("a", { href: u, target: "_blank", rel: "noopener noreferrer" },
        h("img.screenshot", { src: u, alt, loading: "lazy", referrerpolicy: "no-referrer" }))))] : null,
    links.length ? [h("h3", { text: "Links" }), h("ul", {}, links.map(([u, t]) => h("li", {}, h("a", { href: u, target: "_blank", rel: "noopener noreferrer", text: t }))))] : null,
    d.changelog ? [h("h3", { text: "Changelog" }), labelText(d.changelog)] : null);
}

/** Preview, ask, install. Resolves true when something was installed. */
async function installFlow(item, ctx) {
  let summary;
  try {
    summary = await api.postJson("/api/install/preview", { reference: item.reference });
  } catch (e) {
    await refusal(item, e.message);
    return false;
  }
  if (summary.installed) {
    ctx.toast("info", `${item.title} ${item.latest} is installed already`);
    return false;
  }
  const ok = await consentDialog({
    title: `Install ${item.title}?`,
    intro: `${item.title} ${item.latest || ""} will get:`,
    summary,
    confirmLabel: "Install",
  });
  if (!ok) return false;
  try {
    // The pinned reference the summary is about: a retag since installs it or fails.
    const r = await api.postJson("/api/install", { reference: summary.reference });
    ctx.toast("success", `${item.title} ${r.version || ""} installed`);
    await ctx.refreshExtensions();
    return true;
  } catch (e) {
    await refusal(item, e.message);
    return false;
  }
}

function refusal(item, message) {
  return modal(`${item.title} was not installed`, (close) => h("div.modal-body.install-refused", { role: "alert" },
    h("h2", { text: `${item.title} was not installed` }),
    h("p.refusal", { text: message }),
    h("div.modal-actions", {}, h("button.btn.primary", { type: "button", onclick: () => close(), text: "Close", autofocus: true }))));
}
