#!/usr/bin/env python3
"""Validate every `*.envelope` under DIR with Sentry Relay's own event normaliser.

    scripts/interop/relay_check.py [--strict] [--max-age-days N] DIR

Tests dump the envelopes the SDK would send into DIR; this proves that real Sentry would accept
them. For each `event` / `transaction` / `feedback` item the payload goes through
`sentry_relay.StoreNormalizer.normalize_event` (PyPI `sentry-relay`, the Rust normalisation code
Sentry runs on every event), configured the way Sentry's event manager configures it.
A file FAILS when:
  * Relay raised (it would drop the event),
  * Relay reported problems: the event's `errors` list or a `_meta` entry with "err"
    (what Sentry shows as "There were N problems processing this event"),
  * with --strict: Relay silently replaced a value (a `_meta` entry with just "val",
    e.g. platform "rust" -> "other"); without --strict these are listed on the OK line,
  * the envelope itself is wrong: unparsable (items framed by `length` or by newline),
    no header event_id while an event-like item is present, header and payload event_id
    differ, more than one event/transaction, a feedback not alone (two, or with a
    transaction), an item without or with an unknown `type`,
  * a `feedback` item's payload is not of type "feedback", or its `contexts.feedback` lacks a
    message (or it is over 4096 characters) or links to a malformed or its own event id,
  * an `attachment` lacks `length` or `filename`, or has an unknown `attachment_type`,
  * a local check fails for items Relay's Python bindings cannot validate
    (client_report, session(s), log/span/trace_metric containers: item_count and content_type,
    trace_metric entries: timestamp, trace_id, name, value, type and attribute shape, check_in:
    the rules of Relay's relay-monitors crate, ...).
Trimming and PII remarks (`_meta` "rem") are normal and never fail a file.

Clock: envelopes may be validated long after they were dumped, so Relay's "too old" limit is
large (--max-age-days, default 365) and Relay gets no `sent_at` (its clock-drift correction would
otherwise kick in for old dumps). Timestamps must still be realistic: anything before that limit
(an epoch-0 timestamp, say) or more than 60 s in the future of now (milliseconds sent as seconds)
is an error, and the header's `sent_at` must not precede the event's own timestamp.

Output: one line per file, then `relay: N passed, M failed`. Exit 0 only if M == 0 and N > 0:
an empty DIR is a failure, because a check that cannot fail proves nothing.

If `sentry_relay` is not importable, installs sentry-relay into
${INTEROP_DIR:-target/interop}/relay-venv (relative to the repo root) and re-runs itself there.
"""
import argparse
import json
import os
import re
import sys
from datetime import datetime, timedelta, timezone

RELAY_REQUIREMENT = "sentry-relay==0.10.1"
HERE = os.path.dirname(os.path.abspath(__file__))
MAX_FUTURE_SECS = 60  # what Sentry allows


def ensure_relay():
    """Returns None once sentry_relay is importable (possibly after re-executing this script in
    the relay venv, installing it first), else why not."""
    try:
        import sentry_relay  # noqa: F401
    except ImportError:
        pass
    else:
        from importlib.metadata import version, PackageNotFoundError
        try:
            found = version("sentry-relay")
        except PackageNotFoundError:
            found = "unknown"
        if found != RELAY_REQUIREMENT.split("==")[1]:
            print("relay_check: note: using sentry-relay %s from %s, not the pinned %s"
                  % (found, sys.executable, RELAY_REQUIREMENT), file=sys.stderr)
        return None
    if os.environ.get("_RELAY_CHECK_REEXEC"):
        return "sentry_relay is not importable even from %s" % sys.executable
    sys.path.insert(0, HERE)
    import subprocess
    import venv_install
    try:
        py = venv_install.ensure(os.path.join(venv_install.interop_dir(), "relay-venv"), RELAY_REQUIREMENT)
    except (subprocess.CalledProcessError, OSError, SystemExit) as e:
        return "could not install %s: %s" % (RELAY_REQUIREMENT, e)
    os.environ["_RELAY_CHECK_REEXEC"] = "1"  # guards against an exec loop if the install is broken
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(py, [py, os.path.abspath(__file__)] + sys.argv[1:])


