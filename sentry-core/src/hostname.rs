//! The machine's host name for `server_name`, read once without a libc dependency.

use once_cell::sync::Lazy;

/// The host name: `/proc/sys/kernel/hostname`, `/etc/hostname`, then `HOSTNAME` / `COMPUTERNAME`.
pub(crate) fn hostname() -> Option<String> {
    static NAME: Lazy<Option<String>> = Lazy::new(|| {
        let from_file = |p: &str| std::fs::read_to_string(p).ok();
        from_file("/proc/sys/kernel/hostname")
            .or_else(|| from_file("/etc/hostname"))
            .or_else(|| std::env::var("HOSTNAME").ok())
            .or_else(|| std::env::var("COMPUTERNAME").ok())
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
    });
    NAME.clone()
}
