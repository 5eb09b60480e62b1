#!/usr/bin/env python3
"""Admin/inspection helper for the local Bugsink test server started by bugsink-up.sh.

    scripts/interop/bugsink_admin.py SUBCOMMAND [options]

Reads Bugsink's SQLite DB through its own Django models. Runs from anywhere: when started by
a python that lacks Bugsink it re-executes itself with ${INTEROP_DIR:-target/interop}/bugsink-venv,
and the data dir defaults to ${INTEROP_DIR:-target/interop}/bugsink (--data-dir overrides).

Subcommands (all print to stdout; machine-friendly where it matters):

  setup [--project SLUG]        idempotent: superuser, team, project, API token; prints DSN
  dsn [--project SLUG]          print the project's DSN
  token                         print the full-access API token (created by setup)
  count [--project SLUG] [--json] [--expect-events N] [--expect-issues M] [--timeout S]
                                events/issues counts for the project; with --expect-*: wait
                                (default 10 s) until the counts are exactly that, else exit 1
  issues [--project SLUG] [--json]
                                one line per issue: stored events, longest exception chain
                                among its events, type, value, id (--json: a list of objects)
  latest-event [--project SLUG] JSON of the newest stored event (as Bugsink stored it)
  envelopes                     list the raw envelopes kept (KEEP_ENVELOPES>0): id, time, item types
  envelope [--id N] [--raw] [--payloads]
                                one kept envelope (default newest): header + item headers,
                                --raw: the exact bytes received (after decompression).
                                Bugsink keeps ALL envelopes here, also the ones whose items it
                                ignores (transactions, sessions, logs, client reports...)
  reset [--project SLUG]        delete all events/issues/kept envelopes of the project (keeps DSN),
                                truncate the server logs (unless --keep-logs)
  validation                    schema-validation complaints found in the server logs
                                (BUGSINK_VALIDATE=warn|strict); ends with "duplicate_event_ids=N"
                                and "validation_failures=N"
"""
import argparse
import json
import os
import sys

DEFAULT_PROJECT = "rust-sdk-tests"
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from venv_install import interop_dir  # noqa: E402


def ensure_bugsink_python():
    """Re-exec inside the Bugsink venv unless we already run there (bugsink-up.sh creates it)."""
    try:
        import bugsink  # noqa: F401
        return
    except ImportError:
        pass
    py = os.path.join(interop_dir(), "bugsink-venv", "bin", "python")
    if os.environ.get("_BUGSINK_ADMIN_REEXEC") or not os.path.exists(py):
        sys.exit("bugsink is not installed in %s (run scripts/interop/bugsink-up.sh first)" % py)
    os.environ["_BUGSINK_ADMIN_REEXEC"] = "1"
    os.execv(py, [py, os.path.abspath(__file__)] + sys.argv[1:])


