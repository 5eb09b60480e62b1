#!/usr/bin/env bash
# Runs Spotlight's sidecar (npm @spotlightjs/spotlight) on PORT, installing it first if needed:
#
#     scripts/interop/spotlight-sidecar.sh PORT
#
# The install is `npm ci` from scripts/interop/spotlight/package-lock.json into
# $INTEROP_DIR/spotlight (one install at a time, under a lock). The sidecar runs in the
# foreground as this process (exec), so whoever started it stops it by killing this pid.
# It is used by the e2e test `spotlight_receives_every_envelope`.
#
# The lock file pins hono to 4.12: with hono 4.13 (which a fresh resolve picks), the sidecar
# 4.11.8 answers every request with HTTP 500 ("ctx.req.query(...).toString is not a function").
set -euo pipefail
source "$(dirname "$0")/lib.sh"
PORT="${1:?usage: spotlight-sidecar.sh PORT}"
DIR="$INTEROP_DIR/spotlight"
mkdir -p "$DIR"
(
    flock 9
    if ! cmp -s "$INTEROP_HERE/spotlight/package-lock.json" "$DIR/package-lock.json" \
        || [ ! -x "$DIR/node_modules/.bin/spotlight" ]; then
        cp "$INTEROP_HERE/spotlight/package.json" "$INTEROP_HERE/spotlight/package-lock.json" "$DIR/"
        (cd "$DIR" && npm ci --no-audit --no-fund --loglevel=error >&2)
    fi
) 9>"$INTEROP_DIR/spotlight.lock"
exec node "$DIR/node_modules/@spotlightjs/spotlight/dist/run.js" server -p "$PORT"
