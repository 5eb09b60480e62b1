use std::str::FromStr;

use crate::support::*;
use sentry_sdk::protocol::Level;
use sentry_sdk::transport::Dsn;

#[test]
fn an_invalid_dsn_disables_the_sdk_instead_of_panicking() {
    let _serial = serial();
    for bad in [
        "not a dsn",
        "ftp://k@h/1",
        "https://h/1",
        "https://k@h:99999/1",
        "https://k@h/",
    ] {
        let guard = sentry_sdk::init(bad);
        assert!(!guard.is_enabled(), "{bad}");
        assert!(sentry_sdk::capture_message("x", Level::Error).is_nil());
    }
}

#[test]
fn fallible_constructors_name_the_bad_part_but_never_the_key() {
    let err = sentry_sdk::ClientOptions::new()
        .try_dsn("ftp://secretkey@h/1")
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("scheme") && !text.contains("secretkey"),
        "{text}"
    );
    let err = Dsn::from_str("https://secretkey@h:x/1").unwrap_err();
    assert!(err.to_string().contains("port") && !err.to_string().contains("secretkey"));
    let err = Dsn::from_str("https://h/1").unwrap_err();
    assert!(err.to_string().contains("public key"));
}

#[test]
fn an_out_of_range_option_disables_the_sdk() {
    let _serial = serial();
    let receiver = Receiver::start();
    let guard = sentry_sdk::init(options(&receiver).sample_rate(2.0));
    assert!(!guard.is_enabled());
}

#[test]
fn no_dsn_means_disabled_and_calls_are_no_ops() {
    let _serial = serial();
    let guard = sentry_sdk::init(sentry_sdk::ClientOptions::new().dsn(""));
    assert!(!guard.is_enabled());
    assert!(sentry_sdk::capture_message("x", Level::Error).is_nil());
    assert!(sentry_sdk::flush(std::time::Duration::from_millis(1)));
}

/// With `debug(true)` and no DSN, the SDK says plainly that it is off because no DSN was set:
/// not that an option is invalid.
#[test]
fn no_dsn_with_debug_says_so_plainly() {
    let out = child_test("init_never_panics_on_bad_input::child_inits_without_a_dsn_in_debug")
        .env_remove("SENTRY_DSN")
        .output()
        .expect("child runs");
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("[sentry] no DSN set (in code or in SENTRY_DSN), so the SDK is off"),
        "{stderr}"
    );
    assert!(!stderr.contains("invalid"), "{stderr}");
}

#[test]
#[ignore = "run as a child process by no_dsn_with_debug_says_so_plainly"]
fn child_inits_without_a_dsn_in_debug() {
    let guard = sentry_sdk::init(sentry_sdk::ClientOptions::new().debug(true));
    assert!(!guard.is_enabled());
}
