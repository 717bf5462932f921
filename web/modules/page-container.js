// #/container/<id>[/logs|inspect|stats|terminal]: one container's details, the views that
// ddClient.desktopUI.navigate.viewContainer* opens.
import { h, mount, note, pageHead, badge, facts } from "./dom.js";
import { api, seg } from "./api.js";
import { href, CONTAINER_TABS } from "./router.js";
import { bytes, ago, shortId, stripAnsi } from "./format.js";
import { computeStats } from "./stats.js";
import { createTerminal } from "./terminal.js";

const LABELS = { logs: "Logs", inspect: "Inspect", stats: "Stats", terminal: "Terminal" };
const MAX_LOG_CHARS = 2_000_000;

export function render(root, route) {
  let disposeTab = () => {};
  let disposed = false;
  mount(root, note("Loading…"));

  api.json(`/api/containers/${seg(route.id)}`).then((c) => {
    if (disposed) return;
    const name = (c.Name || c.Id).replace(/^\//, "");
    const running = !!c.State?.Running;
    const tabs = h("nav.tabs", { "aria-label": "Container views" }, CONTAINER_TABS.map((t) =>
      h("a.tab", { href: href.container(route.id, t), "aria-current": t === route.tab ? "page" : null, text: LABELS[t] })));
    const panel = h("div.tab-panel", {});
    mount(root,
      h("p.crumbs", {}, h("a", { href: "#/containers", text: "Containers" }), " / ", name),
      pageHead(name),
      facts([
        ["State", badge(c.State?.Status || "unknown", running ? "ok" : "muted")],
        ["Image", c.Image ? h("a", { href: href.image(c.Image), text: c.Config?.Image || shortId(c.Image) }) : ""],
        ["ID", h("code", { text: shortId(c.Id) })],
        ["Created", ago(c.Created)],
      ]),
      tabs, panel);
    const view = { logs: logsView, inspect: inspectView, stats: statsView, terminal: terminalView }[route.tab];
    disposeTab = view(panel, c, running) || (() => {});
  }, (e) => {
    if (!disposed) mount(root, pageHead("Container"), note(e.status === 404 ? `No container ${route.id}.` : e.message, "error"), h("p", {}, h("a", { href: "#/containers", text: "All containers" })));
  });

  return { dispose() { disposed = true; disposeTab(); } };
}

function logsView(panel, c) {
  const pre = h("pre.logs", { tabindex: "0", role: "log", "aria-label": "Logs" });
  const status = h("span.muted.small", { text: "Following…" });
  const wrap = h("input", { type: "checkbox", onchange: () => pre.classList.toggle("wrap", wrap.checked) });
  mount(panel, h("div.toolbar", {}, status, h("label.check", {}, wrap, " Wrap lines"),
    h("button.btn.small", { type: "button", onclick: () => { pre.textContent = ""; }, text: "Clear" })), pre);
  const ctrl = new AbortController();
  let buffer = "";
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    const atBottom = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
    pre.append(buffer);
    buffer = "";
    if (pre.textContent.length > MAX_LOG_CHARS) pre.textContent = pre.textContent.slice(-MAX_LOG_CHARS / 2);
    if (atBottom) pre.scrollTop = pre.scrollHeight;
  };
  (async () => {
    try {
      const res = await api.stream(`/api/containers/${seg(c.Id)}/logs?tail=1000&follow=true`, { signal: ctrl.signal });
      const reader = res.body.getReader();
      const dec = new TextDecoder();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += stripAnsi(dec.decode(value, { stream: true })).replace(/\r\n?/g, "\n");
        if (!scheduled) { scheduled = true; requestAnimationFrame(flush); }
      }
      status.textContent = "The log stream ended.";
    } catch (e) {
      if (e.name !== "AbortError") status.textContent = e.message;
    }
  })();
  return () => ctrl.abort();
}

function inspectView(panel, c) {
  mount(panel, h("pre.json", { tabindex: "0", "aria-label": "Inspect JSON", text: JSON.stringify(c, null, 2) }));
}

function statsView(panel, c, running) {
  if (!running) return void mount(panel, note("Stats are available while the container runs."));
  const body = h("div", {}, note("Reading…"));
  mount(panel, body);
  let timer = null;
  let stopped = false;
  const tick = async () => {
    try {
      const s = computeStats(await api.json(`/api/containers/${seg(c.Id)}/stats`));
      if (stopped) return;
      mount(body, h("div.stat-grid", {},
        stat("CPU", `${s.cpuPercent.toFixed(1)} %`, `${s.online} CPU${s.online === 1 ? "" : "s"}`, s.cpuPercent / s.online),
        stat("Memory", bytes(s.memUsed), s.memLimit ? `of ${bytes(s.memLimit)} (${s.memPercent.toFixed(1)} %)` : "", s.memPercent),
        stat("Network I/O", `${bytes(s.rx)} / ${bytes(s.tx)}`, "received / sent"),
        stat("Disk I/O", `${bytes(s.read)} / ${bytes(s.write)}`, "read / written"),
        stat("Processes", s.pids == null ? "–" : String(s.pids), "")));
    } catch (e) {
      if (!stopped) mount(body, note(e.message, "error"));
    }
    if (!stopped) timer = setTimeout(tick, 2000);
  };
  tick();
  return () => { stopped = true; clearTimeout(timer); };
}

function stat(label, value, sub, percent) {
  return h("div.stat", {},
    h("div.muted.small", { text: label }),
    h("div.stat-value", { text: value }),
    sub ? h("div.muted.small", { text: sub }) : null,
    percent != null ? h("div.meter", { role: "meter", "aria-label": label, "aria-valuemin": "0", "aria-valuemax": "100", "aria-valuenow": percent.toFixed(0) },
      meterBar(percent)) : null);
}

function meterBar(percent) {
  const bar = h("div.meter-bar", {});
  bar.style.width = `${Math.min(100, Math.max(0, percent)).toFixed(1)}%`; // CSSOM: allowed by a strict CSP
  return bar;
}

function terminalView(panel, c, running) {
  if (!running) return void mount(panel, note("A terminal needs a running container."));
  const t = createTerminal(c.Id);
  mount(panel, t.el);
  return () => t.dispose();
}
