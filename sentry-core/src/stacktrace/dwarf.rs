//! Address to frames from the DWARF of each loaded ELF module, without the `backtrace` crate's
//! process-wide lock.
//!
//! `backtrace::resolve` holds the lock that `backtrace::trace` also takes, and its first call
//! parses debug information while holding it: every thread that captured an error meanwhile
//! waited for the SDK thread's symbolication (65-98 ms each in a release build). Here each
//! loaded module gets its own `addr2line` loader, made on first use and kept behind a mutex of
//! its own that no stack walk ever takes; the caller's walk (`RawStack::capture`) shares
//! nothing with this code.
//!
//! # Costs
//! A module's loader maps its file (no copy) and parses compilation units lazily: the first
//! address in a unit pays for that unit only. Nothing is loaded before the first error needs
//! it: loading at start would map and touch the debug information of every process, also of
//! those that never report an error.
//! Modules loaded after the list was read (`dlopen`) are found by reading the list again, at
//! most once a second.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, MutexGuard};
use std::time::{Duration, Instant};

use addr2line::Loader;
use findshlibs::{Segment, SharedLibrary, TargetSharedLibrary};
use once_cell::sync::{Lazy, OnceCell};
use sentry_sdk_transport::sync::Mutex;

use super::Symbol;

/// A loaded module: where it is mapped and how to read its debug information.
struct Module {
    path: PathBuf,
    /// Runtime address minus the address stated in the file.
    bias: u64,
    /// Runtime ranges of its segments.
    ranges: Vec<(u64, u64)>,
    /// Made on first use; `None` when the file can never be read (the vDSO, a deleted file,
    /// not an object file). A failure that may pass (out of file descriptors or memory) leaves
    /// it unset, to be tried again.
    loader: OnceCell<Option<Mutex<Loader>>>,
    /// Set while a thread makes the loader: a caller with a deadline (a panic hook) does not
    /// wait for that (the first load of a large program's debug info takes up to a second).
    loading: AtomicBool,
}

/// The modules as last read, and when.
struct Modules {
    list: Vec<Arc<Module>>,
    read_at: Option<Instant>,
}

static MODULES: Lazy<Mutex<Modules>> = Lazy::new(|| {
    Mutex::new(Modules {
        list: Vec::new(),
        read_at: None,
    })
});

/// How often an address outside every known module makes us read the module list again.
const REREAD_EVERY: Duration = Duration::from_secs(1);

/// The frames at return address `ip`, innermost (inlined) first. Empty when nothing is known
/// about it; the caller keeps the bare address then.
///
/// With a deadline (`until`: a crash handler's bounded wait), a loader another thread is
/// making or using is waited for only until then; the address stays bare after that.
pub(super) fn resolve(ip: usize, until: Option<Instant>) -> Vec<Symbol> {
    let Some(module) = module_of(ip as u64) else {
        return Vec::new();
    };
    if until.is_some() && module.loader.get().is_none() && module.loading.load(Ordering::Acquire) {
        return Vec::new();
    }
    let made = module.loader.get_or_try_init(|| {
        module.loading.store(true, Ordering::Release);
        let made = load(&module.path);
        module.loading.store(false, Ordering::Release);
        made
    });
    let Ok(Some(loader)) = made else {
        return Vec::new();
    };
    // A return address points after the call: step back into the call instruction, as
    // debuggers do, so that the line is the call's.
    let probe = (ip as u64).saturating_sub(1).wrapping_sub(module.bias);
    let Some(loader) = lock_until(loader, until) else {
        return Vec::new();
    };
    tests::pause_point(ip);
    let mut out = Vec::new();
    if let Ok(mut frames) = loader.find_frames(probe) {
        while let Ok(Some(frame)) = frames.next() {
            let function = frame
                .function
                .as_ref()
                .and_then(|f| f.raw_name().ok())
                .map(|raw| demangle(&raw));
            let (file, line, column) = match frame.location {
                Some(l) => (l.file.map(str::to_owned), l.line, l.column),
                None => (None, None, None),
            };
            out.push(Symbol {
                function,
                file,
                line,
                column: column.filter(|c| *c > 0),
            });
        }
    }
    if out.iter().all(|s| s.function.is_none()) {
        // No DWARF for this address (a stripped build, a C library): the symbol table still
        // names the function.
        if let Some(name) = loader.find_symbol(probe) {
            match out.first_mut() {
                Some(first) => first.function = Some(demangle(name)),
                None => out.push(Symbol {
                    function: Some(demangle(name)),
                    ..Default::default()
                }),
            }
        }
    }
    out
}

