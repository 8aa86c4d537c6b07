//! Keeping the repair paths (`plan::repair`) fresh. A pass walks the placed
//! policies in chunks, each under a short read of the fabric (finding what
//! is missing or stale costs no path computation), computes on a copy of the
//! TE graph with no lock held, and puts results in under short writes: a
//! reroute or a create never waits on a path computation of the refresh.

use std::sync::atomic::Ordering;
use std::sync::Weak;

use super::Controller;
use crate::pathcomp::{IgpSpf, IgpTrees, TeGraph};
use crate::plan::repair::{compute, Pass, Work};

/// Policies looked at per read of the fabric.
const SCAN: usize = 512;
/// Computations per write: a few milliseconds of CSPF at 1,000 nodes.
const COMPUTE: usize = 32;

/// `Controller::repairs_pass`: no refresh running.
pub(super) const IDLE: u8 = 0;
/// A refresh is running and nothing changed since it started.
const RUNNING: u8 = 1;
/// A refresh is wanted (again): the running one starts another pass.
const AGAIN: u8 = 2;

impl Controller {
    /// One pass bringing the repair paths of the placed policies up to
    /// date (only those placed or moved since the last pass, when nothing
    /// but reservations changed in the graph); returns how many were
    /// computed. Synchronous CPU work: call it off the async threads
    /// (`spawn_repairs` does).
    pub fn refresh_repairs(&self) -> usize {
        let mut pass = Pass::default();
        let mut computed = 0;
        // IGP trees outlive each copy of the graph: TE changes (the usual
        // ones) leave them valid, and `resume` drops them when not.
        let mut trees = IgpTrees::default();
        let mut graph: Option<TeGraph> = None;
        loop {
            let work: Vec<Work> = {
                let fabric = self.read();
                let work = fabric.repairs.scan(&fabric, &mut pass, SCAN);
                let stale = graph
                    .as_ref()
                    .is_none_or(|g| g.version() != fabric.graph.version());
                if !work.is_empty() && stale {
                    graph = Some(fabric.graph.clone());
                }
                work
            };
            if let Some(g) = graph.as_ref().filter(|_| !work.is_empty()) {
                let mut spf = IgpSpf::resume(g, std::mem::take(&mut trees));
                for piece in work.chunks(COMPUTE) {
                    let r = compute(g, &mut spf, piece);
                    computed += r.computed();
                    let mut fabric = self.write();
                    fabric.repairs.absorb(r);
                    if fabric.repairs.paths() >= fabric.repairs.max_paths {
                        // full: what the pass took stays to be looked at
                        return computed;
                    }
                }
                trees = spf.keep();
            }
            if pass.done() {
                self.write().repairs.finish(pass);
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
