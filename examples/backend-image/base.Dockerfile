# The runtime of the example backends, for `dockhand build --base`: the static backend
# binary and how to run it. dockhand build puts the extension's own files (metadata.json,
# icon, UI) on top of this image, per platform. Built by `scripts/build-examples --docker`
# as dockhand-examples/backend-base:<tag>.
FROM scratch
COPY dist/backend /backend
# The backend is PID 1 and keeps no state: stop it at once instead of waiting for the
# engine's 10 s SIGTERM grace period (PID 1 ignores signals it does not handle).
STOPSIGNAL SIGKILL
CMD ["/backend"]
