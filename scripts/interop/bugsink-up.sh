#!/usr/bin/env bash
# Start a local Bugsink (a real Sentry-compatible server: Django + SQLite) on 127.0.0.1 so the
# SDK's output can be checked against real ingest code. Prints the project's DSN as the LAST
# line of stdout (logs go to stderr):   DSN="$(scripts/interop/bugsink-up.sh | tail -1)"
#
# Idempotent: installs bugsink==2.6.1 into a venv if needed, (re)writes the config, migrates,
# ensures superuser + team + project exist, starts gunicorn (and the snappea worker if asked)
# and waits until it is healthy. If our server is already running it only prints the DSN.
#
# Environment (all optional):
#   INTEROP_DIR        base for the venv and data (default <repo>/target/interop)
#   BUGSINK_PORT       port on 127.0.0.1 (default: a free one picked at start; the port in
#                      use is recorded in $INTEROP_DIR/bugsink/port for the other scripts)
#   BUGSINK_PROJECT    project slug (default rust-sdk-tests)
#   BUGSINK_VALIDATE   none|warn|strict: check events against Sentry's event JSON schema on
#                      digest. warn (default) stores the event and logs the complaint, which
#                      `bugsink_admin.py validation` reports; strict drops the event.
#   BUGSINK_SNAPPEA    0 (default): digest inside the HTTP request, so an event is queryable
#                      as soon as the SDK got its 200; 1: real background worker
#   BUGSINK_KEEP_ENVELOPES  raw envelopes kept for inspection (default 100)
#
# Files: $INTEROP_DIR/bugsink-venv, $INTEROP_DIR/bugsink (config, SQLite DBs, gunicorn.log,
# snappea.log, pid files, the port). Stop with bugsink-down.sh.
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
. "$HERE/lib.sh"
PROJECT="${BUGSINK_PROJECT:-rust-sdk-tests}"
VALIDATE="${BUGSINK_VALIDATE:-warn}"
SNAPPEA="${BUGSINK_SNAPPEA:-0}"
KEEP_ENVELOPES="${BUGSINK_KEEP_ENVELOPES:-100}"
DATA="$BUGSINK_DATA"
VENV="$BUGSINK_VENV"

log() { echo "[bugsink-up] $*" >&2; }
alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
now() { date +%s.%N; }

mkdir -p "$DATA"

# Our server is running on the port asked for (or, with none asked for, on the recorded one).
if [ -n "$BUGSINK_PORT" ] && [ "$(cat "$BUGSINK_PORT_FILE" 2>/dev/null)" = "$BUGSINK_PORT" ] \
        && alive "$DATA/gunicorn.pid" && bugsink_healthy; then
    log "already running (pid $(cat "$DATA/gunicorn.pid")) at $BUGSINK_URL"
    bugsink_admin setup --project "$PROJECT" | sed -n 's/^dsn=//p'
    exit 0
fi
# Our server from an earlier run, alive but not answering (or a stale pid file, or running on
# another port than the one now asked for): clear it. This also removes the recorded port.
"$HERE/bugsink-down.sh"
# Something else on a port asked for would answer our health checks and swallow the test's
# events, or make gunicorn give up after its bind retries: say so at once.
if [ "$BUGSINK_PORT_FROM" = env ] && ! port_is_free "$BUGSINK_PORT"; then
    log "127.0.0.1:$BUGSINK_PORT (BUGSINK_PORT) is in use by something not started by us;" \
        "choose another, or unset BUGSINK_PORT to have a free one picked"
    exit 1
fi

# 1. Install (no-op when the venv already has the pinned version).
t0=$(now)
"$PYTHON" "$HERE/venv_install.py" "$VENV" "$BUGSINK_REQUIREMENT" >/dev/null
t1=$(now)

# The port, unless one was asked for: picked now, after the (possibly long) install, so that
# little time passes before gunicorn binds it.
if [ "$BUGSINK_PORT_FROM" != env ]; then
    BUGSINK_PORT="$(pick_free_port)"
    BUGSINK_URL="http://127.0.0.1:$BUGSINK_PORT"
    log "using free port $BUGSINK_PORT (set BUGSINK_PORT to choose one)"
fi

# 2. Config: regenerate from Bugsink's own 'local' template, then override for tests.
rm -f "$DATA/bugsink_conf.py"
(cd "$DATA" && "$VENV/bin/bugsink-create-conf" --template=local --host=127.0.0.1 --port="$BUGSINK_PORT" >/dev/null)
EAGER=True; [ "$SNAPPEA" = "1" ] && EAGER=False
cat >> "$DATA/bugsink_conf.py" <<CONF

