//! What an OpenTelemetry span costs the calling thread when it goes to Sentry: a span started
//! and ended through an `SdkTracerProvider` with our `SentrySpanProcessor`, and the same
//! through the official `sentry-opentelemetry` processor. The clients' transports discard what
//! they are handed; tracing is on at rate 1.
//!
//! The official crate 0.49 is built on `opentelemetry` 0.32 and ours on 0.33, so each side has
//! its own baseline: the same span through a provider without the Sentry processor. The
//! overhead of a processor is its time minus its baseline's.
//!
//! - `root`: a span with no parent, started and ended: one whole transaction (ours hands it
//!   to the transport, which builds the payload on its own thread; the official crate builds
//!   the envelope on the calling thread);
//! - `child`: a child span started and ended inside a root span (the root is ended and a new
//!   one started every 100 children, so that transactions stay under their span limits; that
//!   cost is spread over the 100).
//!
//! For instruction counts, `OTEL_BENCH_CASE=<ours-root|ours-child|official-root|
//! official-child|otel-root|otel-child|official-otel-root|official-otel-child>` runs 1,000
//! iterations of one case in `measured_region` (`otel-*`: the 0.33 baseline, `official-otel-*`
//! the 0.32 one):
//!
//! ```text
//! OTEL_BENCH_CASE=ours-child valgrind --tool=callgrind --collect-atstart=no \
//!     '--toggle-collect=*measured_region*' target/release/deps/opentelemetry-<hash> --bench
//! ```
//!
//! ```text
//! cargo bench --bench opentelemetry --features opentelemetry
//! ```

use std::sync::Arc;

#[path = "support/discard.rs"]
mod discard;

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use sentry_sdk::integrations::opentelemetry::SentrySpanProcessor;

const DSN: &str = "https://public@127.0.0.1:9/1";
/// Children per root span in the `child` cases.
const CHILDREN: usize = 100;

/// Starts and ends one span per call: what an iteration measures.
trait Case {
    fn run(&mut self);
}

/// The spans of one OpenTelemetry version (a macro: 0.33's and 0.32's traits are different
/// types with the same names).
macro_rules! otel_cases {
    ($module:ident, $otel:ident, $sdk:ident) => {
        mod $module {
            use $otel::trace::{Span as _, TraceContextExt, Tracer as _, TracerProvider as _};
            use $otel::Context;
            use $sdk::trace::{SdkTracer, SdkTracerProvider, SpanProcessor};

            pub fn tracer(
                processor: Option<impl SpanProcessor + 'static>,
            ) -> (SdkTracerProvider, SdkTracer) {
                let mut builder = SdkTracerProvider::builder();
                if let Some(processor) = processor {
                    builder = builder.with_span_processor(processor);
                }
                let provider = builder.build();
                let tracer = provider.tracer("bench");
                (provider, tracer)
            }

            pub struct Root(pub SdkTracer);

            impl super::Case for Root {
                fn run(&mut self) {
                    let mut span = self.0.start(super::black_box("GET /orders/{id}"));
                    span.end();
                }
            }

            pub struct Child {
                pub tracer: SdkTracer,
                pub parent: Option<Context>,
                pub n: usize,
            }

            impl super::Case for Child {
                fn run(&mut self) {
                    if self.n % super::CHILDREN == 0 {
                        if let Some(parent) = self.parent.take() {
                            parent.span().end();
                        }
                    }
                    self.n += 1;
                    let tracer = &self.tracer;
                    let parent = self.parent.get_or_insert_with(|| {
                        Context::new().with_span(tracer.start("GET /orders/{id}"))
                    });
                    let mut span = self
                        .tracer
                        .start_with_context(super::black_box("SELECT orders"), parent);
                    span.end();
                }
            }

            impl Drop for Child {
                fn drop(&mut self) {
                    if let Some(parent) = self.parent.take() {
                        parent.span().end();
                    }
                }
            }
        }
    };
}

otel_cases!(current, opentelemetry, opentelemetry_sdk);
otel_cases!(
    official_otel,
    official_opentelemetry,
    official_opentelemetry_sdk
);

