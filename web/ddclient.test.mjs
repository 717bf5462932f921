// Unit tests of web/ddclient.js: `node --test web/`.
// The script runs against a fake window (fetch, XMLHttpRequest, WebSocket, parent.postMessage),
// with the placeholders filled the way the server fills them (a replace-all of each token).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";

const SRC = readFileSync(new URL("./ddclient.js", import.meta.url), "utf8");
const SHELL = "http://localhost:8080";
const EXT_ORIGIN = "http://my-ext-1a2b3c4d.localhost:8080";
const INFO = {
  extension: "acme/my-ext",
  image: "acme/my-ext:1.2.0",
  host: { platform: "linux", arch: "x64", hostname: "box" },
  vm: true,
  hostBinaries: ["tool"],
};

const tick = () => new Promise((r) => setTimeout(r, 0));

class FakeWS {
  constructor(url) {
    this.url = url;
    this.readyState = 0;
    this.sent = [];
    this.closed = false;
    FakeWS.last = this;
  }
  send(data) {
    if (this.readyState !== 1) throw new Error("InvalidStateError");
    this.sent.push(JSON.parse(data));
  }
  close() { this.closed = true; this.readyState = 3; }
  // test side
  serverOpen() { this.readyState = 1; this.onopen?.({}); }
  serverSend(obj) { this.onmessage?.({ data: JSON.stringify(obj) }); }
  serverClose() { this.readyState = 3; this.onclose?.({}); }
}

/**
 * Load ddclient.js into a fresh fake window.
 * routes: {path: (body) => [status, json-or-text]} answers for fetch; overrides replace window members.
 */
function load({ info = INFO, fill = true, inFrame = true, routes = {}, xhrStatus = 200, overrides = {} } = {}) {
  let src = SRC;
  if (fill) {
    src = src.replaceAll("__DOCKHAND_SHELL_ORIGIN__", SHELL).replaceAll("__DOCKHAND_INFO__", JSON.stringify(info));
  }
  const calls = [];
  const posted = [];
  const listeners = [];
  const handlers = {};
  const xhrs = [];
  const opened = [];
  const logs = [];
  const parent = { postMessage: (msg, origin) => posted.push({ msg, origin }) };
  const win = {
    location: { protocol: "http:", host: "my-ext-1a2b3c4d.localhost:8080", hostname: "my-ext-1a2b3c4d.localhost", port: "8080", origin: EXT_ORIGIN },
    console: { log: (...a) => logs.push(a), warn: (...a) => logs.push(a), error: (...a) => logs.push(a) },
    URL,
    setTimeout: (fn, ms) => setTimeout(fn, ms),
    WebSocket: FakeWS,
    open: (...a) => opened.push(a),
    addEventListener: (type, fn) => (type === "message" ? listeners.push(fn) : (handlers[type] = handlers[type] || []).push(fn)),
    fetch: async (url, init) => {
      const body = JSON.parse(init.body);
      calls.push({ url, method: init.method, credentials: init.credentials, headers: init.headers, body });
      const handler = routes[url];
      const [status, answer] = handler ? handler(body) : [404, { message: "no route " + url }];
      const text = typeof answer === "string" ? answer : JSON.stringify(answer);
      return { status, ok: status >= 200 && status < 300, text: async () => text };
    },
    XMLHttpRequest: class {
      open(method, url, async) { xhrs.push({ method, url, async }); }
      send() { this.status = xhrStatus; this.responseText = JSON.stringify(info); }
    },
  };
  Object.assign(win, overrides);
  win.window = win;
  win.parent = inFrame ? parent : win;
  new Function("window", src)(win);
  // deliver a message from the shell (or anyone) to the page
  const deliver = (data, origin = SHELL, source = parent) => listeners.forEach((fn) => fn({ data, origin, source }));
  // dispatch a window event (error, unhandledrejection) to the page's listeners
  const fire = (type, ev) => (handlers[type] || []).forEach((fn) => fn({ target: win, ...ev }));
  return { dd: win.ddClient, calls, posted, deliver, fire, xhrs, opened, logs, parent };
}

const ok = (stdout, code = 0, stderr = "") => () => [200, { cmd: "x", code, stdout, stderr }];

test("each placeholder occurs exactly once", () => {
  assert.equal(SRC.split("__DOCKHAND_INFO__").length, 2);
  assert.equal(SRC.split("__DOCKHAND_SHELL_ORIGIN__").length, 2);
});

