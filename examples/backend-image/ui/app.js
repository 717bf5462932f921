// Backend Image: HTTP calls to the backend through ddClient.extension.vm.service, and a
// command run in the backend container through ddClient.extension.vm.cli.
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
    const { name, message, statusCode, code, stdout, stderr } = error;
    return { name, message, statusCode, code, stdout, stderr };
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
  const vm = window.ddClient && window.ddClient.extension.vm;
  if (!vm) {
    document.getElementById("ddclient-missing").hidden = false;
    for (const button of document.querySelectorAll("button")) button.disabled = true;
    return;
  }

  wire("hello-button", "hello-result", () => vm.service.get("/hello"));

  // An object is sent as application/json; /echo answers with the same body and type.
  wire("echo-button", "echo-result", () =>
    vm.service.post("/echo", { greeting: "hello", numbers: [1, 2, 3] }),
  );

  // A non-2xx answer rejects with a ServiceError whose statusCode is 418: shown as an error.
  wire("status-button", "status-result", () => vm.service.get("/status/418"));

  wire("exec-button", "exec-result", async () => {
    const result = await vm.cli.exec("/backend", ["--version"]);
    return result.stdout.trim();
  });
}

main();
