import { test } from "node:test";
import assert from "node:assert/strict";
import { parseOptions, matchesFilter, joinPath, parentOf, baseOf } from "./filepicker.js";

test("parseOptions", () => {
  const d = parseOptions(undefined);
  assert.deepEqual([d.files, d.dirs, d.multi, d.hidden, d.buttonLabel], [true, false, false, false, "Open"]);
  const o = parseOptions({ properties: ["openDirectory", "multiSelections", "showHiddenFiles"], title: "Pick", buttonLabel: "Use", defaultPath: "/srv", filters: [{ name: "YAML", extensions: [".YML", "yaml"] }, { bad: 1 }] });
  assert.deepEqual([o.files, o.dirs, o.multi, o.hidden, o.title, o.buttonLabel, o.defaultPath], [false, true, true, true, "Pick", "Use", "/srv"]);
  assert.deepEqual(o.filters, [{ name: "YAML", extensions: ["yml", "yaml"] }]);
  const both = parseOptions({ properties: ["openFile", "openDirectory"] });
  assert.deepEqual([both.files, both.dirs], [true, true]);
});

test("filters, paths", () => {
  assert.equal(matchesFilter("a.YML", { extensions: ["yml"] }), true);
  assert.equal(matchesFilter("a.json", { extensions: ["yml"] }), false);
  assert.equal(matchesFilter("a.json", { extensions: ["*"] }), true);
  assert.equal(matchesFilter("x", null), true);
  assert.equal(joinPath("/", "etc"), "/etc");
  assert.equal(joinPath("/home/u", "f"), "/home/u/f");
  assert.equal(parentOf("/home/u/f.txt"), "/home/u");
  assert.equal(parentOf("/home"), "/");
  assert.equal(baseOf("/home/u/f.txt"), "f.txt");
});