test("filled info: image, vm, host facts, no synchronous request", () => {
  const { dd, xhrs } = load();
  assert.equal(dd.extension.image, "acme/my-ext:1.2.0");
  assert.equal(typeof dd.extension.vm.cli.exec, "function");
  for (const m of ["get", "post", "put", "patch", "delete", "head", "request"]) {
    assert.equal(typeof dd.extension.vm.service[m], "function", m);
    assert.equal(typeof dd.backend[m], "function", "backend." + m);
  }
  assert.equal(typeof dd.extension.host.cli.exec, "function");
  assert.deepEqual([dd.host.platform, dd.host.arch, dd.host.hostname], ["linux", "x64", "box"]);
  assert.equal(xhrs.length, 0);
});

test("no vm: extension.vm and backend are absent", () => {
  const { dd } = load({ info: { ...INFO, vm: false } });
  assert.equal(dd.extension.vm, undefined);
  assert.equal(dd.backend, undefined);
  assert.equal(typeof dd.extension.host.cli.exec, "function");
});

test("unfilled: info by synchronous XHR, shell origin http://localhost:PORT", async () => {
  const { dd, xhrs, posted } = load({ fill: false });
  assert.deepEqual(xhrs, [{ method: "GET", url: "/.dockhand/api/info", async: false }]);
  assert.equal(dd.extension.image, "acme/my-ext:1.2.0");
  dd.desktopUI.toast.success("hi");
  assert.equal(posted[0].origin, "http://localhost:8080");
});

test("ExecResult helpers", async () => {
  const out = '{"a":1}\n{"a":2}\n\n';
  const { dd } = load({ routes: { "/.dockhand/api/docker/exec": ok(out) } });
  const r = await dd.docker.cli.exec("ps", ["--format", '"{{json .}}"']);
  assert.equal(r.stdout, out);
  assert.deepEqual(r.lines(), ['{"a":1}', '{"a":2}', ""]);
  assert.deepEqual(r.parseJsonLines(), [{ a: 1 }, { a: 2 }]);
  const r2 = await load({ routes: { "/.dockhand/api/docker/exec": ok('{"x": [1, 2]}') } }).dd.docker.cli.exec("info", []);
  assert.deepEqual(r2.parseJsonObject(), { x: [1, 2] });
  assert.equal(r2.code, 0);
  assert.equal(r2.stderr, "");
});

test("docker.cli.exec sends cmd, args and only cwd/env", async () => {
  const { dd, calls } = load({ routes: { "/.dockhand/api/docker/exec": ok("") } });
  await dd.docker.cli.exec("volume", ["ls", "--filter", "dangling=true"], { cwd: "/tmp", env: { A: "1" }, other: 1 });
  assert.equal(calls[0].url, "/.dockhand/api/docker/exec");
  assert.equal(calls[0].method, "POST");
  assert.equal(calls[0].credentials, "same-origin");
  assert.equal(calls[0].headers["Content-Type"], "application/json");
  assert.deepEqual(calls[0].body, { cmd: "volume", args: ["ls", "--filter", "dangling=true"], options: { cwd: "/tmp", env: { A: "1" } } });
  await dd.docker.cli.exec("info");
  assert.deepEqual(calls[1].body, { cmd: "info", args: [], options: {} });
});

test("non-zero exit rejects with the same ExecResult", async () => {
  const { dd } = load({ routes: { "/.dockhand/api/docker/exec": ok("a\nb\n", 3, "boom") } });
  await assert.rejects(dd.docker.cli.exec("x", []), (r) => {
    assert.equal(r.code, 3);
    assert.equal(r.stderr, "boom");
    assert.deepEqual(r.lines(), ["a", "b"]);
    return true;
  });
});

test("bridge error (unknown host binary) rejects with its message", async () => {
  const { dd, calls } = load({ routes: { "/.dockhand/api/host/exec": () => [404, { message: "no host binary nope" }] } });
  await assert.rejects(dd.extension.host.cli.exec("nope", ["-h"]), (r) => {
    assert.equal(r.stderr, "no host binary nope");
    assert.equal(r.message, "no host binary nope");
    assert.equal(typeof r.lines, "function");
    return true;
  });
  assert.deepEqual(calls[0].body, { cmd: "nope", args: ["-h"], options: {} });
});

