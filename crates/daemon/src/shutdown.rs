//! The daemon's stop signal (mini-redis style): one `watch` sender owned by
//! the daemon, a receiver in every background task. Tasks look at it between
//! steps, so a step that has started — a reconcile pass, a reroute's Sets —
//! completes before the task ends.

use tokio::sync::watch;

pub type Signal = watch::Receiver<bool>;

/// Resolves once a stop has been asked for. A dropped sender means nobody can
/// ask any more, so it then never resolves (the task runs until its inputs end).
pub async fn requested(signal: &mut Signal) {
    loop {
        if *signal.borrow_and_update() {
            return;
        }
        if signal.changed().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

/// A signal that never fires, for wirings with no daemon (benches, tests).
pub fn never() -> Signal {
    let (tx, rx) = watch::channel(false);
    drop(tx);
    rx
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn fires_on_request_and_never_without_a_sender() {
        let (tx, mut rx) = watch::channel(false);
        let waiter = tokio::spawn(async move { requested(&mut rx).await });
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert!(!waiter.is_finished());
        tx.send(true).unwrap();
        tokio::time::timeout(Duration::from_secs(1), waiter)
            .await
            .unwrap()
            .unwrap();
        let mut orphan = never();
        assert!(
            tokio::time::timeout(Duration::from_millis(50), requested(&mut orphan))
                .await
                .is_err()
        );
    }
}
