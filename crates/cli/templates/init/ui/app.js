// {{title_js_comment}}: the extension's UI. window.ddClient is there before this script runs
// (Docker Desktop and dockhand both inject it); no framework, no build step.
"use strict";

// Shows a value (pretty JSON unless a string) in a result element; data-state is one of
// idle, pending, ok, error.
function show(id, state, value) {
  const element = document.getElementById(id);
  element.dataset.state = state;
  element.textContent = typeof value === "string" ? value : JSON.stringify(value, null, 2);
}

// What a rejection says: a ServiceError (statusCode), an ExecResult (code, stderr) or an Error.
function describe(error) {
  if (error && typeof error === "object") {
    const { name, message, statusCode, code, stderr } = error;
    return { name, message, statusCode, code, stderr };
  }
  return String(error);
}

// Runs action now and whenever the button is clicked, and shows its outcome.
function wire(buttonId, resultId, action) {
  const run = async () => {
    show(resultId, "pending", "running…");
    try {
      show(resultId, "ok", await action());
    } catch (error) {
      show(resultId, "error", describe(error));
    }
  };
  document.getElementById(buttonId).addEventListener("click", run);
  run();
}

function main() {
  const ddClient = window.ddClient;
  if (!ddClient) {
    document.getElementById("ddclient-missing").hidden = false;
    for (const button of document.querySelectorAll("button")) button.disabled = true;
    return;
  }
  ddClient.desktopUI.toast.success({{title_js}} + " is loaded");
{{wiring}}}

main();
