# shellcheck shell=bash
#
# `scripts/deps rootless`: rootless Podman and rootless dockerd, each run as
# an ordinary user (DOCKHAND_TEST_USER, default dockhand-test, made here the
# way scripts/test makes it when missing). Sourced by scripts/deps after
# lib.sh, never run; it uses the state dir, logging and process helpers of
# both.
#
# What the user gets, as a rootless engine's owner does on a desktop:
#   /etc/subuid and /etc/subgid   a range of 65536 ids (newuidmap/newgidmap,
#                                 Debian's uidmap, map them into the user
#                                 namespace both engines run in)
#   /run/user/<uid>               XDG_RUNTIME_DIR, 0700, owned by the user
#                                 (what pam_systemd makes at login)
#   $ROOTLESS_DIR/home            HOME of both daemons: Podman's storage.conf
#                                 and containers.conf under .config/containers,
#                                 its images and containers under .local/share
#   $ROOTLESS_DIR/dockerd/        rootless dockerd's data root and daemon.json
# and two daemons, started as the user (setpriv, a clean environment):
#   podman system service   on unix:///run/user/<uid>/podman/podman.sock
#   dockerd-rootless.sh     (docker.io's contrib: rootlesskit, slirp4netns, then
#                           dockerd) on unix:///run/user/<uid>/docker.sock, with
#                           the flags of the main engine (--iptables=false
#                           --ip-forward=false --ip-masq=false --bridge=none)
#
# Env file: DOCKHAND_ROOTLESS_USER, DOCKHAND_ROOTLESS_PODMAN_HOST,
# DOCKHAND_ROOTLESS_DOCKER_HOST. `scripts/deps stop` stops both.
#
# ROOTLESS_DIR is $STATE/rootless, or /var/lib/dockhand-rootless/<hash> when
# the user cannot reach the state dir (a directory on the way without o+x,
# such as a checkout under /root).

ROOTLESS_ID_COUNT=65536
ROOTLESS_ID_FIRST=100000
ROOTLESS_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
ROOTLESS_DOCKERD_SCRIPT=/usr/share/docker.io/contrib/dockerd-rootless.sh

