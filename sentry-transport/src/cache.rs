//! The offline cache: envelopes that could not be delivered, kept on disk and sent later.
//!
//! Files live in `<cache_dir>/envelopes-v1/`, one envelope per file, named
//! `<unix-millis>-<uuid>.envelope` so that a directory listing sorts oldest first.
//! - Writes are atomic: a `.tmp` file is written and renamed into place.
//! - `sent_at` is never stored (it is set at each send).
//! - Sending claims a file by renaming it to `<name>.claimed-<pid>`: a rename succeeds for one
//!   process only, so two processes sharing the directory never send an envelope twice. A
//!   claim left by a process that died is returned after [`STALE_CLAIM`].
//! - Bounded by count, bytes and age; what is pruned is counted as `cache_overflow`.
//! - Files that do not parse, and files in the directory that are not ours, are removed.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::client_report::{ClientReports, DiscardReason};
use crate::envelope::Envelope;
use crate::DataCategory;

pub(crate) const SUBDIR: &str = "envelopes-v1";
const SUFFIX: &str = ".envelope";
const CLAIM: &str = ".claimed-";
/// A claim older than this belongs to a process that died while sending.
const STALE_CLAIM: Duration = Duration::from_secs(300);

/// Bounds of the offline cache.
#[derive(Debug, Clone)]
pub struct CacheOptions {
    /// The directory (created if missing); the cache uses a sub-directory of it.
    pub dir: PathBuf,
    /// Most envelopes kept; the oldest go first. Default 30, as sentry-native.
    pub max_items: usize,
    /// Most bytes kept. Default 8 MiB.
    pub max_bytes: u64,
    /// Envelopes older than this are dropped. Default 7 days.
    pub max_age: Duration,
}

impl CacheOptions {
    /// Defaults for `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        CacheOptions {
            dir: dir.into(),
            max_items: 30,
            max_bytes: 8 * 1024 * 1024,
            max_age: Duration::from_secs(7 * 24 * 3600),
        }
    }
}

/// An open cache directory.
#[derive(Debug)]
pub(crate) struct Cache {
    dir: PathBuf,
    options: CacheOptions,
}

/// A file this process claimed for sending: remove it once delivered, release it otherwise.
#[derive(Debug)]
pub(crate) struct Claimed {
    claimed: PathBuf,
    original: PathBuf,
}

impl Cache {
    /// Opens (creating) the cache directory.
    pub(crate) fn open(options: CacheOptions) -> io::Result<Cache> {
        let dir = options.dir.join(SUBDIR);
        fs::create_dir_all(&dir)?;
        Ok(Cache { dir, options })
    }

    /// Stores `envelope` (without `sent_at`), then prunes to the bounds.
    pub(crate) fn store(
        &self,
        envelope: &Envelope,
        reports: &ClientReports,
    ) -> io::Result<PathBuf> {
        let mut envelope = envelope.clone();
        envelope.remove_header("sent_at");
        let millis = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis();
        let id = uuid::Uuid::new_v4().simple();
        let name = format!("{millis:016}-{id}{SUFFIX}");
        let tmp = self.dir.join(format!(".{name}.tmp"));
        let path = self.dir.join(&name);
        let write = || -> io::Result<()> {
            let mut file = fs::File::create(&tmp)?;
            file.write_all(&envelope.to_bytes())?;
            file.sync_all()?;
            fs::rename(&tmp, &path)
        };
        if let Err(e) = write() {
            let _ = fs::remove_file(&tmp);
            return Err(e);
        }
        self.prune(reports);
        Ok(path)
    }

