// Minimal UI: window.ddClient from a plain script. dockhand (like Docker Desktop) defines
// window.ddClient before any page script runs.
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
  const client = window.ddClient;
  if (!client) {
    document.getElementById("ddclient-missing").hidden = false;
    for (const button of document.querySelectorAll("button")) button.disabled = true;
    return;
  }

  document.getElementById("host-platform").textContent = client.host.platform;
  document.getElementById("host-arch").textContent = client.host.arch;
  document.getElementById("host-hostname").textContent = client.host.hostname;

  // The argument is quoted as Docker Desktop expects: it splits arguments like a shell.
  wire("version-button", "version-result", async () => {
    const result = await client.docker.cli.exec("version", ["--format", '"{{json .}}"']);
    return result.parseJsonObject();
  });

  wire("containers-button", "containers-result", async () => {
    const containers = await client.docker.listContainers({ all: true });
    return containers.map((c) => ({
      id: c.Id.slice(0, 12),
      names: c.Names,
      image: c.Image,
      state: c.State,
    }));
  });

  wire("toast-button", "toast-result", async () => {
    await client.desktopUI.toast.success("Hello from the Minimal UI example");
    return "toast shown";
  });

  wire("navigate-button", "navigate-result", async () => {
    await client.desktopUI.navigate.viewContainers();
    return "navigated to containers";
  });

  wire("dialog-button", "dialog-result", () =>
    client.desktopUI.dialog.showOpenDialog({ properties: ["openFile"] }),
  );
}

main();
