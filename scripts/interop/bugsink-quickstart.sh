#!/usr/bin/env bash
# End-to-end check against a real Sentry-compatible server (Bugsink):
#
#   scripts/interop/bugsink-quickstart.sh target/debug/examples/quickstart [ARGS...]
#
# The command must send three events to $SENTRY_DSN and exit 0: a message, an error with a
# source chain, and a caught panic. It is run TWICE, so that grouping gets tested too: the same
# event sent twice must land in the same issue. Expected afterwards: 6 events in 3 issues, every
# issue (in particular the chained error's) holding 2 events, and no complaints from Bugsink's
# schema validation.
#
# Starts Bugsink (bugsink-up.sh), empties the project first and always stops the server at the
# end. Last line: "bugsink: N passed, M failed"; exit 0 only if nothing failed.
# Environment: see bugsink-up.sh; QUICKSTART_TIMEOUT (default 120 s) bounds each command run.
#
# Self-test of this script without building anything (fake_quickstart.py sends the same three
# events with urllib; its --break MODE variants must make this script fail):
#   scripts/interop/bugsink-quickstart.sh python3 scripts/interop/fake_quickstart.py
#   scripts/interop/bugsink-quickstart.sh python3 scripts/interop/fake_quickstart.py --break grouping
set -uo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
. "$HERE/lib.sh"
EXPECT_EVENTS=6
EXPECT_ISSUES=3
WAIT_SECS=15
RUN_TIMEOUT="${QUICKSTART_TIMEOUT:-120}"

