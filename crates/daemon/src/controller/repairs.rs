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

/// Policies looked at per read of the fabric: a reroute waiting for the
/// write lock waits at most this many freshness checks (~0.1 ms).
const SCAN: usize = 64;
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

    /// Whether no repair-path refresh is running or wanted: the cache is as
    /// fresh as the background work makes it (benches wait for this to
    /// time breaches on a settled fabric).
    pub fn repairs_settled(&self) -> bool {
        self.repairs_pass.load(Ordering::Acquire) == IDLE
    }

    /// Refreshes the repair paths on a thread of its own, if a runtime is
    /// there (after a placement or a reroute: the moved policies ride new
    /// links, the degraded link made entries stale). One refresh runs at a
    /// time: a request while one runs makes it go round once more, so a
    /// burst of changes costs one extra pass, not one thread each. Its own
    /// thread, not the runtime's blocking pool: it runs at idle priority,
    /// which must not leak to the pool's other work (an unprivileged thread
    /// may not be allowed back).
    pub(crate) fn spawn_repairs(this: Weak<Controller>) {
        if tokio::runtime::Handle::try_current().is_err() {
            return;
        }
        let Some(c) = this.upgrade() else { return };
        if c.repairs_pass.swap(AGAIN, Ordering::AcqRel) != IDLE {
            return; // the running refresh sees AGAIN and goes round
        }
        drop(c);
        let worker = this.clone();
        let spawned = std::thread::Builder::new()
            .name("strata-repairs".into())
            .spawn(move || {
                // A breach arriving now must not share its core with the
                // refresh: the refresh runs only on otherwise idle CPU.
                let _idle = IdlePriority::enter();
                loop {
                    let Some(c) = worker.upgrade() else { return };
                    c.repairs_pass.store(RUNNING, Ordering::Release);
                    c.refresh_repairs();
                    if c.repairs_pass
                        .compare_exchange(RUNNING, IDLE, Ordering::AcqRel, Ordering::Acquire)
                        .is_ok()
                    {
                        return;
                    }
                }
            });
        if let Err(e) = spawned {
            tracing::warn!(error = %e, "no thread for the repair-path refresh; reroutes compute");
            if let Some(c) = this.upgrade() {
                c.repairs_pass.store(IDLE, Ordering::Release);
            }
        }
    }
}

/// The calling thread at the lowest CPU priority (Linux SCHED_IDLE) until
/// dropped. Elsewhere, and when the kernel refuses, it changes nothing: the
/// refresh then competes with the rest at normal priority.
struct IdlePriority {
    #[cfg(target_os = "linux")]
    was: Option<libc::c_int>,
}

impl IdlePriority {
    #[cfg(target_os = "linux")]
    fn enter() -> IdlePriority {
        IdlePriority {
            was: set_policy(libc::SCHED_IDLE),
        }
    }

    #[cfg(not(target_os = "linux"))]
    fn enter() -> IdlePriority {
        IdlePriority {}
    }
}

impl Drop for IdlePriority {
    fn drop(&mut self) {
        #[cfg(target_os = "linux")]
        if let Some(was) = self.was {
            set_policy(was);
        }
    }
}

/// Sets the calling thread's scheduling policy (priority 0, the only one
/// SCHED_OTHER, SCHED_BATCH and SCHED_IDLE take); returns the one it had, or
/// `None` if it could not be changed.
#[cfg(target_os = "linux")]
fn set_policy(policy: libc::c_int) -> Option<libc::c_int> {
    // SAFETY: pid 0 is the calling thread; `param` outlives the call; both
    // calls only read and set this thread's scheduling attributes.
    unsafe {
        let was = libc::sched_getscheduler(0);
        if was < 0 || was == policy {
            return None;
        }
        let param = libc::sched_param { sched_priority: 0 };
        (libc::sched_setscheduler(0, policy, &param) == 0).then_some(was)
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn the_refresh_thread_runs_idle_and_gets_its_policy_back() {
        std::thread::spawn(|| {
            // SAFETY: reads the calling thread's policy.
            let policy = || unsafe { libc::sched_getscheduler(0) };
            let before = policy();
            {
                let _idle = IdlePriority::enter();
                assert_eq!(policy(), libc::SCHED_IDLE);
            }
            assert_eq!(policy(), before);
        })
        .join()
        .expect("thread");
    }
}
