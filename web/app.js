// The dockhand dashboard shell: sidebar, hash routing, pages, extension tabs, and the shell's
// side of the postMessage bridge (modules/bridge.js documents the protocol).
import { h, mount, note, extIcon } from "./modules/dom.js";
import { api, setUnauthorizedHandler } from "./modules/api.js";
import { parseHash, navigateTarget, href } from "./modules/router.js";
import { createBridge } from "./modules/bridge.js";
import { createTabs } from "./modules/tabs.js";
import { toast } from "./modules/toast.js";
import { showOpenDialog } from "./modules/filepicker.js";
import { safeHref, isLoopback } from "./modules/sanitize.js";
import { confirmDialog } from "./modules/modal.js";
import { newlyAvailable, noticeText, POLL_MS } from "./modules/updates.js";
import { engineText, modeText, modeTitle } from "./modules/engine.js";
import * as extensionsPage from "./modules/page-extensions.js";
import * as catalogPage from "./modules/page-catalog.js";
import * as containersPage from "./modules/page-containers.js";
import * as containerPage from "./modules/page-container.js";
import * as imagesPage from "./modules/page-images.js";
import * as volumesPage from "./modules/page-volumes.js";

const $ = (id) => document.getElementById(id);
const view = $("view");
const frames = $("frames");

const state = { extensions: null, page: null, lastPage: null, announced: new Set() };
const ctx = {
  get extensions() { return state.extensions; },
  refreshExtensions,
  toast,
};

// ---- the bridge: UI operations asked by extension iframes ---------------------------------

const bridge = createBridge({
  toast({ level, message }, ext) {
    toast(["success", "warning", "error"].includes(level) ? level : "info", String(message ?? ""), ext.title);
  },
  showOpenDialog(options, ext) {
    return showOpenDialog(options, ext.title);
  },
  async navigate(args) {
    const t = navigateTarget(args);
    if (t.check) {
      try { await api.json(t.check); } catch (e) { throw new Error(e.status === 404 ? `${t.what} does not exist` : e.message); }
    }
    location.hash = t.hash;
  },
  async openExternal({ url }, ext) {
    const safe = safeHref(url);
    if (!safe) throw new Error("openExternal takes an http or https URL");
    if (isLoopback(safe)) {
      // A page on this machine (a dev server, a port the extension published) is same-site with
      // the dashboard: ask before an extension sends the person there.
      const { ok } = await confirmDialog({
        title: `Open a page on this machine?`,
        message: `${ext.title} wants to open ${safe}, a page served on this machine. ` +
          "Pages on localhost share the dashboard's site; open it only if you expect it.",
        confirmLabel: "Open",
      });
      if (!ok) throw new Error(`the person declined to open ${safe}`);
    }
    window.open(safe, "_blank", "noopener,noreferrer");
    // window.open with noopener cannot report a blocked popup: leave a link to click.
    toast("info", h("span", {}, "Opened ", h("a", { href: safe, target: "_blank", rel: "noopener noreferrer", text: safe })), ext.title);
  },
});
const tabs = createTabs(frames, bridge);

// ---- extensions and the sidebar ---------------------------------------------------------

async function refreshExtensions() {
  try {
    state.extensions = await api.json("/api/extensions");
  } catch (e) {
    if (state.extensions === null) state.extensions = [];
    toast("error", `Cannot list extensions: ${e.message}`);
  }
  tabs.sync(state.extensions);
  const updates = newlyAvailable(state.announced, state.extensions);
  state.announced = updates.announced;
  if (updates.fresh.length) toast("info", noticeText(updates.fresh), "Updates");
  renderSidebar();
  if (state.page?.update) state.page.update();
  if (parseHash(location.hash).page === "ext") render();
}

