// Host Binaries: runs the extension's own host binary with
// ddClient.extension.host.cli.exec, once to completion and once streamed.
"use strict";

// Shows a value (pretty JSON unless a string) in a result element; data-state is one of
// idle, pending, ok, error.
function show(id, state, value) {
  const element = document.getElementById(id);
  element.dataset.state = state;
  element.textContent = typeof value === "string" ? value : JSON.stringify(value, null, 2);
}

// What a rejection says: an ExecResult (code, stdout, stderr) or an Error.
function describe(error) {
  if (error && typeof error === "object") {
    const { name, message, code, stdout, stderr } = error;
    return { name, message, code, stdout, stderr };
  }
  return String(error);
}

// Runs action when the button is clicked and shows its outcome.
function wire(buttonId, resultId, action) {
  document.getElementById(buttonId).addEventListener("click", async () => {
    show(resultId, "pending", "running…");
    try {
      show(resultId, "ok", await action());
    } catch (error) {
      show(resultId, "error", describe(error));
    }
  });
}

function main() {
  const host = window.ddClient && window.ddClient.extension.host;
  if (!host) {
    document.getElementById("ddclient-missing").hidden = false;
    for (const button of document.querySelectorAll("button")) button.disabled = true;
    return;
  }

  // Called by file name. As in Docker Desktop the arguments are joined and split again like a
  // shell would (docs/bridge.md, "Exec arguments"): "a b" arrives as two words, a b; written
  // '"a b"' it would stay one.
  wire("hello-button", "hello-stdout", async () => {
    const result = await host.cli.exec("hello", ["a b", "c"]);
    return result.stdout;
  });

  wire("stream-button", "stream-result", () =>
    new Promise((resolve, reject) => {
      const lines = [];
      host.cli.exec("hello", ["streamed"], {
        stream: {
          splitOutputLines: true,
          onOutput(data) {
            lines.push(data.stdout !== undefined ? data.stdout : `stderr: ${data.stderr}`);
          },
          onError: reject,
          onClose(code) {
            lines.push(`exit code ${code}`);
            resolve(lines.join("\n"));
          },
        },
      });
    }),
  );
}

main();
