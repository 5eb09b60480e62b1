#!/usr/bin/env bash
# Stop the Bugsink started by bugsink-up.sh, by the pids it recorded (never by name: other
# Bugsinks or gunicorns on the machine are none of our business). Idempotent.
#   --purge   also delete the data dir (DBs, config, logs); the venv is kept.
set -uo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
. "$HERE/lib.sh"
DATA="$BUGSINK_DATA"

stop() {  # stop <pidfile> <name>
    local f="$1" pid
    [ -f "$f" ] || return 0
    pid="$(cat "$f")"
    # A pid file left by a crashed server may name a pid reused by something else since:
    # only stop a process whose command line points into our INTEROP_DIR.
    if [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] && ! tr '\0' ' ' < "/proc/$pid/cmdline" | grep -qF "$INTEROP_DIR/"; then
        echo "[bugsink-down] pid $pid in $f is not ours any more; not stopping it" >&2
        rm -f "$f"
        return 0
    fi
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid"
        for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
        if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null; fi
        echo "[bugsink-down] stopped $2 (pid $pid)" >&2
    fi
    rm -f "$f"
}

stop "$DATA/snappea.pid" snappea
stop "$DATA/gunicorn.pid" gunicorn   # gunicorn's master stops its own workers on TERM
rm -f "$BUGSINK_PORT_FILE"           # the port of a server that is no more

if [ "${1:-}" = "--purge" ]; then
    rm -rf "$DATA"
    echo "[bugsink-down] removed $DATA" >&2
fi
