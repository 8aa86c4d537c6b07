//! Keeping the repair paths (`plan::repair`) fresh: computed in chunks under
//! a read of the fabric, put in under a short write, so neither a reroute
//! nor a create waits on more than one chunk.

use std::sync::atomic::Ordering;
use std::sync::Weak;

use super::Controller;
use crate::plan::repair::Refresh;

/// Computations per chunk: ~10-30 ms of CSPF at 1,000 nodes.
const CHUNK: usize = 256;

/// `Controller::repairs_pass`: no refresh running.
pub(super) const IDLE: u8 = 0;
/// A refresh is running and nothing changed since it started.
const RUNNING: u8 = 1;
/// A refresh is wanted (again): the running one starts another pass.
const AGAIN: u8 = 2;

impl Controller {
    /// Brings every placed policy's repair paths up to date; returns how
    /// many were computed. Synchronous CPU work: call it off the async
    /// threads (`spawn_repairs` does).
    pub fn refresh_repairs(&self) -> usize {
        let mut computed = 0;
        loop {
            let r: Refresh = {
                let fabric = self.read();
                fabric.repairs.refresh(&fabric, CHUNK)
            };
            computed += r.computed();
            let complete = r.complete;
            let full = {
                let mut fabric = self.write();
                fabric.repairs.absorb(r);
                fabric.repairs.paths() >= fabric.repairs.max_paths
            };
            if complete || full {
                return computed;
            }
        }
    }

    /// Refreshes the repair paths on a blocking thread, if a runtime is
    /// there to run it (after a reroute: the moved policies ride new links,
    /// the degraded link made entries stale). One refresh runs at a time: a
    /// request while one runs makes it go round once more, so a burst of
    /// breaches costs one extra pass, not one thread each.
    pub(crate) fn spawn_repairs(this: Weak<Controller>) {
        if tokio::runtime::Handle::try_current().is_err() {
            return;
        }
        let Some(c) = this.upgrade() else { return };
        if c.repairs_pass.swap(AGAIN, Ordering::AcqRel) != IDLE {
            return; // the running refresh sees AGAIN and goes round
        }
        drop(c);
        tokio::task::spawn_blocking(move || loop {
            let Some(c) = this.upgrade() else { return };
            c.repairs_pass.store(RUNNING, Ordering::Release);
            c.refresh_repairs();
            if c.repairs_pass
                .compare_exchange(RUNNING, IDLE, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
            {
                return;
            }
        });
    }
}
