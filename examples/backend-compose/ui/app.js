// Backend Compose: an HTTP call to the compose backend's exposed socket (api.sock) through
// ddClient.extension.vm.service.
"use strict";

// Shows a value (pretty JSON unless a string) in a result element; data-state is one of
// idle, pending, ok, error.
function show(id, state, value) {
  const element = document.getElementById(id);
  element.dataset.state = state;
  element.textContent = typeof value === "string" ? value : JSON.stringify(value, null, 2);
}

// What a rejection says: a ServiceError (statusCode) or an Error.
function describe(error) {
  if (error && typeof error === "object") {
    const { name, message, statusCode } = error;
    return { name, message, statusCode };
  }
  return String(error);
}

function main() {
  const vm = window.ddClient && window.ddClient.extension.vm;
  const button = document.getElementById("hello-button");
  if (!vm) {
    document.getElementById("ddclient-missing").hidden = false;
    button.disabled = true;
    return;
  }
  button.addEventListener("click", async () => {
    show("hello-result", "pending", "running…");
    try {
      show("hello-result", "ok", await vm.service.get("/hello"));
    } catch (error) {
      show("hello-result", "error", describe(error));
    }
  });
}

main();
