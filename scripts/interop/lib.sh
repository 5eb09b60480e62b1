# Shared settings for the interop shell scripts (sourced, not executed).
#
# Everything the scripts install or write lives under ${INTEROP_DIR:-target/interop}; a
# relative INTEROP_DIR is taken from the repo root (parent of scripts/), like relay_check.py
# does, so the scripts behave the same whatever directory CI calls them from.

INTEROP_HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
REPO_ROOT="$(cd "$INTEROP_HERE/../.." && pwd -P)"
INTEROP_DIR="${INTEROP_DIR:-target/interop}"
case "$INTEROP_DIR" in
    /*) ;;
    *) INTEROP_DIR="$REPO_ROOT/$INTEROP_DIR" ;;
esac
# canonical, so that bugsink-down.sh recognises our processes by their command lines
mkdir -p "$INTEROP_DIR" && INTEROP_DIR="$(cd "$INTEROP_DIR" && pwd -P)"

BUGSINK_REQUIREMENT="bugsink==2.6.1"
BUGSINK_VENV="$INTEROP_DIR/bugsink-venv"
BUGSINK_DATA="$INTEROP_DIR/bugsink"
export INTEROP_DIR BUGSINK_DATA

# A python to run our helpers with before the venv exists: CI images have python3, maybe not curl.
PYTHON="${INTEROP_PYTHON:-python3}"

# The port on 127.0.0.1. BUGSINK_PORT from the environment when set (BUGSINK_PORT_FROM=env);
# else the port the running server was started on, which bugsink-up.sh records in
# $BUGSINK_PORT_FILE and bugsink-down.sh removes (=file); else none yet (=none), and
# bugsink-up.sh picks a free one. So every script, run on its own or from another one, sees
# the same port without any fixed default that something else on the machine might hold.
BUGSINK_PORT_FILE="$BUGSINK_DATA/port"
bugsink_load_port() {
    if [ -n "${BUGSINK_PORT:-}" ] && [ "${BUGSINK_PORT_FROM:-env}" = env ]; then
        BUGSINK_PORT_FROM=env
    elif [ -s "$BUGSINK_PORT_FILE" ]; then
        BUGSINK_PORT="$(cat "$BUGSINK_PORT_FILE")"
        BUGSINK_PORT_FROM=file
    else
        BUGSINK_PORT=""
        BUGSINK_PORT_FROM=none
    fi
    BUGSINK_URL="http://127.0.0.1:${BUGSINK_PORT:-0}"
}
[ -n "${BUGSINK_PORT:-}" ] || unset BUGSINK_PORT   # an empty one counts as not set
BUGSINK_PORT_FROM=""
bugsink_load_port

# Can we bind 127.0.0.1:PORT (as gunicorn does, with SO_REUSEADDR)?
port_is_free() {
    "$PYTHON" -c 'import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))' "$1" 2>/dev/null
}

# A port on 127.0.0.1 that nothing listens on right now (the kernel's pick).
pick_free_port() {
    "$PYTHON" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# Is a Bugsink answering on our port? (curl when present, else python's urllib.)
bugsink_healthy() {
    if command -v curl >/dev/null 2>&1; then
        curl -fsS -m 2 "$BUGSINK_URL/health/ready" >/dev/null 2>&1
    else
        "$PYTHON" -c 'import sys, urllib.request
try:
    urllib.request.urlopen(sys.argv[1], timeout=2).read()
except Exception:
    sys.exit(1)' "$BUGSINK_URL/health/ready" 2>/dev/null
    fi
}

# Run bugsink_admin.py inside the Bugsink venv against our data dir.
bugsink_admin() {
    "$BUGSINK_VENV/bin/python" "$INTEROP_HERE/bugsink_admin.py" --data-dir "$BUGSINK_DATA" "$@"
}