test("vm.cli.exec and host.cli.exec use their routes", async () => {
  const { dd, calls } = load({ routes: { "/.dockhand/api/vm/exec": ok("v"), "/.dockhand/api/host/exec": ok("h") } });
  assert.equal((await dd.extension.vm.cli.exec("ls", ["-l"])).stdout, "v");
  assert.equal((await dd.extension.host.cli.exec("tool", ["version"], { env: { K: "v" } })).stdout, "h");
  assert.deepEqual(calls.map((c) => [c.url, c.body]), [
    ["/.dockhand/api/vm/exec", { cmd: "ls", args: ["-l"], options: {} }],
    ["/.dockhand/api/host/exec", { cmd: "tool", args: ["version"], options: { env: { K: "v" } } }],
  ]);
});

test("listContainers / listImages pass options through", async () => {
  const routes = {
    "/.dockhand/api/docker/containers": (b) => [200, [{ Id: "c1", opts: b.options }]],
    "/.dockhand/api/docker/images": () => [200, [{ Id: "sha256:i" }]],
  };
  const { dd, calls } = load({ routes });
  const opts = { all: true, filters: '{"label":["x"]}' };
  const cs = await dd.docker.listContainers(opts);
  assert.deepEqual(cs, [{ Id: "c1", opts }]);
  assert.deepEqual(await dd.docker.listImages(), [{ Id: "sha256:i" }]);
  assert.deepEqual(calls[1].body, { options: {} });
  assert.deepEqual(await dd.listContainers(), [{ Id: "c1", opts: {} }]);
  const bad = load({ routes: { "/.dockhand/api/docker/images": () => [502, { message: "engine down" }] } });
  await assert.rejects(bad.dd.docker.listImages(), /engine down/);
});

test("vm.service: shapes, JSON or text answers, ServiceError", async () => {
  const answers = [];
  const routes = { "/.dockhand/api/vm/request": () => answers.shift() };
  const { dd, calls } = load({ routes });
  answers.push([200, { status: 200, headers: {}, body: '{"ok":true}' }]);
  assert.deepEqual(await dd.extension.vm.service.get("/hello"), { ok: true });
  assert.deepEqual(calls[0].body, { method: "GET", url: "/hello", headers: {} });

  answers.push([200, { status: 201, headers: {}, body: "plain text" }]);
  assert.equal(await dd.extension.vm.service.post("/t", "a string"), "plain text");
  assert.deepEqual(calls[1].body, { method: "POST", url: "/t", headers: {}, data: "a string" });

  answers.push([200, { status: 200, headers: {}, body: "" }]);
  await dd.extension.vm.service.put("/o", { k: [1] });
  assert.deepEqual(calls[2].body.data, { k: [1] });

  answers.push([200, { status: 200, headers: {}, body: "" }]);
  await dd.backend.request({ url: "/r", method: "patch", headers: { "X-A": "b" }, data: { z: 1 } });
  assert.deepEqual(calls[3].body, { method: "PATCH", url: "/r", headers: { "X-A": "b" }, data: { z: 1 } });

  answers.push([200, { status: 404, headers: {}, body: "not here" }]);
  await assert.rejects(dd.extension.vm.service.delete("/gone"), (e) => {
    assert.equal(e.name, "ServiceError");
    assert.equal(e.statusCode, 404);
    assert.match(e.message, /404/);
    assert.match(e.message, /not here/);
    return true;
  });

  answers.push([502, { message: "backend socket not reachable" }]);
  await assert.rejects(dd.extension.vm.service.head("/h"), (e) => {
    assert.equal(e.name, "ServiceError");
    assert.equal(e.statusCode, 502);
    assert.match(e.message, /502/);
    assert.match(e.message, /not reachable/);
    return true;
  });
});

test("streaming: returns {close} at once, sends the request on open, raw chunks, onClose once", () => {
  const { dd } = load();
  const seen = [];
  const proc = dd.docker.cli.exec("logs", ["-f", "c1"], {
    cwd: "/w",
    stream: { onOutput: (d) => seen.push(d), onClose: (c) => seen.push(["close", c]), onError: (e) => seen.push(["error", e]) },
  });
  assert.equal(typeof proc.close, "function");
  assert.equal(typeof proc.then, "undefined");
  const ws = FakeWS.last;
  assert.equal(ws.url, "ws://my-ext-1a2b3c4d.localhost:8080/.dockhand/api/exec/ws");
  ws.serverOpen();
  assert.deepEqual(ws.sent, [{ kind: "docker", cmd: "logs", args: ["-f", "c1"], options: { cwd: "/w" } }]);
  ws.serverSend({ stdout: "par" });
  ws.serverSend({ stderr: "tial\nx" });
  ws.serverSend({ exit: 0 });
  ws.serverClose();
  assert.deepEqual(seen, [{ stdout: "par" }, { stderr: "tial\nx" }, ["close", 0]]);
});

