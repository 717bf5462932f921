// Loads the dashboard (app.js and the modules it imports). A browser aborts
// requests in flight when the machine's network changes — and starting an
// extension's backend can add a network interface (a compose project's
// network) — so a module can fail to load through no fault of its own. Then
// the page reloads, a few times at most, instead of staying blank.

const KEY = "dockhand-boot-attempts";
const MAX_ATTEMPTS = 3;

import("./app.js").then(
  () => sessionStorage.removeItem(KEY),
  (err) => {
    const attempts = Number(sessionStorage.getItem(KEY) || "0") + 1;
    if (attempts <= MAX_ATTEMPTS) {
      sessionStorage.setItem(KEY, String(attempts));
      setTimeout(() => location.reload(), 200 * attempts);
      return;
    }
    sessionStorage.removeItem(KEY);
    const p = document.createElement("p");
    p.className = "note";
    p.textContent = `The dashboard could not load (${err && err.message ? err.message : err}); reload the page to try again.`;
    document.getElementById("view")?.append(p);
  },
);
