// Tests of the update notices.
import { test } from "node:test";
import assert from "node:assert/strict";
import { newlyAvailable, noticeText } from "./updates.js";

test("an update is announced once per version", () => {
  const list = [
    { id: "acme/a", title: "A", update_available: "1.1.0" },
    { id: "acme/b", title: "B", update_available: null },
  ];
  let r = newlyAvailable(new Set(), list);
  assert.deepEqual(r.fresh, [{ id: "acme/a", title: "A", version: "1.1.0" }]);
  r = newlyAvailable(r.announced, list);
  assert.deepEqual(r.fresh, []);
  list[0].update_available = "1.2.0";
  r = newlyAvailable(r.announced, list);
  assert.deepEqual(r.fresh.map((u) => u.version), ["1.2.0"]);
  // Updated: forgotten, so a later update is announced again.
  list[0].update_available = null;
  r = newlyAvailable(r.announced, list);
  assert.equal(r.announced.size, 0);
  assert.deepEqual(newlyAvailable(r.announced, null).fresh, []);
});

test("notice text", () => {
  assert.equal(noticeText([]), "");
  assert.equal(noticeText([{ title: "A", version: "1.1.0" }]), "A: version 1.1.0 is available");
  const many = ["a", "b", "c", "d"].map((t) => ({ title: t, version: "2.0.0" }));
  assert.equal(noticeText(many), "4 extensions have updates: see Extensions");
});

import { updateQuery } from "./update-actions.js";

test("an update posts the tag and digest its preview showed", () => {
  const p = { tag: "1.2.0", digest: "sha256:" + "a".repeat(64) };
  assert.equal(updateQuery(p, false), `?tag=1.2.0&digest=sha256%3A${"a".repeat(64)}`);
  assert.equal(updateQuery(p, true), `?tag=1.2.0&digest=sha256%3A${"a".repeat(64)}&yes=true`);
});
