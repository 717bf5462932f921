// Unit tests of web/page-env.js: `node --test web/`.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import vm from "node:vm";

const SRC = readFileSync(new URL("./page-env.js", import.meta.url), "utf8");

function run(window = {}) {
  vm.runInNewContext(SRC, { window });
  return window;
}

const SHADES = ["100", "200", "300", "400", "500", "600", "700", "800"];
const RAMPS = ["grey", "blue", "red", "green", "amber", "violet"];
const HEX = /^#[0-9a-f]{6}$/;

function luminance(hex) {
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

test("both theme bags exist, light and dark, with the docker palette ramps", () => {
  const w = run();
  for (const bag of [w.__ddMuiV5Themes, w.__ddMuiV6Themes]) {
    assert.deepEqual(Object.keys(bag).sort(), ["dark", "light"]);
    for (const mode of ["light", "dark"]) {
      const t = bag[mode];
      assert.equal(t.palette.mode, mode);
      assert.match(t.palette.primary.main, HEX);
      assert.match(t.palette.background.default, HEX);
      assert.match(t.palette.text.primary, HEX);
      assert.equal(typeof t.typography.fontFamily, "string");
      assert.equal(t.shape.borderRadius, 8);
      for (const name of RAMPS) {
        const r = t.palette.docker[name];
        assert.deepEqual(Object.keys(r), SHADES, `${mode} ${name}`);
        for (const s of SHADES) assert.match(r[s], HEX, `${mode} ${name}[${s}]`);
      }
    }
  }
});

test("shade 100 sits next to the background, 800 next to the text", () => {
  const w = run();
  const { light, dark } = w.__ddMuiV6Themes;
  for (const name of RAMPS) {
    const l = light.palette.docker[name];
    const d = dark.palette.docker[name];
    assert.ok(luminance(l["100"]) > luminance(l["800"]), `light ${name}`);
    assert.ok(luminance(d["100"]) < luminance(d["800"]), `dark ${name}`);
  }
  assert.equal(light.palette.docker.grey["100"], light.palette.background.default);
  assert.equal(dark.palette.docker.grey["100"], dark.palette.background.default);
  assert.ok(luminance(dark.palette.text.primary) > luminance(dark.palette.background.default));
  assert.ok(luminance(light.palette.text.primary) < luminance(light.palette.background.default));
});

test("each bag is its own copy, and a page's own definition is kept", () => {
  const w = run();
  assert.notEqual(w.__ddMuiV5Themes, w.__ddMuiV6Themes);
  w.__ddMuiV5Themes.light.palette.docker.grey["100"] = "#000000";
  assert.notEqual(w.__ddMuiV6Themes.light.palette.docker.grey["100"], "#000000");
  const mine = { light: {}, dark: {} };
  const w2 = run({ __ddMuiV5Themes: mine });
  assert.equal(w2.__ddMuiV5Themes, mine);
  assert.ok(w2.__ddMuiV6Themes.dark.palette);
});

test("docker-mui-theme's provider logic finds options for both schemes", () => {
  // What DockerMuiV5ThemeProvider / DockerMuiV6ThemeProvider (0.0.13) do before createTheme.
  const w = run();
  for (const bag of ["__ddMuiV5Themes", "__ddMuiV6Themes"]) {
    for (const useDarkTheme of [false, true]) {
      const themeOptions = w[bag][useDarkTheme ? "dark" : "light"];
      assert.ok(themeOptions && themeOptions.palette, `${bag} ${useDarkTheme}`);
    }
  }
});
