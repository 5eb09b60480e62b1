use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use sentry_sdk::ClientOptions;

pub use crate::receiver::{Receiver, Reply};

static SERIAL: Mutex<()> = Mutex::new(());

/// Serialises tests that bind the process-wide client.
pub fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|p| p.into_inner())
}

/// Options pointing at `receiver`, with the panic hook off unless a test wants it, and no
/// release-health session (its envelopes would change what other tests count; the tests in
/// `release_health` turn it on).
pub fn options(receiver: &Receiver) -> ClientOptions {
    ClientOptions::new()
        .dsn(&receiver.dsn())
        .release("e2e@1.0.0")
        .environment("test")
        .default_integrations(false)
        .auto_session_tracking(false)
}

/// Runs `f` on another thread and fails the test if it does not finish within `limit`.
pub fn within<R: Send + 'static>(limit: Duration, f: impl FnOnce() -> R + Send + 'static) -> R {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(limit)
        .expect("deadlock or hang: did not finish in time")
}

pub const WAIT: Duration = Duration::from_secs(5);

/// This test binary run again as a child process running only the test `name` (a full path
/// such as `module::test`), for what must not share this process: a process-wide setting,
/// an exit, an abort. The caller adds the environment that tells the child what to do.
///
/// Child tests are `#[ignore]`d, so that an ordinary run does not count them as passed
/// no-ops; `--ignored` runs exactly that one here.
pub fn child_test(name: &str) -> std::process::Command {
    let mut command = std::process::Command::new(std::env::current_exe().expect("test binary"));
    command.args(["--ignored", "--exact", name, "--nocapture"]);
    command
}

/// The environment variable `name`, which the parent test sets for a child test.
pub fn from_parent(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is set by the parent test: run this child test through its parent")
    })
}

/// A DSN for a loopback port nobody listens on: connections are refused.
pub fn closed_port_dsn() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port");
    // The listener is dropped here, so the port is closed again.
    format!("http://public@127.0.0.1:{port}/1")
}

/// What a closed transport still counted (it leaves its counts for the next transport of its
/// DSN, as a re-`init` makes), read from a new transport of `dsn` the moment it starts, plus
/// whatever `closed` still holds.
pub fn counted_after_close(
    dsn: &str,
    closed: &sentry_sdk::transport::ClientReports,
) -> std::sync::Arc<sentry_sdk::transport::ClientReports> {
    let next = sentry_sdk::transport::HttpOptions::new(
        dsn.parse::<sentry_sdk::transport::Dsn>().unwrap(),
        "sentry.rust.sdk/test",
    );
    let taken_over = next.client_reports.clone();
    let transport = sentry_sdk::transport::HttpTransport::new(next);
    let all = std::sync::Arc::new(sentry_sdk::transport::ClientReports::new(true));
    for (reason, category, n) in taken_over.take().into_iter().chain(closed.take()) {
        all.record(reason, category, n);
    }
    sentry_sdk::transport::Transport::close(&transport, Duration::from_millis(200));
    all
}

/// What the bound client of `guard` still counts as dropped (not yet sent), as
/// `(reason, category, quantity)` strings like `Receiver::client_reports`.
pub fn still_counted(guard: &sentry_sdk::ClientInitGuard) -> Vec<(String, String, u64)> {
    guard
        .client()
        .map(|c| c.client_reports().take())
        .unwrap_or_default()
        .into_iter()
        .map(|(r, c, n)| (r.as_str().to_owned(), c.as_str().to_owned(), n))
        .collect()
}
