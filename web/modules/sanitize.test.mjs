// Tests of the sanitizer's tree walk on a minimal fake DOM (node has no DOMParser): the input is
// built by hand as a browser's parser would build it, the output is serialized and compared.
import { test } from "node:test";
import assert from "node:assert/strict";
import { sanitizeInto, safeHref, looksLikeHtml } from "./sanitize.js";

const t = (text) => ({ nodeType: 3, nodeValue: text });
const comment = (text) => ({ nodeType: 8, nodeValue: text, nodeName: "#comment" });
const el = (name, attrs = {}, ...childNodes) => ({
  nodeType: 1, nodeName: name.toUpperCase(), childNodes, getAttribute: (k) => (k in attrs ? attrs[k] : null),
});

// Output side: records what the sanitizer creates; `serialize` prints it as HTML.
const doc = {
  createElement: (tag) => ({ tag, attrs: [], children: [], setAttribute(k, v) { this.attrs.push([k, v]); }, appendChild(c) { this.children.push(c); } }),
  createTextNode: (text) => ({ text }),
};
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c]));
const serialize = (n) =>
  "text" in n ? esc(n.text)
    : n.tag === "#root" ? n.children.map(serialize).join("")
      : `<${n.tag}${n.attrs.map(([k, v]) => ` ${k}="${esc(v)}"`).join("")}>${n.children.map(serialize).join("")}</${n.tag}>`;
const clean = (...nodes) => serialize(sanitizeInto(el("body", {}, ...nodes), doc, { tag: "#root", attrs: [], children: [], appendChild(c) { this.children.push(c); } }));

test("keeps allowed tags and text, drops every attribute", () => {
  assert.equal(
    clean(el("p", { class: "x", style: "color:red", onclick: "alert(1)" }, t("Hello "), el("strong", { id: "s" }, t("world")), t(" & <you>"))),
    "<p>Hello <strong>world</strong> &amp; &lt;you&gt;</p>");
  assert.equal(clean(el("ul", {}, el("li", {}, t("a")), el("li", {}, el("code", {}, t("b"))))), "<ul><li>a</li><li><code>b</code></li></ul>");
});

test("links: http(s) only, opened in a new tab without opener", () => {
  assert.equal(clean(el("a", { href: "https://docker.com/x?a=1&b=2" }, t("docs"))),
    '<a href="https://docker.com/x?a=1&amp;b=2" target="_blank" rel="noopener noreferrer">docs</a>');
  for (const bad of ["javascript:alert(1)", " JavaScript:alert(1)", "data:text/html,<script>", "/relative", "//evil.com", "vbscript:x", "file:///etc/passwd"]) {
    assert.equal(clean(el("a", { href: bad }, t("x"))), "<a>x</a>", bad);
  }
});

test("dangerous elements are removed with their content", () => {
  assert.equal(clean(el("script", {}, t("alert(1)")), el("style", {}, t("*{}")), el("iframe", { src: "https://x" }),
    el("img", { src: "x", onerror: "alert(1)" }), el("svg", {}, el("a", { href: "https://x" }, t("in svg"))), t("ok")), "ok");
  assert.equal(clean(el("form", {}, el("button", {}, t("go"))), el("p", {}, t("after"))), "<p>after</p>");
});

test("unknown tags are unwrapped, comments dropped", () => {
  assert.equal(clean(el("font", { color: "red" }, t("big"), el("em", {}, t("!"))), comment("x")), "big<em>!</em>");
  assert.equal(clean(el("center", {}, el("marquee", {}, t("m")))), "m");
});

test("deep nesting is flattened to text past the depth limit", () => {
  let node = t("deep");
  for (let i = 0; i < 200; i++) node = el(i % 2 ? "div" : "span", {}, node, i === 100 ? el("script", {}, t("no")) : t(""));
  const out = clean(node);
  assert.ok(out.includes("deep"));
  assert.ok(!out.includes("no"));
  assert.ok((out.match(/<div>|<span>/g) || []).length <= 64);
});

test("safeHref and looksLikeHtml", () => {
  assert.equal(safeHref("http://a.b/"), "http://a.b/");
  assert.equal(safeHref("HTTPS://A.B/c"), "https://a.b/c");
  assert.equal(safeHref("https://"), null);
  assert.equal(safeHref(null), null);
  assert.equal(looksLikeHtml("plain <3 text"), false);
  assert.equal(looksLikeHtml("<p>x</p>"), true);
  assert.equal(looksLikeHtml("line<br/>line"), true);
});

test("isLoopback names this machine's addresses only", async () => {
  const { isLoopback } = await import("./sanitize.js");
  for (const u of ["http://localhost:3000/", "http://LOCALHOST./x", "http://app.localhost:8080",
    "http://127.0.0.1:9/", "http://127.1.2.3/", "http://[::1]:3000/", "http://0.0.0.0:80/",
    "http://[::ffff:127.0.0.1]/"]) {
    assert.equal(isLoopback(u), true, u);
  }
  for (const u of ["https://github.com/login", "http://localhost.example.com/", "http://10.0.0.1/",
    "http://192.168.1.1/", "not a url", "http://[::2]/"]) {
    assert.equal(isLoopback(u), false, u);
  }
});