    /// The stored (unclaimed) envelopes, oldest first.
    pub(crate) fn pending(&self) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = self
            .entries()
            .into_iter()
            .filter(|p| file_name(p).is_some_and(is_envelope_name))
            .collect();
        files.sort();
        files
    }

    /// Whether anything is stored.
    pub(crate) fn is_empty(&self) -> bool {
        self.pending().is_empty()
    }

    /// Claims `path` for this process; `None` if another process got it first.
    pub(crate) fn claim(&self, path: &Path) -> Option<Claimed> {
        let name = file_name(path)?;
        let claimed = self
            .dir
            .join(format!("{name}{CLAIM}{}", std::process::id()));
        fs::rename(path, &claimed).ok()?;
        // A rename keeps the write time; the claim's age must start now (see `sweep`).
        if let Ok(file) = fs::File::options().write(true).open(&claimed) {
            let _ = file.set_modified(std::time::SystemTime::now());
        }
        Some(Claimed {
            claimed,
            original: path.to_owned(),
        })
    }

    /// Reads a claimed file; a file that does not parse is removed and counted.
    pub(crate) fn read(
        &self,
        claimed: Claimed,
        reports: &ClientReports,
    ) -> Option<(Envelope, Claimed)> {
        match fs::read(&claimed.claimed)
            .ok()
            .and_then(|b| Envelope::parse(&b).ok())
        {
            Some(envelope) => Some((envelope, claimed)),
            None => {
                crate::sdk_debug!(
                    "removing unreadable cache file {}",
                    claimed.claimed.display()
                );
                reports.record(DiscardReason::InternalSdkError, DataCategory::Default, 1);
                claimed.remove();
                None
            }
        }
    }

    /// Start-up housekeeping: returns stale claims, removes leftovers, foreign and too-old
    /// files, then prunes to the bounds.
    pub(crate) fn sweep(&self, reports: &ClientReports) {
        let now = SystemTime::now();
        for path in self.entries() {
            let Some(name) = file_name(&path) else {
                continue;
            };
            let age = fs::metadata(&path)
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| now.duration_since(t).ok())
                .unwrap_or_default();
            if is_envelope_name(name) {
                continue;
            }
            if let Some((original, pid)) = name.split_once(CLAIM) {
                // A claim whose process is gone (it crashed or aborted while sending) is put
                // back at once; one whose owner cannot be checked, once it is stale.
                // This process's own claims are live (a delivery still retrying holds one).
                let own = pid == std::process::id().to_string();
                if !own && (owner_is_gone(pid) || age > STALE_CLAIM) && is_envelope_name(original) {
                    let _ = fs::rename(&path, self.dir.join(original));
                }
                continue;
            }
            if name.ends_with(".tmp") && age < STALE_CLAIM {
                continue; // another process may be writing it right now
            }
            crate::sdk_debug!("removing foreign file {} from the cache", path.display());
            let _ = fs::remove_file(&path);
        }
        for path in self.pending() {
            let too_old = file_name(&path)
                .and_then(written_at)
                .is_some_and(|t| now.duration_since(t).unwrap_or_default() > self.options.max_age);
            if too_old {
                self.drop_file(&path, reports);
            }
        }
        self.prune(reports);
    }

    /// Drops the oldest files until count and bytes are within bounds.
    fn prune(&self, reports: &ClientReports) {
        let files = self.pending();
        let sizes: Vec<u64> = files
            .iter()
            .map(|p| fs::metadata(p).map(|m| m.len()).unwrap_or(0))
            .collect();
        let mut count = files.len();
        let mut bytes: u64 = sizes.iter().sum();
        for (path, size) in files.iter().zip(sizes) {
            if count <= self.options.max_items && bytes <= self.options.max_bytes {
                break;
            }
            self.drop_file(path, reports);
            count -= 1;
            bytes = bytes.saturating_sub(size);
        }
    }

    /// Removes one stored envelope, counting its items as `cache_overflow`.
    fn drop_file(&self, path: &Path, reports: &ClientReports) {
        if let Some(claimed) = self.claim(path) {
            if let Some(envelope) = fs::read(&claimed.claimed)
                .ok()
                .and_then(|b| Envelope::parse(&b).ok())
            {
                reports.record_envelope(DiscardReason::CacheOverflow, &envelope);
            }
            claimed.remove();
        }
    }

    fn entries(&self) -> Vec<PathBuf> {
        fs::read_dir(&self.dir)
            .map(|rd| rd.filter_map(|e| e.ok()).map(|e| e.path()).collect())
            .unwrap_or_default()
    }
}

impl Claimed {
    /// Deletes the file (delivered, or given up on).
    pub(crate) fn remove(self) {
        let _ = fs::remove_file(&self.claimed);
    }

    /// Puts the file back for a later attempt.
    pub(crate) fn release(self) {
        let _ = fs::rename(&self.claimed, &self.original);
    }
}

/// Whether the process that made a claim has ended (Linux: no `/proc/<pid>`); `false` when
/// that cannot be told.
fn owner_is_gone(pid: &str) -> bool {
    let Ok(pid) = pid.parse::<u32>() else {
        return false;
    };
    if pid == std::process::id() {
        return false;
    }
    Path::new("/proc/self").exists() && !Path::new(&format!("/proc/{pid}")).exists()
}

fn file_name(path: &Path) -> Option<&str> {
    path.file_name().and_then(|n| n.to_str())
}

fn is_envelope_name(name: &str) -> bool {
    name.strip_suffix(SUFFIX)
        .and_then(|stem| stem.split_once('-'))
        .is_some_and(|(millis, id)| {
            millis.len() == 16 && millis.bytes().all(|b| b.is_ascii_digit()) && id.len() == 32
        })
}