function renderSidebar() {
  const route = parseHash(location.hash);
  const items = (state.extensions || []).filter((e) => e.enabled && e.ui).map((e) =>
    h("li", {}, h("a", { href: href.ext(e.id), "aria-current": route.page === "ext" && route.id === e.id ? "page" : null, title: e.id },
      extIcon(e, "ext-icon-sm"), h("span.ellipsis", { text: e.ui.title || e.title }),
      // The word comes from CSS, so the entry's text stays the tab title.
      e.dev ? h("span.badge.warn.dev-mark", { title: "In dev mode (dockhand dev)", role: "img", "aria-label": "dev mode" }) : null,
      e.update_available ? h("span.update-dot", { title: `Update ${e.update_available} available`, role: "img", "aria-label": `update ${e.update_available} available` }) : null)));
  mount($("ext-nav"), items.length ? items : h("li.muted.small.nav-empty", { text: "None installed" }));
  const section = { container: "containers", image: "images", volume: "volumes" }[route.page] || route.page;
  for (const a of document.querySelectorAll(".nav a[data-page]")) {
    if (a.dataset.page === section) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
}

// ---- routing ------------------------------------------------------------------------------

const PAGES = {
  extensions: extensionsPage.render,
  catalog: catalogPage.render,
  containers: containersPage.render,
  container: containerPage.render,
  images: imagesPage.render,
  image: imagesPage.renderImage,
  volumes: volumesPage.render,
  volume: volumesPage.renderVolume,
};

function render() {
  if (state.page?.dispose) state.page.dispose();
  state.page = null;
  const route = parseHash(location.hash);
  renderSidebar();
  setNavOpen(false);
  const key = route.page === "container" ? "container:" + route.id : route.page + ":" + (route.id || route.name || "");

  if (route.page === "ext") {
    const ext = (state.extensions || []).find((e) => e.id === route.id);
    if (ext && ext.enabled && ext.ui) {
      view.hidden = true;
      frames.hidden = false;
      tabs.show(ext);
      document.title = `${ext.ui.title || ext.title} · dockhand`;
      focusHeading(frames.querySelector(".ext-tab:not([hidden]) h1"), key);
      return;
    }
  }
  tabs.hideAll();
  frames.hidden = true;
  view.hidden = false;
  const page = PAGES[route.page];
  if (route.page === "ext") {
    mount(view, note(state.extensions === null ? "Loading…" : `The extension ${route.id} is not installed, disabled, or has no UI.`));
  } else if (!page) {
    mount(view, h("h1", { tabindex: "-1", text: "Not found" }), h("p", {}, h("a", { href: "#/extensions", text: "Back to extensions" })));
  } else {
    state.page = page(view, route, ctx) || null;
  }
  document.title = `${view.querySelector("h1")?.textContent || "dockhand"} · dockhand`;
  focusHeading(view.querySelector("h1"), key);
}

/** After a navigation to another page (not on first load, not between tabs), focus its title. */
function focusHeading(el, key) {
  const moved = state.lastPage !== null && state.lastPage !== key;
  state.lastPage = key;
  if (moved && el) el.focus({ preventScroll: true });
}

// ---- the narrow-window menu -------------------------------------------------------------------

function setNavOpen(open) {
  document.body.classList.toggle("nav-open", open);
  $("menu").setAttribute("aria-expanded", String(open));
  $("scrim").hidden = !open;
}
$("menu").addEventListener("click", () => setNavOpen(!document.body.classList.contains("nav-open")));
$("scrim").addEventListener("click", () => setNavOpen(false));
document.addEventListener("keydown", (e) => {
  if (e.key === "Escape" && document.body.classList.contains("nav-open")) { setNavOpen(false); $("menu").focus(); }
});

// ---- start ------------------------------------------------------------------------------------

let warned = false;
setUnauthorizedHandler(() => {
  if (warned) return;
  warned = true;
  document.body.prepend(h("div.banner", { role: "alert" },
    "The dashboard session has ended. Open the address ", h("code", { text: "dockhand serve" }), " printed (it carries a new one-time token)."));
});

window.addEventListener("hashchange", render);
api.json("/api/info").then((i) => {
  const engine = engineText(i.engine_status) || i.engine;
  $("engine").textContent = `v${i.version} · API ${i.api_version}${engine ? " · " + engine : ""}`;
  $("engine").title = i.engine || "";
  const mode = $("engine-mode");
  mode.textContent = modeText(i.engine_status);
  mode.title = modeTitle(i.engine_status);
  mode.dataset.mode = i.engine_status?.mode || "";
  mode.hidden = !mode.textContent;
}, () => {});
render();
refreshExtensions();
// The server checks for updates periodically; read the list again to notice them.
setInterval(refreshExtensions, POLL_MS);
