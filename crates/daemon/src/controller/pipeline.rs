//! The one execution pipeline every northbound mutation goes through:
//!
//! 1. **stage** — plan against the state and hold what the plan needs (ids,
//!    names, bandwidth, spectrum, ports, identifiers; objects being changed are
//!    marked busy), all under the state lock, synchronously, without I/O;
//! 2. the lock is released;
//! 3. **program** every device of the plan (in parallel, rolled back as a
//!    unit if one refuses);
//! 4. **persist** the journal entries (fsync'd; devices are put back if the
//!    disk refuses);
//! 5. **commit** (or **revert**) under the state lock again, briefly, and
//!    publish the change's events.
//!
//! No lock is held across device or disk I/O, so one slow device delays only
//! the requests that touch it: other requests plan, program and commit around
//! it, and readers never wait. Two mutations of one object never overlap: the
//! second finds it busy and is refused (ABORTED) rather than queued behind
//! device I/O it cannot see.

use super::error::ApiError;
use super::programmer::{apply, Plan};
use super::{Controller, Fabric};
use crate::proto::strata::store::v1 as store;

/// Makes a staged change visible and publishes its events.
type Commit<'a, T> = Box<dyn FnOnce(&mut Fabric) -> Result<T, ApiError> + Send + 'a>;
/// Gives back everything a stage held.
type Revert<'a> = Box<dyn FnOnce(&mut Fabric) + Send + 'a>;

/// A mutation planned and holding its resources, waiting for the devices and
/// the disk. Exactly one of `commit` or `revert` runs.
pub(super) struct Staged<'a, T> {
    pub plan: Plan,
    pub entries: Vec<store::Entry>,
    /// Makes the change visible and publishes its events.
    pub commit: Commit<'a, T>,
    /// Gives back everything `stage` held.
    pub revert: Revert<'a>,
}

impl Controller {
    /// Runs steps 3–5 for a staged mutation (steps 1–2 are the caller's
    /// `stage`, which returns before any I/O).
    pub(super) async fn execute<T>(&self, staged: Staged<'_, T>) -> Result<T, ApiError> {
        let Staged {
            plan,
            entries,
            commit,
            revert,
        } = staged;
        // Until committed or reverted, reconciliation leaves these devices be.
        let _writing = self.writes.writing(plan.devices.keys());
        let outcome = match apply(self.programmer.as_ref(), &plan).await {
            Ok(()) => self.persist_or_revert(&entries, &plan).await,
            Err(e) => Err(e.into()),
        };
        let committed = {
            let mut inner = self.write();
            match outcome {
                Ok(()) => commit(&mut inner),
                Err(e) => {
                    revert(&mut inner);
                    return Err(e);
                }
            }
        };
        // What was placed gets its repair paths before the next breach, off
        // the request's path (one background pass at a time).
        if committed.is_ok() {
            Controller::spawn_repairs(self.me.clone());
        }
        committed
    }
}
