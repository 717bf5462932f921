# shellcheck shell=bash
#
# Helpers shared by the scripts in scripts/. Sourced, never run:
#
#     . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#
# Conventions: human messages go to stderr (stdout is kept for data a caller may
# capture), every wait is bounded, and a process is only ever signalled by the
# pid we recorded for it after checking that pid still runs what we started.

# The repository root: the directory that holds scripts/.
DOCKHAND_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
export DOCKHAND_REPO

# log MESSAGE...: one line to stderr, prefixed with the script's name.
log() { printf '%s: %s\n' "${LOG_PREFIX:-${0##*/}}" "$*" >&2; }

# die MESSAGE...: log an error and exit 1.
die() {
    log "error: $*"
    exit 1
}

# have COMMAND: true if COMMAND is on PATH.
have() { command -v "$1" >/dev/null 2>&1; }

# ---------------------------------------------------------------------------
# Debian packages

# pkg_installed PACKAGE: true if dpkg says PACKAGE is fully installed.
pkg_installed() {
    [[ $(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null) == installed ]]
}

# ensure_packages PACKAGE...: apt-get install whichever of PACKAGE... are missing.
# Runs `apt-get update` at most once per script run, and only when something is
# missing. Not root: uses sudo when there is one, otherwise says what to install
# and exits 1. All apt output goes to stderr.
_APT_UPDATED=
ensure_packages() {
    local missing=() pkg
    for pkg in "$@"; do
        pkg_installed "$pkg" || missing+=("$pkg")
    done
    ((${#missing[@]})) || return 0

    local sudo=()
    if ((EUID != 0)); then
        have sudo || die "missing packages: ${missing[*]}; install them as root: apt-get install ${missing[*]}"
        sudo=(sudo)
    fi
    log "installing missing packages: ${missing[*]}"
    # NEEDRESTART_SUSPEND: Debian's needrestart hook, when installed, would
    # otherwise scan (and may ask about) services after the install.
    local env=(env DEBIAN_FRONTEND=noninteractive NEEDRESTART_SUSPEND=1)
    if [[ -z $_APT_UPDATED ]]; then
        "${sudo[@]}" "${env[@]}" apt-get update -qq >&2 || die "apt-get update failed"
        _APT_UPDATED=1
    fi
    "${sudo[@]}" "${env[@]}" apt-get install -y -qq -o Dpkg::Use-Pty=0 "${missing[@]}" >&2 ||
        die "apt-get install ${missing[*]} failed"
}

# ---------------------------------------------------------------------------
# Processes

# pid_alive PID: true if PID is a running process. A zombie counts as gone:
# this sandbox's init reaps orphans lazily, and `kill -0` succeeds on a zombie.
pid_alive() {
    local pid=$1 stat
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
    # Fields after "(comm)": the first is the state letter. comm may hold spaces.
    stat=${stat##*) }
    [[ ${stat%% *} != [ZX] ]]
}

# pid_cmdline PID: the command line of PID, arguments joined by spaces.
pid_cmdline() { tr '\0' ' ' 2>/dev/null <"/proc/$1/cmdline"; }

# pidfile_pid PIDFILE FINGERPRINT: print the pid in PIDFILE if that process is
# alive and its command line contains FINGERPRINT (a path unique to what we
# started, so a recycled pid is never mistaken for ours). Otherwise fail.
pidfile_pid() {
    local file=$1 fingerprint=$2 pid
    [[ -r $file ]] || return 1
    pid=$(tr -dc '0-9' <"$file")
    pid_alive "$pid" || return 1
    [[ $(pid_cmdline "$pid") == *"$fingerprint"* ]] || return 1
    printf '%s\n' "$pid"
}

# lock_dir DIR: take an exclusive lock on DIR/lock (waiting up to 180 s), held
# on fd 9 until the script exits.
lock_dir() {
    mkdir -p "$1"
    exec 9>"$1/lock"
    flock -w 180 9 || die "another script holds $1/lock"
}

# spawn LOGFILE COMMAND...: start COMMAND in the background, detached: in its own
# session (so the caller's Ctrl-C or hangup does not reach it), stdin from
# /dev/null, stdout and stderr appended to LOGFILE (so a caller capturing our
# stdout with $(...) does not wait for it), without the lock_dir fd (a daemon
# inheriting it would hold the lock for its whole life). Sets SPAWNED_PID.
# This script is not interactive (no job control), so the background child is
# not a process group leader and setsid(1) calls setsid() and execs in place:
# $! is the daemon's own pid.
SPAWNED_PID=
spawn() {
    local logfile=$1
    shift
    printf '\n==== %s: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >>"$logfile"
    setsid "$@" </dev/null >>"$logfile" 2>&1 9>&- &
    # shellcheck disable=SC2034 # read by the sourcing script
    SPAWNED_PID=$!
}

# wait_for SECONDS PID COMMAND...: run COMMAND every 0.2 s until it succeeds
# (return 0), SECONDS pass (return 1) or PID, when not empty, exits (return 2).
wait_for() {
    local seconds=$1 pid=$2 deadline
    shift 2
    deadline=$((SECONDS + seconds))
    while ((SECONDS < deadline)); do
        "$@" >/dev/null 2>&1 && return 0
        if [[ -n $pid ]] && ! pid_alive "$pid"; then
            # One last try: it may have answered and then exited on purpose.
            "$@" >/dev/null 2>&1 && return 0
            return 2
        fi
        sleep 0.2
    done
    return 1
}

# stop_pid PID NAME [SECONDS]: SIGTERM PID, wait up to SECONDS (default 30) for
# it to exit, then SIGKILL it and wait 10 s more. Fails if it is still there.
stop_pid() {
    local pid=$1 name=$2 seconds=${3:-30}
    pid_alive "$pid" || return 0
    log "stopping $name (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    if ! wait_for "$seconds" "" _pid_gone "$pid"; then
        log "$name (pid $pid) did not exit within ${seconds}s of SIGTERM; sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
        wait_for 10 "" _pid_gone "$pid" || {
            log "$name (pid $pid) survived SIGKILL"
            return 1
        }
    fi
}
_pid_gone() { ! pid_alive "$1"; }

# unmount_under DIR: unmount everything mounted below DIR, deepest first.
# dockerd leaves mounts behind in its data and exec roots (it makes the data
# root a shared bind mount of itself, and bind-mounts the host network
# namespace to exec-root/netns/default); left there they make `rm -rf` of the
# state dir fail with "device or resource busy".
unmount_under() {
    local prefix=${1%/}/ mp
    # /proc/self/mounts writes a space in a path as \040.
    prefix=${prefix// /\\040}
    PREFIX=$prefix awk 'index($2, ENVIRON["PREFIX"]) == 1 { print $2 }' /proc/self/mounts | sort -r |
        while IFS= read -r mp; do
            mp=${mp//\\040/ }
            umount "$mp" 2>/dev/null || umount -l "$mp" || log "cannot unmount $mp"
        done
}

# ---------------------------------------------------------------------------
# Network

# port_free PORT: true if nothing accepts connections on 127.0.0.1:PORT.
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# free_port: print a TCP port free on 127.0.0.1 (asks the kernel through
# python3 when there is one, else tries 5000 upward).
free_port() {
    local port
    if have python3 && port=$(python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])' 2>/dev/null); then
        printf '%s\n' "$port"
        return
    fi
    for ((port = 5000; port < 5200; port++)); do
        if port_free "$port"; then
            printf '%s\n' "$port"
            return
        fi
    done
    return 1
}

# tail_log FILE [LINES]: show the last LINES (default 30) lines of FILE on stderr.
tail_log() {
    [[ -r $1 ]] || return 0
    log "last ${2:-30} lines of $1:"
    tail -n "${2:-30}" "$1" | sed 's/^/    /' >&2
}