/// `{:#}` demangles without the hash suffix; names that are not Rust pass unchanged.
fn demangle(raw: &str) -> String {
    format!("{:#}", rustc_demangle::demangle(raw))
}

/// Locks `loader`, waiting at most until `until` (if given) for the thread that holds it.
fn lock_until(loader: &Mutex<Loader>, until: Option<Instant>) -> Option<MutexGuard<'_, Loader>> {
    let Some(until) = until else {
        return Some(loader.lock());
    };
    loop {
        if let Some(guard) = loader.try_lock() {
            return Some(guard);
        }
        if Instant::now() >= until {
            return None;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// The module's loader; `Ok(None)` when it can never be made (no such file, not a readable
/// object file), `Err` when the failure may pass (an I/O error such as running out of file
/// descriptors), so that the next address tries again.
fn load(path: &PathBuf) -> Result<Option<Mutex<Loader>>, ()> {
    match Loader::new(path) {
        Ok(loader) => Ok(Some(Mutex::new(loader))),
        Err(e) => {
            sentry_sdk_transport::sdk_debug!("no debug info from {}: {e}", path.display());
            if may_pass(&*e) {
                Err(())
            } else {
                Ok(None)
            }
        }
    }
}

/// Whether a loader's failure may pass: an I/O error other than a missing or forbidden file
/// (too many open files, out of memory). A file that is not an object file will not change.
fn may_pass(e: &(dyn std::error::Error + 'static)) -> bool {
    e.downcast_ref::<std::io::Error>().is_some_and(|io| {
        !matches!(
            io.kind(),
            std::io::ErrorKind::NotFound | std::io::ErrorKind::PermissionDenied
        )
    })
}

/// The module mapped at `addr`, reading the module list again (at most once a second) when no
/// known module has it.
fn module_of(addr: u64) -> Option<Arc<Module>> {
    let mut modules = MODULES.lock();
    if let Some(found) = find(&modules.list, addr) {
        return Some(found);
    }
    let due = modules
        .read_at
        .map_or(true, |at| at.elapsed() >= REREAD_EVERY);
    if !due {
        return None;
    }
    let known = std::mem::take(&mut modules.list);
    modules.list = read_modules(known);
    modules.read_at = Some(Instant::now());
    find(&modules.list, addr)
}

fn find(list: &[Arc<Module>], addr: u64) -> Option<Arc<Module>> {
    list.iter()
        .find(|m| {
            m.ranges
                .iter()
                .any(|&(start, end)| (start..end).contains(&addr))
        })
        .cloned()
}

/// The loaded modules, keeping the entries (and loaders) of those already known.
fn read_modules(known: Vec<Arc<Module>>) -> Vec<Arc<Module>> {
    let mut list = Vec::new();
    let mut first = true;
    TargetSharedLibrary::each(|lib| {
        let is_first = std::mem::replace(&mut first, false);
        let mut path = PathBuf::from(lib.name());
        if path.as_os_str().is_empty() {
            // The main program is listed first, without a name. Other unnamed entries (the
            // vDSO on some C libraries) are no file to read: looking them up in the program's
            // debug information would give wrong frames.
            match std::env::current_exe() {
                Ok(exe) if is_first => path = exe,
                _ => return,
            }
        }
        let bias = lib.virtual_memory_bias().0 as u64;
        if let Some(same) = known.iter().find(|m| m.path == path && m.bias == bias) {
            list.push(same.clone());
            return;
        }
        let ranges = lib
            .segments()
            .map(|s| {
                let start = (s.stated_virtual_memory_address().0 as u64).wrapping_add(bias);
                (start, start.saturating_add(s.len() as u64))
            })
            .collect();
        list.push(Arc::new(Module {
            path,
            bias,
            ranges,
            loader: OnceCell::new(),
            loading: AtomicBool::new(false),
        }));
    });
    list
}

/// Where a test holds a symbolication mid-way (the loader locked) to check that nothing a
/// caller does waits for it. Does nothing outside this crate's tests.
#[cfg(not(test))]
mod tests {
    #[inline(always)]
    pub(super) fn pause_point(_ip: usize) {}
}

#[cfg(test)]
pub(super) mod tests {
    use std::sync::mpsc::{channel, Receiver, Sender};

    use super::*;

    /// The address to pause at, who to tell, and what to wait for.
    type Pause = (usize, Sender<()>, Receiver<()>);
    static PAUSE: Mutex<Option<Pause>> = Mutex::new(None);

    /// Pauses this symbolication if a test asked for `ip`: tells the test, then waits (at
    /// most 30 s) for it to let go.
    pub(in crate::stacktrace) fn pause_point(ip: usize) {
        let armed = {
            let mut pause = PAUSE.lock();
            match pause.take() {
                Some((at, entered, release)) if at == ip => Some((entered, release)),
                other => {
                    *pause = other;
                    None
                }
            }
        };
        if let Some((entered, release)) = armed {
            let _ = entered.send(());
            let _ = release.recv_timeout(std::time::Duration::from_secs(30));
        }
    }

    /// Held by each test that pauses a symbolication: there is one pause slot.
    pub(in crate::stacktrace) static PAUSING_TESTS: std::sync::Mutex<()> =
        std::sync::Mutex::new(());

    /// Arms [`pause_point`] for `ip`: returns (reached, let go).
    pub(in crate::stacktrace) fn pause_at(ip: usize) -> (Receiver<()>, Sender<()>) {
        let (entered_tx, entered_rx) = channel();
        let (release_tx, release_rx) = channel();
        *PAUSE.lock() = Some((ip, entered_tx, release_rx));
        (entered_rx, release_tx)
    }

    /// The return addresses of this thread's stack, taken inside a function of this file.
    #[inline(never)]
    fn a_known_function() -> Vec<usize> {
        let mut ips = Vec::new();
        backtrace::trace(|frame| {
            ips.push(frame.ip() as usize);
            true
        });
        std::hint::black_box(ips)
    }

    #[test]
    fn resolves_a_function_of_this_program_with_file_and_line() {
        let symbols: Vec<Symbol> = a_known_function()
            .into_iter()
            .flat_map(|ip| resolve(ip, None))
            .collect();
        let found = symbols
            .iter()
            .find(|s| {
                s.function
                    .as_deref()
                    .is_some_and(|f| f.ends_with("a_known_function"))
            })
            .unwrap_or_else(|| panic!("a_known_function not among {symbols:?}"));
        assert!(
            found
                .file
                .as_deref()
                .is_some_and(|f| f.ends_with("dwarf.rs")),
            "{found:?}"
        );
        assert!(found.line.is_some_and(|l| l > 0), "{found:?}");
        assert!(
            !found.function.as_deref().unwrap_or("").contains("::h"),
            "{found:?}"
        );
        // Its caller, the test itself, is found too: the walk and the resolution agree.
        assert!(symbols.iter().any(|s| s.function.as_deref().is_some_and(
            |f| f.ends_with("resolves_a_function_of_this_program_with_file_and_line")
        )));
    }

    #[test]
    fn only_a_loader_failure_that_may_pass_is_tried_again() {
        let missing = PathBuf::from("/nonexistent/sentry-sdk-test-module");
        assert!(
            matches!(load(&missing), Ok(None)),
            "a missing file is final"
        );
        let not_elf = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
        assert!(
            matches!(load(&not_elf), Ok(None)),
            "a non-object file is final"
        );
        let fds: Box<dyn std::error::Error> = Box::new(std::io::Error::from_raw_os_error(24)); // EMFILE
        assert!(may_pass(&*fds), "out of file descriptors may pass");
        let gone: Box<dyn std::error::Error> =
            Box::new(std::io::Error::from(std::io::ErrorKind::NotFound));
        assert!(!may_pass(&*gone));
    }

    #[test]
    fn an_address_outside_every_module_resolves_to_nothing() {
        assert!(resolve(8, None).is_empty());
    }

    #[test]
    fn a_c_library_function_is_named_from_the_symbol_table() {
        // libc ships without DWARF here, but its dynamic symbol table names its functions.
        let ip = an_address_in_libc();
        let symbols = resolve(ip, None);
        assert!(
            symbols.iter().any(|s| s.function.is_some()),
            "no name for {ip:#x}: {symbols:?}"
        );
    }

    /// An address in the middle of libc's code, found through the dynamic linker.
    fn an_address_in_libc() -> usize {
        let mut addr = 0;
        TargetSharedLibrary::each(|lib| {
            if addr == 0 && lib.name().to_string_lossy().contains("libc.so") {
                if let Some(code) = lib.segments().find(|s| s.is_code()) {
                    let start = code.stated_virtual_memory_address().0;
                    addr = start + lib.virtual_memory_bias().0 + code.len() / 2;
                }
            }
        });
        assert_ne!(addr, 0, "libc not loaded");
        addr
    }
}