# ---- overrides appended by bugsink-up.sh (test setup) ----
DATABASES["default"]["NAME"] = "$DATA/db.sqlite3"
DATABASES["default"]["TEST"]["NAME"] = "$DATA/test.sqlite3"
DATABASES["snappea"]["NAME"] = "$DATA/snappea.sqlite3"
SNAPPEA = {
    "TASK_ALWAYS_EAGER": $EAGER,
    "NUM_WORKERS": 2,
    "WAKEUP_CALLS_DIR": "$DATA/snappea-wakeup",
    "PID_FILE": None,
}
BUGSINK.update({
    "BASE_URL": "$BUGSINK_URL",
    "PHONEHOME": False,                     # no outgoing calls from CI
    "INGEST_STORE_BASE_DIR": "$DATA/ingestion",
    "VALIDATE_ON_DIGEST": "$VALIDATE",
    "KEEP_ENVELOPES": $KEEP_ENVELOPES,
    # tests send bursts; the defaults (1000 per 5 min) would answer 429 to a big suite
    "MAX_EVENTS_PER_PROJECT_PER_5_MINUTES": 1_000_000,
    "MAX_EVENTS_PER_PROJECT_PER_HOUR": 10_000_000,
    "MAX_EVENTS_PER_5_MINUTES": 1_000_000,
    "MAX_EVENTS_PER_HOUR": 10_000_000,
})
CONF

# 3. Migrate both databases; create user/team/project/token.
(cd "$DATA" && "$VENV/bin/bugsink-manage" migrate -v0 >&2 \
            && "$VENV/bin/bugsink-manage" migrate snappea --database=snappea -v0 >&2)
bugsink_admin setup --project "$PROJECT" > "$DATA/setup.out"
t2=$(now)

# 4. Start gunicorn (and snappea) detached, recording pids for bugsink-down.sh.
# From here on, failing or being interrupted must not leave a half-started server behind.
started=0
cleanup() {
    local rc=$?
    if [ "$started" = 1 ] && [ "$rc" -ne 0 ]; then "$HERE/bugsink-down.sh"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
started=1
echo "$BUGSINK_PORT" > "$BUGSINK_PORT_FILE"   # for the other scripts; bugsink-down.sh removes it
LOG_OFFSET=1   # on failure, show only this start's part of the (appended) log
[ -f "$DATA/gunicorn.log" ] && LOG_OFFSET=$(( $(wc -c < "$DATA/gunicorn.log") + 1 ))
unset GUNICORN_CMD_ARGS   # gunicorn would merge these in (an extra --bind 0.0.0.0:..., say)
(
    cd "$DATA"
    DJANGO_SETTINGS_MODULE=bugsink_conf PYTHONPATH="$DATA" \
    nohup "$VENV/bin/gunicorn" --bind "127.0.0.1:$BUGSINK_PORT" --workers 2 --timeout 60 \
        --no-control-socket --access-logfile - --pid "$DATA/gunicorn.pid" bugsink.wsgi \
        >> "$DATA/gunicorn.log" 2>&1 < /dev/null &
    echo $! > "$DATA/gunicorn.start-pid"
)
if [ "$SNAPPEA" = "1" ]; then
    (
        cd "$DATA"
        nohup "$VENV/bin/bugsink-runsnappea" >> "$DATA/snappea.log" 2>&1 < /dev/null &
        echo $! > "$DATA/snappea.pid"
    )
fi

# The pid gunicorn writes itself is the master's; the one we started is the same process,
# but it exists from the start, so a master that dies early (port taken...) fails us at once.
START_PID="$(cat "$DATA/gunicorn.start-pid")"
rm -f "$DATA/gunicorn.start-pid"
for _ in $(seq 1 150); do
    bugsink_healthy && break
    kill -0 "$START_PID" 2>/dev/null || break
    sleep 0.2
done
if ! bugsink_healthy; then
    if kill -0 "$START_PID" 2>/dev/null; then
        log "server did not become healthy within 30 s; last lines of $DATA/gunicorn.log:"
    else
        log "gunicorn exited during startup; last lines of $DATA/gunicorn.log:"
    fi
    tail -c +"$LOG_OFFSET" "$DATA/gunicorn.log" | tail -20 >&2
    # gunicorn may not have written its pid file yet: stop the process we started ourselves
    [ -f "$DATA/gunicorn.pid" ] || echo "$START_PID" > "$DATA/gunicorn.pid"
    exit 1   # the EXIT trap runs bugsink-down.sh
fi
t3=$(now)

log "$(awk -v a="$t0" -v b="$t1" -v c="$t2" -v d="$t3" \
    'BEGIN{printf "timings: install %.1fs, config+migrate+setup %.1fs, start %.1fs", b-a, c-b, d-c}')"
log "running at $BUGSINK_URL (gunicorn pid $(cat "$DATA/gunicorn.pid")); UI login admin@example.org / admin"
sed -n 's/^dsn=//p' "$DATA/setup.out"