fn ours_client() -> Arc<sentry_sdk::Client> {
    let options = sentry_sdk::ClientOptions::new()
        .dsn(DSN)
        .default_integrations(false)
        .traces_sample_rate(1.0)
        .transport(|_| Arc::new(discard::Discard));
    Arc::new(sentry_sdk::Client::new(options).expect("bench client"))
}

fn official_client() -> sentry::ClientInitGuard {
    let options = sentry::ClientOptions::new()
        .dsn(DSN)
        .transport(Arc::new(discard::OfficialDiscard))
        .traces_sample_rate(1.0);
    sentry::init(options)
}

/// The case `name` with what it needs kept alive (provider, client guard).
fn case(name: &str) -> (Box<dyn Case>, Box<dyn std::any::Any>) {
    let none_current: Option<SentrySpanProcessor> = None;
    let none_official: Option<sentry_opentelemetry::SentrySpanProcessor> = None;
    match name {
        "otel-root" | "otel-child" => {
            let (provider, tracer) = current::tracer(none_current);
            (current_case(name, tracer), Box::new(provider))
        }
        "ours-root" | "ours-child" => {
            ours_client().bind();
            let (provider, tracer) = current::tracer(Some(SentrySpanProcessor::new()));
            (current_case(name, tracer), Box::new(provider))
        }
        "official-otel-root" | "official-otel-child" => {
            let (provider, tracer) = official_otel::tracer(none_official);
            (official_case(name, tracer), Box::new(provider))
        }
        "official-root" | "official-child" => {
            let guard = official_client();
            let processor = sentry_opentelemetry::SentrySpanProcessor::new();
            let (provider, tracer) = official_otel::tracer(Some(processor));
            (official_case(name, tracer), Box::new((provider, guard)))
        }
        other => panic!("unknown OTEL_BENCH_CASE {other}"),
    }
}

fn current_case(name: &str, tracer: opentelemetry_sdk::trace::SdkTracer) -> Box<dyn Case> {
    match name.ends_with("-root") {
        true => Box::new(current::Root(tracer)),
        false => Box::new(current::Child {
            tracer,
            parent: None,
            n: 0,
        }),
    }
}

fn official_case(
    name: &str,
    tracer: official_opentelemetry_sdk::trace::SdkTracer,
) -> Box<dyn Case> {
    match name.ends_with("-root") {
        true => Box::new(official_otel::Root(tracer)),
        false => Box::new(official_otel::Child {
            tracer,
            parent: None,
            n: 0,
        }),
    }
}

/// 1,000 iterations of `case` (callgrind counts what runs inside).
#[inline(never)]
fn measured_region(case: &mut dyn Case) {
    for _ in 0..1000 {
        case.run();
    }
}

/// The `OTEL_BENCH_CASE` run, if one is asked for (then the process ends).
fn one_case() {
    let Ok(name) = std::env::var("OTEL_BENCH_CASE") else {
        return;
    };
    let (mut case, keep) = case(&name);
    // Warm-up outside the region (a first transaction, lazily built statics).
    for _ in 0..(2 * CHILDREN) {
        case.run();
    }
    measured_region(&mut *case);
    drop(case);
    drop(keep);
    std::process::exit(0);
}

fn spans(c: &mut Criterion) {
    one_case();
    for (name, id) in [
        ("opentelemetry/root span, no processor (0.33)", "otel-root"),
        ("opentelemetry/root span, ours", "ours-root"),
        (
            "opentelemetry/root span, no processor (0.32)",
            "official-otel-root",
        ),
        ("opentelemetry/root span, official", "official-root"),
        (
            "opentelemetry/child span, no processor (0.33)",
            "otel-child",
        ),
        ("opentelemetry/child span, ours", "ours-child"),
        (
            "opentelemetry/child span, no processor (0.32)",
            "official-otel-child",
        ),
        ("opentelemetry/child span, official", "official-child"),
    ] {
        let (mut case, keep) = case(id);
        c.bench_function(name, |b| b.iter(|| case.run()));
        drop(case);
        drop(keep);
        sentry_sdk::unbind();
    }
}

criterion_group!(benches, spans);
criterion_main!(benches);