if [ $# -eq 0 ]; then
    echo "usage: $0 COMMAND [ARGS...]   (COMMAND sends 3 events to \$SENTRY_DSN)" >&2
    exit 2
fi

passed=0
failed=0
check() {  # check <description> <command...>: runs the command, counts and reports the outcome
    local what="$1"; shift
    if "$@"; then
        passed=$((passed + 1)); echo "PASS $what"
    else
        failed=$((failed + 1)); echo "FAIL $what"
    fi
}

finish() {
    local rc=$?
    "$HERE/bugsink-down.sh"
    echo "bugsink: $passed passed, $failed failed"
    if [ "$rc" -gt 128 ]; then exit "$rc"; fi   # interrupted: keep 128+signal
    if [ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]; then exit 0; else exit 1; fi
}
trap finish EXIT
# An interrupted run must not look green; exiting still runs finish (and so stops the server).
# The command runs in the background and we `wait` for it: bash runs a trap as soon as a signal
# arrives during `wait`, whereas it would first wait for a foreground command to end (and a
# command under `timeout` sits in its own process group, so it never sees the terminal's ^C).
child=""
interrupted() {  # interrupted <signal> <exit code>
    trap - INT TERM HUP
    failed=$((failed + 1)); echo "FAIL interrupted by SIG$1"
    if [ -n "$child" ]; then kill -TERM "$child" 2>/dev/null; wait "$child" 2>/dev/null; fi
    exit "$2"
}
trap 'interrupted INT 130' INT
trap 'interrupted TERM 143' TERM
trap 'interrupted HUP 129' HUP

# --- server -------------------------------------------------------------------------------------
DSN="$("$HERE/bugsink-up.sh" | tail -1)"
bugsink_load_port   # the port bugsink-up.sh used (BUGSINK_PORT, or the free one it picked)
check "bugsink started on 127.0.0.1:${BUGSINK_PORT:-?} (DSN ${DSN:-none})" test -n "$DSN"
[ -n "$DSN" ] || exit 1
check "project reset" bugsink_admin reset

# --- the command, twice -------------------------------------------------------------------------
# `timeout` (coreutils) keeps a hanging SDK from hanging CI; not fatal if some image lacks it.
TIMEOUT=(); command -v timeout >/dev/null 2>&1 && TIMEOUT=(timeout "$RUN_TIMEOUT")
for run in 1 2; do
    echo "--- run $run: $*"
    SENTRY_DSN="$DSN" ${TIMEOUT[@]+"${TIMEOUT[@]}"} "$@" &
    child=$!
    wait "$child"
    rc=$?
    child=""
    note=""; [ "$rc" -eq 124 ] && [ ${#TIMEOUT[@]} -gt 0 ] && note=", timed out after ${RUN_TIMEOUT}s"
    check "run $run exited 0 (got $rc$note)" test "$rc" -eq 0
done

# --- what Bugsink stored ------------------------------------------------------------------------
# Digestion is synchronous by default, but BUGSINK_SNAPPEA=1 makes it lag: wait for the counts.
echo "--- stored (waiting up to ${WAIT_SECS}s for events=$EXPECT_EVENTS issues=$EXPECT_ISSUES)"
COUNTS="$(bugsink_admin count --json --expect-events "$EXPECT_EVENTS" --expect-issues "$EXPECT_ISSUES" \
          --timeout "$WAIT_SECS" 2>/dev/null)"
field() { "$PYTHON" -c 'import json, sys; print(json.loads(sys.argv[1] or "{}").get(sys.argv[2], -1))' "$COUNTS" "$1"; }
events="$(field events)"
issues="$(field issues)"
check "events == $EXPECT_EVENTS (got $events)" test "$events" -eq "$EXPECT_EVENTS"
check "issues == $EXPECT_ISSUES (got $issues)" test "$issues" -eq "$EXPECT_ISSUES"

echo "--- issues"
bugsink_admin issues
ISSUES_JSON="$(bugsink_admin issues --json)"
# The chained error is the issue whose events carry >= 2 exception values (error + sources).
# If grouping were unstable across runs, it would show up as 2 issues of 1 event each.
grouping="$("$PYTHON" - "$ISSUES_JSON" <<'PY'
import json, sys
issues = json.loads(sys.argv[1] or "[]")
chained = [i["events"] for i in issues if i["chain"] >= 2]
print("error_ok" if chained and all(n == 2 for n in chained) else "error_bad:%s" % chained)
print("all_ok" if issues and all(i["events"] == 2 for i in issues) else
      "all_bad:%s" % [i["events"] for i in issues])
PY
)"
check "chained-error issue(s) hold 2 events each ($(echo "$grouping" | grep '^error' | sed 's/^error_//'))" \
    grep -qx error_ok <<<"$grouping"
check "every issue holds 2 events ($(echo "$grouping" | grep '^all' | sed 's/^all_//'))" \
    grep -qx all_ok <<<"$grouping"

# check_validation <label> [--print]: Bugsink's schema validation found nothing in its logs.
check_validation() {
    local validation vfail
    validation="$(bugsink_admin validation)"
    if [ "${2:-}" = --print ]; then echo "$validation"; fi
    vfail="$(sed -n 's/^validation_failures=//p' <<<"$validation")"
    check "$1no validation failures (got ${vfail:-?})" test "${vfail:-1}" -eq 0
}

echo "--- bugsink schema validation (BUGSINK_VALIDATE=${BUGSINK_VALIDATE:-warn})"
check_validation "" --print

# --- optional: a real `panic = "abort"` crash, cached while the server is down -----------------
# CRASH_BIN is examples/crash.rs built with `-C panic=abort`. Run 1 points at a closed port: the
# process must abort (134) with the crash envelope in the cache. Run 2 points at Bugsink with
# `--deliver`: the next start must send it, and Bugsink must hold exactly that one crash.
if [ -n "${CRASH_BIN:-}" ]; then
    echo "--- crash under panic=abort with the server down, delivered by the next start"
    check "project reset for the crash" bugsink_admin reset
    CRASH_CACHE="$INTEROP_DIR/crash-cache"
    rm -rf "$CRASH_CACHE"
    DEAD_PORT="$(pick_free_port)"
    SENTRY_DSN="http://public@127.0.0.1:$DEAD_PORT/1" ${TIMEOUT[@]+"${TIMEOUT[@]}"} "$CRASH_BIN" "$CRASH_CACHE" 2>/dev/null
    rc=$?
    check "crash run aborted (got $rc, want 134)" test "$rc" -eq 134
    cached="$(ls "$CRASH_CACHE/envelopes-v1" 2>/dev/null | wc -l)"
    check "crash envelope left in the cache (got $cached)" test "$cached" -eq 1
    SENTRY_DSN="$DSN" ${TIMEOUT[@]+"${TIMEOUT[@]}"} "$CRASH_BIN" "$CRASH_CACHE" --deliver
    rc=$?
    check "next start delivered the cache (got $rc)" test "$rc" -eq 0
    COUNTS="$(bugsink_admin count --json --expect-events 1 --expect-issues 1 --timeout "$WAIT_SECS" 2>/dev/null)"
    check "bugsink holds the one crash (events $(field events))" test "$(field events)" -eq 1
    LATEST="$(bugsink_admin latest-event 2>/dev/null)"
    crash_ok="$("$PYTHON" - "$LATEST" <<'PY'
import json, sys
try:
    event = json.loads(sys.argv[1])
except ValueError:
    print("unparsable"); sys.exit()
ex = ((event.get("exception") or {}).get("values") or [{}])[-1]
ok = ex.get("value") == "card declined for 250" and (ex.get("mechanism") or {}).get("handled") is False
print("ok" if ok else "bad: %s" % json.dumps(ex)[:300])
PY
)"
    check "the crash event is the panic, unhandled ($crash_ok)" test "$crash_ok" = ok
fi

# --- optional: a hot loop of the same error makes one issue ------------------------------------
# ERRORS_BIN is examples/errors.rs: 100 checkout errors from one site (the same outer error,
# varying causes and local values) and one anyhow error. Expected: 101 events in 2 issues.
if [ -n "${ERRORS_BIN:-}" ]; then
    echo "--- errors example: 100 iterations of one error, one anyhow error"
    check "project reset for the errors example" bugsink_admin reset
    SENTRY_DSN="$DSN" ${TIMEOUT[@]+"${TIMEOUT[@]}"} "$ERRORS_BIN" >/dev/null
    rc=$?
    check "errors example exited 0 (got $rc)" test "$rc" -eq 0
    COUNTS="$(bugsink_admin count --json --expect-events 101 --expect-issues 2 --timeout "$WAIT_SECS" 2>/dev/null)"
    check "101 events (got $(field events))" test "$(field events)" -eq 101
    check "in 2 issues: the loop's error groups into one (got $(field issues))" test "$(field issues)" -eq 2
    check_validation "errors example: "
fi

# --- optional: structured logs and a transaction reach the server intact -------------------------
# LOG_BIN is examples/log.rs, TRACING_BIN examples/tracing.rs. Bugsink stores only error events
# but keeps every raw envelope it accepted: the log container and the transaction must be there,
# parsable, next to the error events.
if [ -n "${LOG_BIN:-}" ] && [ -n "${TRACING_BIN:-}" ]; then
    echo "--- log and tracing examples"
    check "project reset for the log/tracing examples" bugsink_admin reset
    SENTRY_DSN="$DSN" ${TIMEOUT[@]+"${TIMEOUT[@]}"} "$LOG_BIN" >/dev/null 2>&1
    check "log example exited 0 (got $?)" test "$?" -eq 0
    SENTRY_DSN="$DSN" ${TIMEOUT[@]+"${TIMEOUT[@]}"} "$TRACING_BIN" >/dev/null 2>&1
    check "tracing example exited 0 (got $?)" test "$?" -eq 0
    ENVELOPES="$(bugsink_admin envelopes 2>/dev/null)"
    echo "$ENVELOPES" | awk -F'\t' '{print "   ", $4}' | sort | uniq -c
    check "a log container was accepted" grep -qP '\tlog(\t|,)' <<<"$ENVELOPES"
    check "a transaction was accepted" grep -qP '\ttransaction(\t|,)' <<<"$ENVELOPES"
    check "no envelope was unparsable" bash -c '! grep -q UNPARSABLE <<<"$1"' _ "$ENVELOPES"
    COUNTS="$(bugsink_admin count --json --expect-events 2 --timeout "$WAIT_SECS" 2>/dev/null)"
    check "both examples' errors stored (events $(field events))" test "$(field events)" -eq 2
fi

# --- optional: an error event with attachments, and a user feedback about it -----------------
# ATTACH_BIN is examples/attachments.rs: one error event carrying two attachments (a file read
# on the SDK's thread from the scope, 256 binary bytes with the capture) and a feedback item linked to it with a screenshot.
# Bugsink must store the event (the attachment items must not make it refuse the envelope), and
# the raw envelope it kept must hold the attachments, byte-exact. Bugsink (as of 2.x) reads and
# discards every attachment but minidumps, and discards `feedback` items: it shows neither, so
# the checks below look at the raw envelopes it keeps (KEEP_ENVELOPES, set by bugsink-up.sh).
if [ -n "${ATTACH_BIN:-}" ]; then
    echo "--- attachments example: an event with attachments, a feedback"
    check "project reset for the attachments example" bugsink_admin reset
    ATTACH_OUT="$(SENTRY_DSN="$DSN" ${TIMEOUT[@]+"${TIMEOUT[@]}"} "$ATTACH_BIN" 2>/dev/null)"
    rc=$?
    check "attachments example exited 0 (got $rc)" test "$rc" -eq 0
    event_id="$(sed -n 's/^event //p' <<<"$ATTACH_OUT")"
    COUNTS="$(bugsink_admin count --json --expect-events 1 --timeout "$WAIT_SECS" 2>/dev/null)"
    check "the event with attachments is stored (events $(field events))" test "$(field events)" -eq 1
    LATEST="$(bugsink_admin latest-event --meta 2>/dev/null)"
    stored_id="$("$PYTHON" -c 'import json,sys
try: print(json.loads(sys.argv[1])["bugsink"]["event_id"].replace("-", ""))
except Exception: print("none")' "$LATEST")"
    check "the stored event is the one sent ($stored_id == ${event_id:-?})" test "$stored_id" = "$event_id"
    ENVELOPES="$(bugsink_admin envelopes 2>/dev/null)"
    echo "$ENVELOPES" | awk -F'\t' '{print "   ", $4}' | sort | uniq -c
    # (The run's release-health session update rides in the same envelope.)
    check "the event's envelope was accepted with its 2 attachments" \
        grep -qP '\tevent,attachment,attachment(,session)?\t'"$event_id"'$' <<<"$ENVELOPES"
    check "the feedback envelope was accepted with its attachment" \
        grep -qP '\tfeedback,attachment\t' <<<"$ENVELOPES"
    env_pk="$(grep -P '\t'"$event_id"'$' <<<"$ENVELOPES" | cut -f1 | head -1)"
    RAW="$(bugsink_admin envelope --id "${env_pk:-0}" 2>/dev/null)"
    check "the kept envelope holds input.bin (256 bytes)" \
        grep -q '"filename": "input.bin".*payload_bytes=256' <<<"$RAW"
    check_validation "attachments example: "
fi

# NATIVE_BIN is examples/native_crash.rs built with the `minidump` feature: it aborts right
# after `init`; its monitor process sends one fatal event (mechanism `minidump`) with the
# minidump attached and the crashed session's update. Bugsink must store the event and keep
# the envelope with its `event.minidump` attachment.
if [ -n "${NATIVE_BIN:-}" ]; then
    echo "--- native crash: an abort reported by the minidump monitor"
    check "project reset for the native crash" bugsink_admin reset
    SENTRY_DSN="$DSN" ${TIMEOUT[@]+"${TIMEOUT[@]}"} "$NATIVE_BIN" abort >/dev/null 2>&1
    rc=$?
    check "native_crash aborted (exit $rc)" test "$rc" -ne 0
    COUNTS="$(bugsink_admin count --json --expect-events 1 --timeout "$WAIT_SECS" 2>/dev/null)"
    check "the native crash is stored (events $(field events))" test "$(field events)" -eq 1
    LATEST="$(bugsink_admin latest-event 2>/dev/null)"
    check "the stored crash is fatal with mechanism minidump" "$PYTHON" -c 'import json,sys
e = json.loads(sys.argv[1])
m = e["exception"]["values"][0]["mechanism"]
sys.exit(0 if e["level"] == "fatal" and m["type"] == "minidump" and m["handled"] is False else 1)' "$LATEST"
    ENVELOPES="$(bugsink_admin envelopes 2>/dev/null)"
    echo "$ENVELOPES" | awk -F'\t' '{print "   ", $4}' | sort | uniq -c
    check "the crash envelope was accepted with its minidump and the crashed session" \
        grep -qP '\tevent,attachment,session\t' <<<"$ENVELOPES"
    env_pk="$(grep -P '\tevent,attachment,session\t' <<<"$ENVELOPES" | cut -f1 | head -1)"
    RAW="$(bugsink_admin envelope --id "${env_pk:-0}" 2>/dev/null)"
    check "the kept envelope's attachment is an event.minidump" \
        grep -q '"attachment_type": "event.minidump"' <<<"$RAW"
    check_validation "native crash: "
fi
