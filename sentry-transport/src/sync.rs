//! A mutex that never panics on poisoning.
//!
//! The SDK runs inside other people's programs, often while they are already panicking. A poisoned
//! lock only means some thread panicked while holding it; our data stays consistent because every
//! critical section is a handful of field writes, so we take the guard back instead of panicking.

use std::sync::{Condvar, MutexGuard, WaitTimeoutResult};
use std::time::Duration;

/// `std::sync::Mutex` whose `lock` hands back the guard even when poisoned.
#[derive(Debug, Default)]
pub struct Mutex<T>(std::sync::Mutex<T>);

impl<T> Mutex<T> {
    /// Wraps a value.
    pub const fn new(value: T) -> Self {
        Mutex(std::sync::Mutex::new(value))
    }

    /// Locks, ignoring poisoning.
    pub fn lock(&self) -> MutexGuard<'_, T> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Locks if no one holds the lock now (ignoring poisoning); `None` if someone does.
    pub fn try_lock(&self) -> Option<MutexGuard<'_, T>> {
        match self.0.try_lock() {
            Ok(guard) => Some(guard),
            Err(std::sync::TryLockError::Poisoned(poisoned)) => Some(poisoned.into_inner()),
            Err(std::sync::TryLockError::WouldBlock) => None,
        }
    }

    /// Waits on `condvar` for at most `timeout`, ignoring poisoning.
    pub fn wait_timeout<'a>(
        condvar: &Condvar,
        guard: MutexGuard<'a, T>,
        timeout: Duration,
    ) -> (MutexGuard<'a, T>, WaitTimeoutResult) {
        condvar
            .wait_timeout(guard, timeout)
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
