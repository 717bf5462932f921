/* placeholder until the dashboard's ddclient.js lands */ window.__dockhandShellOrigin = "__DOCKHAND_SHELL_ORIGIN__";
