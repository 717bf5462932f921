/*
 * dockhand ddclient.js: window.ddClient, Docker Desktop extension API 0.4.2
 * (v1 and the v0 names: the "v1Hybrid" client).
 *
 * A classic script (not a module): the server serves it at /.dockhand/ddclient.js on every
 * extension origin and inserts <script src="/.dockhand/ddclient.js"> before the page's own
 * scripts, so window.ddClient exists before they run. The wire contract is docs/bridge.md.
 *
 * The server fills two placeholders, each written exactly once below (SHELL_ORIGIN's string
 * and INFO's expression; their names are DOCKHAND_SHELL_ORIGIN and DOCKHAND_INFO between
 * double underscores, never spelled out in a comment so that a plain replace-all is safe):
 *   shell origin  the dashboard origin the tab was opened from, e.g. http://localhost:8080
 *   info          the JSON text of GET /.dockhand/api/info (JSON is a valid JS expression)
 * Left unfilled, the shell origin falls back to http://localhost:PORT and the info is fetched
 * with a synchronous XMLHttpRequest (a fallback only: the server is expected to fill both).
 *
 * postMessage protocol with the shell (the shell's side is web/modules/bridge.js):
 *   iframe -> shell  {dockhand: 1, id, op, args}, sent to SHELL_ORIGIN only (never "*")
 *   shell -> iframe  {dockhand: 1, id, ok: true, value} | {dockhand: 1, id, ok: false, error: {message}}
 *   op "toast"          args {level: "success"|"warning"|"error", message}   value null
 *   op "showOpenDialog" args the options object                            value {canceled, filePaths}
 *   op "navigate"       args {to, id?, tag?, name?}                          value null, or error
 *   op "openExternal"   args {url} (http/https only)                         value null
 * Answers are accepted only from window.parent with event.origin === SHELL_ORIGIN.
 */
