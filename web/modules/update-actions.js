// Installing an update from the dashboard: POST /api/extensions/{id}/update; when the new
// version wants more than the installed one the server answers 409 with what it wants, the
// shell asks, and sends it again with yes=true.
import { api, seg } from "./api.js";
import { confirmDialog } from "./modal.js";

export async function updateExtension(ext, ctx) {
  const path = `/api/extensions/${seg(ext.id)}/update`;
  let r;
  try {
    r = await api.post(path);
  } catch (e) {
    if (e.status !== 409) throw e;
    const ok = await confirmDialog({
      title: `Update ${ext.title}?`,
      message: e.message,
      confirmLabel: "Update",
    });
    if (!ok.ok) return;
    r = await api.post(`${path}?yes=true`);
  }
  if (r.outcome === "updated") ctx.toast("success", `${ext.title} updated from ${r.from} to ${r.version}`);
  else ctx.toast("info", `${ext.title} ${r.version} is up to date`);
  await ctx.refreshExtensions();
}
