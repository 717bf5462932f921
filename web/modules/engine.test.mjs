// Tests of the top bar's engine and mode line.
import { test } from "node:test";
import assert from "node:assert/strict";
import { engineText, modeText, modeTitle } from "./engine.js";

const relay = {
  host: "tcp://127.0.0.1:2376", kind: "tcp+tls", reachable: true, flavor: "Docker Engine",
  version: "20.10.24", api_version: "1.41", mode: "relay",
  mode_reason: "the engine does not see /run/user/0/dockhand", error: null,
};

test("a reachable engine: flavor, version, address and mode", () => {
  assert.equal(engineText(relay), "Docker Engine 20.10.24 at tcp://127.0.0.1:2376");
  assert.equal(modeText(relay), "relay mode");
  assert.match(modeTitle(relay), /relay container/);
  assert.match(modeTitle(relay), /does not see/);
  const local = { ...relay, mode: "local", mode_reason: "it sees the marker" };
  assert.equal(modeText(local), "local mode");
  assert.match(modeTitle(local), /on this machine\. it sees the marker$/);
});

test("an engine not probed or not reachable", () => {
  const unknown = { ...relay, mode: null, mode_reason: "the mode could not be probed: x", error: "x" };
  assert.equal(modeText(unknown), "mode unknown");
  assert.equal(modeTitle(unknown), "the mode could not be probed: x");
  const down = { host: "unix:///nope.sock", kind: "unix", reachable: false, error: "connection refused" };
  assert.equal(engineText(down), "engine unreachable at unix:///nope.sock");
  assert.equal(modeText(down), "");
  assert.equal(modeTitle(down), "connection refused");
  assert.equal(engineText(undefined), "");
});
