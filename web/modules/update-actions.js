// Installing an update from the dashboard: POST /api/extensions/{id}/update/preview gives the new
// version pinned to a digest and its consent summary (the CLI's); when it wants more than the
// installed version the shell shows that summary and asks, and only then sends
// POST /api/extensions/{id}/update?tag=…&digest=… (with yes=true once confirmed), which installs
// that exact image or fails.
import { api, seg } from "./api.js";
import { consentDialog } from "./consent.js";

/** The update route's query for a preview answer `p` (confirmed: yes=true). */
export function updateQuery(p, confirmed) {
  const q = new URLSearchParams({ tag: p.tag, digest: p.digest });
  if (confirmed) q.set("yes", "true");
  return "?" + q.toString();
}

export async function updateExtension(ext, ctx) {
  const path = `/api/extensions/${seg(ext.id)}/update`;
  const p = await api.post(`${path}/preview`);
  if (p.outcome !== "update") {
    ctx.toast("info", `${ext.title} ${p.version} is up to date`);
    return;
  }
  if (p.widens) {
    const ok = await consentDialog({
      title: `Update ${ext.title} to ${p.version}?`,
      intro: `${p.version} asks for more than ${p.from}. It will get:`,
      summary: p.summary,
      confirmLabel: "Update",
    });
    if (!ok) return;
  }
  const r = await api.post(path + updateQuery(p, p.widens));
  if (r.outcome === "updated") ctx.toast("success", `${ext.title} updated from ${r.from} to ${r.version}`);
  else ctx.toast("info", `${ext.title} ${r.version} is up to date`);
  await ctx.refreshExtensions();
}
