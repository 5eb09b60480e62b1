//! Build and serialise one event, caller and worker together, ours and the official `sentry`
//! crate side by side: the whole CPU an event costs the process before it is sent.
//!
//! Both get a transport that writes the envelope into a buffer and drops it: ours runs the
//! deferred build (scope merge, serialisation) and writes the envelope; the official crate
//! (which merges on the caller) writes its envelope. Message events, so that no stack is
//! symbolicated on either side (the official crate would symbolicate on the caller).
//!
//! ```text
//! cargo bench --bench worker                      # criterion, times
//! WORKER_BENCH_OPS=200 valgrind --tool=callgrind --collect-atstart=no \
//!     --toggle-collect=measured_region target/release/deps/worker-* full_scope
//!                                                # instructions: one SDK per run, see main
//! ```
//!
//! With `WORKER_BENCH_BEFORE_SEND` set, ours runs with a `before_send` that keeps the event:
//! the path where user code sees the whole `Event` (breadcrumbs copied into it), as it does
//! with integrations that process events; without it nothing sees the event before it is
//! written. With `WORKER_BENCH_DEFAULT_INTEGRATIONS` set, ours runs with the integrations
//! `init` adds that touch events (contexts; dedupe runs on the caller's side unless a
//! `dedupe_window` is set).

use std::sync::Arc;
use std::time::Duration;

use criterion::{black_box, Criterion};

#[path = "support/scope.rs"]
mod scope;

const DSN: &str = "https://public@127.0.0.1:9/1";

mod ours {
    use super::*;
    use sentry_sdk::protocol::Level;
    use sentry_sdk::transport::{Outgoing, Transport};

    /// Builds what it is handed, as the worker would, writes the envelope, and drops it.
    struct BuildAndWrite;
    impl Transport for BuildAndWrite {
        fn send(&self, outgoing: Outgoing) {
            if let Some(envelope) = outgoing.into_envelope() {
                let mut out = Vec::with_capacity(16 * 1024);
                envelope.write_to(&mut out);
                black_box(out);
            }
        }
        fn flush(&self, _: Duration) -> bool {
            true
        }
    }

    pub fn client() -> Arc<sentry_sdk::Client> {
        let options = sentry_sdk::ClientOptions::new()
            .dsn(DSN)
            .default_integrations(false)
            .transport(|_| Arc::new(BuildAndWrite));
        // A callback that keeps the event as it is: the cost of handing it to user code.
        let options = if std::env::var_os("WORKER_BENCH_BEFORE_SEND").is_some() {
            options.before_send(Some)
        } else {
            options
        };
        // What `init` adds that touches events (the panic hook processes none): contexts.
        let options = if std::env::var_os("WORKER_BENCH_DEFAULT_INTEGRATIONS").is_some() {
            options.add_integration(sentry_sdk::integrations::ContextsIntegration::new())
        } else {
            options
        };
        Arc::new(sentry_sdk::Client::new(options).expect("bench client"))
    }

    /// Runs `f` with a client bound on this thread, in a scope of its own (full or empty).
    pub fn with_client(full: bool, f: impl FnOnce()) {
        sentry_sdk::with_thread_client(client(), || {
            sentry_sdk::with_isolation_scope(|| {
                if full {
                    crate::scope::fill_ours();
                }
                f()
            })
        });
    }

    pub fn capture() {
        sentry_sdk::capture_message(black_box("hello"), Level::Info);
    }
}

mod official {
    use super::*;
    use sentry::protocol::Level;
    use sentry::Hub;

    /// Writes the envelope, as its HTTP transport would, and drops it.
    struct Write;
    impl sentry::Transport for Write {
        fn send_envelope(&self, envelope: sentry::Envelope) {
            let mut out = Vec::with_capacity(16 * 1024);
            let _ = envelope.to_writer(&mut out);
            black_box(out);
        }
    }

    fn hub() -> Arc<Hub> {
        let options = sentry::ClientOptions::new()
            .dsn(DSN)
            .transport(Arc::new(Arc::new(Write)));
        let client = sentry::Client::from_config(sentry::apply_defaults(options));
        Arc::new(Hub::new(
            Some(Arc::new(client)),
            Arc::new(Default::default()),
        ))
    }

    pub fn with_client(full: bool, f: impl FnOnce()) {
        Hub::run(hub(), || {
            if full {
                crate::scope::fill_official();
            }
            f()
        });
    }

    pub fn capture() {
        // `capture_message` would attach a stack with `attach_stacktrace`; an event is alike.
        sentry::capture_event(sentry::protocol::Event {
            message: Some(black_box("hello").into()),
            level: Level::Info,
            ..Default::default()
        });
    }
}

/// The region callgrind counts (`--toggle-collect=measured_region`): `ops` captures.
#[inline(never)]
fn measured_region(ops: u32, capture: fn()) {
    for _ in 0..ops {
        capture();
    }
}

fn criterion_benches(c: &mut Criterion) {
    for (scope, full) in [("empty_scope", false), ("full_scope", true)] {
        ours::with_client(full, || {
            c.bench_function(&format!("ours/build_serialise/{scope}"), |b| {
                b.iter(ours::capture)
            });
        });
        official::with_client(full, || {
            c.bench_function(&format!("official/build_serialise/{scope}"), |b| {
                b.iter(official::capture)
            });
        });
    }
}

fn main() {
    // Under callgrind: `WORKER_BENCH_OPS=N <bin> [ours|official] [empty_scope|full_scope]` runs
    // N captures inside `measured_region` after 3 warm-up ones, and prints nothing else.
    if let Ok(ops) = std::env::var("WORKER_BENCH_OPS") {
        let ops: u32 = ops.parse().unwrap_or(200);
        let args: Vec<String> = std::env::args().collect();
        let sdk = args.iter().find(|a| *a == "ours" || *a == "official");
        let full = args.iter().any(|a| a == "full_scope");
        let run = |with_client: fn(bool, Box<dyn FnOnce()>), capture: fn()| {
            with_client(
                full,
                Box::new(move || {
                    for _ in 0..3 {
                        capture(); // warm-up, outside the counted region
                    }
                    measured_region(ops, capture);
                }),
            )
        };
        match sdk.map(String::as_str) {
            Some("official") => run(official::with_client, official::capture),
            _ => run(ours::with_client, ours::capture),
        }
        return;
    }
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(30)
        .configure_from_args();
    criterion_benches(&mut c);
    c.final_summary();
}
