// Allow-list HTML sanitizer for untrusted label HTML (detailed description, changelog).
// The input is parsed with DOMParser (scripts never run in a parsed document) and a *new* tree is
// built from it: only the tags below survive, with no attributes at all except `href` on <a>,
// and only when it is an absolute http(s) URL. Everything else is dropped; the content of
// unknown-but-harmless tags is kept as their children, the content of DROP tags is removed.

const KEEP = new Set([
  "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "div", "dl", "dt", "em", "h1", "h2",
  "h3", "h4", "h5", "h6", "hr", "i", "ins", "kbd", "li", "mark", "ol", "p", "pre", "q", "s",
  "samp", "small", "span", "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead",
  "tr", "u", "ul",
]);
const DROP = new Set([
  "script", "style", "template", "iframe", "frame", "frameset", "object", "embed", "applet",
  "noscript", "noembed", "svg", "math", "textarea", "select", "option", "button", "input", "form",
  "title", "head", "link", "meta", "base", "img", "video", "audio", "picture", "source", "canvas",
]);
const MAX_DEPTH = 64;

/** The URL when it is an absolute http or https URL, else null. */
export function safeHref(value) {
  const s = String(value ?? "").trim();
  if (!/^https?:\/\//i.test(s)) return null;
  try {
    const u = new URL(s);
    return u.protocol === "http:" || u.protocol === "https:" ? u.href : null;
  } catch {
    return null;
  }
}

/** True when an http(s) URL names this machine: localhost, *.localhost, 127.0.0.0/8, [::1], 0.0.0.0. */
export function isLoopback(url) {
  let host;
  try { host = new URL(url).hostname.toLowerCase(); } catch { return false; }
  if (host.endsWith(".")) host = host.slice(0, -1);
  return host === "localhost" || host.endsWith(".localhost") || host === "[::1]" ||
    host === "0.0.0.0" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host) ||
    /^\[::ffff:(7f[0-9a-f]{2}:[0-9a-f]{1,4}|127\.[\d.]+)\]$/.test(host);
}

/**
 * Copy the allowed part of `src`'s children into `out`, creating nodes with `doc`.
 * Only uses nodeType, nodeName, nodeValue, childNodes and getAttribute on the input, and
 * createElement, createTextNode, setAttribute and appendChild on the output.
 */
export function sanitizeInto(src, doc, out, depth = 0) {
  for (const node of Array.from(src.childNodes || [])) {
    if (node.nodeType === 3) {
      out.appendChild(doc.createTextNode(node.nodeValue));
      continue;
    }
    if (node.nodeType !== 1) continue; // comments, processing instructions, …
    const tag = String(node.nodeName).toLowerCase();
    if (DROP.has(tag)) continue;
    if (depth >= MAX_DEPTH) {
      out.appendChild(doc.createTextNode(textOf(node)));
      continue;
    }
    if (!KEEP.has(tag)) {
      sanitizeInto(node, doc, out, depth + 1); // unwrap: keep the content, lose the tag
      continue;
    }
    const el = doc.createElement(tag);
    if (tag === "a") {
      const href = safeHref(node.getAttribute && node.getAttribute("href"));
      if (href) {
        el.setAttribute("href", href);
        el.setAttribute("target", "_blank");
        el.setAttribute("rel", "noopener noreferrer");
      }
    }
    sanitizeInto(node, doc, el, depth + 1);
    out.appendChild(el);
  }
  return out;
}

function textOf(node) {
  if (node.nodeType === 3) return node.nodeValue;
  const tag = String(node.nodeName || "").toLowerCase();
  if (DROP.has(tag)) return "";
  return Array.from(node.childNodes || []).map(textOf).join("");
}

/** True when the label looks like HTML rather than plain text. */
export const looksLikeHtml = (s) => /<\/?[a-z][\s\S]*>/i.test(String(s || ""));

/** A DocumentFragment with the sanitized content of `html` (browser only: uses DOMParser). */
export function sanitizeHtml(html, doc = document) {
  const parsed = new DOMParser().parseFromString(String(html ?? ""), "text/html");
  return sanitizeInto(parsed.body, doc, doc.createDocumentFragment());
}
