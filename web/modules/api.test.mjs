// Unit tests of web/modules/api.js's page key: `node --test web/`.
import { test } from "node:test";
import assert from "node:assert/strict";
import { adoptPageKey, pageKey } from "./api.js";

function memoryStorage() {
  const m = new Map();
  return { getItem: (k) => (m.has(k) ? m.get(k) : null), setItem: (k, v) => m.set(k, String(v)) };
}

test("the login fragment's key is kept and the fragment removed", () => {
  const storage = memoryStorage();
  const replaced = [];
  const key = "ab".repeat(32);
  adoptPageKey({ hash: `#key=${key}`, pathname: "/", search: "" }, storage,
    { replaceState: (_s, _t, url) => replaced.push(url) });
  assert.equal(pageKey(storage), key);
  assert.deepEqual(replaced, ["/"]);
});

test("other fragments (routes) are left alone", () => {
  const storage = memoryStorage();
  const replaced = [];
  for (const hash of ["", "#/extensions", "#key=", "#key=zz", "#key=ab&x=1"]) {
    adoptPageKey({ hash, pathname: "/", search: "" }, storage, { replaceState: () => replaced.push(hash) });
  }
  assert.equal(pageKey(storage), "");
  assert.deepEqual(replaced, []);
});
