//! Caller-thread cost of the capture API, ours and the official `sentry` crate side by side.
//!
//! Both SDKs get a transport that discards what it is handed, so what is measured is what the
//! calling thread pays. For ours that is the scope snapshot, the raw stack walk and the
//! enqueue: symbolication, scope merging and serialisation run later on the worker (the
//! `ours_worker` group measures that part separately). The official crate merges scopes and
//! symbolicates on the caller.
//!
//! ```text
//! cargo bench --bench capture
//! ```

use std::sync::Arc;
use std::time::Duration;

#[path = "support/discard.rs"]
mod discard;
#[path = "support/scope.rs"]
mod scope;

use criterion::{black_box, criterion_group, criterion_main, Criterion};

const DSN: &str = "https://public@127.0.0.1:9/1";

#[derive(Debug)]
struct BenchError(std::num::ParseIntError);
impl std::fmt::Display for BenchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("bench error")
    }
}
impl std::error::Error for BenchError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}
fn bench_error() -> BenchError {
    BenchError("x".parse::<u32>().unwrap_err())
}

// === ours ===

mod ours {
    use super::*;
    use sentry_sdk::protocol::{Breadcrumb, Level};
    use sentry_sdk::transport::Transport;

    pub use crate::discard::Discard;

    pub use crate::discard::BuildAndDiscard;

    pub fn client(transport: Arc<dyn Transport>) -> Arc<sentry_sdk::Client> {
        client_with(transport, false)
    }

    pub fn client_with(
        transport: Arc<dyn Transport>,
        attach_stacktrace: bool,
    ) -> Arc<sentry_sdk::Client> {
        let options = sentry_sdk::ClientOptions::new()
            .dsn(DSN)
            .attach_stacktrace(attach_stacktrace)
            .default_integrations(false)
            .transport(move |_| transport.clone());
        Arc::new(sentry_sdk::Client::new(options).expect("bench client"))
    }

    pub fn fill_scope() {
        sentry_sdk::with_isolation_scope(|| {});
        crate::scope::fill_ours();
    }

    pub fn bench(c: &mut Criterion) {
        let discard = client(Arc::new(Discard));
        sentry_sdk::with_thread_client(discard.clone(), || {
            sentry_sdk::with_isolation_scope(|| {
                c.bench_function("ours/capture_message/empty_scope", |b| {
                    b.iter(|| sentry_sdk::capture_message(black_box("hello"), Level::Info))
                });
            });
            sentry_sdk::with_isolation_scope(|| {
                fill_scope();
                c.bench_function("ours/capture_message/full_scope", |b| {
                    b.iter(|| sentry_sdk::capture_message(black_box("hello"), Level::Info))
                });
                c.bench_function("ours/add_breadcrumb/after_fork", |b| {
                    b.iter(|| {
                        sentry_sdk::with_isolation_scope(|| {
                            sentry_sdk::add_breadcrumb(|| Breadcrumb {
                                message: Some("after fork".into()),
                                ..Default::default()
                            })
                        })
                    })
                });
            });
            let err = bench_error();
            c.bench_function("ours/capture_exception/with_stacktrace", |b| {
                b.iter(|| sentry_sdk::capture_exception(black_box(&err)))
            });
        });

        // With a release: the application session is on. Its updates are made on the worker,
        // so the caller's cost should not move.
        let with_session = {
            let transport: Arc<dyn Transport> = Arc::new(Discard);
            let options = sentry_sdk::ClientOptions::new()
                .dsn(DSN)
                .release("bench@1.0.0")
                .default_integrations(false)
                .transport(move |_| transport.clone());
            Arc::new(sentry_sdk::Client::new(options).expect("bench client"))
        };
        with_session.start_session();
        sentry_sdk::with_thread_client(with_session, || {
            let err = bench_error();
            c.bench_function(
                "ours/capture_exception/with_stacktrace, application session",
                |b| b.iter(|| sentry_sdk::capture_exception(black_box(&err))),
            );
        });

        let with_stack = client_with(Arc::new(Discard), true);
        sentry_sdk::with_thread_client(with_stack, || {
            c.bench_function("ours/capture_message/with_stacktrace", |b| {
                b.iter(|| sentry_sdk::capture_message(black_box("hello"), Level::Info))
            });
        });

        // The worker's cost per event (measured on the calling thread by a transport that
        // builds at once): symbolication, scope merge, contexts, source lines, serialisation.
        let build = client(Arc::new(BuildAndDiscard));
        sentry_sdk::with_thread_client(build, || {
            let err = bench_error();
            c.bench_function(
                "ours_worker/capture_exception/empty_scope_cached_symbols",
                |b| b.iter(|| sentry_sdk::capture_exception(black_box(&err))),
            );
            c.bench_function(
                "ours_worker/capture_exception/empty_scope_uncached_symbols",
                |b| {
                    b.iter_batched(
                        sentry_sdk::__clear_symbol_cache,
                        |()| sentry_sdk::capture_exception(black_box(&err)),
                        criterion::BatchSize::PerIteration,
                    )
                },
            );
            sentry_sdk::with_isolation_scope(|| {
                fill_scope();
                c.bench_function(
                    "ours_worker/capture_exception/full_scope_cached_symbols",
                    |b| b.iter(|| sentry_sdk::capture_exception(black_box(&err))),
                );
            });
        });

        no_client(c);
    }

