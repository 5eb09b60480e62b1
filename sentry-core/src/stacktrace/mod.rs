//! Stack traces: a cheap raw capture on the caller's thread, symbolication on the worker.
//!
//! # Layout
//! - this file: [`RawStack`], the unresolved instruction pointers taken at capture time;
//! - `symbolicate`: turning addresses into frames (demangled names, file, line, column), with a
//!   cache keyed by address so a hot capture site is resolved once;
//! - `dwarf` (Linux, Android): the symbolizer behind it there, one `addr2line` loader per
//!   loaded module and no lock shared with stack walks (elsewhere `backtrace::resolve`);
//! - `in_app`: deciding which frames are the application's own code, and trimming the SDK's and
//!   the panic machinery's frames from the top;
//! - `source_context`: the source lines around in-app frames;
//! - `debug_images`: the loaded ELF images, for server-side symbolication.

mod debug_images;
#[cfg(any(target_os = "linux", target_os = "android"))]
mod dwarf;
mod in_app;
mod source_context;
mod symbolicate;

pub(crate) use debug_images::debug_meta_for;
pub(crate) use in_app::InAppRules;
pub(crate) use source_context::add_source_context;

use std::fmt;
use std::time::Instant;

use crate::protocol::Stacktrace;

/// One resolved frame, before it becomes a protocol `Frame`.
#[derive(Debug, Default, PartialEq)]
struct Symbol {
    /// Demangled, without the `::h0123abcd` hash.
    function: Option<String>,
    file: Option<String>,
    line: Option<u32>,
    column: Option<u32>,
}

/// The most frames kept from one capture: Relay keeps 250 anyway.
const MAX_FRAMES: usize = 250;

/// The instruction pointers of a stack, innermost (most recent call) first, not yet resolved.
///
/// Capturing one walks the stack but reads no debug information: a few microseconds. Turning it
/// into frames is `RawStack::resolve`, which the SDK does on its background thread.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct RawStack {
    ips: Vec<usize>,
}

impl RawStack {
    /// Walks the current thread's stack.
    #[inline(never)]
    pub fn capture() -> RawStack {
        let mut ips = Vec::with_capacity(48);
        backtrace::trace(|frame| {
            // The unwinder ends some stacks with a null return address: no frame, and Sentry
            // would show it as `<unknown>`.
            let ip = frame.ip() as usize;
            if ip != 0 {
                ips.push(ip);
            }
            ips.len() < MAX_FRAMES
        });
        RawStack { ips }
    }

    /// Whether nothing was captured (unsupported platform).
    pub fn is_empty(&self) -> bool {
        self.ips.is_empty()
    }

    /// Number of captured addresses.
    pub fn len(&self) -> usize {
        self.ips.len()
    }

    /// The captured addresses, innermost first.
    pub(crate) fn ips(&self) -> &[usize] {
        &self.ips
    }

    /// Resolves the addresses into a Sentry stack trace (caller first, crashing frame last),
    /// with in-app flags and without the SDK's own frames on top. `None` if nothing is left.
    /// Addresses still unresolved at `until` keep only their address.
    pub(crate) fn resolve(&self, rules: &InAppRules, until: Option<Instant>) -> Option<Stacktrace> {
        let (mut frames, resolved) = symbolicate::resolve_all(&self.ips, until);
        // Only resolved frames can be told apart as the SDK's or the panic machinery's.
        let mut unresolved = frames.split_off(resolved);
        in_app::trim_sdk_frames(&mut frames);
        frames.append(&mut unresolved);
        if frames.is_empty() {
            return None;
        }
        for frame in &mut frames {
            frame.in_app = rules.is_in_app(frame);
        }
        frames.reverse();
        Some(Stacktrace { frames })
    }
}

/// Empties the per-address symbol cache, so that the next events resolve their frames again.
/// For benchmarks; nothing else needs it.
#[doc(hidden)]
pub fn __clear_symbol_cache() {
    symbolicate::clear_cache();
}

impl fmt::Debug for RawStack {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RawStack({} frames)", self.ips.len())
    }
}

