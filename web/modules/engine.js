// The engine the dashboard works on and its mode, as the top bar shows them, from
// GET /api/info's `engine_status` (docs/bridge.md, "Dashboard API").

/** `Docker Engine 24.0.7 at unix:///var/run/docker.sock`, or why it is not reachable. */
export function engineText(s) {
  if (!s) return "";
  if (!s.reachable) return `engine unreachable at ${s.host}`;
  return `${s.flavor} ${s.version} at ${s.host}`;
}

/** `local mode`, `relay mode` or `mode unknown`. */
export function modeText(s) {
  if (!s || !s.reachable) return "";
  return s.mode ? `${s.mode} mode` : "mode unknown";
}

/** The tooltip: why that mode (or why it is not known). */
export function modeTitle(s) {
  if (!s) return "";
  if (!s.reachable) return s.error || "";
  const why = s.mode_reason || s.error || "";
  const how = s.mode === "relay"
    ? "Backends are reached through each extension's relay container, over the Engine API."
    : s.mode === "local" ? "Backends' sockets are reached on this machine." : "";
  return [how, why].filter(Boolean).join(" ");
}