(function (window) {
  "use strict";

  // ---- page errors (first, so that they are caught from the page's first script on) -------
  // Uncaught exceptions and unhandled promise rejections of the page are reported to
  // POST /.dockhand/api/page/error; with `dockhand dev debug ID` on, the bridge call log keeps
  // them as "page.error" entries (docs/dev-mode.md). The page's console still shows them; at
  // most MAX_PAGE_ERRORS are reported per page, and reporting never throws.
  var MAX_PAGE_ERRORS = 20;
  var pageErrors = 0;
  var reportFetch = typeof window.fetch === "function" ? window.fetch : null;

  function clip(text, n) {
    text = String(text);
    return text.length > n ? text.slice(0, n) + "…" : text;
  }

  function reportPageError(type, message, source, line, column, stack) {
    if (!reportFetch || pageErrors >= MAX_PAGE_ERRORS) return;
    pageErrors += 1;
    var report = { type: type, message: clip(message, 2000) };
    if (source) report.source = clip(source, 2000);
    if (typeof line === "number") report.line = line;
    if (typeof column === "number") report.column = column;
    if (stack) report.stack = clip(stack, 8000);
    try {
      reportFetch.call(window, "/.dockhand/api/page/error", {
        method: "POST",
        credentials: "same-origin",
        keepalive: true,
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(report),
      }).catch(function () { /* nobody to tell */ });
    } catch (e) { /* nobody to tell */ }
  }

  /** [message, stack] of a thrown value or rejection reason. */
  function describeThrown(value, fallback) {
    try {
      if (value instanceof Error || (value && typeof value === "object" && typeof value.stack === "string")) {
        return [(value.name ? value.name + ": " : "") + value.message, value.stack];
      }
      if (value && typeof value === "object") {
        // An ExecResult or ServiceError-like object: what it says, else its JSON.
        var said = value.message || value.stderr;
        return [said ? String(said) : JSON.stringify(value), null];
      }
      return [value == null ? fallback : String(value), null];
    } catch (e) {
      return [fallback, null];
    }
  }

  if (typeof window.addEventListener === "function") {
    window.addEventListener("error", function (ev) {
      if (!ev || (ev.target && ev.target !== window)) return; // a resource that failed to load
      var d = describeThrown(ev.error, ev.message || "error");
      reportPageError("error", d[0] || ev.message, ev.filename, ev.lineno, ev.colno, d[1]);
    });
    window.addEventListener("unhandledrejection", function (ev) {
      var d = describeThrown(ev && ev.reason, "a promise was rejected without a reason");
      reportPageError("unhandledrejection", d[0], null, null, null, d[1]);
    });
  }

  var SHELL_ORIGIN = "__DOCKHAND_SHELL_ORIGIN__";
  var INFO = null;
  try {
    INFO = __DOCKHAND_INFO__; // eslint-disable-line no-undef -- filled by the server
  } catch (e) {
    INFO = null;
  }

  var loc = window.location;
  if (SHELL_ORIGIN.indexOf("__DOCKHAND") === 0) {
    SHELL_ORIGIN = loc.protocol + "//localhost" + (loc.port ? ":" + loc.port : "");
  }
  if (!INFO) INFO = loadInfo();

  function loadInfo() {
    try {
      var xhr = new window.XMLHttpRequest();
      xhr.open("GET", "/.dockhand/api/info", false); // synchronous on purpose, see above
      xhr.send(null);
      if (xhr.status === 200) return JSON.parse(xhr.responseText);
      window.console.error("dockhand: GET /.dockhand/api/info answered " + xhr.status);
    } catch (e) {
      window.console.error("dockhand: cannot read /.dockhand/api/info", e);
    }
    return { extension: "", image: "", host: { platform: "linux", arch: "", hostname: "" }, vm: false };
  }

  // ---- helpers -------------------------------------------------------------------------

  function safeCall(fn) {
    if (typeof fn !== "function") return;
    try {
      fn.apply(null, Array.prototype.slice.call(arguments, 1));
    } catch (e) {
      window.console.error("dockhand: an extension callback threw", e);
    }
  }

  function splitLines(text) {
    var lines = String(text).split(/\r?\n/);
    if (lines.length && lines[lines.length - 1] === "") lines.pop();
    return lines;
  }

  /** An ExecResult: the raw fields plus the three parsing helpers. */
  function execResult(raw) {
    var r = {
      cmd: raw.cmd,
      killed: raw.killed,
      signal: raw.signal,
      code: raw.code,
      stdout: raw.stdout == null ? "" : String(raw.stdout),
      stderr: raw.stderr == null ? "" : String(raw.stderr),
    };
    if (raw.message !== undefined) r.message = raw.message;
    r.lines = function () { return splitLines(r.stdout); };
    r.parseJsonLines = function () {
      return splitLines(r.stdout).filter(function (l) { return l.trim() !== ""; }).map(function (l) { return JSON.parse(l); });
    };
    r.parseJsonObject = function () { return JSON.parse(r.stdout); };
    return r;
  }

  /** POST JSON to a bridge route; resolves with {status, body} (body parsed when JSON). */
  function postJSON(path, body) {
    return window.fetch(path, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    }).then(function (res) {
      return res.text().then(function (text) {
        var parsed = text;
        try { parsed = text ? JSON.parse(text) : null; } catch (e) { /* keep the text */ }
        return { status: res.status, ok: res.ok, body: parsed };
      });
    });
  }

  function errorMessage(resp) {
    var b = resp.body;
    if (b && typeof b === "object" && typeof b.message === "string") return b.message;
    if (typeof b === "string" && b) return b;
    return "dockhand bridge answered " + resp.status;
  }

  function bridgeError(resp) {
    var e = new Error(errorMessage(resp));
    e.statusCode = resp.status;
    return e;
  }

  // ---- exec ------------------------------------------------------------------------------

  var EXEC_ROUTES = { docker: "/.dockhand/api/docker/exec", vm: "/.dockhand/api/vm/exec", host: "/.dockhand/api/host/exec" };

  function normArgs(args) {
    if (args == null) return [];
    if (!Array.isArray(args)) args = [args];
    return args.map(function (a) { return String(a); });
  }

  function execOptions(options) {
    var o = {};
    if (options && options.cwd != null) o.cwd = String(options.cwd);
    if (options && options.env != null) o.env = options.env;
    return o;
  }

  /** exec(cmd, args, options) for one kind: "docker", "vm" or "host". */
  function execFor(kind) {
    return function exec(cmd, args, options) {
      cmd = String(cmd);
      args = normArgs(args);
      var opts = execOptions(options);
      if (options && options.stream) return spawn(kind, cmd, args, opts, options.stream);
      var line = [cmd].concat(args).join(" ");
      return postJSON(EXEC_ROUTES[kind], { cmd: cmd, args: args, options: opts }).then(
        function (resp) {
          if (!resp.ok || !resp.body || typeof resp.body !== "object") {
            var msg = errorMessage(resp);
            throw execResult({ cmd: line, stdout: "", stderr: msg, message: msg });
          }
          var r = execResult(resp.body);
          if (r.code !== 0) throw r; // rejects with the same object on a non-zero exit
          return r;
        },
        function (err) {
          var msg = String((err && err.message) || err);
          throw execResult({ cmd: line, stdout: "", stderr: msg, message: msg });
        }
      );
    };
  }

  /**
   * Streaming exec over the WebSocket /.dockhand/api/exec/ws. Returns {close()} at once.
   * Server -> client: {stdout} / {stderr} chunks, then {exit: code} or {error: message}.
   * Client -> server: the request first, {"close": true} to kill the process.
   * onClose(code) is called once, on exit; onError on failure to start or a lost connection;
   * after close() no callback is called any more.
   */
  function spawn(kind, cmd, args, opts, stream) {
    var proto = loc.protocol === "https:" ? "wss:" : "ws:";
    var ws;
    try {
      ws = new window.WebSocket(proto + "//" + loc.host + "/.dockhand/api/exec/ws");
    } catch (e) {
      window.setTimeout(function () { safeCall(stream.onError, e); }, 0);
      return { close: function () {} };
    }
    var done = false;
    var split = !!stream.splitOutputLines;
    var pending = { stdout: "", stderr: "" };

    function output(key, text) {
      if (!split) {
        var chunk = {};
        chunk[key] = text;
        return safeCall(stream.onOutput, chunk);
      }
      var parts = (pending[key] + text).split(/\r?\n/);
      pending[key] = parts.pop();
      parts.forEach(function (l) {
        var one = {};
        one[key] = l;
        safeCall(stream.onOutput, one);
      });
    }
    function flush() {
      ["stdout", "stderr"].forEach(function (key) {
        if (pending[key] !== "") {
          var rest = pending[key];
          pending[key] = "";
          var one = {};
          one[key] = rest;
          safeCall(stream.onOutput, one);
        }
      });
    }

    ws.onopen = function () {
      if (!done) ws.send(JSON.stringify({ kind: kind, cmd: cmd, args: args, options: opts }));
    };
    ws.onmessage = function (ev) {
      if (done) return;
      var m;
      try { m = JSON.parse(ev.data); } catch (e) { return; }
      if (typeof m.stdout === "string") output("stdout", m.stdout);
      else if (typeof m.stderr === "string") output("stderr", m.stderr);
      else if ("exit" in m) {
        done = true;
        if (split) flush();
        safeCall(stream.onClose, typeof m.exit === "number" ? m.exit : -1);
      } else if ("error" in m) {
        done = true;
        safeCall(stream.onError, new Error(String(m.error)));
      }
    };
    ws.onclose = function () {
      if (done) return;
      done = true;
      if (split) flush();
      safeCall(stream.onError, new Error("dockhand: the exec connection closed before the process exited"));
    };
    ws.onerror = function () { /* onclose follows */ };

    return {
      close: function () {
        if (done) return;
        done = true;
        try {
          if (ws.readyState === 1) ws.send(JSON.stringify({ close: true }));
          ws.close();
        } catch (e) { /* already closing */ }
      },
    };
  }

  // ---- vm.service ------------------------------------------------------------------------

  function ServiceError(message, statusCode) {
    var e = new Error(message);
    e.name = "ServiceError";
    e.statusCode = statusCode;
    return e;
  }

  /** HTTP to the backend: data string -> text/plain, object -> JSON (the server decides). */
  function request(config) {
    config = config || {};
    var body = {
      method: String(config.method || "GET").toUpperCase(),
      url: String(config.url),
      headers: config.headers || {},
    };
    if (config.data !== undefined) body.data = config.data;
    return postJSON("/.dockhand/api/vm/request", body).then(function (resp) {
      if (!resp.ok || !resp.body || typeof resp.body !== "object") {
        throw ServiceError("dockhand: " + errorMessage(resp) + " (" + resp.status + ")", resp.status);
      }
      var r = resp.body;
      var text = r.body == null ? "" : String(r.body);
      if (r.status < 200 || r.status > 299) {
        var detail = text.length > 500 ? text.slice(0, 500) + "…" : text;
        throw ServiceError("backend answered " + r.status + (detail ? ": " + detail : ""), r.status);
      }
      if (text === "") return text;
      try { return JSON.parse(text); } catch (e) { return text; }
    });
  }

  var service = {
    get: function (url) { return request({ url: url, method: "GET" }); },
    post: function (url, data) { return request({ url: url, method: "POST", data: data }); },
    put: function (url, data) { return request({ url: url, method: "PUT", data: data }); },
    patch: function (url, data) { return request({ url: url, method: "PATCH", data: data }); },
    delete: function (url) { return request({ url: url, method: "DELETE" }); },
    head: function (url) { return request({ url: url, method: "HEAD" }); },
    request: request,
  };

  // ---- docker ------------------------------------------------------------------------------

  function list(route) {
    return function (options) {
      return postJSON(route, { options: options || {} }).then(function (resp) {
        if (!resp.ok) throw bridgeError(resp);
        return resp.body;
      });
    };
  }
  var listContainers = list("/.dockhand/api/docker/containers");
  var listImages = list("/.dockhand/api/docker/images");

  // ---- the shell (postMessage) ---------------------------------------------------------------

  var inFrame = window.parent && window.parent !== window;
  var waiting = {};
  var nextId = 1;

  window.addEventListener("message", function (ev) {
    if (ev.origin !== SHELL_ORIGIN || ev.source !== window.parent) return;
    var m = ev.data;
    if (!m || m.dockhand !== 1 || !Object.prototype.hasOwnProperty.call(waiting, m.id)) return;
    var w = waiting[m.id];
    delete waiting[m.id];
    if (m.ok) w.resolve(m.value === undefined ? null : m.value);
    else w.reject(new Error((m.error && m.error.message) || "dockhand: the dashboard refused " + w.op));
  });

  /** Ask the shell; resolves with its value. Args are plain JSON data. */
  function ask(op, args) {
    return new Promise(function (resolve, reject) {
      if (!inFrame) {
        reject(new Error("dockhand: " + op + " needs the dockhand dashboard around this page"));
        return;
      }
      var id = nextId++;
      waiting[id] = { resolve: resolve, reject: reject, op: op };
      var plain = args === undefined ? null : JSON.parse(JSON.stringify(args));
      window.parent.postMessage({ dockhand: 1, id: id, op: op, args: plain }, SHELL_ORIGIN);
    });
  }

  function tell(op, args) {
    ask(op, args).catch(function (e) { window.console.warn(e.message); });
  }

  function toastFn(level) {
    return function (msg) {
      if (!inFrame) return window.console.log("[" + level + "] " + msg);
      tell("toast", { level: level, message: String(msg) });
    };
  }
  var toast = { success: toastFn("success"), warning: toastFn("warning"), error: toastFn("error") };

  function go(to, extra) {
    var args = { to: to };
    for (var k in extra) if (extra[k] !== undefined) args[k] = String(extra[k]);
    return ask("navigate", args).then(function () {});
  }
  var navigate = {
    viewContainers: function () { return go("containers", {}); },
    viewContainer: function (id) { return go("container", { id: id }); },
    viewContainerLogs: function (id) { return go("containerLogs", { id: id }); },
    viewContainerInspect: function (id) { return go("containerInspect", { id: id }); },
    viewContainerTerminal: function (id) { return go("containerTerminal", { id: id }); },
    viewContainerStats: function (id) { return go("containerStats", { id: id }); },
    viewImages: function () { return go("images", {}); },
    viewImage: function (id, tag) { return go("image", { id: id, tag: tag }); },
    viewVolumes: function () { return go("volumes", {}); },
    viewVolume: function (name) { return go("volume", { name: name }); },
  };

  function openExternal(url) {
    var u;
    try { u = new window.URL(String(url)); } catch (e) { u = null; }
    if (!u || (u.protocol !== "http:" && u.protocol !== "https:")) {
      window.console.error("dockhand: openExternal takes an http or https URL, not " + url);
      return;
    }
    if (!inFrame) {
      window.open(u.href, "_blank", "noopener,noreferrer");
      return;
    }
    tell("openExternal", { url: u.href });
  }

  function showOpenDialog(options) {
    return ask("showOpenDialog", options || {});
  }

  // ---- the client --------------------------------------------------------------------------

  var dockerExec = execFor("docker");
  var vmExec = execFor("vm");
  var hostExec = execFor("host");
  var hasVm = !!INFO.vm;
  var hostInfo = INFO.host || {};

  /** v0 adapter: stream callbacks -> callback(data, error); the close notice is {code}. */
  function v0Spawn(exec) {
    return function (cmd, args, callback) {
      return exec(cmd, args, {
        stream: {
          onOutput: function (data) { safeCall(callback, data, undefined); },
          onError: function (err) { safeCall(callback, {}, err); },
          onClose: function (code) { safeCall(callback, { code: code }, undefined); },
        },
      });
    };
  }

  /** v0 single-string commands: the first word is the command, the rest one argument line. */
  function v0Line(exec) {
    return function (line) {
      var m = /^\s*(\S+)\s*([\s\S]*)$/.exec(String(line)) || ["", "", ""];
      return exec(m[1], m[2] ? [m[2]] : []);
    };
  }

  var backend = hasVm
    ? {
        get: service.get, post: service.post, put: service.put, patch: service.patch,
        delete: service.delete, head: service.head, request: service.request,
        execInContainer: function (container, cmd) { return dockerExec("exec", [String(container), String(cmd)]); },
        execInVMExtension: v0Line(vmExec),
        spawnInVMExtension: v0Spawn(vmExec),
      }
    : undefined;

  var extension = { image: INFO.image || "", host: { cli: { exec: hostExec } } };
  if (hasVm) extension.vm = { cli: { exec: vmExec }, service: service };

  window.ddClient = {
    extension: extension,
    docker: { cli: { exec: dockerExec }, listContainers: listContainers, listImages: listImages },
    desktopUI: { toast: toast, dialog: { showOpenDialog: showOpenDialog }, navigate: navigate },
    host: {
      openExternal: openExternal,
      platform: hostInfo.platform || "linux",
      arch: hostInfo.arch || "",
      hostname: hostInfo.hostname || "",
    },

    // v0 names
    backend: backend,
    toastSuccess: toast.success,
    toastWarning: toast.warning,
    toastError: toast.error,
    listContainers: listContainers,
    listImages: listImages,
    execHostCmd: v0Line(hostExec),
    spawnHostCmd: v0Spawn(hostExec),
    execDockerCmd: function (cmd) { return dockerExec(cmd, Array.prototype.slice.call(arguments, 1)); },
    spawnDockerCmd: v0Spawn(dockerExec),
    navigateToContainers: navigate.viewContainers,
    navigateToContainer: navigate.viewContainer,
    navigateToContainerLogs: navigate.viewContainerLogs,
    navigateToContainerInspect: navigate.viewContainerInspect,
    navigateToContainerStats: navigate.viewContainerStats,
    navigateToImages: navigate.viewImages,
    navigateToImage: navigate.viewImage,
    navigateToVolumes: navigate.viewVolumes,
    navigateToVolume: navigate.viewVolume,
    openExternal: openExternal,
  };
})(window);
