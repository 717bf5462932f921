// Tests of dev mode's bridge call descriptions.
import { test } from "node:test";
import assert from "node:assert/strict";
import { describeCall, quoteArg, callTime } from "./devcalls.js";

test("exec calls show target, argv and env names", () => {
  assert.equal(
    describeCall({ kind: "docker.cli.exec", method: "POST", target: "ps", argv: ["-a", "--format", "{{.Names}} x"], env: ["TOKEN"] }),
    "ps -a --format '{{.Names}} x' env[TOKEN]");
});

test("service calls show method and URL; others their path", () => {
  assert.equal(describeCall({ kind: "vm.service", method: "GET", target: "/hello" }), "GET /hello");
  assert.equal(describeCall({ kind: "info", method: "GET", path: "/.dockhand/api/info" }), "GET /.dockhand/api/info");
  assert.equal(describeCall({ kind: "host.cli.exec", target: "t", argv: [], argv_total: 100 }), "t … (100 arguments)");
});

test("quoting and times", () => {
  assert.equal(quoteArg(""), "''");
  assert.equal(quoteArg("it's"), "'it'\\''s'");
  assert.equal(callTime("2026-11-23T15:20:44.123Z"), "15:20:44.123");
  assert.equal(callTime(undefined), "");
});
