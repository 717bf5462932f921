// The consent dialog: the summary the CLI prints before [y/N] (dockhand-host's Summary,
// serialized by the server), shown before the dashboard installs or updates an extension.
// Nothing is installed unless the person presses the confirm button.
import { h, facts } from "./dom.js";
import { modal } from "./modal.js";

/** The consent summary as [term, value] rows, most sensitive last. */
export function summaryRows(s) {
  const rows = [
    ["UI", s.ui_tab ? `a dashboard tab "${s.ui_tab}"` : "none"],
    ["Backend", s.services && s.services.length ? s.services.map((x) => `${x.name} (${x.image})`).join(", ") : "none"],
  ];
  if (s.engine_access && s.engine_access.length) rows.push(["Engine socket", `${s.engine_access.join(", ")} (can control every container on this engine)`]);
  if (s.host_binaries && s.host_binaries.length) rows.push(["Host binaries", `${s.host_binaries.join(", ")} (run on this machine as you)`]);
  for (const p of s.privileges || []) rows.push(["Privilege", p]);
  return rows;
}

/**
 * Shows `summary` (with its warnings and the pinned image it is about) and resolves true only
 * when the person confirms.
 */
export async function consentDialog({ title, intro, summary, confirmLabel }) {
  const ok = await modal(title, (close) => h("form.modal-body.install-consent", { method: "dialog", onsubmit: (e) => { e.preventDefault(); close(true); } },
    h("h2", { text: title }),
    h("p", { text: intro }),
    facts(summaryRows(summary)),
    summary.reference ? h("p.muted.consent-image", {}, "Image ", h("code", { text: summary.reference })) : null,
    summary.warnings && summary.warnings.length ? [h("h3", { text: "Warnings" }), h("ul", {}, summary.warnings.map((w) => h("li", { text: w })))] : null,
    h("div.modal-actions", {},
      h("button.btn", { type: "button", onclick: () => close(false), text: "Cancel" }),
      h("button.btn.primary", { type: "submit", text: confirmLabel, autofocus: true }))));
  return ok === true;
}
