// Dev mode's pure helpers (docs/dev-mode.md): one bridge call log entry as a line for people.

/** An argument as a shell would need it written to be one word. */
export function quoteArg(s) {
  s = String(s ?? "");
  return s !== "" && /^[A-Za-z0-9_./:=@%+,{}-]+$/.test(s) ? s : `'${s.replace(/'/g, "'\\''")}'`;
}

/** What a call did: `ps -a`, `GET /hello`, `/.dockhand/api/info`. */
export function describeCall(e) {
  const parts = [];
  if (e.kind === "vm.service" || e.target == null) parts.push(e.method);
  parts.push(e.target ?? e.path);
  for (const a of e.argv || []) parts.push(quoteArg(a));
  if (e.argv_total) parts.push(`… (${e.argv_total} arguments)`);
  if (e.env?.length) parts.push(`env[${e.env.join(",")}]`);
  if (e.body != null) parts.push(`body ${quoteArg(e.body)}`);
  return parts.filter((p) => p != null && p !== "").join(" ");
}

/** `HH:MM:SS.mmm` of an RFC 3339 UTC time stamp (the log's `ts`). */
export function callTime(ts) {
  const m = /T(\d\d:\d\d:\d\d(?:\.\d+)?)/.exec(String(ts || ""));
  return m ? m[1] : String(ts || "");
}
