// Update notices: which extensions newly have an update (pure, tested in updates.test.mjs).

/**
 * The extensions whose `update_available` is set and was not announced yet, and the new
 * set of announced `id@version` keys. An extension announced for 1.1.0 is announced again
 * when 1.2.0 appears; one whose update went away is forgotten, so it can come back.
 */
export function newlyAvailable(announced, extensions) {
  const next = new Set();
  const fresh = [];
  for (const e of extensions || []) {
    if (!e || !e.update_available) continue;
    const key = `${e.id}@${e.update_available}`;
    next.add(key);
    if (!announced.has(key)) fresh.push({ id: e.id, title: e.title || e.id, version: e.update_available });
  }
  return { fresh, announced: next };
}

/** The toast text for the updates in `fresh` (one line each, or a count past three). */
export function noticeText(fresh) {
  if (!fresh.length) return "";
  if (fresh.length > 3) return `${fresh.length} extensions have updates: see Extensions`;
  return fresh.map((u) => `${u.title}: version ${u.version} is available`).join("\n");
}

/** How often the shell reads the extension list again to notice the server's periodic check. */
export const POLL_MS = 5 * 60 * 1000;
