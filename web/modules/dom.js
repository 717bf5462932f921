// Tiny DOM helpers: h("tag.class", {props}, ...children). Text is always set as text, never HTML.

/**
 * Create an element. `tag` may carry classes ("button.btn.primary"). Props: `on*` functions
 * become listeners, `class`, `text`, `hidden`, `disabled`, `value`, `checked` are set as
 * properties, `dataset` is copied, anything else becomes an attribute (null/false skipped).
 * Children: nodes, strings (text nodes), arrays (flattened), null/false (skipped).
 */
export function h(tag, props, ...children) {
  const [name, ...classes] = tag.split(".");
  const el = document.createElement(name);
  if (classes.length) el.className = classes.join(" ");
  for (const [k, v] of Object.entries(props || {})) {
    if (v == null || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = [el.className, v].filter(Boolean).join(" ");
    else if (k === "text") el.textContent = v;
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (["hidden", "disabled", "value", "checked"].includes(k)) el[k] = v;
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c == null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** Replace all children of `el`. */
export function mount(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

/** A table from column heads and rows of cells (nodes or strings). */
export function table(heads, rows, caption) {
  return h("div.table-wrap", {},
    h("table", {},
      caption ? h("caption.sr-only", { text: caption }) : null,
      h("thead", {}, h("tr", {}, heads.map((t) => h("th", { scope: "col", text: t })))),
      h("tbody", {}, rows.map((cells) => h("tr", {}, cells.map((c, i) => h("td", { "data-label": heads[i] }, c)))))));
}

/** A definition list from [term, value] pairs; pairs with an empty value are skipped. */
export function facts(pairs) {
  return h("dl.facts", {}, pairs.filter(([, v]) => v != null && v !== "").map(([k, v]) => [h("dt", { text: k }), h("dd", {}, v)]));
}

/** A status line for loading and errors. */
export function note(text, kind = "muted") {
  return h("p.note." + kind, { text, role: kind === "error" ? "alert" : null });
}

/** A page heading row: the title (focus target after navigation) and action buttons. */
export function pageHead(title, ...actions) {
  return h("div.page-head", {}, h("h1", { tabindex: "-1", text: title }), h("div.actions", {}, actions));
}

/** A small status badge. kind: ok, warn, err, muted. */
export const badge = (text, kind = "muted") => h("span.badge." + kind, { text });

/** A button. */
export const button = (text, onclick, cls = "") => h("button.btn" + (cls ? "." + cls : ""), { type: "button", onclick, text });

/** An extension's icon, or its first letter when it has none or it fails to load. */
export function extIcon(ext, cls = "ext-icon") {
  const letter = () => h("span." + cls + ".letter", { "aria-hidden": "true", text: (ext.title || ext.id || "?").trim().charAt(0).toUpperCase() });
  if (!ext.icon) return letter();
  const img = h("img." + cls, { src: ext.icon, alt: "", loading: "lazy" });
  img.addEventListener("error", () => img.replaceWith(letter()), { once: true });
  return img;
}
