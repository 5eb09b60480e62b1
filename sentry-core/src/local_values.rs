//! Local values: named values captured with an error and shown beside the code in Sentry
//! (the capture frame's `vars`).
//!
//! Values are formatted with `Debug` on the capturing thread (they are borrowed), and the
//! formatting stops at [`MAX_VALUE_CHARS`], so a huge value costs no more than a small one.

use std::fmt::{self, Write};

/// The most characters kept of one value's `Debug` text.
pub const MAX_VALUE_CHARS: usize = 1024;
/// The most values kept per capture.
pub(crate) const MAX_VALUES: usize = 32;

/// `format!("{value:?}")`, cut at [`MAX_VALUE_CHARS`] (with `…`) without formatting the rest.
///
/// ```
/// let long = vec![0u8; 10_000];
/// let text = sentry_sdk_core::debug_bounded(&long);
/// assert!(text.chars().count() <= sentry_sdk_core::MAX_VALUE_CHARS + 1);
/// assert!(text.ends_with('…'));
/// ```
pub fn debug_bounded(value: &dyn fmt::Debug) -> String {
    struct Bounded {
        out: String,
        chars: usize,
        full: bool,
    }
    impl Write for Bounded {
        fn write_str(&mut self, s: &str) -> fmt::Result {
            for c in s.chars() {
                if self.chars == MAX_VALUE_CHARS {
                    self.full = true;
                    return Err(fmt::Error); // stops the formatter early
                }
                self.out.push(c);
                self.chars += 1;
            }
            Ok(())
        }
    }
    let mut w = Bounded {
        out: String::new(),
        chars: 0,
        full: false,
    };
    let _ = write!(w, "{value:?}");
    if w.full {
        w.out.push('…');
    }
    w.out
}

/// Builds the `(name, text)` list for `capture_exception!`; used by the macro.
#[doc(hidden)]
pub fn __local_value(values: &mut Vec<(String, String)>, name: &str, value: &dyn fmt::Debug) {
    if values.len() < MAX_VALUES {
        values.push((name.replace(' ', ""), debug_bounded(value)));
    }
}

/// Captures an error like [`capture_exception`](fn@crate::capture_exception), together with
/// named local values that Sentry shows beside the code of the frame where the macro is
/// called. Each value is formatted with `Debug` (at most 1024 characters); with no client
/// bound, neither the error nor the values are evaluated.
///
/// ```
/// # #[derive(Debug)] struct User { plan: &'static str }
/// let order_id = 42;
/// let user = User { plan: "pro" };
/// if let Err(err) = "x".parse::<u32>() {
///     sentry_sdk_core::capture_exception!(&err, order_id, user.plan);
/// }
/// ```
#[macro_export]
macro_rules! capture_exception {
    ($error:expr $(, $value:expr)* $(,)?) => {{
        // With no client bound for this thread nothing is formatted (the values are not even
        // evaluated): `is_active` is the one-load fast path, the lookup settles it (another
        // thread's client makes `is_active` true here too).
        if $crate::is_active() && $crate::with_current_client(|_| ()).is_some() {
            #[allow(unused_mut)]
            let mut values = ::std::vec::Vec::new();
            $( $crate::__local_value(&mut values, ::std::stringify!($value), &$value); )*
            $crate::capture_exception_with_values($error, values)
        } else {
            $crate::protocol::EventId::NIL
        }
    }};
}