# ------------------------------------------------------------------------------------------------
# Envelope framing (https://develop.sentry.dev/sdk/envelopes/): a JSON header line, then items,
# each a JSON header line and a payload of exactly `length` bytes, or up to the next newline
# when the item header has no `length`.

class EnvelopeError(ValueError):
    pass


def parse_envelope(data):
    nl = data.find(b"\n")
    try:
        header = json.loads(data if nl < 0 else data[:nl])
    except ValueError as e:
        raise EnvelopeError("envelope header is not JSON: %s" % e)
    if not isinstance(header, dict):
        raise EnvelopeError("envelope header is not a JSON object")
    items = []
    pos = len(data) if nl < 0 else nl + 1
    while pos < len(data):
        nl = data.find(b"\n", pos)
        line_start, line = pos, data[pos:] if nl < 0 else data[pos:nl]
        pos = len(data) if nl < 0 else nl + 1
        if not line.strip():
            if pos >= len(data):
                break  # trailing newline
            raise EnvelopeError("empty line at byte %d where an item header was expected" % line_start)
        try:
            item = json.loads(line)
        except ValueError as e:
            raise EnvelopeError("item header at byte %d is not JSON: %s" % (line_start, e))
        if not isinstance(item, dict):
            raise EnvelopeError("item header at byte %d is not a JSON object" % line_start)
        length = item.get("length")
        if length is None:
            nl = data.find(b"\n", pos)
            payload = data[pos:] if nl < 0 else data[pos:nl]
            pos = len(data) if nl < 0 else nl + 1
        else:
            if not isinstance(length, int) or isinstance(length, bool) or length < 0:
                raise EnvelopeError("item %r: 'length' is not a non-negative integer: %r"
                                    % (item.get("type"), length))
            if pos + length > len(data):
                raise EnvelopeError("item %r declares length %d but only %d bytes remain"
                                    % (item.get("type"), length, len(data) - pos))
            payload = data[pos:pos + length]
            pos += length
            if pos < len(data):
                if data[pos:pos + 1] != b"\n":
                    raise EnvelopeError("item %r: payload of length %d is not followed by a newline"
                                        % (item.get("type"), length))
                pos += 1
        items.append((item, payload))
    return header, items


# ------------------------------------------------------------------------------------------------
# Relay normalisation of events and transactions

def short(v, n=70):
    s = json.dumps(v, ensure_ascii=False, default=str)
    return s if len(s) <= n else s[:n - 3] + "..."


def meta_entries(meta, path=""):
    """(path, node) for every "" node of Relay's _meta tree."""
    if isinstance(meta, dict):
        for key, value in meta.items():
            if key == "":
                yield path or "(root)", value
            else:
                yield from meta_entries(value, "%s.%s" % (path, key) if path else key)


def fmt_err(err):
    if isinstance(err, list) and err:
        extra = err[1] if len(err) > 1 and isinstance(err[1], dict) else {}
        return str(err[0]) + ("(%s)" % ", ".join("%s=%s" % kv for kv in extra.items()) if extra else "")
    return str(err)