test("streaming with splitOutputLines: whole lines per stream, remainder flushed at exit", () => {
  const { dd } = load();
  const seen = [];
  dd.extension.vm.cli.exec("tail", [], { stream: { splitOutputLines: true, onOutput: (d) => seen.push(d), onClose: (c) => seen.push(c) } });
  const ws = FakeWS.last;
  ws.serverOpen();
  assert.equal(ws.sent[0].kind, "vm");
  ws.serverSend({ stdout: "one\ntw" });
  ws.serverSend({ stderr: "e1\r\n" });
  ws.serverSend({ stdout: "o\nthree\n\nfour" });
  ws.serverSend({ exit: 2 });
  assert.deepEqual(seen, [{ stdout: "one" }, { stderr: "e1" }, { stdout: "two" }, { stdout: "three" }, { stdout: "" }, { stdout: "four" }, 2]);
});

test("streaming: close() sends {close:true}, closes, and silences callbacks", () => {
  const { dd } = load();
  const seen = [];
  const proc = dd.extension.host.cli.exec("tool", ["watch"], { stream: { onOutput: (d) => seen.push(d), onClose: (c) => seen.push(c), onError: (e) => seen.push(e) } });
  const ws = FakeWS.last;
  ws.serverOpen();
  assert.equal(ws.sent[0].kind, "host");
  proc.close();
  assert.deepEqual(ws.sent[1], { close: true });
  assert.equal(ws.closed, true);
  ws.serverSend({ stdout: "late" });
  ws.serverClose();
  proc.close();
  assert.deepEqual(seen, []);
});

test("streaming: close() before the socket opens sends nothing", () => {
  const { dd } = load();
  const proc = dd.docker.cli.exec("events", [], { stream: {} });
  proc.close();
  const ws = FakeWS.last;
  assert.equal(ws.closed, true);
  ws.onopen?.({});
  assert.deepEqual(ws.sent, []);
});

test("streaming: failure to start and lost connections call onError", () => {
  const { dd } = load();
  const seen = [];
  const stream = { onError: (e) => seen.push(e.message), onClose: (c) => seen.push(c) };
  dd.docker.cli.exec("nope", [], { stream });
  let ws = FakeWS.last;
  ws.serverOpen();
  ws.serverSend({ error: "exec: docker not found" });
  ws.serverClose();
  dd.docker.cli.exec("ps", [], { stream });
  ws = FakeWS.last;
  ws.serverOpen();
  ws.serverClose();
  assert.equal(seen.length, 2);
  assert.match(seen[0], /docker not found/);
  assert.match(seen[1], /closed/);
});

test("streaming: a WebSocket that cannot be created reports onError, not a throw", async () => {
  const { dd } = load({ overrides: { WebSocket: function () { throw new Error("blocked"); } } });
  const seen = [];
  const proc = dd.docker.cli.exec("ps", [], { stream: { onError: (e) => seen.push(e.message) } });
  assert.equal(typeof proc.close, "function");
  await tick();
  assert.deepEqual(seen, ["blocked"]);
});