    fn no_client(c: &mut Criterion) {
        let err = bench_error();
        c.bench_function("ours/no_client/capture_message", |b| {
            b.iter(|| sentry_sdk::capture_message(black_box("hello"), Level::Info))
        });
        c.bench_function("ours/no_client/capture_exception", |b| {
            b.iter(|| sentry_sdk::capture_exception(black_box(&err)))
        });
        c.bench_function("ours/no_client/add_breadcrumb", |b| {
            b.iter(|| {
                sentry_sdk::add_breadcrumb(|| Breadcrumb {
                    message: Some("x".into()),
                    ..Default::default()
                })
            })
        });
        c.bench_function("ours/no_client/set_tag", |b| {
            b.iter(|| sentry_sdk::set_tag("k", black_box("v")))
        });
    }
}

// === official ===

mod official {
    use super::*;
    use sentry::protocol::Breadcrumb;
    use sentry::{Hub, Level};

    use crate::discard::OfficialDiscard as Discard;

    fn hub() -> Arc<Hub> {
        hub_with(false)
    }

    fn hub_with(attach_stacktrace: bool) -> Arc<Hub> {
        let options = sentry::ClientOptions::new()
            .dsn(DSN)
            .transport(Arc::new(Discard))
            .attach_stacktrace(attach_stacktrace);
        // `apply_defaults` adds the integrations `sentry::init` would (the stack trace ones).
        let client = sentry::Client::from_config(sentry::apply_defaults(options));
        Arc::new(Hub::new(
            Some(Arc::new(client)),
            Arc::new(Default::default()),
        ))
    }

    fn fill_scope() {
        crate::scope::fill_official();
    }

    pub fn bench(c: &mut Criterion) {
        Hub::run(hub(), || {
            c.bench_function("official/capture_message/empty_scope", |b| {
                // attach_stacktrace would add a stack to messages: compare like with like.
                b.iter(|| {
                    sentry::capture_event(sentry::protocol::Event {
                        message: Some(black_box("hello").into()),
                        level: Level::Info,
                        ..Default::default()
                    })
                })
            });
        });
        Hub::run(hub(), || {
            fill_scope();
            c.bench_function("official/capture_message/full_scope", |b| {
                b.iter(|| {
                    sentry::capture_event(sentry::protocol::Event {
                        message: Some(black_box("hello").into()),
                        level: Level::Info,
                        ..Default::default()
                    })
                })
            });
            c.bench_function("official/add_breadcrumb/after_fork", |b| {
                b.iter(|| {
                    sentry::with_scope(
                        |_| {},
                        || {
                            sentry::add_breadcrumb(|| Breadcrumb {
                                message: Some("after fork".into()),
                                ..Default::default()
                            })
                        },
                    )
                })
            });
        });
        Hub::run(hub_with(true), || {
            // `attach_stacktrace` walks and symbolicates the stack on the caller's thread.
            c.bench_function("official/capture_message/with_stacktrace", |b| {
                b.iter(|| sentry::capture_message(black_box("hello"), Level::Info))
            });
        });
        Hub::run(hub(), || {
            // The official crate attaches no stack to `capture_error` (nothing to compare).
            let err = bench_error();
            c.bench_function("official/capture_exception/no_stacktrace", |b| {
                b.iter(|| sentry::capture_error(black_box(&err)))
            });
        });

        let err = bench_error();
        Hub::run(
            Arc::new(Hub::new(None, Arc::new(Default::default()))),
            || {
                c.bench_function("official/no_client/capture_message", |b| {
                    b.iter(|| sentry::capture_message(black_box("hello"), Level::Info))
                });
                c.bench_function("official/no_client/capture_exception", |b| {
                    b.iter(|| sentry::capture_error(black_box(&err)))
                });
                c.bench_function("official/no_client/add_breadcrumb", |b| {
                    b.iter(|| {
                        sentry::add_breadcrumb(|| Breadcrumb {
                            message: Some("x".into()),
                            ..Default::default()
                        })
                    })
                });
                c.bench_function("official/no_client/set_tag", |b| {
                    b.iter(|| sentry::configure_scope(|s| s.set_tag("k", black_box("v"))))
                });
            },
        );
    }
}

fn all(c: &mut Criterion) {
    ours::bench(c);
    official::bench(c);
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(30);
    targets = all
}
criterion_main!(benches);
