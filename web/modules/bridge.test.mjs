// Tests of the shell's postMessage bridge and the navigate targets (pure parts of the shell).
import { test } from "node:test";
import assert from "node:assert/strict";
import { createBridge, frameOrigin } from "./bridge.js";
import { navigateTarget, parseHash, href } from "./router.js";

const EXT = "http://my-ext-1a2b3c4d.localhost:8080";

function setup(handlers) {
  let listener;
  const win = { addEventListener: (type, fn) => { assert.equal(type, "message"); listener = fn; } };
  const bridge = createBridge(handlers, win);
  const posted = [];
  const child = { postMessage: (msg, origin) => posted.push({ msg, origin }) };
  const iframe = { contentWindow: child };
  bridge.register(iframe, EXT, { id: "acme/ext" });
  const send = (data, { origin = EXT, source = child } = {}) => listener({ data, origin, source });
  return { bridge, posted, send, child, iframe };
}

test("answers a registered frame at its exact origin", async () => {
  const seen = [];
  const { posted, send } = setup({ toast: (args, ext) => { seen.push([args, ext.id]); } });
  await send({ dockhand: 1, id: 7, op: "toast", args: { level: "success", message: "hi" } });
  assert.deepEqual(seen, [[{ level: "success", message: "hi" }, "acme/ext"]]);
  assert.deepEqual(posted, [{ msg: { dockhand: 1, id: 7, ok: true, value: null }, origin: EXT }]);
});

test("errors and unknown ops are answered with {message}", async () => {
  const { posted, send } = setup({ navigate: async () => { throw new Error("no container c1"); } });
  await send({ dockhand: 1, id: 1, op: "navigate", args: { to: "container", id: "c1" } });
  await send({ dockhand: 1, id: 2, op: "constructor", args: {} });
  assert.deepEqual(posted.map((p) => p.msg), [
    { dockhand: 1, id: 1, ok: false, error: { message: "no container c1" } },
    { dockhand: 1, id: 2, ok: false, error: { message: "unknown operation constructor" } },
  ]);
});

test("wrong origin, unknown source, malformed or unregistered frames get nothing", async () => {
  let calls = 0;
  const { bridge, posted, send, iframe } = setup({ toast: () => { calls++; } });
  const msg = { dockhand: 1, id: 1, op: "toast", args: {} };
  await send(msg, { origin: "http://other-1234.localhost:8080" });
  await send(msg, { origin: "http://localhost:8080" });
  await send(msg, { origin: EXT + "/" });
  await send(msg, { source: { postMessage() { throw new Error("must not answer"); } } });
  await send(msg, { source: null });
  await send({ ...msg, dockhand: 2 });
  await send({ ...msg, id: "1" });
  await send("string");
  bridge.unregister(iframe);
  await send(msg);
  assert.equal(calls, 0);
  assert.equal(posted.length, 0);
});

test("frameOrigin: the ticket URL's origin, never the shell's", () => {
  assert.equal(frameOrigin(EXT + "/.dockhand/enter?ticket=K", "http://localhost:8080"), EXT);
  assert.throws(() => frameOrigin("http://localhost:8080/.dockhand/enter?ticket=K", "http://localhost:8080"));
  assert.throws(() => frameOrigin("javascript:alert(1)", "http://localhost:8080"));
});

test("navigate targets", () => {
  assert.deepEqual(navigateTarget({ to: "containers" }), { check: null, hash: "#/containers", what: "containers" });
  assert.deepEqual(navigateTarget({ to: "containerStats", id: "abc" }), { check: "/api/containers/abc", hash: "#/container/abc/stats", what: "container abc" });
  assert.equal(navigateTarget({ to: "container", id: "abc" }).hash, "#/container/abc");
  assert.equal(navigateTarget({ to: "containerTerminal", id: "abc" }).hash, "#/container/abc/terminal");
  assert.deepEqual(navigateTarget({ to: "image", id: "sha256:ab", tag: "1.0" }), { check: "/api/images/sha256%3Aab", hash: "#/image/sha256%3Aab/1.0", what: "image sha256:ab" });
  assert.deepEqual(navigateTarget({ to: "volume", name: "my vol" }).check, "/api/volumes/my%20vol");
  assert.throws(() => navigateTarget({ to: "container" }), /needs a container id/);
  assert.throws(() => navigateTarget({ to: "settings" }), /unknown/);
});

test("hash routes round-trip", () => {
  assert.deepEqual(parseHash(""), { page: "extensions" });
  assert.deepEqual(parseHash("#/containers"), { page: "containers" });
  assert.deepEqual(parseHash(href.container("c1")), { page: "container", id: "c1", tab: "logs" });
  assert.deepEqual(parseHash(href.container("c1", "terminal")), { page: "container", id: "c1", tab: "terminal" });
  assert.deepEqual(parseHash(href.image("sha256:x", "v1.2")), { page: "image", id: "sha256:x", tag: "v1.2" });
  assert.deepEqual(parseHash(href.image("sha256:x")), { page: "image", id: "sha256:x", tag: undefined });
  assert.deepEqual(parseHash(href.volume("data")), { page: "volume", name: "data" });
  assert.deepEqual(parseHash(href.ext("docker/volumes-backup-extension")), { page: "ext", id: "docker/volumes-backup-extension" });
  assert.deepEqual(parseHash("#/container/c1/bogus"), { page: "notfound" });
  assert.deepEqual(parseHash("#/ext/%E0%A4%A"), { page: "notfound" });
});