def parse_ts(value):
    """Sentry timestamps: RFC 3339 strings or (float) seconds since the epoch."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(value, timezone.utc)
        except (OverflowError, OSError, ValueError):
            return None  # e.g. milliseconds sent as seconds; Relay reports those itself
    if isinstance(value, str):
        try:
            ts = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return ts if ts.tzinfo else ts.replace(tzinfo=timezone.utc)
    return None


def normalize(payload, item_type, opts, sent_at):
    """Returns (problems, changed) for one event/transaction payload."""
    import sentry_relay
    try:
        event = json.loads(payload)
    except ValueError as e:
        return ["payload is not valid JSON: %s" % e], []
    if not isinstance(event, dict):
        return ["payload is not a JSON object"], []
    problems = []
    # Sentry's event payload docs list these as required; Relay fills them in silently
    # (event_id from the envelope, timestamp = receive time, platform "other").
    for key in ("event_id", "timestamp", "platform"):
        if key not in event:
            problems.append("payload has no %r" % key)
    if item_type == "transaction" and event.get("type") != "transaction":
        problems.append("transaction item whose payload has type=%s" % short(event.get("type")))
        event = dict(event, type="transaction")  # what Relay does; keep validating the rest
    elif item_type == "event" and event.get("type") == "transaction":
        problems.append("'event' item whose payload has type=\"transaction\"")
    elif item_type == "feedback":
        # Relay expands a `feedback` item into an event of type "feedback" (UserReportV2).
        if event.get("type") != "feedback":
            problems.append("feedback item whose payload has type=%s" % short(event.get("type")))
            event = dict(event, type="feedback")
        problems += feedback_problems(event)

    # Configured like Sentry's event manager (src/sentry/event_manager.py, _normalize_impl).
    config = dict(
        project_id=1,
        client_ip="127.0.0.1",
        client=None,
        protocol_version="7",
        is_renormalize=False,
        remove_other=True,
        normalize_user_agent=True,
        max_secs_in_future=MAX_FUTURE_SECS,
        max_secs_in_past=opts.max_age_days * 86400,
        enable_trimming=True,
        received_at=opts.now.isoformat(),
    )
    try:
        out = sentry_relay.StoreNormalizer(**config).normalize_event(
            raw_event=json.dumps(event).encode("utf-8"))
    except sentry_relay.RelayError as e:
        return problems + ["Relay rejected it: %s: %s" % (type(e).__name__, e.message)], []

    reported = set()
    for err in out.get("errors") or []:
        err = dict(err)
        kind, name = err.pop("type", "?"), err.pop("name", None)
        reported.add(name)
        detail = ", ".join("%s=%s" % (k, short(v, 40)) for k, v in err.items())
        problems.append("Relay error %s%s%s" % (kind, " at " + name if name else "",
                                                " (" + detail + ")" if detail else ""))
    changed = []
    for path, node in meta_entries(out.get("_meta") or {}):
        if node.get("err"):
            if path in reported:
                continue  # same problem as in `errors` above
            orig = " (original %s)" % short(node["val"], 40) if "val" in node else ""
            problems.append("Relay _meta err at %s: %s%s" % (path, "; ".join(fmt_err(x) for x in node["err"]), orig))
        elif not node.get("rem") and "val" in node:
            changed.append("%s (was %s)" % (path, short(node["val"], 40)))
    # Relay already errors on timestamps outside its window; this catches the one Relay cannot
    # judge without `sent_at`: an event "captured" after the envelope claims it was sent.
    ts = parse_ts(event.get("timestamp"))
    if ts and sent_at and ts > sent_at + timedelta(seconds=MAX_FUTURE_SECS):
        problems.append("event timestamp %s is after the envelope's sent_at %s"
                        % (event.get("timestamp"), sent_at.isoformat()))
    return problems, changed


# Relay's rules that match what the SDK's default scrubbing promises to do (key-based secrets,
# credentials in URLs): with --pii-default, what Relay's default data scrubbing still finds
# under these rules in an event is something the SDK should have scrubbed and did not.
PROMISED_RULES = ("@password", "@urlauth")


def pii_default_problems(payload):
    """Runs Relay's default data scrubbing (the project default: scrubData, scrubDefaults; IP
    addresses kept, since the SDK keeps what the program set explicitly) over one payload and
    lists what it removed under a rule the SDK's defaults promise, unless the SDK had already
    replaced that value with "[Filtered]"."""
    import sentry_relay
    try:
        event = json.loads(payload)
    except ValueError:
        return []  # reported by normalize()
    config = sentry_relay.convert_datascrubbing_config({
        "scrubData": True, "scrubDefaults": True, "scrubIpAddresses": False,
        "sensitiveFields": [], "excludeFields": []})
    out = sentry_relay.pii_strip_event(config, event)
    problems = []
    for path, node in meta_entries(out.get("_meta") or {}):
        rules = [r[0] for r in node.get("rem") or [] if isinstance(r, list) and r]
        promised = [r for r in rules if r.startswith(PROMISED_RULES)]
        if not promised:
            continue
        original = lookup(event, path)
        if isinstance(original, str) and "[Filtered]" in original and original.count(":") <= 2:
            continue  # scrubbed by the SDK already (Relay filters the placeholder again)
        problems.append("Relay's default scrubbing (%s) found %s at %s"
                        % (", ".join(promised), short(original, 40), path))
    return problems


def lookup(event, path):
    """The value at a dotted _meta path (list indices as numbers), or None."""
    node = event
    for part in path.split("."):
        if isinstance(node, dict):
            node = node.get(part)
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node


def feedback_problems(event):
    """What Relay's feedback processing requires beyond the normaliser (PROTOCOL.md §7)."""
    problems = []
    contexts = event.get("contexts") if isinstance(event.get("contexts"), dict) else {}
    feedback = contexts.get("feedback")
    if not isinstance(feedback, dict):
        return ["feedback payload has no contexts.feedback object"]
    message = feedback.get("message")
    if not isinstance(message, str) or not message.strip():
        problems.append("contexts.feedback.message is missing or empty")
    elif len(message) > 4096:
        problems.append("contexts.feedback.message has %d characters (max 4096)" % len(message))
    for key in ("contact_email", "name", "url"):
        if key in feedback and not isinstance(feedback[key], str):
            problems.append("contexts.feedback.%s is not a string: %s" % (key, short(feedback[key])))
    linked = feedback.get("associated_event_id")
    if linked is not None:
        if not (isinstance(linked, str) and UUID_RE.match(linked)):
            problems.append("contexts.feedback.associated_event_id is not a UUID: %s" % short(linked))
        elif same_id(linked, event.get("event_id", "")):
            problems.append("feedback's associated_event_id is its own event_id")
    return problems


