// The file picker behind ddClient.desktopUI.dialog.showOpenDialog, over GET /api/fs.
// Options (Electron's): properties [openFile, openDirectory, multiSelections, showHiddenFiles],
// filters [{name, extensions}], defaultPath, title, buttonLabel. Resolves {canceled, filePaths}.
import { h, mount, note } from "./dom.js";
import { api } from "./api.js";
import { modal } from "./modal.js";

/** Normalise the options object (pure). */
export function parseOptions(o) {
  o = o && typeof o === "object" ? o : {};
  const props = Array.isArray(o.properties) ? o.properties : [];
  const dirs = props.includes("openDirectory");
  const files = props.includes("openFile") || !dirs;
  const filters = (Array.isArray(o.filters) ? o.filters : [])
    .filter((f) => f && Array.isArray(f.extensions))
    .map((f) => ({ name: String(f.name || f.extensions.join(", ")), extensions: f.extensions.map((e) => String(e).replace(/^\./, "").toLowerCase()) }));
  return {
    files, dirs,
    multi: props.includes("multiSelections"),
    hidden: props.includes("showHiddenFiles"),
    filters,
    defaultPath: typeof o.defaultPath === "string" && o.defaultPath ? o.defaultPath : null,
    title: typeof o.title === "string" && o.title ? o.title : files && !dirs ? "Open file" : !files ? "Choose folder" : "Open",
    buttonLabel: typeof o.buttonLabel === "string" && o.buttonLabel ? o.buttonLabel : files || !dirs ? "Open" : "Choose",
  };
}

/** Whether a file name passes a filter ({extensions: ["*"]} passes everything). */
export function matchesFilter(name, filter) {
  if (!filter || filter.extensions.includes("*")) return true;
  const lower = name.toLowerCase();
  return filter.extensions.some((e) => lower.endsWith("." + e));
}

export const joinPath = (dir, name) => (dir.endsWith("/") ? dir : dir + "/") + name;
export const parentOf = (p) => (p.replace(/\/+$/, "").lastIndexOf("/") <= 0 ? "/" : p.replace(/\/+$/, "").replace(/\/[^/]*$/, ""));
export const baseOf = (p) => p.replace(/\/+$/, "").split("/").pop();

let queue = Promise.resolve();

/** One dialog at a time: later requests wait for the earlier ones. */
export function showOpenDialog(options, source) {
  const run = queue.then(() => openPicker(parseOptions(options), source));
  queue = run.catch(() => {});
  return run;
}

async function openPicker(opt, source) {
  const st = { path: null, parent: null, entries: [], selected: new Set(), hidden: opt.hidden, filter: opt.filters[0] || null };
  const list = h("ul.fp-list", { "aria-label": "Files" });
  const pathInput = h("input.fp-path", { type: "text", "aria-label": "Folder", spellcheck: "false" });
  const okBtn = h("button.btn.primary", { type: "submit", text: opt.buttonLabel });
  const status = h("p.fp-status.muted", { "aria-live": "polite" });

  async function load(path, preselect) {
    status.textContent = "Loading…";
    try {
      const q = new URLSearchParams({ hidden: String(st.hidden) });
      if (path) q.set("path", path);
      const r = await api.json("/api/fs?" + q);
      Object.assign(st, { path: r.path, parent: r.parent, entries: r.entries, selected: new Set() });
      if (preselect && r.entries.some((e) => e.name === preselect && (e.dir ? opt.dirs : opt.files))) st.selected.add(preselect);
      pathInput.value = r.path;
      status.textContent = "";
      render();
      return true;
    } catch (e) {
      status.textContent = e.message;
      return false;
    }
  }

  function visible() {
    return st.entries.filter((e) => (e.dir ? true : opt.files && matchesFilter(e.name, st.filter)))
      .sort((a, b) => (a.dir === b.dir ? a.name.localeCompare(b.name) : a.dir ? -1 : 1));
  }

  function toggle(name) {
    if (st.selected.has(name)) st.selected.delete(name);
    else {
      if (!opt.multi) st.selected.clear();
      st.selected.add(name);
    }
    render();
  }

  function render() {
    const rows = visible().map((e) => {
      const selectable = e.dir ? opt.dirs : opt.files;
      const pick = h("button.fp-item", {
        type: "button", "aria-pressed": selectable ? String(st.selected.has(e.name)) : null, disabled: !selectable && !e.dir,
        onclick: () => (selectable ? toggle(e.name) : load(joinPath(st.path, e.name))),
        ondblclick: () => (e.dir ? load(joinPath(st.path, e.name)) : finish([e.name])),
      }, h("span.fp-icon", { "aria-hidden": "true", text: e.dir ? "▸" : "·" }), e.name + (e.dir ? "/" : ""));
      const open = e.dir && selectable ? h("button.btn.small", { type: "button", "aria-label": `Open folder ${e.name}`, onclick: () => load(joinPath(st.path, e.name)), text: "Open ›" }) : null;
      return h("li", {}, pick, open);
    });
    mount(list, rows.length ? rows : h("li.muted", { text: "Empty folder" }));
    okBtn.disabled = !(st.selected.size || opt.dirs);
  }

  let closeWith;
  function finish(names) {
    const chosen = names.length ? names.map((n) => joinPath(st.path, n)) : opt.dirs ? [st.path] : [];
    if (chosen.length) closeWith({ canceled: false, filePaths: chosen });
  }

  const body = (close) => {
    closeWith = close;
    return h("form.modal-body.fp", { onsubmit: (e) => { e.preventDefault(); finish([...st.selected]); } },
      h("h2", { text: opt.title }),
      source ? h("p.muted", { text: `Requested by ${source}` }) : null,
      h("div.fp-bar", {},
        h("button.btn.small", { type: "button", "aria-label": "Parent folder", onclick: () => st.parent && load(st.parent), text: "↑ Up" }),
        pathInput,
        h("button.btn.small", { type: "button", onclick: () => load(pathInput.value), text: "Go" })),
      list,
      status,
      h("div.fp-options", {},
        opt.filters.length ? h("select", { "aria-label": "File type", onchange: (e) => { st.filter = opt.filters[+e.target.value]; render(); } },
          opt.filters.map((f, i) => h("option", { value: String(i), text: f.name }))) : null,
        h("label.check", {}, h("input", { type: "checkbox", checked: st.hidden, onchange: (e) => { st.hidden = e.target.checked; load(st.path); } }), " Show hidden files")),
      h("div.modal-actions", {},
        h("button.btn", { type: "button", onclick: () => close(undefined), text: "Cancel" }),
        okBtn));
  };

  pathInput.addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); load(pathInput.value); } });
  const shown = modal(opt.title, body, "fp-dialog");
  render();
  if (!(opt.defaultPath && ((await load(opt.defaultPath)) || (await load(parentOf(opt.defaultPath), baseOf(opt.defaultPath)))))) await load(null);
  const r = await shown;
  return r || { canceled: true, filePaths: [] };
}