#[cfg(all(test, any(target_os = "linux", target_os = "android")))]
mod tests {
    use std::sync::mpsc::channel;
    use std::time::Duration;

    use super::*;

    /// The address in `stack` of the function whose name ends with `function`.
    fn address_in(stack: &RawStack, function: &str) -> usize {
        stack
            .ips
            .iter()
            .copied()
            .find(|&ip| {
                dwarf::resolve(ip, None)
                    .iter()
                    .any(|s| s.function.as_deref().is_some_and(|f| f.ends_with(function)))
            })
            .unwrap_or_else(|| panic!("{function} in the stack"))
    }

    #[test]
    fn a_stack_walk_never_waits_for_a_symbolication_in_progress() {
        let _one_pause = dwarf::tests::PAUSING_TESTS
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        // An address in this test function, which no other test resolves.
        let here = address_in(
            &RawStack::capture(),
            "a_stack_walk_never_waits_for_a_symbolication_in_progress",
        );

        // A symbolication of it, held in the middle (its module's loader locked).
        let (reached, let_go) = dwarf::tests::pause_at(here);
        let symbolication = std::thread::spawn(move || dwarf::resolve(here, None));
        reached
            .recv_timeout(Duration::from_secs(30))
            .expect("the symbolication reached its pause");

        // Meanwhile another thread walks its stack, as every capture does.
        let (walked_tx, walked) = channel();
        std::thread::spawn(move || {
            let _ = walked_tx.send(RawStack::capture().len());
        });
        let frames = walked.recv_timeout(Duration::from_secs(20));
        // Only now may the symbolication finish: the walk finished before it did.
        let _ = let_go.send(());
        assert!(
            frames.is_ok_and(|n| n > 0),
            "a stack walk waited for a symbolication in progress"
        );
        let resolved = symbolication.join().expect("the symbolication thread");
        assert!(
            !resolved.is_empty(),
            "the held symbolication still resolved"
        );
    }

    /// A crash handler's symbolication (with a deadline) does not wait past it for a module's
    /// loader that the SDK thread holds: the address stays bare.
    #[test]
    fn a_deadline_bounds_the_wait_for_a_loader_held_elsewhere() {
        let _one_pause = dwarf::tests::PAUSING_TESTS
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        #[inline(never)]
        fn marker() -> RawStack {
            std::hint::black_box(RawStack::capture())
        }
        let here = address_in(
            &marker(),
            "a_deadline_bounds_the_wait_for_a_loader_held_elsewhere::marker",
        );
        let (reached, let_go) = dwarf::tests::pause_at(here);
        let holder = std::thread::spawn(move || dwarf::resolve(here, None));
        reached
            .recv_timeout(Duration::from_secs(30))
            .expect("the holder reached its pause");
        let start = std::time::Instant::now();
        let bounded = dwarf::resolve(here, Some(start + Duration::from_millis(50)));
        let waited = start.elapsed();
        let _ = let_go.send(());
        assert!(bounded.is_empty(), "resolved while the loader was held?");
        assert!(waited < Duration::from_secs(5), "waited {waited:?}");
        assert!(!holder.join().unwrap().is_empty());
        // Once free, the same address resolves with a deadline too.
        let later = dwarf::resolve(
            here,
            Some(std::time::Instant::now() + Duration::from_secs(5)),
        );
        assert!(later.iter().any(|s| s.function.is_some()));
    }

    #[test]
    fn past_the_deadline_frames_keep_their_address_and_none_is_trimmed() {
        let stack = RawStack::capture();
        let rules = InAppRules {
            include: Vec::new(),
            exclude: Vec::new(),
        };
        let cut = stack
            .resolve(&rules, Some(std::time::Instant::now()))
            .expect("frames");
        assert_eq!(cut.frames.len(), stack.len(), "every address kept");
        assert!(cut
            .frames
            .iter()
            .all(|f| f.function.is_none() && f.instruction_addr.is_some()));
        let full = stack.resolve(&rules, None).expect("frames");
        assert!(full.frames.iter().any(|f| f.function.is_some()));
    }
}