test("toast, dialog, navigate, openExternal go to the shell's exact origin", async () => {
  const { dd, posted, deliver } = load();
  dd.desktopUI.toast.success("saved");
  dd.desktopUI.toast.warning("careful");
  dd.toastError(new Error("bad"));
  assert.deepEqual(posted.map((p) => [p.origin, p.msg.op, p.msg.args]), [
    [SHELL, "toast", { level: "success", message: "saved" }],
    [SHELL, "toast", { level: "warning", message: "careful" }],
    [SHELL, "toast", { level: "error", message: "Error: bad" }],
  ]);
  assert.ok(posted.every((p) => p.msg.dockhand === 1 && typeof p.msg.id === "number"));

  const dialog = dd.desktopUI.dialog.showOpenDialog({ properties: ["openDirectory"], filters: [{ name: "Y", extensions: ["yml"] }], fn: () => 1 });
  const dmsg = posted.at(-1).msg;
  assert.deepEqual(dmsg.args, { properties: ["openDirectory"], filters: [{ name: "Y", extensions: ["yml"] }] });
  deliver({ dockhand: 1, id: dmsg.id, ok: true, value: { canceled: false, filePaths: ["/home/u"] } }, "http://evil.localhost:8080");
  deliver({ dockhand: 1, id: dmsg.id, ok: true, value: { canceled: false, filePaths: ["/etc"] } }, SHELL, {});
  deliver({ dockhand: 1, id: dmsg.id, ok: true, value: { canceled: false, filePaths: ["/home/u"] } });
  assert.deepEqual(await dialog, { canceled: false, filePaths: ["/home/u"] });

  const nav = dd.desktopUI.navigate.viewImage("sha256:abc", "latest");
  const nmsg = posted.at(-1).msg;
  assert.deepEqual([nmsg.op, nmsg.args], ["navigate", { to: "image", id: "sha256:abc", tag: "latest" }]);
  deliver({ dockhand: 1, id: nmsg.id, ok: true, value: null });
  assert.equal(await nav, undefined);

  const missing = dd.desktopUI.navigate.viewContainerTerminal("nope");
  const mmsg = posted.at(-1).msg;
  assert.deepEqual(mmsg.args, { to: "containerTerminal", id: "nope" });
  deliver({ dockhand: 1, id: mmsg.id, ok: false, error: { message: "no container nope" } });
  await assert.rejects(missing, /no container nope/);

  dd.host.openExternal("https://docker.com/x?y=1");
  assert.deepEqual(posted.at(-1).msg.args, { url: "https://docker.com/x?y=1" });
  const n = posted.length;
  dd.host.openExternal("javascript:alert(1)");
  dd.openExternal("file:///etc/passwd");
  assert.equal(posted.length, n);
});

test("all ten navigate methods name their target", () => {
  const { dd, posted } = load();
  const n = dd.desktopUI.navigate;
  const calls = [
    [n.viewContainers(), { to: "containers" }],
    [n.viewContainer("c"), { to: "container", id: "c" }],
    [n.viewContainerLogs("c"), { to: "containerLogs", id: "c" }],
    [n.viewContainerInspect("c"), { to: "containerInspect", id: "c" }],
    [n.viewContainerTerminal("c"), { to: "containerTerminal", id: "c" }],
    [n.viewContainerStats("c"), { to: "containerStats", id: "c" }],
    [n.viewImages(), { to: "images" }],
    [n.viewImage("i", "t"), { to: "image", id: "i", tag: "t" }],
    [n.viewVolumes(), { to: "volumes" }],
    [n.viewVolume("v"), { to: "volume", name: "v" }],
  ];
  assert.deepEqual(posted.map((p) => p.msg.args), calls.map((c) => c[1]));
});

test("outside an iframe: dialog and navigate reject, toast logs", async () => {
  const { dd, posted, logs, opened } = load({ inFrame: false });
  await assert.rejects(dd.desktopUI.navigate.viewContainers(), /dashboard/);
  await assert.rejects(dd.desktopUI.dialog.showOpenDialog({}), /dashboard/);
  dd.desktopUI.toast.success("x");
  dd.host.openExternal("https://example.com/");
  assert.equal(posted.length, 0);
  assert.ok(logs.length >= 1);
  assert.equal(opened[0][0], "https://example.com/");
});

test("v0 names: exec shapes", async () => {
  const routes = { "/.dockhand/api/docker/exec": ok("d"), "/.dockhand/api/host/exec": ok("h"), "/.dockhand/api/vm/exec": ok("v") };
  const { dd, calls } = load({ routes });
  assert.equal((await dd.execDockerCmd("ps", "-a", "--no-trunc")).stdout, "d");
  await dd.execHostCmd("tool --name 'a b'");
  await dd.backend.execInVMExtension("ls");
  await dd.backend.execInContainer("c1", "cat /etc/os-release");
  assert.deepEqual(calls.map((c) => [c.url, c.body.cmd, c.body.args]), [
    ["/.dockhand/api/docker/exec", "ps", ["-a", "--no-trunc"]],
    ["/.dockhand/api/host/exec", "tool", ["--name 'a b'"]],
    ["/.dockhand/api/vm/exec", "ls", []],
    ["/.dockhand/api/docker/exec", "exec", ["c1", "cat /etc/os-release"]],
  ]);
});

