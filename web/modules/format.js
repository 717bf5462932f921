// Formatting helpers (pure).

export function bytes(n) {
  if (n == null || !isFinite(n)) return "";
  const units = ["B", "kB", "MB", "GB", "TB"];
  let i = 0;
  let v = Number(n);
  while (Math.abs(v) >= 1000 && i < units.length - 1) { v /= 1000; i++; }
  return (i === 0 ? String(v) : v.toFixed(v < 10 ? 2 : v < 100 ? 1 : 0)) + " " + units[i];
}

/** "3 minutes ago" from unix seconds or an ISO date string. */
export function ago(t, now = Date.now()) {
  const ms = typeof t === "number" ? t * 1000 : Date.parse(t);
  if (!isFinite(ms) || ms <= 0) return "";
  const s = Math.max(0, Math.round((now - ms) / 1000));
  const steps = [[60, "second"], [60, "minute"], [24, "hour"], [30, "day"], [12, "month"], [Infinity, "year"]];
  let v = s;
  for (const [size, unit] of steps) {
    if (v < size) return `${v} ${unit}${v === 1 ? "" : "s"} ago`;
    v = Math.floor(v / size);
  }
  return "";
}

/** 12 hex digits of a (possibly sha256:-prefixed) id. */
export const shortId = (id) => String(id || "").replace(/^sha256:/, "").slice(0, 12);

/** Remove ANSI escape sequences (CSI, OSC, two-byte ESC) and lone control characters but \n \t. */
export function stripAnsi(text) {
  return String(text)
    .replace(/\x1b\][^\x07\x1b]*(\x07|\x1b\\)/g, "")
    .replace(/\x1b\[[0-?]*[ -/]*[@-~]/g, "")
    .replace(/\x1b[@-Z\\-_]/g, "")
    .replace(/[\x00-\x08\x0b-\x1f\x7f]/g, (c) => (c === "\r" ? "\r" : ""));
}

/** "0.0.0.0:8080->80/tcp" for each published Engine API port. */
export function ports(list) {
  const seen = new Set();
  for (const p of list || []) {
    const s = p.PublicPort ? `${p.IP && p.IP !== "0.0.0.0" && p.IP !== "::" ? p.IP + ":" : ""}${p.PublicPort}->${p.PrivatePort}/${p.Type}` : `${p.PrivatePort}/${p.Type}`;
    seen.add(s);
  }
  return [...seen].join(", ");
}

/** A container's display name from an Engine API list entry. */
export const containerName = (c) => ((c.Names && c.Names[0]) || c.Id || "").replace(/^\//, "");
