//! Material that takes effect without a restart (the principals file, the
//! API's certificate): polled, because a file replaced by a rename, an
//! editor or a certificate robot is seen the same way on every system.

use std::time::Duration;

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
