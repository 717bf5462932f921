// Hash routes. Every id is one encoded path segment.
//   #/extensions  #/ext/<id>  #/catalog
//   #/containers  #/container/<id>[/logs|inspect|stats|terminal]
//   #/images      #/image/<id>[/<tag>]
//   #/volumes     #/volume/<name>

export const CONTAINER_TABS = ["logs", "inspect", "stats", "terminal"];

const dec = (s) => { try { return decodeURIComponent(s); } catch { return null; } };
const enc = encodeURIComponent;

/** Parse a location.hash into {page, id?, tab?, tag?, name?}. */
export function parseHash(hash) {
  const parts = String(hash || "").replace(/^#\/?/, "").split("/").filter((p) => p !== "").map(dec);
  if (parts.includes(null)) return { page: "notfound" };
  const [page = "extensions", a, b] = parts;
  const n = parts.length;
  if (["extensions", "catalog", "containers", "images", "volumes"].includes(page) && n <= 1) return { page };
  if (page === "ext" && n === 2) return { page, id: a };
  if (page === "container" && (n === 2 || (n === 3 && CONTAINER_TABS.includes(b)))) return { page, id: a, tab: b || "logs" };
  if (page === "image" && (n === 2 || n === 3)) return { page, id: a, tag: b };
  if (page === "volume" && n === 2) return { page, name: a };
  return { page: "notfound" };
}

export const href = {
  ext: (id) => `#/ext/${enc(id)}`,
  container: (id, tab) => `#/container/${enc(id)}` + (tab && tab !== "logs" ? `/${tab}` : ""),
  image: (id, tag) => `#/image/${enc(id)}` + (tag ? `/${enc(tag)}` : ""),
  volume: (name) => `#/volume/${enc(name)}`,
};

/**
 * What ddClient's navigate op asks for: the API path that must exist (null for lists) and the
 * hash to show. Throws on a malformed request.
 */
export function navigateTarget({ to, id, tag, name } = {}) {
  const need = (v, what) => {
    if (typeof v !== "string" || v === "") throw new Error(`navigate ${to} needs ${what}`);
    return v;
  };
  const tabs = { container: "logs", containerLogs: "logs", containerInspect: "inspect", containerStats: "stats", containerTerminal: "terminal" };
  if (to === "containers" || to === "images" || to === "volumes") return { check: null, hash: `#/${to}`, what: to };
  if (to in tabs) {
    need(id, "a container id");
    return { check: `/api/containers/${enc(id)}`, hash: href.container(id, tabs[to]), what: `container ${id}` };
  }
  if (to === "image") {
    need(id, "an image id");
    return { check: `/api/images/${enc(id)}`, hash: href.image(id, tag), what: `image ${id}` };
  }
  if (to === "volume") {
    need(name, "a volume name");
    return { check: `/api/volumes/${enc(name)}`, hash: href.volume(name), what: `volume ${name}` };
  }
  throw new Error(`unknown navigation target ${to}`);
}
