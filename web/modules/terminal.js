// A simple text terminal over the WebSocket /api/containers/{id}/terminal (no xterm.js):
// binary frames in and out, a text frame {"resize": [cols, rows]} when the size changes.
// Output is shown as text with escape sequences removed; keys are sent as the bytes a VT100
// would send. Tab is sent to the shell; Shift+Tab leaves the terminal.
import { h } from "./dom.js";
import { wsUrl, seg } from "./api.js";

const KEYS = {
  Enter: "\r", Backspace: "\x7f", Tab: "\t", Escape: "\x1b", Delete: "\x1b[3~",
  ArrowUp: "\x1b[A", ArrowDown: "\x1b[B", ArrowRight: "\x1b[C", ArrowLeft: "\x1b[D",
  Home: "\x1b[H", End: "\x1b[F", PageUp: "\x1b[5~", PageDown: "\x1b[6~",
};
const MAX_LINES = 3000;

/** Bytes for a keydown event, or null when the key is not for the terminal. */
export function keyBytes(e) {
  if (e.metaKey) return null;
  if (e.key === "Tab" && e.shiftKey) return null;
  if (e.ctrlKey && !e.altKey && e.key.length === 1) {
    const c = e.key.toUpperCase().charCodeAt(0);
    if (c >= 64 && c <= 95) return String.fromCharCode(c - 64); // Ctrl+A..Z, Ctrl+[ \ ] ^ _
    return null;
  }
  if (e.key in KEYS) return KEYS[e.key];
  if (e.key.length === 1) return (e.altKey ? "\x1b" : "") + e.key;
  return null;
}

/** A screen that takes raw output: keeps lines, handles \r, \n, backspace; drops escapes. */
export function createScreen() {
  const lines = [""];
  let col = 0;
  function write(text) {
    const clean = text
      .replace(/\x1b\][^\x07\x1b]*(\x07|\x1b\\)/g, "")
      .replace(/\x1b\[[0-?]*[ -/]*[@-~]/g, "")
      .replace(/\x1b[@-_]/g, "");
    for (const ch of clean) {
      const last = lines.length - 1;
      if (ch === "\n") { lines.push(""); col = 0; }
      else if (ch === "\r") col = 0;
      else if (ch === "\b") col = Math.max(0, col - 1);
      else if (ch < " " || ch === "\x7f") continue;
      else {
        const l = lines[last];
        lines[last] = l.slice(0, col).padEnd(col, " ") + ch + l.slice(col + 1);
        col++;
      }
    }
    if (lines.length > MAX_LINES) lines.splice(0, lines.length - MAX_LINES);
  }
  /** The text, split at the cursor: [before, the character under it (" " past the end), after]. */
  function parts() {
    const last = lines[lines.length - 1];
    const before = lines.slice(0, -1).concat(last.slice(0, col)).join("\n");
    return [before, last.charAt(col) || " ", last.slice(col + 1)];
  }
  return { write, text: () => lines.join("\n"), parts, lines };
}

/** Mount a terminal for container `id`; returns {el, dispose}. */
export function createTerminal(id) {
  const screen = createScreen();
  const out = h("pre.term", { tabindex: "0", role: "textbox", "aria-label": "Terminal", "aria-multiline": "true", "aria-describedby": "term-help" });
  const status = h("span.muted", { text: "Connecting…" });
  const reconnect = h("button.btn.small", { type: "button", hidden: true, text: "Reconnect", onclick: () => connect() });
  const el = h("div.term-wrap", {},
    h("div.toolbar", {}, status, reconnect, h("span.muted.small", { id: "term-help", text: "Click to type. Tab goes to the shell, Shift+Tab leaves." })),
    out);
  const enc = new TextEncoder();
  let ws = null;
  let dec = null;
  let disposed = false;
  let pendingPaint = false;

  const paint = () => {
    if (pendingPaint) return;
    pendingPaint = true;
    requestAnimationFrame(() => {
      pendingPaint = false;
      const atBottom = out.scrollTop + out.clientHeight >= out.scrollHeight - 4;
      const [before, at, after] = screen.parts();
      out.replaceChildren(before, h("span.cursor", { text: at }), after);
      if (atBottom) out.scrollTop = out.scrollHeight;
    });
  };
  const send = (s) => { if (ws && ws.readyState === 1) ws.send(enc.encode(s)); };
  function size() {
    const probe = h("span", { text: "MMMMMMMMMM" });
    out.append(probe);
    const w = probe.getBoundingClientRect().width / 10 || 8;
    const lh = probe.getBoundingClientRect().height || 16;
    probe.remove();
    return [Math.max(20, Math.floor((out.clientWidth - 16) / w)), Math.max(5, Math.floor((out.clientHeight - 16) / lh))];
  }
  const sendSize = () => { if (ws && ws.readyState === 1) ws.send(JSON.stringify({ resize: size() })); };

  function connect() {
    reconnect.hidden = true;
    status.textContent = "Connecting…";
    dec = new TextDecoder();
    ws = new WebSocket(wsUrl(`/api/containers/${seg(id)}/terminal`));
    ws.binaryType = "arraybuffer";
    ws.onopen = () => { status.textContent = "Connected"; sendSize(); out.focus(); };
    ws.onmessage = (ev) => {
      screen.write(typeof ev.data === "string" ? ev.data : dec.decode(ev.data, { stream: true }));
      paint();
    };
    ws.onclose = () => {
      if (disposed) return;
      status.textContent = "Disconnected";
      reconnect.hidden = false;
    };
  }

  out.addEventListener("keydown", (e) => {
    const b = keyBytes(e);
    if (b == null) return;
    e.preventDefault();
    send(b);
  });
  out.addEventListener("paste", (e) => {
    e.preventDefault();
    send(e.clipboardData.getData("text"));
  });
  const ro = new ResizeObserver(() => sendSize());
  ro.observe(out);
  connect();

  return {
    el,
    dispose() {
      disposed = true;
      ro.disconnect();
      if (ws) ws.close();
    },
  };
}