test("v0 spawn callbacks get (data, error) and a final {code}", () => {
  const { dd } = load();
  const seen = [];
  const cb = (data, err) => seen.push([data, err && err.message]);
  dd.spawnDockerCmd("logs", ["-f", "c"], cb);
  let ws = FakeWS.last;
  ws.serverOpen();
  assert.deepEqual(ws.sent[0], { kind: "docker", cmd: "logs", args: ["-f", "c"], options: {} });
  ws.serverSend({ stdout: "hello" });
  ws.serverSend({ stderr: "warn" });
  ws.serverSend({ exit: 0 });
  dd.spawnHostCmd("tool", ["x"], cb);
  ws = FakeWS.last;
  ws.serverOpen();
  assert.equal(ws.sent[0].kind, "host");
  ws.serverSend({ error: "cannot start" });
  dd.backend.spawnInVMExtension("sh", ["-c", "true"], cb);
  assert.equal(FakeWS.last.url.endsWith("/.dockhand/api/exec/ws"), true);
  assert.deepEqual(seen, [
    [{ stdout: "hello" }, undefined],
    [{ stderr: "warn" }, undefined],
    [{ code: 0 }, undefined],
    [{}, "cannot start"],
  ]);
});

test("v0 names: toasts, lists, navigation, openExternal", async () => {
  const { dd, posted, deliver } = load();
  dd.toastSuccess("a");
  dd.toastWarning("b");
  const p = dd.navigateToContainer("c9");
  dd.navigateToImage("sha256:1", "v1");
  dd.navigateToVolume("data");
  dd.navigateToContainers();
  dd.navigateToImages();
  dd.navigateToVolumes();
  dd.navigateToContainerLogs("c");
  dd.navigateToContainerInspect("c");
  dd.navigateToContainerStats("c");
  dd.openExternal("http://example.com/");
  assert.deepEqual(posted.map((x) => x.msg.args), [
    { level: "success", message: "a" },
    { level: "warning", message: "b" },
    { to: "container", id: "c9" },
    { to: "image", id: "sha256:1", tag: "v1" },
    { to: "volume", name: "data" },
    { to: "containers" },
    { to: "images" },
    { to: "volumes" },
    { to: "containerLogs", id: "c" },
    { to: "containerInspect", id: "c" },
    { to: "containerStats", id: "c" },
    { url: "http://example.com/" },
  ]);
  deliver({ dockhand: 1, id: posted[2].msg.id, ok: false, error: { message: "gone" } });
  await assert.rejects(p, /gone/);
  await tick();
});

test("page errors: uncaught exceptions and unhandled rejections are reported, at most 20", async () => {
  const reports = [];
  const routes = { "/.dockhand/api/page/error": (body) => (reports.push(body), [204, ""]) };
  const { fire, calls } = load({ routes });
  const err = new TypeError("Cannot read properties of undefined (reading 'grey')");
  fire("error", { error: err, message: "Uncaught TypeError: …", filename: "http://x.localhost:8080/main.js", lineno: 3, colno: 14 });
  fire("unhandledrejection", { reason: { cmd: "docker ps", code: 1, stderr: "boom" } });
  fire("unhandledrejection", { reason: "plain" });
  fire("unhandledrejection", {});
  // a muted script error (no error object): the event's message
  fire("error", { error: null, message: "Script error." });
  // a resource that failed to load is not an exception
  fire("error", { target: { tagName: "IMG" }, message: "" });
  await tick();
  assert.equal(reports.length, 5);
  assert.deepEqual(
    { ...reports[0], stack: typeof reports[0].stack },
    { type: "error", message: "TypeError: Cannot read properties of undefined (reading 'grey')", source: "http://x.localhost:8080/main.js", line: 3, column: 14, stack: "string" },
  );
  assert.deepEqual(reports[1], { type: "unhandledrejection", message: "boom" });
  assert.deepEqual(reports[2], { type: "unhandledrejection", message: "plain" });
  assert.equal(reports[3].message, "a promise was rejected without a reason");
  assert.equal(reports[4].message, "Script error.");
  const c = calls.find((x) => x.url === "/.dockhand/api/page/error");
  assert.equal(c.method, "POST");
  assert.equal(c.credentials, "same-origin");
  for (let i = 0; i < 30; i++) fire("error", { error: new Error("again " + i) });
  await tick();
  assert.equal(reports.length, 20);
});
