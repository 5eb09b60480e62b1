//! The panic integration: a panic hook, chained to the one installed before, that reports every
//! panic as a fatal, unhandled exception and waits (at most `shutdown_timeout`) for delivery,
//! so the event also leaves a program built with `panic = "abort"`.

use std::panic::PanicHookInfo;
use std::sync::Once;

use sentry_sdk_core::protocol::{Event, Exception, Level, Mechanism, Thread, Value};
use sentry_sdk_core::{ClientOptions, Integration, RawStack};

/// Reports panics. Added by `init` unless `default_integrations(false)`.
///
/// The hook is installed once per process and stays installed; with no client bound it only
/// calls the previous hook. The previous hook runs first, so the usual panic message is printed
/// before the SDK waits for delivery.
#[derive(Debug, Default, Clone, Copy)]
pub struct PanicIntegration;

impl PanicIntegration {
    /// The integration.
    pub fn new() -> Self {
        PanicIntegration
    }
}

impl Integration for PanicIntegration {
    fn name(&self) -> &'static str {
        "panic"
    }

    /// The hook captures panics; it has no event processor.
    fn processes_events(&self) -> bool {
        false
    }

    fn setup(&self, _options: &ClientOptions) {
        static INSTALL: Once = Once::new();
        INSTALL.call_once(|| {
            let previous = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |info| {
                let thread = std::thread::current();
                if thread.name() == Some(sentry_sdk_core::__private::CALLBACK_THREAD) {
                    // A user callback's panic while a panic hook waits for it: the SDK logs it
                    // once. The hook before ours (a program's own, printing with `eprintln!`)
                    // could wait for the stderr lock the waiting thread holds: a deadlock.
                    return;
                }
                previous(info);
                // Marked: a user callback panicking here would abort the process, so the SDK
                // runs callbacks on a thread of their own meanwhile.
                sentry_sdk_core::__private::in_panic_hook(|| report(info));
                // The panic ended the session: the minidump monitor must not end it again
                // should the process now abort (`panic = "abort"`).
                #[cfg(feature = "minidump")]
                crate::minidump::send_session_now();
            }));
        });
    }
}

/// Builds the panic event and sends it synchronously (the process may end right after).
fn report(info: &PanicHookInfo<'_>) {
    let Some(client) = sentry_sdk_core::current_client() else {
        return;
    };
    let thread = std::thread::current();
    if thread.name() == Some("sentry-transport") {
        // A panic in the SDK's own worker cannot wait for that worker.
        return;
    }
    let stack = RawStack::capture();
    let id = sentry_sdk_core::__private::thread_number(thread.id());
    let event = panic_event(info, thread.name(), id);
    client.capture_and_wait(event, Some(stack));
}

/// The event for a panic: exception `panic` with the message, mechanism `panic` unhandled, the
/// location in the mechanism's data, and the panicking thread.
pub fn panic_event(info: &PanicHookInfo<'_>, thread_name: Option<&str>, thread_id: u64) -> Event {
    let message = panic_message(info.payload());
    let mut mechanism = Mechanism {
        ty: "panic".into(),
        handled: Some(false),
        ..Default::default()
    };
    if let Some(loc) = info.location() {
        mechanism.data.insert(
            "location".into(),
            Value::from(format!("{}:{}:{}", loc.file(), loc.line(), loc.column())),
        );
    }
    Event {
        level: Level::Fatal,
        exception: vec![Exception {
            ty: "panic".into(),
            value: Some(message),
            mechanism: Some(mechanism),
            thread_id: Some(thread_id),
            ..Default::default()
        }],
        threads: vec![Thread {
            id: Some(thread_id),
            name: Some(thread_name.unwrap_or("<unnamed>").to_owned()),
            crashed: Some(true),
            current: Some(true),
            ..Default::default()
        }],
        ..Default::default()
    }
}

/// The text of a panic payload (`&str` or `String`, as `panic!` makes them).
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "Box<dyn Any>".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_from_payloads() {
        assert_eq!(panic_message(&"static"), "static");
        assert_eq!(panic_message(&String::from("owned")), "owned");
        assert_eq!(panic_message(&42u8), "Box<dyn Any>");
        assert!(sentry_sdk_core::__private::thread_number(std::thread::current().id()) > 0);
    }
}
