//! Keeping the repair paths (`plan::repair`) fresh: computed in chunks under
//! a read of the fabric, put in under a short write, so neither a reroute
//! nor a create waits on more than one chunk.

use std::sync::Weak;

use super::Controller;
use crate::plan::repair::Refresh;

/// Computations per chunk: ~10-30 ms of CSPF at 1,000 nodes.
const CHUNK: usize = 256;

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
    /// the degraded link made entries stale).
    pub(crate) fn spawn_repairs(this: Weak<Controller>) {
        if tokio::runtime::Handle::try_current().is_err() {
            return;
        }
        tokio::task::spawn_blocking(move || {
            if let Some(c) = this.upgrade() {
                c.refresh_repairs();
            }
        });
    }
}