# others_reach DIR: true when every directory from / to DIR is searchable by
# other users.
others_reach() {
    local p=$1 mode
    while :; do
        mode=$(stat -c %a "$p" 2>/dev/null) || return 1
        ((8#$mode & 1)) || return 1
        [[ $p == / ]] && return 0
        p=$(dirname "$p")
    done
}

# rootless_paths: the paths and the user's ids. Fails (quietly) when the user
# does not exist yet.
rootless_paths() {
    ROOTLESS_USER=${DOCKHAND_TEST_USER:-dockhand-test}
    ROOTLESS_DIR=$STATE/rootless
    if ! others_reach "$STATE"; then
        ROOTLESS_DIR=/var/lib/dockhand-rootless/$(printf '%s' "$STATE" | sha256sum | cut -c1-12)
    fi
    ROOTLESS_HOME=$ROOTLESS_DIR/home
    ROOTLESS_PODMAN_PID=$ROOTLESS_DIR/podman.pid
    ROOTLESS_DOCKERD_DIR=$ROOTLESS_DIR/dockerd
    ROOTLESS_KIT_PID=$ROOTLESS_DIR/rootlesskit.pid
    ROOTLESS_UID=$(id -u "$ROOTLESS_USER" 2>/dev/null) || return 1
    ROOTLESS_GID=$(id -g "$ROOTLESS_USER")
    ROOTLESS_RUN=/run/user/$ROOTLESS_UID
    ROOTLESS_PODMAN_SOCK=$ROOTLESS_RUN/podman/podman.sock
    ROOTLESS_DOCKER_SOCK=$ROOTLESS_RUN/docker.sock
    ROOTLESS_DOCKERD_PIDFILE=$ROOTLESS_RUN/docker.pid
    # A command prefix: run as the user, with only the environment a login
    # would give the daemons.
    AS_ROOTLESS=(setpriv --reuid "$ROOTLESS_UID" --regid "$ROOTLESS_GID" --init-groups
        env -i PATH="$ROOTLESS_PATH" HOME="$ROOTLESS_HOME" USER="$ROOTLESS_USER"
        LOGNAME="$ROOTLESS_USER" XDG_RUNTIME_DIR="$ROOTLESS_RUN")
}

rootless_podman_answers() {
    curl -fsS --max-time 5 --unix-socket "$ROOTLESS_PODMAN_SOCK" http://d/_ping >/dev/null 2>&1
}
rootless_docker_answers() { engine_answers "unix://$ROOTLESS_DOCKER_SOCK"; }

our_rootless_podman() { pidfile_pid "$ROOTLESS_PODMAN_PID" "$ROOTLESS_PODMAN_SOCK"; }
# rootlesskit, the process spawned (dockerd-rootless.sh execs it).
our_rootlesskit() { pidfile_pid "$ROOTLESS_KIT_PID" "$ROOTLESS_DOCKERD_DIR/data"; }
# dockerd in rootlesskit's namespaces (no pid namespace: its pid is the host's).
our_rootless_dockerd() { pidfile_pid "$ROOTLESS_DOCKERD_PIDFILE" "$ROOTLESS_DOCKERD_DIR/data"; }

# The user, as scripts/test makes it, and its subordinate ids.
ensure_rootless_user() {
    getent group docker >/dev/null || groupadd --system docker
    if ! id "$ROOTLESS_USER" >/dev/null 2>&1; then
        log "creating the user $ROOTLESS_USER"
        useradd --system --no-create-home --groups docker "$ROOTLESS_USER"
    fi
    local file first
    for file in /etc/subuid /etc/subgid; do
        [[ -f $file ]] || touch "$file"
        grep -q "^$ROOTLESS_USER:" "$file" && continue
        # The first id after every range already given out.
        first=$(awk -F: -v min="$ROOTLESS_ID_FIRST" \
            'NF >= 3 && $2 + $3 > min { min = $2 + $3 } END { print min }' "$file")
        log "giving $ROOTLESS_USER the ids $first-$((first + ROOTLESS_ID_COUNT - 1)) in $file"
        printf '%s:%s:%s\n' "$ROOTLESS_USER" "$first" "$ROOTLESS_ID_COUNT" >>"$file"
    done
}

# /run/user/<uid>: a directory of the user's own, 0700 (a symlink or
# someone else's directory is refused: the daemons' sockets go there).
ensure_rootless_runtime_dir() {
    local run=$ROOTLESS_RUN
    mkdir -p /run/user
    if [[ -L $run || (-e $run && ! -d $run) ]]; then
        die "$run is not a directory; remove it so that it can be $ROOTLESS_USER's runtime dir"
    fi
    if [[ -d $run ]]; then
        [[ $(stat -c %u "$run") == "$ROOTLESS_UID" ]] ||
            die "$run belongs to uid $(stat -c %u "$run"), not to $ROOTLESS_USER ($ROOTLESS_UID); remove it"
    else
        mkdir "$run"
        chown "$ROOTLESS_UID:$ROOTLESS_GID" "$run"
    fi
    chmod 700 "$run"
}

# The user can make a user namespace with its subordinate ids; otherwise say
# what the kernel or newuidmap answered.
check_rootless_userns() {
    local out
    out=$("${AS_ROOTLESS[@]}" unshare --user --map-root-user true 2>&1) ||
        die "$ROOTLESS_USER cannot create a user namespace here (unshare --user: $out); rootless engines need unprivileged user namespaces (sysctl user.max_user_namespaces > 0)"
    out=$("${AS_ROOTLESS[@]}" podman unshare true 2>&1) ||
        die "$ROOTLESS_USER cannot map its subordinate ids (podman unshare: $out); check /etc/subuid, /etc/subgid and that newuidmap/newgidmap (uidmap) are setuid root"
}

start_rootless_podman() {
    local pid conf=$ROOTLESS_HOME/.config/containers
    if pid=$(our_rootless_podman); then
        if wait_for "$DAEMON_TIMEOUT" "$pid" rootless_podman_answers; then
            log "reusing rootless podman (pid $pid) on unix://$ROOTLESS_PODMAN_SOCK"
            return 0
        fi
        log "rootless podman (pid $pid) does not answer; restarting it"
        stop_pid "$pid" "rootless podman" 15 || die "cannot stop rootless podman (pid $pid)"
    fi
    # Rootless Podman reads its settings from the user's ~/.config:
    # - overlay: the kernel's own overlayfs in a user namespace (no
    #   fuse-overlayfs); without a storage.conf Podman 4.3 picks vfs here.
    # - cgroupfs and file events: there is no systemd user session or journald.
    # - no default_ulimits: unlike rootful Podman (see podman_cli above), a
    #   rootless one keeps the limits it inherits instead of raising them.
    "${AS_ROOTLESS[@]}" mkdir -p "$conf" "$ROOTLESS_RUN/podman"
    "${AS_ROOTLESS[@]}" tee "$conf/containers.conf" >/dev/null <<EOF
# written by scripts/deps rootless
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
EOF
    "${AS_ROOTLESS[@]}" tee "$conf/storage.conf" >/dev/null <<EOF
# written by scripts/deps rootless
[storage]
driver = "overlay"
EOF
    rm -f "$ROOTLESS_PODMAN_PID" "$ROOTLESS_PODMAN_SOCK"
    spawn "$LOGS/rootless-podman.log" "${AS_ROOTLESS[@]}" \
        podman system service --time=0 "unix://$ROOTLESS_PODMAN_SOCK"
    printf '%s\n' "$SPAWNED_PID" >"$ROOTLESS_PODMAN_PID"
    if ! wait_for "$DAEMON_TIMEOUT" "$SPAWNED_PID" rootless_podman_answers; then
        tail_log "$LOGS/rootless-podman.log"
        stop_pid "$SPAWNED_PID" "rootless podman" 10 || true
        rm -f "$ROOTLESS_PODMAN_PID"
        die "rootless podman did not start as $ROOTLESS_USER (log: $LOGS/rootless-podman.log)"
    fi
    log "rootless podman answers on unix://$ROOTLESS_PODMAN_SOCK (as $ROOTLESS_USER)"
}

start_rootless_dockerd() {
    local pid d=$ROOTLESS_DOCKERD_DIR
    [[ -x $ROOTLESS_DOCKERD_SCRIPT ]] ||
        die "$ROOTLESS_DOCKERD_SCRIPT is missing (Debian's docker.io ships it)"
    if pid=$(our_rootlesskit); then
        if wait_for "$ENGINE_TIMEOUT" "$pid" rootless_docker_answers; then
            log "reusing rootless dockerd (rootlesskit pid $pid) on unix://$ROOTLESS_DOCKER_SOCK"
            return 0
        fi
        log "rootless dockerd (rootlesskit pid $pid) does not answer; restarting it"
        stop_rootless_dockerd
    fi
    "${AS_ROOTLESS[@]}" mkdir -p "$d/data"
    printf '{"deprecated-key-path": "%s"}\n' "$d/key.json" | "${AS_ROOTLESS[@]}" tee "$d/daemon.json" >/dev/null
    rm -f "$ROOTLESS_KIT_PID"
    # dockerd-rootless.sh re-execs itself under rootlesskit (user, mount and
    # network namespaces; slirp4netns; /etc and /run copied up), then runs
    # dockerd with these flags. Its exec root and containerd are under
    # $XDG_RUNTIME_DIR/docker.
    spawn "$LOGS/rootless-dockerd.log" "${AS_ROOTLESS[@]}" "$ROOTLESS_DOCKERD_SCRIPT" \
        --host "unix://$ROOTLESS_DOCKER_SOCK" \
        --data-root "$d/data" \
        --pidfile "$ROOTLESS_DOCKERD_PIDFILE" \
        --config-file "$d/daemon.json" \
        --iptables=false --ip-forward=false --ip-masq=false --bridge=none
    printf '%s\n' "$SPAWNED_PID" >"$ROOTLESS_KIT_PID"
    if ! wait_for "$ENGINE_TIMEOUT" "$SPAWNED_PID" rootless_docker_answers; then
        tail_log "$LOGS/rootless-dockerd.log"
        stop_rootless_dockerd
        die "rootless dockerd did not start as $ROOTLESS_USER (log: $LOGS/rootless-dockerd.log)"
    fi
    log "rootless dockerd answers on unix://$ROOTLESS_DOCKER_SOCK (as $ROOTLESS_USER, storage driver $(docker -H "unix://$ROOTLESS_DOCKER_SOCK" info --format '{{.Driver}}' 2>/dev/null))"
}

# dockerd first (it stops its containers, then rootlesskit exits with it),
# rootlesskit if it is still there.
stop_rootless_dockerd() {
    local pid kit
    kit=$(our_rootlesskit) || kit=
    if pid=$(our_rootless_dockerd); then stop_pid "$pid" "rootless dockerd" "$STOP_TIMEOUT"; fi
    if [[ -n $kit ]] && ! wait_for 15 "" _pid_gone "$kit"; then
        stop_pid "$kit" rootlesskit 15
    fi
    rm -f "$ROOTLESS_KIT_PID" "$ROOTLESS_DOCKERD_PIDFILE" "$ROOTLESS_DOCKER_SOCK"
}

# Podman's pause process (it holds the user namespace every podman command of
# the user joins), when it is the user's podman.
stop_rootless_pause() {
    local file=$ROOTLESS_RUN/libpod/tmp/pause.pid pid
    [[ -r $file ]] || return 0
    pid=$(tr -dc '0-9' <"$file")
    pid_alive "$pid" || return 0
    [[ $(stat -c %u "/proc/$pid") == "$ROOTLESS_UID" && $(pid_cmdline "$pid") == podman* ]] || return 0
    stop_pid "$pid" "rootless podman's pause process" 10
}

# stop_rootless: the hook of `scripts/deps stop`.
stop_rootless() {
    local pid
    rootless_paths || return 0
    [[ -d $ROOTLESS_DIR ]] || return 0
    if pid=$(our_rootless_podman); then
        # Containers run under their own conmon and outlive the service.
        "${AS_ROOTLESS[@]}" podman stop --all --time 5 >/dev/null 2>&1 || log "rootless podman stop --all failed"
        stop_pid "$pid" "rootless podman" 15
    fi
    stop_rootless_pause
    rm -f "$ROOTLESS_PODMAN_PID" "$ROOTLESS_PODMAN_SOCK"
    stop_rootless_dockerd
}

# rootless_env: the hook of write_env.
rootless_env() {
    rootless_paths || return 0
    local any=
    if our_rootless_podman >/dev/null; then
        printf 'export DOCKHAND_ROOTLESS_PODMAN_HOST=%q\n' "unix://$ROOTLESS_PODMAN_SOCK"
        any=1
    fi
    if our_rootlesskit >/dev/null; then
        printf 'export DOCKHAND_ROOTLESS_DOCKER_HOST=%q\n' "unix://$ROOTLESS_DOCKER_SOCK"
        any=1
    fi
    [[ -z $any ]] || printf 'export DOCKHAND_ROOTLESS_USER=%q\n' "$ROOTLESS_USER"
}

# rootless_status: the hook of `scripts/deps status`.
rootless_status() {
    local pid
    rootless_paths || return 0
    if pid=$(our_rootless_podman); then
        printf 'rootless podman:  running (pid %s, as %s) on unix://%s\n' "$pid" "$ROOTLESS_USER" "$ROOTLESS_PODMAN_SOCK"
    fi
    if pid=$(our_rootlesskit); then
        printf 'rootless dockerd: running (rootlesskit pid %s, as %s) on unix://%s\n' "$pid" "$ROOTLESS_USER" "$ROOTLESS_DOCKER_SOCK"
    fi
}

cmd_rootless() {
    ensure_packages podman docker.io rootlesskit slirp4netns uidmap curl
    take_lock
    ROOTLESS_USER=${DOCKHAND_TEST_USER:-dockhand-test}
    ensure_rootless_user
    rootless_paths || die "no user $ROOTLESS_USER"
    ensure_rootless_runtime_dir
    mkdir -p "$ROOTLESS_DIR"
    chmod 755 "$ROOTLESS_DIR"
    mkdir -p "$ROOTLESS_HOME"
    chown "$ROOTLESS_UID:$ROOTLESS_GID" "$ROOTLESS_HOME"
    mkdir -p "$ROOTLESS_DOCKERD_DIR"
    chown "$ROOTLESS_UID:$ROOTLESS_GID" "$ROOTLESS_DOCKERD_DIR"
    check_rootless_userns
    start_rootless_podman
    start_rootless_dockerd
    write_env
    printf '%s\n' "$ENV_FILE"
}
