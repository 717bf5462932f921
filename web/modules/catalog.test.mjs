// Tests of the catalog page's pure helpers (modules/page-catalog.js) and its route.
import { test } from "node:test";
import assert from "node:assert/strict";
import { filterItems, categoriesOf, versionText, installState, summaryRows, screenshots } from "./page-catalog.js";
import { parseHash } from "./router.js";

const items = [
  { id: "r/acme/vol", title: "Volumes", vendor: "Acme", description: "Back up volumes", categories: ["volumes", "utility-tools"], latest: "1.2.0", compatible: true, installed: null },
  { id: "r/acme/db", title: "Database", vendor: "Other", description: "SQL", categories: ["database"], latest: "2.0.0", compatible: false, api_version: ">= 9.0.0", installed: null },
  { id: "r/acme/broken", title: "r/acme/broken", vendor: "", description: "", categories: [], latest: null, error: "cannot reach" },
];

test("search looks at id, title, vendor, description and categories; the category filters", () => {
  assert.deepEqual(filterItems(items, "").map((i) => i.id), ["r/acme/vol", "r/acme/db", "r/acme/broken"]);
  assert.deepEqual(filterItems(items, "BACK UP").map((i) => i.id), ["r/acme/vol"]);
  assert.deepEqual(filterItems(items, "other").map((i) => i.id), ["r/acme/db"]);
  assert.deepEqual(filterItems(items, "utility").map((i) => i.id), ["r/acme/vol"]);
  assert.deepEqual(filterItems(items, "", "database").map((i) => i.id), ["r/acme/db"]);
  assert.deepEqual(filterItems(items, "acme", "volumes").map((i) => i.id), ["r/acme/vol"]);
  assert.deepEqual(filterItems(null), []);
  assert.deepEqual(categoriesOf(items), ["database", "utility-tools", "volumes"]);
});

test("version and install state", () => {
  assert.equal(versionText(items[0]), "1.2.0");
  assert.equal(versionText(items[1]), "2.0.0 (needs API >= 9.0.0)");
  assert.equal(versionText(items[2]), "unavailable");
  assert.deepEqual(installState(items[0]), { label: "Not installed", kind: "muted", action: "Install" });
  assert.equal(installState(items[1]).action, null);
  assert.equal(installState(items[2]).kind, "err");
  assert.deepEqual(installState({ ...items[0], installed: "1.2.0" }), { label: "Installed 1.2.0", kind: "ok", action: null });
  assert.equal(installState({ ...items[0], installed: "1.0.0" }).action, "Install 1.2.0");
});

test("the consent summary as rows", () => {
  assert.deepEqual(summaryRows({ ui_tab: "Tab", services: [], engine_access: [], host_binaries: [], privileges: [] }),
    [["UI", 'a dashboard tab "Tab"'], ["Backend", "none"]]);
  const rows = summaryRows({
    ui_tab: null, services: [{ name: "api", image: "acme/api:1" }], engine_access: ["api"],
    host_binaries: ["tool"], privileges: ["service api: privileged (full access to the host)"],
  });
  assert.deepEqual(rows.map((r) => r[0]), ["UI", "Backend", "Engine socket", "Host binaries", "Privilege"]);
  assert.equal(rows[1][1], "api (acme/api:1)");
});

test("screenshots keep http(s) URLs only", () => {
  assert.deepEqual(screenshots([
    { url: "https://example.com/a.png", alt: "A" },
    { url: "javascript:alert(1)", alt: "bad" },
    { url: "data:image/png;base64,xx" },
    null,
  ]), [["https://example.com/a.png", "A"]]);
  assert.deepEqual(screenshots("nope"), []);
});

test("the catalog route", () => {
  assert.deepEqual(parseHash("#/catalog"), { page: "catalog" });
  assert.deepEqual(parseHash("#/catalog/x/y"), { page: "notfound" });
});
