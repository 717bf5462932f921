/*
 * dockhand page-env.js: what Docker Desktop defines in every extension page besides
 * window.ddClient, so that libraries written for Docker Desktop find it.
 *
 * The server serves it as the first part of /.dockhand/ddclient.js, which it inserts before
 * any of the page's own scripts (docs/bridge.md, "The page environment").
 *
 *   window.__ddMuiV5Themes, window.__ddMuiV6Themes
 *       {light, dark}: MUI theme options, read by @docker/docker-mui-theme 0.0.12 and later
 *       (DockerMuiThemeProvider, DockerMuiV5ThemeProvider, DockerMuiV6ThemeProvider pick one
 *       with the page's prefers-color-scheme, which follows the browser's like the dashboard's
 *       own colours). Without them that provider throws on its first render: a blank page.
 *       The values are dockhand's design (the dashboard's colours and system fonts); the shape
 *       is what extensions rely on: MUI's palette, typography and shape, plus
 *       palette.docker.{grey, blue, red, green, amber, violet}, each with shades 100 to 800.
 *       In light mode 100 is the lightest shade, in dark mode the darkest: 100 sits next to
 *       the background and 800 next to the text in both.
 *
 * Each page gets its own copies: an extension that changes them changes nothing elsewhere.
 * A page that defines them itself before this script runs keeps its own.
 */
(function (window) {
  "use strict";

  var FONT =
    'system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "Liberation Sans", sans-serif';
  var MONO = 'ui-monospace, "SFMono-Regular", "DejaVu Sans Mono", Menlo, Consolas, monospace';

  function ramp(shades) {
    var out = {};
    for (var i = 0; i < 8; i++) out[String((i + 1) * 100)] = shades[i];
    return out;
  }

  // Shades 100..800, from the background's side to the text's side.
  var RAMPS = {
    light: {
      grey: ["#f5f6f8", "#eef0f3", "#d9dde3", "#a7aeb9", "#7b8493", "#59616d", "#3a414b", "#1b1f24"],
      blue: ["#e7efff", "#c7d9ff", "#9dbcff", "#6d9bff", "#3f7af2", "#1d5fe0", "#1549b3", "#0f3580"],
      red: ["#fde8ea", "#f9c9ce", "#f29aa3", "#e56672", "#d63b4a", "#c4212d", "#9c1922", "#6f1118"],
      green: ["#e3f4e8", "#c0e6cb", "#8fd2a4", "#57b878", "#2f9a56", "#17733a", "#115a2d", "#0b3f1f"],
      amber: ["#fff3d6", "#ffe3a3", "#fccd66", "#f0b02e", "#c98a0b", "#8a5a00", "#6b4600", "#4a3000"],
      violet: ["#f1ebff", "#ddd0fd", "#c1a9f8", "#9f7cf0", "#8256e3", "#6a3bd1", "#522ca6", "#3a1e78"],
    },
    dark: {
      grey: ["#0f1216", "#171b22", "#1f242d", "#2b313c", "#5d6673", "#9aa3b0", "#c0c7d1", "#e4e8ee"],
      blue: ["#101b33", "#1c2a45", "#223e74", "#2d56a3", "#3f73d6", "#5b93ff", "#7aa7ff", "#a8c5ff"],
      red: ["#2a1214", "#3d1a1d", "#5c2227", "#8a2d35", "#c23c46", "#ff6b6b", "#ff9090", "#ffb8b8"],
      green: ["#0f2016", "#15301f", "#1d4a2f", "#276a42", "#33925a", "#4cc47a", "#78d69a", "#a9e6bf"],
      amber: ["#261d08", "#362a0e", "#54400f", "#7d5f14", "#b8891f", "#e3b341", "#edc96f", "#f5dea0"],
      violet: ["#1c1430", "#2a1d47", "#3d2a69", "#573b96", "#7653cc", "#9b7bf2", "#b69df6", "#d2c4fa"],
    },
  };

  function themeOptions(mode) {
    var r = RAMPS[mode];
    var dark = mode === "dark";
    var docker = {};
    for (var name in r) docker[name] = ramp(r[name]);
    var grey = docker.grey;
    return {
      palette: {
        mode: mode,
        primary: {
          light: docker.blue["700"],
          main: docker.blue["600"],
          dark: docker.blue[dark ? "500" : "700"],
          contrastText: dark ? "#0b1020" : "#ffffff",
        },
        secondary: { main: docker.violet["600"], contrastText: dark ? "#0b1020" : "#ffffff" },
        error: { main: docker.red["600"] },
        warning: { main: docker.amber[dark ? "600" : "500"] },
        success: { main: docker.green["600"] },
        info: { main: docker.blue["600"] },
        background: { default: grey["100"], paper: dark ? grey["200"] : "#ffffff" },
        text: {
          primary: grey["800"],
          secondary: grey["600"],
          disabled: grey[dark ? "500" : "400"],
        },
        divider: grey[dark ? "400" : "300"],
        action: {
          hover: dark ? "rgba(154, 163, 176, 0.12)" : "rgba(27, 31, 36, 0.06)",
          selected: dark ? "rgba(91, 147, 255, 0.20)" : "rgba(29, 95, 224, 0.10)",
        },
        docker: docker,
      },
      typography: {
        fontFamily: FONT,
        fontSize: 14,
        h1: { fontSize: "26px", fontWeight: 600, lineHeight: 1.25 },
        h2: { fontSize: "22px", fontWeight: 600, lineHeight: 1.3 },
        h3: { fontSize: "18px", fontWeight: 600, lineHeight: 1.35 },
        h4: { fontSize: "16px", fontWeight: 600, lineHeight: 1.4 },
        h5: { fontSize: "15px", fontWeight: 600, lineHeight: 1.4 },
        h6: { fontSize: "14px", fontWeight: 600, lineHeight: 1.45 },
        body1: { fontSize: "14px", lineHeight: 1.45 },
        body2: { fontSize: "13px", lineHeight: 1.45 },
        caption: { fontSize: "12px" },
        code: { fontFamily: MONO, fontSize: "12.5px" },
      },
      shape: { borderRadius: 8 },
      components: {
        MuiPaper: { styleOverrides: { root: { backgroundImage: "none" } } },
        MuiButton: { defaultProps: { disableElevation: true } },
      },
    };
  }

  function bag() {
    return { light: themeOptions("light"), dark: themeOptions("dark") };
  }

  if (!window.__ddMuiV5Themes) window.__ddMuiV5Themes = bag();
  if (!window.__ddMuiV6Themes) window.__ddMuiV6Themes = bag();
})(typeof window !== "undefined" ? window : globalThis);
