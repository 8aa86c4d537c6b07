//! Material that takes effect without a restart (the principals file, the
//! API's certificate): polled, because a file replaced by a rename, an
//! editor or a certificate robot is seen the same way on every system.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

/// When a file last changed, as far as polling can tell.
type Stamp = Option<(SystemTime, u64)>;

fn stamp(path: &Path) -> Stamp {
    let m = std::fs::metadata(path).ok()?;
    Some((m.modified().ok()?, m.len()))
}

/// A value loaded from files and loaded again when any of them changes;
/// what fails to load leaves the value in force as it was.
pub struct Reloading<T> {
    paths: Vec<PathBuf>,
    current: RwLock<(Vec<Stamp>, Arc<T>)>,
}

impl<T> Reloading<T> {
    pub fn load<E>(paths: Vec<PathBuf>, load: impl FnOnce() -> Result<T, E>) -> Result<Self, E> {
        // Stamped before loading: a change made while loading is seen on
        // the next poll rather than lost.
        let stamps = paths.iter().map(|p| stamp(p)).collect();
        let value = load()?;
        Ok(Reloading {
            paths,
            current: RwLock::new((stamps, Arc::new(value))),
        })
    }

    pub fn current(&self) -> Arc<T> {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .1
            .clone()
    }

    /// Loads again if any file changed; `Ok(true)` when a new value is in
    /// force. The files are read with no lock held.
    pub fn reload<E>(&self, load: impl FnOnce() -> Result<T, E>) -> Result<bool, E> {
        let now: Vec<Stamp> = self.paths.iter().map(|p| stamp(p)).collect();
        if now == self.current.read().unwrap_or_else(|e| e.into_inner()).0 {
            return Ok(false);
        }
        let value = load()?;
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = (now, Arc::new(value));
        Ok(true)
    }
}

/// Runs `reload` every `every` until `halt` turns true. `reload` answers
/// `Ok(true)` when new material is in force; an error leaves the old in
/// force, and says so loudly.
pub fn poll(
    every: Duration,
    mut halt: tokio::sync::watch::Receiver<bool>,
    what: String,
    reload: impl Fn() -> Result<bool, String> + Send + 'static,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = halt.changed() => return,
            }
            if *halt.borrow() {
                return;
            }
            match reload() {
                Ok(true) => tracing::info!(%what, "reloaded"),
                Ok(false) => {}
                Err(error) => tracing::error!(
                    %what,
                    %error,
                    "not reloaded; what was in force stays in force"
                ),
            }
        }
    })
}