fn written_at(name: &str) -> Option<SystemTime> {
    let millis: u64 = name.get(..16)?.parse().ok()?;
    Some(UNIX_EPOCH + Duration::from_millis(millis))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envelope::Item;

    fn temp_dir(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("sentry-cache-test-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    fn envelope(n: usize) -> Envelope {
        let mut e = Envelope::new();
        e.set_header("event_id", format!("{n:032x}"));
        e.set_header("sent_at", "2020-01-01T00:00:00Z");
        e.add_item(Item::new("event", format!("{{\"n\":{n}}}").into_bytes()));
        e
    }

    #[test]
    fn stores_atomically_without_sent_at_and_lists_oldest_first() {
        let dir = temp_dir("order");
        let cache = Cache::open(CacheOptions::new(&dir)).unwrap();
        let reports = ClientReports::new(true);
        for n in 0..3 {
            cache.store(&envelope(n), &reports).unwrap();
            std::thread::sleep(Duration::from_millis(2));
        }
        let pending = cache.pending();
        assert_eq!(pending.len(), 3);
        let first = Envelope::parse(&fs::read(&pending[0]).unwrap()).unwrap();
        assert_eq!(first.event_id(), Some(format!("{:032x}", 0).as_str()));
        assert!(first.headers().get("sent_at").is_none());
        assert!(!fs::read_dir(dir.join(SUBDIR)).unwrap().any(|e| e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .ends_with(".tmp")));
        let _ = fs::remove_dir_all(dir);
    }

    #[test]
    fn bounded_by_count_dropping_oldest_as_cache_overflow() {
        let dir = temp_dir("bound");
        let mut options = CacheOptions::new(&dir);
        options.max_items = 2;
        let cache = Cache::open(options).unwrap();
        let reports = ClientReports::new(true);
        for n in 0..5 {
            cache.store(&envelope(n), &reports).unwrap();
            std::thread::sleep(Duration::from_millis(2));
        }
        let pending = cache.pending();
        assert_eq!(pending.len(), 2);
        let oldest = Envelope::parse(&fs::read(&pending[0]).unwrap()).unwrap();
        assert_eq!(oldest.event_id(), Some(format!("{:032x}", 3).as_str()));
        assert_eq!(
            reports.take(),
            vec![(DiscardReason::CacheOverflow, DataCategory::Error, 3)]
        );
        let _ = fs::remove_dir_all(dir);
    }

    #[test]
    fn a_claim_is_exclusive_and_can_be_released() {
        let dir = temp_dir("claim");
        let cache = Cache::open(CacheOptions::new(&dir)).unwrap();
        let other = Cache::open(CacheOptions::new(&dir)).unwrap();
        let reports = ClientReports::new(true);
        let path = cache.store(&envelope(1), &reports).unwrap();
        let claimed = cache.claim(&path).unwrap();
        assert!(other.claim(&path).is_none(), "a second claimant loses");
        assert!(cache.pending().is_empty());
        claimed.release();
        assert_eq!(other.pending().len(), 1);
        let _ = fs::remove_dir_all(dir);
    }

    #[test]
    fn corrupt_and_foreign_files_are_removed_not_fatal() {
        let dir = temp_dir("corrupt");
        let cache = Cache::open(CacheOptions::new(&dir)).unwrap();
        let reports = ClientReports::new(true);
        let sub = dir.join(SUBDIR);
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis();
        let corrupt = format!("{now:016}-{}{SUFFIX}", "a".repeat(32));
        fs::write(sub.join(corrupt), b"not an envelope\n[").unwrap();
        // Too old to keep: removed by the sweep.
        let ancient = format!("{:016}-{}{SUFFIX}", 1, "b".repeat(32));
        fs::write(sub.join(ancient), b"{}\n").unwrap();
        fs::write(sub.join("notes.txt"), b"hello").unwrap();
        cache.sweep(&reports);
        assert!(!sub.join("notes.txt").exists());
        let pending = cache.pending();
        assert_eq!(pending.len(), 1);
        let claimed = cache.claim(&pending[0]).unwrap();
        assert!(cache.read(claimed, &reports).is_none());
        assert!(cache.pending().is_empty());
        assert_eq!(fs::read_dir(&sub).unwrap().count(), 0);
        assert_eq!(
            reports.take(),
            vec![(DiscardReason::InternalSdkError, DataCategory::Default, 1)]
        );
        let _ = fs::remove_dir_all(dir);
    }
}
