// Toasts: a live region in the corner. Errors stay longer and are announced assertively.
import { h } from "./dom.js";

const LEVELS = new Set(["success", "warning", "error", "info"]);
const MAX = 5;

/** Show a toast (text, or a node built by the shell). `source` (an extension title) heads it. */
export function toast(level, message, source) {
  if (!LEVELS.has(level)) level = "info";
  const region = document.getElementById("toasts");
  const close = () => el.remove();
  const el = h("div.toast.toast-" + level, { role: level === "error" ? "alert" : "status" },
    h("div.toast-body", {},
      source ? h("div.toast-source", { text: source }) : null,
      message instanceof Node ? h("div", {}, message) : h("div", { text: String(message ?? "") })),
    h("button.icon-btn", { type: "button", "aria-label": "Dismiss", onclick: close, text: "×" }));
  region.append(el);
  while (region.children.length > MAX) region.firstElementChild.remove();
  setTimeout(close, level === "error" ? 12000 : 6000);
  return el;
}
