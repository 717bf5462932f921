// #/containers: every container; dockhand's own extension backends are hidden unless asked for.
import { h, mount, note, pageHead, badge, button, table } from "./dom.js";
import { api } from "./api.js";
import { href } from "./router.js";
import { ago, shortId, ports, containerName } from "./format.js";

export const EXT_LABEL = "dev.dockhand.extension";
const STATE_KIND = { running: "ok", paused: "warn", restarting: "warn", exited: "muted", dead: "err", created: "muted" };

export function render(root, _route) {
  const body = h("div", {});
  const search = h("input.search", { type: "search", placeholder: "Search", "aria-label": "Search containers", oninput: () => draw() });
  const showExt = h("input", { type: "checkbox", onchange: () => draw() });
  const onlyRunning = h("input", { type: "checkbox", onchange: () => draw() });
  let all = null;

  mount(root,
    pageHead("Containers", button("Refresh", () => load())),
    h("div.filters", {}, search,
      h("label.check", {}, onlyRunning, " Only running"),
      h("label.check", {}, showExt, " Show extension backends")),
    body);

  async function load() {
    try { all = await api.json("/api/containers?all=true"); draw(); } catch (e) { mount(body, note(e.message, "error")); }
  }

  function draw() {
    if (!all) return mount(body, note("Loading…"));
    const q = search.value.trim().toLowerCase();
    const rows = all
      .filter((c) => showExt.checked || !(c.Labels && c.Labels[EXT_LABEL]))
      .filter((c) => !onlyRunning.checked || c.State === "running")
      .filter((c) => !q || [containerName(c), c.Image, c.Id].some((s) => String(s).toLowerCase().includes(q)))
      .map((c) => {
        const name = containerName(c);
        const ext = c.Labels && c.Labels[EXT_LABEL];
        return [
          h("div", {}, h("a", { href: href.container(c.Id), text: name }), h("div.muted.small.mono", { text: shortId(c.Id) }), ext ? badge(`extension ${ext}`) : null),
          h("span.ellipsis", { title: c.Image, text: c.Image }),
          h("div", {}, badge(c.State, STATE_KIND[c.State]), h("div.muted.small", { text: c.Status })),
          h("span.small", { text: ports(c.Ports) }),
          h("span.small", { text: ago(c.Created) }),
          h("div.row-actions", {},
            h("a.btn.small", { href: href.container(c.Id, "logs"), "aria-label": `Logs of ${name}`, text: "Logs" }),
            h("a.btn.small", { href: href.container(c.Id, "inspect"), "aria-label": `Inspect ${name}`, text: "Inspect" }),
            c.State === "running" ? h("a.btn.small", { href: href.container(c.Id, "stats"), "aria-label": `Stats of ${name}`, text: "Stats" }) : null,
            c.State === "running" ? h("a.btn.small", { href: href.container(c.Id, "terminal"), "aria-label": `Terminal in ${name}`, text: "Terminal" }) : null),
        ];
      });
    const hidden = showExt.checked ? 0 : all.filter((c) => c.Labels && c.Labels[EXT_LABEL]).length;
    mount(body,
      rows.length ? table(["Name", "Image", "State", "Ports", "Created", "Actions"], rows, "Containers") : note(q ? "No container matches." : "No containers."),
      hidden ? note(`${hidden} extension backend container${hidden === 1 ? " is" : "s are"} hidden.`) : null);
  }

  draw();
  load();
}
