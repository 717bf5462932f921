// #/images and #/image/<id>[/<tag>]: the engine's images and one image's details.
import { h, mount, note, pageHead, badge, button, table, facts } from "./dom.js";
import { api, seg } from "./api.js";
import { href } from "./router.js";
import { bytes, ago, shortId } from "./format.js";

export function render(root) {
  const body = h("div", {}, note("Loading…"));
  const search = h("input.search", { type: "search", placeholder: "Search", "aria-label": "Search images", oninput: () => draw() });
  let images = null;
  let used = new Set();
  mount(root, pageHead("Images", button("Refresh", () => load())), h("div.filters", {}, search), body);

  async function load() {
    try {
      const [imgs, cs] = await Promise.all([api.json("/api/images"), api.json("/api/containers?all=true").catch(() => [])]);
      images = imgs;
      used = new Set(cs.map((c) => c.ImageID));
      draw();
    } catch (e) { mount(body, note(e.message, "error")); }
  }

  function draw() {
    if (!images) return;
    const q = search.value.trim().toLowerCase();
    const rows = [];
    for (const img of images) {
      const tags = (img.RepoTags || []).filter((t) => t !== "<none>:<none>");
      for (const ref of tags.length ? tags : ["<none>:<none>"]) {
        if (q && !ref.toLowerCase().includes(q) && !img.Id.includes(q)) continue;
        const i = ref.lastIndexOf(":");
        const [repo, tag] = [ref.slice(0, i), ref.slice(i + 1)];
        rows.push([
          h("a", { href: href.image(img.Id, tag === "<none>" ? undefined : tag), text: repo }),
          h("span", { text: tag }),
          h("code.small", { text: shortId(img.Id) }),
          used.has(img.Id) ? badge("in use", "ok") : badge("unused"),
          h("span.small", { text: ago(img.Created) }),
          h("span.small", { text: bytes(img.Size) }),
        ]);
      }
    }
    mount(body, rows.length ? table(["Repository", "Tag", "Image ID", "Status", "Created", "Size"], rows, "Images") : note(q ? "No image matches." : "No images."));
  }
  load();
}

export function renderImage(root, route) {
  mount(root, note("Loading…"));
  api.json(`/api/images/${seg(route.id)}`).then((img) => {
    const cfg = img.Config || {};
    const tags = img.RepoTags || [];
    const title = (route.tag && tags.find((t) => t.endsWith(":" + route.tag))) || tags[0] || shortId(img.Id);
    const labels = Object.entries(cfg.Labels || {});
    mount(root,
      h("p.crumbs", {}, h("a", { href: "#/images", text: "Images" }), " / ", title),
      pageHead(title),
      facts([
        ["ID", h("code", { text: img.Id })],
        ["Tags", tags.join(", ")],
        ["Digests", (img.RepoDigests || []).join(", ")],
        ["Created", img.Created ? `${ago(img.Created)} (${img.Created})` : ""],
        ["Size", bytes(img.Size)],
        ["Platform", [img.Os, img.Architecture, img.Variant].filter(Boolean).join("/")],
        ["Entrypoint", cfg.Entrypoint ? h("code", { text: [].concat(cfg.Entrypoint).join(" ") }) : ""],
        ["Command", cfg.Cmd ? h("code", { text: [].concat(cfg.Cmd).join(" ") }) : ""],
        ["Working dir", cfg.WorkingDir],
        ["User", cfg.User],
        ["Exposed ports", Object.keys(cfg.ExposedPorts || {}).join(", ")],
      ]),
      cfg.Env?.length ? [h("h2", { text: "Environment" }), h("pre.json", { tabindex: "0", text: cfg.Env.join("\n") })] : null,
      labels.length ? [h("h2", { text: "Labels" }), table(["Label", "Value"], labels.map(([k, v]) => [h("code", { text: k }), h("span.break", { text: v })]), "Labels")] : null,
      img.RootFS?.Layers?.length ? [h("h2", { text: `Layers (${img.RootFS.Layers.length})` }), h("ol.layers", {}, img.RootFS.Layers.map((l) => h("li", {}, h("code.small", { text: l }))))] : null,
      h("details", {}, h("summary", { text: "Inspect JSON" }), h("pre.json", { tabindex: "0", text: JSON.stringify(img, null, 2) })));
  }, (e) => mount(root, pageHead("Image"), note(e.status === 404 ? `No image ${route.id}.` : e.message, "error"), h("p", {}, h("a", { href: "#/images", text: "All images" }))));
}
