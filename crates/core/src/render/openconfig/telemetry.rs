//! What Strata subscribes to on each kind of device (docs/openconfig.md,
//! "Telemetry the closed loop reads"): the gNMI paths, built here with every
//! other path Strata sends, so the OpenConfig contract lives in one crate.

use std::net::Ipv4Addr;

use crate::model::{isis_system_id, Role};

/// SAMPLE paths, then ON_CHANGE paths. A router's delay and loss are in its
/// own LSP, so without a router id there is nothing to ask for them.
pub fn subscriptions(role: Role, router_id: Option<Ipv4Addr>) -> (Vec<String>, Vec<String>) {
    match role {
        Role::Packet => {
            let mut sampled = vec!["/interfaces/interface/state/counters".to_string()];
            if let Some(r) = router_id {
                sampled.insert(0, isis_subtlvs_path(r));
            }
            (
                sampled,
                vec![
                    "/interfaces/interface/state/oper-status".into(),
                    // Which interface an IS-IS instance's link-id names.
                    "/interfaces/interface/state/ifindex".into(),
                    // Who is plugged into each port: the cabling check.
                    LLDP_NEIGHBORS.into(),
                ],
            )
        }
        Role::Optical => (
            vec!["/components/component/optical-channel/state".into()],
            vec!["/components/component/state/oper-status".into()],
        ),
    }
}

/// The state of every LLDP neighbor of every port (openconfig-lldp).
pub const LLDP_NEIGHBORS: &str = "/lldp/interfaces/interface/neighbors/neighbor/state";

/// The own LSP's id as it appears in paths.
pub fn own_lsp_id(router_id: Ipv4Addr) -> String {
    format!("{}.00-00", isis_system_id(router_id))
}

/// The gNMI path (text form) of the own LSP's extended-IS-reachability
/// sub-TLVs: every neighbor, instance and sub-TLV type.
pub fn isis_subtlvs_path(router_id: Ipv4Addr) -> String {
    format!(
        "/network-instances/network-instance[name=DEFAULT]/protocols/protocol[identifier=ISIS][name=default]\
         /isis/levels/level[level-number=2]/link-state-database/lsp[lsp-id={}]\
         /tlvs/tlv[type=EXTENDED_IS_REACHABILITY]/extended-is-reachability/neighbors\
         /neighbor[system-id=*]/instances/instance[id=*]/subtlvs/subtlv[type=*]",
        own_lsp_id(router_id)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROUTER: Ipv4Addr = Ipv4Addr::new(10, 255, 0, 1);

    #[test]
    fn a_router_is_asked_for_its_own_lsp_only_when_it_has_a_router_id() {
        let (sampled, on_change) = subscriptions(Role::Packet, Some(ROUTER));
        assert_eq!(sampled[0], isis_subtlvs_path(ROUTER));
        assert!(sampled[0].contains("lsp[lsp-id=0102.5500.0001.00-00]"));
        assert!(on_change.contains(&"/interfaces/interface/state/oper-status".to_string()));
        assert!(on_change.contains(&LLDP_NEIGHBORS.to_string()));
        let (sampled, _) = subscriptions(Role::Packet, None);
        assert!(sampled.iter().all(|p| !p.contains("isis")));
        let (sampled, on_change) = subscriptions(Role::Optical, Some(ROUTER));
        assert!(sampled
            .iter()
            .chain(&on_change)
            .all(|p| p.starts_with("/components/")));
    }
}
