#!/usr/bin/env python3
"""Stand-in for the SDK's quickstart example: a self-test of bugsink-quickstart.sh.

    scripts/interop/bugsink-quickstart.sh python3 scripts/interop/fake_quickstart.py

Sends the same three events as examples/quickstart (a message, an error with a source chain
of 2 exception values, a caught panic) to $SENTRY_DSN as envelopes over plain urllib, shaped
like the Rust SDK's events (`logentry`, exception values innermost first). Every run uses
fresh event_ids but the same messages/types/values, so two runs must group into 3 issues
holding 2 events each. Exit 0 only if the server answered 200 to all three.
Standard library only; runs with any python3.

`--break MODE` imitates a broken SDK, to prove that bugsink-quickstart.sh notices (it must end
with "M failed", M > 0, and exit 1):
  grouping  the chained error's value changes every run (4 issues; its issue holds 1 event)
  missing   the caught panic is not sent (4 events in 2 issues)
  schema    the message event carries an unknown top-level key (Bugsink's schema check)
  auth      a wrong sentry_key, in X-Sentry-Auth and the envelope header's dsn (HTTP 403,
            so the command exits 1)
"""
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
import uuid
import argparse
from datetime import datetime, timezone

CLIENT = "fake-quickstart/1.0.0"


def parse_dsn(dsn):
    """{scheme}://{key}@{host}[:port]/[path/]{project_id} -> (envelope URL, key)."""
    u = urllib.parse.urlsplit(dsn)
    if not u.username or not u.hostname:
        raise ValueError("DSN has no public key or host: %r" % dsn)
    path, _, project = u.path.rstrip("/").rpartition("/")
    if not project.isdigit():
        raise ValueError("DSN has no numeric project id: %r" % dsn)
    netloc = u.hostname + (":%d" % u.port if u.port else "")
    return "%s://%s%s/api/%s/envelope/" % (u.scheme, netloc, path, project), u.username


def now():
    return datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")


def base_event(level):
    return {
        "event_id": uuid.uuid4().hex,
        "timestamp": now(),
        "platform": "native",
        "level": level,
        "release": "fake-quickstart@1.0.0",
        "environment": "test",
        "sdk": {"name": "fake-quickstart", "version": "1.0.0"},
        "contexts": {"os": {"type": "os", "name": "Linux"}},
    }


def frames(*functions):
    return {"frames": [{"function": f, "in_app": f.startswith("quickstart::")} for f in functions]}


def events(broken=None):
    message = dict(base_event("info"), logentry={"formatted": "Hello from the quickstart"})
    if broken == "schema":
        message["mesage"] = "typo"

    # innermost cause first, outermost error last (as the SDK serialises a source chain)
    chained = dict(base_event("error"), exception={"values": [
        {"type": "std::num::ParseIntError", "value": "invalid digit found in string",
         "mechanism": {"type": "chained", "source": "source", "exception_id": 1, "parent_id": 0}},
        {"type": "quickstart::ConfigError", "value": "could not parse the port setting" +
         (" (attempt %s)" % uuid.uuid4().hex[:8] if broken == "grouping" else ""),
         "stacktrace": frames("std::rt::lang_start", "quickstart::main", "quickstart::load_config"),
         "mechanism": {"type": "generic", "handled": True, "exception_id": 0}},
    ]})

    panic = dict(base_event("fatal"), exception={"values": [
        {"type": "panic", "value": "called `Option::unwrap()` on a `None` value",
         "stacktrace": frames("std::rt::lang_start", "quickstart::main", "quickstart::boom"),
         "mechanism": {"type": "panic", "handled": True}},
    ]})
    sent = [("message", message), ("chained error", chained), ("caught panic", panic)]
    return sent[:2] if broken == "missing" else sent


def envelope(event, dsn):
    payload = json.dumps(event).encode("utf-8")
    header = {"event_id": event["event_id"], "sent_at": now(), "dsn": dsn,
              "sdk": event["sdk"]}
    item = {"type": "event", "length": len(payload), "content_type": "application/json"}
    return b"\n".join([json.dumps(header).encode(), json.dumps(item).encode(), payload]) + b"\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dsn", nargs="?", default=os.environ.get("SENTRY_DSN", ""),
                    help="default: $SENTRY_DSN")
    ap.add_argument("--break", dest="broken", choices=["grouping", "missing", "schema", "auth"])
    args = ap.parse_args()
    dsn = args.dsn
    if not dsn:
        print("fake_quickstart: no DSN (set SENTRY_DSN or pass it as the argument)", file=sys.stderr)
        return 2
    try:
        url, key = parse_dsn(dsn)
    except ValueError as e:
        print("fake_quickstart: %s" % e, file=sys.stderr)
        return 2
    if args.broken == "auth":  # in the envelope header too: Bugsink authenticates by that one first
        dsn, key = dsn.replace(key + "@", "0" * 32 + "@", 1), "0" * 32
    auth = "Sentry sentry_key=%s, sentry_version=7, sentry_client=%s" % (key, CLIENT)
    failures = 0
    for what, event in events(args.broken):
        req = urllib.request.Request(url, data=envelope(event, dsn), method="POST", headers={
            "Content-Type": "application/x-sentry-envelope",
            "X-Sentry-Auth": auth,
            "User-Agent": CLIENT,
        })
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                status, body = resp.status, resp.read()
        except urllib.error.HTTPError as e:
            status, body = e.code, e.read()
        except (urllib.error.URLError, OSError) as e:
            status, body = None, str(e).encode()
        ok = status == 200
        failures += not ok
        print("%s %s event_id=%s -> HTTP %s %s" % ("sent" if ok else "FAILED", what, event["event_id"],
                                                   status, body[:200].decode("utf-8", "replace")))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
