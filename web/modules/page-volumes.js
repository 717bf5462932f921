// #/volumes and #/volume/<name>: the engine's volumes and one volume's details.
import { h, mount, note, pageHead, badge, button, table, facts } from "./dom.js";
import { api, seg } from "./api.js";
import { href } from "./router.js";
import { ago, containerName } from "./format.js";
import { EXT_LABEL } from "./page-containers.js";

/** Containers (Engine API list entries) that mount the volume `name`. */
const users = (containers, name) => containers.filter((c) => (c.Mounts || []).some((m) => m.Type === "volume" && m.Name === name));

export function render(root) {
  const body = h("div", {}, note("Loading…"));
  const search = h("input.search", { type: "search", placeholder: "Search", "aria-label": "Search volumes", oninput: () => draw() });
  let vols = null;
  let cs = [];
  mount(root, pageHead("Volumes", button("Refresh", () => load())), h("div.filters", {}, search), body);

  async function load() {
    try {
      [vols, cs] = await Promise.all([api.json("/api/volumes"), api.json("/api/containers?all=true").catch(() => [])]);
      draw();
    } catch (e) { mount(body, note(e.message, "error")); }
  }

  function draw() {
    if (!vols) return;
    const q = search.value.trim().toLowerCase();
    const rows = vols.filter((v) => !q || v.Name.toLowerCase().includes(q)).map((v) => {
      const n = users(cs, v.Name).length;
      const ext = v.Labels && v.Labels[EXT_LABEL];
      return [
        h("div", {}, h("a.break", { href: href.volume(v.Name), text: v.Name }), ext ? h("div", {}, badge(`extension ${ext}`)) : null),
        n ? badge(`in use (${n})`, "ok") : badge("unused"),
        h("span", { text: v.Driver }),
        h("span.small", { text: ago(v.CreatedAt) }),
      ];
    });
    mount(body, rows.length ? table(["Name", "Status", "Driver", "Created"], rows, "Volumes") : note(q ? "No volume matches." : "No volumes."));
  }
  load();
}

export function renderVolume(root, route) {
  mount(root, note("Loading…"));
  Promise.all([api.json(`/api/volumes/${seg(route.name)}`), api.json("/api/containers?all=true").catch(() => [])]).then(([v, cs]) => {
    const labels = Object.entries(v.Labels || {});
    const using = users(cs, v.Name);
    mount(root,
      h("p.crumbs", {}, h("a", { href: "#/volumes", text: "Volumes" }), " / ", v.Name),
      pageHead(v.Name),
      facts([
        ["Driver", v.Driver],
        ["Scope", v.Scope],
        ["Mount point", h("code.break", { text: v.Mountpoint || "" })],
        ["Created", v.CreatedAt ? `${ago(v.CreatedAt)} (${v.CreatedAt})` : ""],
        ["Options", Object.entries(v.Options || {}).map(([k, x]) => `${k}=${x}`).join(", ")],
      ]),
      h("h2", { text: "Used by" }),
      using.length ? h("ul", {}, using.map((c) => h("li", {}, h("a", { href: href.container(c.Id), text: containerName(c) }), " ", badge(c.State, c.State === "running" ? "ok" : "muted"))))
        : note("No container uses this volume."),
      labels.length ? [h("h2", { text: "Labels" }), table(["Label", "Value"], labels.map(([k, x]) => [h("code", { text: k }), h("span.break", { text: x })]), "Labels")] : null,
      h("details", {}, h("summary", { text: "Inspect JSON" }), h("pre.json", { tabindex: "0", text: JSON.stringify(v, null, 2) })));
  }, (e) => mount(root, pageHead("Volume"), note(e.status === 404 ? `No volume ${route.name}.` : e.message, "error"), h("p", {}, h("a", { href: "#/volumes", text: "All volumes" }))));
}
