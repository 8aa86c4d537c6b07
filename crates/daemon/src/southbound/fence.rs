//! Fenced device writes: every Set carries the gNMI master-arbitration
//! extension with this controller's election id, so a device that has seen
//! a higher id (a newer leader) refuses the Set of a deposed one
//! (PERMISSION_DENIED) instead of letting two controllers program it.
//!
//! The id is shared by every session and can rise while they run: with the
//! journal it is a fixed 1; on etcd it is the etcd revision at which this
//! controller took its term (see `store::etcd`), which grows with each new
//! term across the whole cluster.

use std::sync::{Arc, Mutex};

use crate::proto::gnmi::SetRequest;
use crate::proto::gnmi_ext::{extension::Ext, Extension, MasterArbitration, Uint128};

/// The election id with the journal (one controller).
pub const SINGLE: u128 = 1;

#[derive(Debug, Clone)]
pub struct Election(Arc<Mutex<u128>>);

impl Default for Election {
    fn default() -> Self {
        Election::fixed(SINGLE)
    }
}

impl Election {
    pub fn fixed(id: u128) -> Election {
        Election(Arc::new(Mutex::new(id)))
    }

    pub fn get(&self) -> u128 {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sets the id every later Set carries.
    pub fn set(&self, id: u128) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = id;
    }

    /// `req` with this election's master-arbitration extension (replacing
    /// any it had), for the default role.
    pub fn fence(&self, mut req: SetRequest) -> SetRequest {
        let id = self.get();
        req.extension
            .retain(|e| !matches!(e.ext, Some(Ext::MasterArbitration(_))));
        req.extension.push(Extension {
            ext: Some(Ext::MasterArbitration(MasterArbitration {
                role: None,
                election_id: Some(Uint128 {
                    high: (id >> 64) as u64,
                    low: id as u64,
                }),
            })),
        });
        req
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_set_carries_the_current_election_id_once() {
        let e = Election::default();
        let shared = e.clone();
        let once = e.fence(SetRequest::default());
        shared.set((7u128 << 64) | 9);
        let twice = e.fence(once);
        assert_eq!(twice.extension.len(), 1);
        let Some(Ext::MasterArbitration(m)) = &twice.extension[0].ext else {
            panic!("{twice:?}");
        };
        let id = m.election_id.as_ref().unwrap();
        assert_eq!((id.high, id.low), (7, 9));
        assert!(m.role.is_none());
    }
}