# ------------------------------------------------------------------------------------------------
# Local checks for item types the Python bindings cannot validate

UUID_RE = re.compile(r"^[0-9a-f]{32}$|^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
RFC3339_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")
SESSION_STATUS = {"ok", "exited", "crashed", "abnormal", "errored", "unhandled"}
LOG_LEVELS = {"trace", "debug", "info", "warn", "error", "fatal"}
EVENT_LIKE = {"event", "transaction", "attachment", "user_report", "feedback"}  # need a header event_id
KNOWN_ITEM_TYPES = EVENT_LIKE | {
    "security", "form_data", "raw_security", "nel", "unreal_report", "session", "sessions", "statsd",
    "metric_buckets", "client_report", "profile", "replay_event", "replay_recording", "replay_video",
    "check_in", "log", "otel_log", "span", "otel_span", "otel_traces_data", "profile_chunk",
    "trace_metric", "user_report_v2",
}
CONTAINER_CONTENT_TYPES = {"log": "application/vnd.sentry.items.log+json",
                           "trace_metric": "application/vnd.sentry.items.trace-metric+json"}
METRIC_TYPES = {"counter", "gauge", "distribution"}
ATTRIBUTE_TYPES = {"string", "boolean", "integer", "double", "array"}
HEX32_RE = re.compile(r"^[0-9a-f]{32}$")
HEX16_RE = re.compile(r"^[0-9a-f]{16}$")
ATTACHMENT_TYPES = {"event.attachment", "event.minidump", "event.applecrashreport", "unreal.context",
                    "unreal.logs", "event.view_hierarchy", "event.payload", "event.breakpad"}


def release_problem(release):
    import sentry_relay  # Relay's own release-name parser, as applied to sessions
    try:
        sentry_relay.parse_release(release)
    except sentry_relay.RelayError as e:
        return "release %s rejected by Relay parse_release: %s" % (short(release), e.message)
    return None


# Check-ins: the rules of Relay's `relay-monitors` crate (relay-monitors/src/lib.rs at getsentry/relay
# commit c5e836da79c3ff73d701b30b8a8c5d8362dd6894, crate version 23.9.1: `CheckIn`, `MonitorConfig`,
# `Schedule`, `IntervalName`, `process_check_in`), plus `failure_issue_threshold` and
# `recovery_threshold` (u64), which later Relay versions add to `MonitorConfig`. Where Relay would
# fail to deserialise, reject, or silently change a value (status "missed" or unknown -> "unknown",
# slug cut to 50 characters), the file fails. Marked "Sentry:" is what Sentry's check-in consumer
# does after Relay (it slugifies the slug); marked "SDK:" are rules of the check-in docs
# (develop.sentry.dev sdk/telemetry/check-ins) that Relay does not enforce.
CHECK_IN_STATUS = {"in_progress", "ok", "error"}
MONITOR_INTERVAL_UNITS = {"year", "month", "week", "day", "hour", "minute"}
MONITOR_SLUG_MAX_CHARS = 50     # relay-monitors SLUG_LENGTH (longer slugs are truncated)
CHECK_IN_ENV_MAX_CHARS = 64     # relay-monitors ENVIRONMENT_LENGTH (longer: InvalidEnvironment)
MONITOR_SLUG_RE = re.compile(r"^[a-z0-9_-]+$")  # what Sentry's slugify leaves unchanged


def is_u64(v):
    return isinstance(v, int) and not isinstance(v, bool) and 0 <= v < 2 ** 64


def check_in_problems(s):
    problems = []
    if "check_in_id" not in s:
        problems.append("missing check_in_id (Relay would use the nil id: 'the latest in-progress check-in')")
    elif not (isinstance(s["check_in_id"], str) and UUID_RE.match(s["check_in_id"])):
        problems.append("check_in_id is not a UUID: %s" % short(s["check_in_id"]))
    slug = s.get("monitor_slug")
    if not isinstance(slug, str) or not slug:
        problems.append("monitor_slug missing or empty (Relay: EmptySlug): %s" % short(slug))
    elif len(slug) > MONITOR_SLUG_MAX_CHARS:
        problems.append("monitor_slug longer than %d characters (Relay truncates it)" % MONITOR_SLUG_MAX_CHARS)
    elif not MONITOR_SLUG_RE.match(slug):
        problems.append("Sentry: monitor_slug %s is not a slug (Sentry slugifies it into another monitor)"
                        % short(slug))
    if "status" not in s:
        problems.append("missing required 'status'")
    elif s["status"] not in CHECK_IN_STATUS:
        problems.append("status %s is not one of %s (Relay makes it 'unknown')"
                        % (short(s["status"]), "/".join(sorted(CHECK_IN_STATUS))))
    env = s.get("environment")
    if env is not None and not (isinstance(env, str) and len(env) <= CHECK_IN_ENV_MAX_CHARS):
        problems.append("environment is not a string of at most %d characters (Relay: InvalidEnvironment)"
                        % CHECK_IN_ENV_MAX_CHARS)
    if "duration" in s:
        d = s["duration"]
        if isinstance(d, bool) or not isinstance(d, (int, float)):
            problems.append("duration is not a number of seconds: %s" % short(d))
        elif d < 0:
            problems.append("duration is negative: %s" % d)
        elif s.get("status") == "in_progress":
            problems.append("SDK: duration on an in_progress check-in (only ok/error carry one)")
    if "release" in s and not (isinstance(s["release"], str) and s["release"]):
        problems.append("release is not a non-empty string: %s" % short(s["release"]))
    contexts = s.get("contexts")
    if contexts is not None:
        trace = contexts.get("trace") if isinstance(contexts, dict) else None
        if not isinstance(contexts, dict):
            problems.append("contexts is not an object")
        elif trace is not None and not (isinstance(trace, dict) and isinstance(trace.get("trace_id"), str)
                                        and UUID_RE.match(trace["trace_id"])):
            problems.append("contexts.trace.trace_id is not a UUID: %s" % short(trace))
    config = s.get("monitor_config")
    if config is not None:
        if not isinstance(config, dict):
            return problems + ["monitor_config is not an object"]
        schedule = config.get("schedule")
        kind = schedule.get("type") if isinstance(schedule, dict) else None
        if kind == "crontab":
            if not (isinstance(schedule.get("value"), str) and schedule["value"].strip()):
                problems.append("monitor_config.schedule: crontab value is not a non-empty string")
        elif kind == "interval":
            if not is_u64(schedule.get("value")):
                problems.append("monitor_config.schedule: interval value is not an unsigned integer: %s"
                                % short(schedule.get("value")))
            if schedule.get("unit") not in MONITOR_INTERVAL_UNITS:
                problems.append("monitor_config.schedule: interval unit %s is not one of %s"
                                % (short(schedule.get("unit")), "/".join(sorted(MONITOR_INTERVAL_UNITS))))
        else:
            problems.append("monitor_config.schedule is not {type: crontab|interval, ...}: %s" % short(schedule))
        for key in ("checkin_margin", "max_runtime", "failure_issue_threshold", "recovery_threshold"):
            if config.get(key) is not None and not is_u64(config[key]):
                problems.append("monitor_config.%s is not an unsigned integer: %s" % (key, short(config[key])))
        for key in ("timezone", "owner"):
            if config.get(key) is not None and not isinstance(config[key], str):
                problems.append("monitor_config.%s is not a string: %s" % (key, short(config[key])))
    return problems


def attribute_problems(attributes):
    """Typed attributes ({"value": ..., "type": ...}) as logs and trace metrics carry them."""
    if not isinstance(attributes, dict):
        return [".attributes is not an object"]
    problems = []
    for key, a in attributes.items():
        if not (isinstance(a, dict) and "value" in a and a.get("type") in ATTRIBUTE_TYPES):
            problems.append(".attributes[%s] is not {value, type: %s}: %s"
                            % (short(key), "|".join(sorted(ATTRIBUTE_TYPES)), short(a)))
            continue
        v, t = a["value"], a["type"]
        ok = {"string": isinstance(v, str), "boolean": isinstance(v, bool),
              "integer": isinstance(v, int) and not isinstance(v, bool) and -2**63 <= v < 2**63,
              "double": isinstance(v, (int, float)) and not isinstance(v, bool),
              "array": isinstance(v, list)}[t]
        if not ok:
            problems.append(".attributes[%s] value %s is not of type %s" % (short(key), short(v), t))
    return problems


def trace_metric_problems(m):
    """One entry of a `trace_metric` container (docs: sdk/telemetry/metrics)."""
    if not isinstance(m, dict):
        return [" is not an object"]
    missing = [k for k in ("timestamp", "trace_id", "name", "value", "type") if k not in m]
    if missing:
        return [" lacks %s" % ", ".join(missing)]
    problems = []
    if m["type"] not in METRIC_TYPES:
        problems.append(".type %s is not one of %s" % (short(m["type"]), "/".join(sorted(METRIC_TYPES))))
    if not (isinstance(m["name"], str) and m["name"]):
        problems.append(".name is not a non-empty string: %s" % short(m["name"]))
    if not (isinstance(m["value"], (int, float)) and not isinstance(m["value"], bool)):
        problems.append(".value is not a number: %s" % short(m["value"]))
    if not (isinstance(m["timestamp"], (int, float)) and not isinstance(m["timestamp"], bool)):
        problems.append(".timestamp is not epoch seconds: %s" % short(m["timestamp"]))
    if not (isinstance(m["trace_id"], str) and HEX32_RE.match(m["trace_id"])):
        problems.append(".trace_id is not 32 hex digits: %s" % short(m["trace_id"]))
    if "span_id" in m and not (isinstance(m["span_id"], str) and HEX16_RE.match(m["span_id"])):
        problems.append(".span_id is not 16 hex digits: %s" % short(m["span_id"]))
    if "unit" in m and not (isinstance(m["unit"], str) and m["unit"]):
        problems.append(".unit is not a non-empty string: %s" % short(m["unit"]))
    if "attributes" in m:
        problems += attribute_problems(m["attributes"])
    return problems


def local_checks(item_type, item, payload):
    problems = []
    if item_type == "attachment":
        # Binary payloads: framed by `length` (checked by the parser), described by headers.
        if not isinstance(item.get("length"), int):
            problems.append("attachment without a 'length' header (binary payloads need one)")
        if not (isinstance(item.get("filename"), str) and item["filename"]):
            problems.append("attachment without a 'filename'")
        if "attachment_type" in item and item["attachment_type"] not in ATTACHMENT_TYPES:
            problems.append("unknown attachment_type %s" % short(item["attachment_type"]))
        if "content_type" in item and not (isinstance(item["content_type"], str) and "/" in item["content_type"]):
            problems.append("content_type is not a MIME type: %s" % short(item["content_type"]))
        return problems
    if item_type in ("replay_recording", "replay_video", "statsd", "unreal_report"):
        return problems  # binary / non-JSON payloads
    try:
        s = json.loads(payload)
    except ValueError as e:
        return ["payload is not valid JSON: %s" % e]
    if not isinstance(s, dict):
        return ["payload is not a JSON object"]
    if item_type == "check_in":
        return problems + check_in_problems(s)

    if item_type == "session":
        if "sid" in s and not (isinstance(s["sid"], str) and UUID_RE.match(s["sid"])):
            problems.append("sid is not a UUID: %s" % short(s["sid"]))
        if "started" not in s:
            problems.append("missing required 'started'")
        for k in ("started", "timestamp"):
            if k in s and not (isinstance(s[k], str) and RFC3339_RE.match(s[k])):
                problems.append("%s is not an RFC 3339 timestamp: %s" % (k, short(s[k])))
        if "status" in s and s["status"] not in SESSION_STATUS:
            problems.append("unknown status %s" % short(s["status"]))
        for k in ("errors", "seq"):
            if k in s and not (isinstance(s[k], int) and s[k] >= 0):
                problems.append("%s is not a non-negative integer: %s" % (k, short(s[k])))
    elif item_type == "sessions":
        aggs = s.get("aggregates")
        if not isinstance(aggs, list):
            problems.append("missing 'aggregates' list")
        else:
            problems += ["aggregates[%d] has no 'started'" % i for i, a in enumerate(aggs)
                         if not isinstance(a, dict) or "started" not in a]
    elif item_type == "client_report":
        if "timestamp" in s and parse_ts(s["timestamp"]) is None:
            problems.append("timestamp is not a timestamp: %s" % short(s["timestamp"]))
        for key in ("discarded_events", "rate_limited_events", "filtered_events", "filtered_sampling_events"):
            for i, o in enumerate(s.get(key) or []):
                if not (isinstance(o, dict) and {"reason", "category", "quantity"} <= set(o)):
                    problems.append("%s[%d] needs reason, category and quantity" % (key, i))
                elif not (isinstance(o["quantity"], int) and o["quantity"] > 0):
                    problems.append("%s[%d].quantity is not a positive integer" % (key, i))
    elif item_type in ("log", "span", "trace_metric"):
        entries = s.get("items")
        if not isinstance(entries, list):
            problems.append("container payload has no 'items' list")
        elif item.get("item_count") != len(entries):
            # Relay counts outcomes and rate limits by item_count
            problems.append("item_count=%s but the payload holds %d items" % (item.get("item_count"), len(entries)))
        want = CONTAINER_CONTENT_TYPES.get(item_type)
        if want and item.get("content_type") != want:
            problems.append("content_type=%s, expected %s" % (short(item.get("content_type")), want))
        if item_type == "log" and isinstance(entries, list):
            for i, log in enumerate(entries):
                missing = [k for k in ("timestamp", "trace_id", "level", "body") if k not in log] \
                    if isinstance(log, dict) else ["(not an object)"]
                if missing:
                    problems.append("items[%d] lacks %s" % (i, ", ".join(missing)))
                elif log["level"] not in LOG_LEVELS:
                    problems.append("items[%d].level %s is not one of %s"
                                    % (i, short(log["level"]), "/".join(sorted(LOG_LEVELS))))
        if item_type == "trace_metric" and isinstance(entries, list):
            for i, metric in enumerate(entries):
                problems += ["items[%d]%s" % (i, p) for p in trace_metric_problems(metric)]
    if item_type in ("session", "sessions"):
        attrs = s.get("attrs")
        if not isinstance(attrs, dict) or not attrs.get("release"):
            problems.append("missing attrs.release (Relay drops sessions without one)")
        elif release_problem(attrs["release"]):
            problems.append(release_problem(attrs["release"]))
    return problems


# ------------------------------------------------------------------------------------------------

def same_id(a, b):
    return str(a).replace("-", "").lower() == str(b).replace("-", "").lower()


def check_file(path, opts):
    """Returns (problems, info) for one envelope file."""
    with open(path, "rb") as f:
        data = f.read()
    try:
        header, items = parse_envelope(data)
    except EnvelopeError as e:
        return ["unparsable envelope: %s" % e], []
    problems, info = [], []
    if not items:
        problems.append("envelope has no items")
    eid = header.get("event_id")
    if eid is not None and not (isinstance(eid, str) and UUID_RE.match(eid)):
        problems.append("header event_id is not a UUID: %s" % short(eid))
    sent_at = None
    if "sent_at" in header:
        if isinstance(header["sent_at"], str) and RFC3339_RE.match(header["sent_at"]):
            sent_at = parse_ts(header["sent_at"])
        else:
            problems.append("header sent_at is not an RFC 3339 timestamp: %s" % short(header["sent_at"]))
    if "dsn" in header and not re.match(r"^https?://[^@/]+@[^/]+/(.*/)?\d+$", str(header["dsn"])):
        problems.append("header dsn does not look like a DSN: %s" % short(header["dsn"]))
    types = [item.get("type") for item, _ in items]
    if eid is None and EVENT_LIKE & set(types):
        problems.append("no header event_id although the envelope has %s items"
                        % "/".join(sorted(EVENT_LIKE & set(types))))
    if types.count("event") + types.count("transaction") > 1:
        problems.append("more than one event/transaction item (Relay rejects the envelope)")
    if types.count("feedback") > 1 or ("feedback" in types and "transaction" in types):
        problems.append("feedback must be alone: at most one, never with a transaction")

    for item, payload in items:
        t = item.get("type")
        where = t or "item"
        if not isinstance(t, str):
            problems.append("item header without a 'type': %s" % short(item))
            continue
        if t not in KNOWN_ITEM_TYPES:
            problems.append("unknown item type %s (Relay would drop it)" % short(t))
            continue
        if t in ("event", "transaction", "feedback"):
            item_problems, changed = normalize(payload, t, opts, sent_at)
            try:
                pid = json.loads(payload).get("event_id")
            except (ValueError, AttributeError):
                pid = None
            if eid is not None and pid is not None and not same_id(eid, pid):
                item_problems.append("payload event_id %s differs from header event_id %s" % (pid, eid))
            if opts.pii_default:
                item_problems += pii_default_problems(payload)
            if changed:
                if opts.strict:
                    item_problems += ["Relay changed %s" % c for c in changed]
                else:
                    info += ["%s: Relay changed %s" % (where, c) for c in changed]
        else:
            item_problems = local_checks(t, item, payload)
        problems += ["%s: %s" % (where, p) for p in item_problems]
    return list(dict.fromkeys(problems)), info  # Relay reports some errors twice


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dir", help="directory searched recursively for *.envelope files")
    ap.add_argument("--strict", action="store_true", help="also fail when Relay changed a value")
    ap.add_argument("--pii-default", action="store_true",
                    help="also fail when Relay's default data scrubbing finds a secret under a key "
                         "or in a URL that the SDK's default scrubbing should have filtered")
    ap.add_argument("--max-age-days", type=int, default=365,
                    help="event timestamps older than this are errors (default 365; Sentry: 30)")
    opts = ap.parse_args(argv)

    files = []
    if os.path.isdir(opts.dir):
        for root, dirs, names in os.walk(opts.dir):
            dirs.sort()
            files += [os.path.join(root, n) for n in sorted(names) if n.endswith(".envelope")]
    else:
        print("relay_check: %s is not a directory" % opts.dir, file=sys.stderr)
    if not files:
        print("relay_check: no *.envelope files under %s" % opts.dir, file=sys.stderr)
        print("relay: 0 passed, 0 failed")
        return 1

    problem = ensure_relay()
    if problem:  # every file counts as failed: none of them was shown to be valid
        print("relay_check: %s" % problem, file=sys.stderr)
        print("relay: 0 passed, %d failed" % len(files))
        return 1
    opts.now = datetime.now(timezone.utc)
    passed = failed = 0
    for path in files:
        name = os.path.relpath(path, opts.dir)
        try:
            problems, info = check_file(path, opts)
        except Exception as e:  # a bug here must fail the file, not hide the others
            problems, info = ["relay_check crashed: %s: %s" % (type(e).__name__, e)], []
        if problems:
            failed += 1
            print("FAIL %s: %s" % (name, "; ".join(problems)))
        else:
            passed += 1
            print("OK   %s%s" % (name, " (%s)" % "; ".join(info) if info else ""))
    print("relay: %d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