def django_setup(data_dir):
    data_dir = os.path.abspath(data_dir)
    if not os.path.exists(os.path.join(data_dir, "bugsink_conf.py")):
        sys.exit("no bugsink_conf.py in %s (run scripts/interop/bugsink-up.sh first)" % data_dir)
    os.chdir(data_dir)
    sys.path.insert(0, data_dir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bugsink_conf")
    import django
    django.setup()


def get_project(slug):
    from projects.models import Project
    try:
        return Project.objects.get(slug=slug, is_deleted=False)
    except Project.DoesNotExist:
        sys.exit("project %r does not exist (run bugsink-up.sh / 'setup' first)" % slug)


def cmd_setup(args):
    from django.contrib.auth import get_user_model
    from teams.models import Team, TeamMembership, TeamRole
    from projects.models import Project, ProjectMembership, ProjectRole
    from bsmain.models import AuthToken

    User = get_user_model()
    email = os.environ.get("BUGSINK_ADMIN", "admin@example.org")
    password = os.environ.get("BUGSINK_PASSWORD", "admin")
    user = User.objects.filter(username=email).first()
    if user is None:
        user = User.objects.create_superuser(username=email, email=email, password=password)

    team, _ = Team.objects.get_or_create(name=args.team)
    TeamMembership.objects.get_or_create(
        team=team, user=user, defaults={"role": TeamRole.ADMIN, "accepted": True})

    project = Project.objects.filter(slug=args.project, is_deleted=False).first()
    if project is None:
        project = Project.objects.create(team=team, name=args.project, slug=args.project)
    ProjectMembership.objects.get_or_create(
        project=project, user=user, defaults={"role": ProjectRole.ADMIN, "accepted": True})

    token = AuthToken.objects.order_by("pk").first()
    if token is None:
        token = AuthToken.create_full_access()

    print("project_id=%d" % project.id)
    print("api_token=%s" % token.token)
    print("dsn=%s" % project.dsn)


def cmd_dsn(args):
    print(get_project(args.project).dsn)


def cmd_token(args):
    from bsmain.models import AuthToken
    token = AuthToken.objects.order_by("pk").first()
    if token is None:
        sys.exit("no token yet (run setup)")
    print(token.token)


def counts(project):
    from events.models import Event
    from issues.models import Issue
    return {
        "project": project.slug,
        "project_id": project.id,
        "events": Event.objects.filter(project=project).count(),
        "issues": Issue.objects.filter(project=project, is_deleted=False).count(),
        "digested_lifetime": project.digested_event_count,  # not reset by `reset`
    }


def cmd_count(args):
    import time
    project = get_project(args.project)
    deadline = time.monotonic() + args.timeout
    while True:
        project.refresh_from_db()
        c = counts(project)
        ok = ((args.expect_events is None or c["events"] == args.expect_events) and
              (args.expect_issues is None or c["issues"] == args.expect_issues))
        if ok or time.monotonic() >= deadline:
            break
        time.sleep(0.2)  # with BUGSINK_SNAPPEA=1 digestion is asynchronous
    if args.json:
        print(json.dumps(c))
    else:
        print("events=%d issues=%d" % (c["events"], c["issues"]))
    if not ok:
        print("expected events=%s issues=%s (waited %ss)" % (
            "*" if args.expect_events is None else args.expect_events,
            "*" if args.expect_issues is None else args.expect_issues, args.timeout), file=sys.stderr)
        sys.exit(1)


def cmd_issues(args):
    from events.models import Event
    from issues.models import Issue
    project = get_project(args.project)
    rows = []
    for issue in Issue.objects.filter(project=project, is_deleted=False).order_by("digest_order"):
        events = list(Event.objects.filter(issue=issue))
        # a chained error (error + its sources) arrives as several exception values
        chain = max((len(((e.get_parsed_data().get("exception") or {}).get("values")) or [])
                     for e in events), default=0)
        rows.append({"id": str(issue.id), "events": len(events), "chain": chain,
                     "type": issue.calculated_type, "value": issue.calculated_value})
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    print("events\tchain\ttype\tvalue\tid")
    for r in rows:
        print("%d\t%d\t%s\t%s\t%s" % (r["events"], r["chain"], r["type"],
                                      r["value"].replace("\n", " ")[:120], r["id"]))


def cmd_latest_event(args):
    from events.models import Event
    event = Event.objects.filter(project=get_project(args.project)).order_by("-digested_at").first()
    if event is None:
        sys.exit("no events")
    data = event.get_parsed_data()
    if args.meta:
        data = {"bugsink": {"event_id": str(event.event_id), "issue_id": str(event.issue_id),
                            "ingested_at": event.ingested_at.isoformat(),
                            "calculated_type": event.calculated_type,
                            "calculated_value": event.calculated_value},
                "data": data}
    print(json.dumps(data, indent=2, sort_keys=True))


def parse_envelope(data):
    """Split raw envelope bytes into (header_dict, [(item_header_dict, payload_bytes), ...])."""
    nl = data.find(b"\n")
    header = json.loads(data[:nl] if nl >= 0 else data)
    pos = nl + 1 if nl >= 0 else len(data)
    items = []
    while pos < len(data):
        nl = data.find(b"\n", pos)
        if nl < 0:
            nl = len(data)
        line = data[pos:nl]
        pos = nl + 1
        if not line.strip():
            continue
        item = json.loads(line)
        if item.get("length") is None:
            end = data.find(b"\n", pos)
            end = len(data) if end < 0 else end
        else:
            end = pos + item["length"]
        items.append((item, data[pos:end]))
        pos = end + 1
    return header, items


def cmd_envelopes(args):
    from ingest.models import Envelope
    for env in Envelope.objects.order_by("pk"):
        try:
            header, items = parse_envelope(bytes(env.data))
            types = ",".join(i.get("type", "?") for i, _ in items)
        except ValueError as e:
            header, types = {}, "UNPARSABLE(%s)" % e
        print("%d\t%s\tproject=%d\t%s\t%s" % (env.pk, env.ingested_at.isoformat(), env.project_pk, types,
                                              header.get("event_id", "-")))


def cmd_envelope(args):
    from ingest.models import Envelope
    qs = Envelope.objects.order_by("-pk")
    env = qs.filter(pk=args.id).first() if args.id else qs.first()
    if env is None:
        sys.exit("no stored envelope (KEEP_ENVELOPES must be > 0; bugsink-up.sh sets it)")
    data = bytes(env.data)
    if args.raw:
        sys.stdout.buffer.write(data)
        return
    header, items = parse_envelope(data)
    print("envelope %d: %s" % (env.pk, json.dumps(header)))
    for item, payload in items:
        print("item: %s payload_bytes=%d" % (json.dumps(item), len(payload)))
        if args.payloads:
            print(payload.decode("utf-8", "replace"))


def cmd_reset(args):
    # Bugsink's own issue-deletion path (what the UI/API "delete issue" does), run synchronously,
    # followed by its `make_consistent` repair step (fixes the project's counters).
    import contextlib
    import io
    from bugsink.transaction import immediate_atomic
    from issues.models import Issue, mark_issues_for_deletion
    from issues.tasks import delete_issue_deps_sync
    from events.management.commands.make_consistent import make_consistent
    project = get_project(args.project)
    with immediate_atomic():
        live = list(Issue.objects.filter(project=project, is_deleted=False).values_list("id", "project_id"))
        if live:
            mark_issues_for_deletion(live)
    from ingest.models import Envelope
    Envelope.objects.filter(project_pk=project.id).delete()
    pairs = list(Issue.objects.filter(project=project).values_list("id", "project_id"))
    for issue_id, project_id in pairs:
        delete_issue_deps_sync(str(project_id), str(issue_id))
    with contextlib.redirect_stdout(io.StringIO()), immediate_atomic():
        make_consistent()
    if not args.keep_logs:
        # the logs are opened in append mode by bugsink-up.sh, so truncating them is safe
        import glob
        for log in glob.glob(os.path.join(args.data_dir, "*.log")):
            open(log, "w").close()
    print("reset %s" % project.slug)


def cmd_validation(args):
    import glob
    import re
    # warn mode logs "event data validation failed: [...]"; strict mode logs a traceback that
    # ends in "django.core.exceptions.ValidationError: [...]" (which is also how duplicates show).
    pat = re.compile(r"event data validation failed: (.*)|^django.core.exceptions.ValidationError: (.*)")
    failures = duplicates = 0
    for log in sorted(glob.glob(os.path.join(args.data_dir, "*.log"))):
        with open(log, errors="replace") as f:
            for line in f:
                m = pat.search(line)
                if not m:
                    continue
                msg = (m.group(1) or m.group(2)).strip()
                if "Event already exists" in msg:
                    duplicates += 1
                    continue
                failures += 1
                print("%s: %s" % (os.path.basename(log), msg))
    print("duplicate_event_ids=%d" % duplicates)
    print("validation_failures=%d" % failures)


def main():
    import signal
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # allow `... | head`
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default=os.environ.get("BUGSINK_DATA")
                        or os.path.join(interop_dir(), "bugsink"))
    sub = parser.add_subparsers(dest="cmd", required=True)

    def add(name, func, **kw):
        p = sub.add_parser(name, **kw)
        p.add_argument("--project", default=os.environ.get("BUGSINK_PROJECT", DEFAULT_PROJECT))
        p.set_defaults(func=func)
        return p

    p = add("setup", cmd_setup)
    p.add_argument("--team", default="sdk-tests")
    add("dsn", cmd_dsn)
    add("token", cmd_token)
    p = add("count", cmd_count)
    p.add_argument("--json", action="store_true")
    p.add_argument("--expect-events", type=int, default=None, help="exit 1 unless exactly N events")
    p.add_argument("--expect-issues", type=int, default=None, help="exit 1 unless exactly N issues")
    p.add_argument("--timeout", type=float, default=10.0, help="how long to wait for the expected counts")
    add("issues", cmd_issues).add_argument("--json", action="store_true")
    add("latest-event", cmd_latest_event).add_argument(
        "--meta", action="store_true", help="wrap with Bugsink's own metadata (issue id, calculated type/value)")
    add("envelopes", cmd_envelopes)
    for name in ("envelope", "latest-envelope"):
        p = add(name, cmd_envelope)
        p.add_argument("--id", type=int, default=None, help="envelope number (default: newest)")
        p.add_argument("--raw", action="store_true", help="exact bytes as received (after decompression)")
        p.add_argument("--payloads", action="store_true", help="also print item payloads")
    add("reset", cmd_reset).add_argument("--keep-logs", action="store_true",
                                         help="do not truncate the server logs (default: truncate)")
    add("validation", cmd_validation)

    args = parser.parse_args()
    ensure_bugsink_python()
    args.data_dir = os.path.abspath(args.data_dir)
    django_setup(args.data_dir)
    args.func(args)


if __name__ == "__main__":
    main()
