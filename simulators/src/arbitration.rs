//! gNMI master arbitration (the gnmi_ext `MasterArbitration` extension), as
//! the extension's specification describes it for Set: per role, the device
//! remembers the highest election id it has seen; a Set carrying a lower one
//! comes from a deposed master and is refused with PERMISSION_DENIED, and one
//! carrying an id at least as high makes its sender the master. A Set without
//! the extension is not arbitrated, so standard clients work unchanged.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::proto::gnmi::SetRequest;
use crate::proto::gnmi_ext::{extension::Ext, MasterArbitration};

/// Highest election id seen, per role id ("" is the default role).
#[derive(Debug, Default)]
pub struct Arbiter {
    highest: Mutex<HashMap<String, u128>>,
}

fn election_of(m: &MasterArbitration) -> Option<u128> {
    m.election_id
        .as_ref()
        .map(|id| (u128::from(id.high) << 64) | u128::from(id.low))
}

impl Arbiter {
    /// Admits or refuses `req`. The check and the update are one step under
    /// the lock, so of two racing masters the lower never slips in after the
    /// higher was seen.
    pub fn admit(&self, req: &SetRequest) -> Result<(), tonic::Status> {
        let Some(m) = req.extension.iter().find_map(|e| match &e.ext {
            Some(Ext::MasterArbitration(m)) => Some(m),
            _ => None,
        }) else {
            return Ok(());
        };
        let Some(id) = election_of(m) else {
            return Err(tonic::Status::invalid_argument(
                "SetRequest.extension.master_arbitration.election_id: missing",
            ));
        };
        let role = m.role.as_ref().map(|r| r.id.clone()).unwrap_or_default();
        let mut highest = self.highest.lock().unwrap_or_else(|e| e.into_inner());
        let seen = highest.entry(role.clone()).or_insert(0);
        if id < *seen {
            return Err(tonic::Status::permission_denied(format!(
                "master arbitration: election id {id} of role {role:?} is lower than the highest seen ({}); this client is not the master",
                *seen
            )));
        }
        *seen = id;
        Ok(())
    }

    /// The highest election id seen for the default role.
    pub fn highest(&self) -> u128 {
        let highest = self.highest.lock().unwrap_or_else(|e| e.into_inner());
        highest.get("").copied().unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::gnmi_ext::{Extension, Role, Uint128};

    fn set(election: Option<(u64, u64)>, role: &str) -> SetRequest {
        SetRequest {
            extension: election
                .map(|(high, low)| Extension {
                    ext: Some(Ext::MasterArbitration(MasterArbitration {
                        role: (!role.is_empty()).then(|| Role { id: role.into() }),
                        election_id: Some(Uint128 { high, low }),
                    })),
                })
                .into_iter()
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn the_highest_election_id_wins_and_lower_ones_are_refused() {
        let a = Arbiter::default();
        a.admit(&set(Some((0, 5)), "")).unwrap();
        a.admit(&set(Some((0, 5)), "")).unwrap();
        let e = a.admit(&set(Some((0, 4)), "")).unwrap_err();
        assert_eq!(e.code(), tonic::Code::PermissionDenied);
        assert!(
            e.message().contains("lower than the highest seen (5)"),
            "{e}"
        );
        // The high word counts: (1, 0) is above any (0, low).
        a.admit(&set(Some((1, 0)), "")).unwrap();
        assert!(a.admit(&set(Some((0, u64::MAX)), "")).is_err());
        assert_eq!(a.highest(), 1 << 64);
        // Roles are arbitrated apart; Sets without the extension are not.
        a.admit(&set(Some((0, 1)), "backup")).unwrap();
        a.admit(&set(None, "")).unwrap();
    }
}
