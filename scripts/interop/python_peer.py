#!/usr/bin/env python3
"""A tiny HTTP service instrumented with the official Python Sentry SDK: a peer for the
distributed-tracing tests (tests/e2e/python_peer.rs).

    python_peer.py --ensure-venv   # with any python3: install the pinned SDK, print the venv's python
    VENV_PYTHON python_peer.py     # serve

Environment (serving):
  PEER_DSN                  where the peer's own envelopes go (required)
  PEER_PORT                 port on 127.0.0.1; 0 (default) picks a free one
  PEER_TRACES_SAMPLE_RATE   default 1.0
  PEER_DOWNSTREAM_URL       if set, every request calls it (GET) before answering
  PEER_DEBUG                if set, the SDK's debug log and the request log go to stderr

Every `GET /<anything>` continues the trace found in the request's `sentry-trace` and `baggage`
headers (or starts a new one), calls PEER_DOWNSTREAM_URL with urllib inside the stdlib
integration's `http.client` span, which adds `sentry-trace` and `baggage` to that request, then
flushes the SDK and answers 200 with `{"trace_id": ..., "span_id": ...}` of its transaction.
Flushing before answering means a test has the transaction once it has the response.

The first line on stdout is `listening on <port>`. SIGTERM or SIGINT stop it after a flush.
"""
import json
import os
import signal
import sys

# The one place the version is pinned; bump it here and the next test run reinstalls.
REQUIREMENT = "sentry-sdk==2.75.0"
HERE = os.path.dirname(os.path.abspath(__file__))

# Identify the peer in the DSC it creates when it heads a trace (fixed, so tests can assert it;
# otherwise the SDK would take the release from `git rev-parse HEAD`).
RELEASE = "python-peer@1.0.0"
ENVIRONMENT = "peer"


def ensure_venv():
    sys.path.insert(0, HERE)
    import venv_install

    venv = os.path.join(venv_install.interop_dir(), "python-sdk-venv")
    print(venv_install.ensure(venv, REQUIREMENT), flush=True)


def main():
    # Imported here so that `--ensure-venv` runs with a python that has no sentry_sdk yet.
    import urllib.request
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    import sentry_sdk

    debug = bool(os.environ.get("PEER_DEBUG"))
    sentry_sdk.init(
        dsn=os.environ["PEER_DSN"],
        traces_sample_rate=float(os.environ.get("PEER_TRACES_SAMPLE_RATE", "1.0")),
        # Only loopback downstreams get the headers (the default would be every URL).
        trace_propagation_targets=[r"^https?://127\.0\.0\.1[:/]"],
        release=RELEASE,
        environment=ENVIRONMENT,
        debug=debug,
    )
    downstream = os.environ.get("PEER_DOWNSTREAM_URL")

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):
            # A fresh isolation scope per request: continue_trace stores the incoming
            # propagation context there, and requests run on concurrent threads.
            with sentry_sdk.isolation_scope():
                transaction = sentry_sdk.continue_trace(
                    dict(self.headers), op="http.server", name="GET " + self.path, source="url"
                )
                with sentry_sdk.start_transaction(transaction):
                    status, answer = 200, {"trace_id": transaction.trace_id,
                                           "span_id": transaction.span_id}
                    if downstream:
                        try:
                            # The stdlib integration wraps this in an `http.client` span and
                            # adds that span's `sentry-trace` and `baggage` to the request.
                            with urllib.request.urlopen(downstream, timeout=10) as response:
                                answer["downstream_status"] = response.status
                        except OSError as e:  # includes HTTPError: the test sees why in the body
                            status, answer["downstream_error"] = 502, str(e)
                    transaction.set_http_status(status)
            sentry_sdk.flush(timeout=10)  # the transaction is sent before the answer
            body = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format, *args):
            if debug:
                super().log_message(format, *args)

    server = ThreadingHTTPServer(("127.0.0.1", int(os.environ.get("PEER_PORT", "0"))), Handler)
    # SystemExit raised in the main thread ends serve_forever(); the finally below flushes.
    # SIGINT too, explicitly: a process started in the background inherits it ignored, and
    # then Python would not install its KeyboardInterrupt handler.
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: sys.exit(0))
    print("listening on %d" % server.server_address[1], flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()
        sentry_sdk.flush(timeout=5)  # request threads are daemons: nothing to join


if __name__ == "__main__":
    if sys.argv[1:] == ["--ensure-venv"]:
        ensure_venv()
    elif len(sys.argv) == 1:
        main()
    else:
        sys.exit(__doc__)
