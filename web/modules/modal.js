// Modal dialogs on <dialog> (focus trap, Escape and backdrop handled by the browser).
import { h } from "./dom.js";

/**
 * Open a modal built by `build(close)`; resolves with what `close(value)` is given
 * (undefined when dismissed with Escape). The dialog is removed afterwards.
 */
export function modal(label, build, className = "") {
  return new Promise((resolve) => {
    const dlg = h("dialog.modal" + (className ? "." + className : ""), { "aria-label": label });
    let result;
    const close = (value) => { result = value; dlg.close(); };
    dlg.addEventListener("close", () => { dlg.remove(); resolve(result); });
    dlg.append(build(close));
    document.body.append(dlg);
    dlg.showModal();
  });
}

/** Ask to confirm; resolves {ok, checked}. `checkbox` adds one labelled option. */
export async function confirmDialog({ title, message, confirmLabel = "OK", danger = false, checkbox = null }) {
  let box = null;
  const r = await modal(title, (close) => h("form.modal-body", { method: "dialog", onsubmit: (e) => { e.preventDefault(); close(true); } },
    h("h2", { text: title }),
    h("p", { text: message }),
    checkbox ? h("label.check", {}, (box = h("input", { type: "checkbox" })), " ", checkbox) : null,
    h("div.modal-actions", {},
      h("button.btn", { type: "button", onclick: () => close(false), text: "Cancel" }),
      h("button.btn." + (danger ? "danger" : "primary"), { type: "submit", text: confirmLabel, autofocus: true }))));
  return { ok: r === true, checked: !!(box && box.checked) };
}
