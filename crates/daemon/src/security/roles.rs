//! Who may call what: four roles, each a superset of the one before, and the
//! role every northbound method needs. Unknown methods need admin, so a
//! service added without a rule here is closed, not open.

use serde::Deserialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Reads and watches: topology, intents, events, telemetry.
    Viewer,
    /// A viewer who may also act on the network's condition: maintenance,
    /// and fault injection in a lab.
    Operator,
    /// An operator who may also create, update and delete intents.
    Orchestrator,
    /// Everything, including services without a rule of their own.
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Operator => "operator",
            Role::Orchestrator => "orchestrator",
            Role::Admin => "admin",
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a method asks of its caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, authenticated or not: health checks, which load balancers and
    /// service managers probe without credentials.
    Open,
    /// An authenticated principal holding at least this role.
    Needs(Role),
}

/// The access a gRPC method (`/package.Service/Method`) needs.
pub fn required(path: &str) -> Access {
    let mut parts = path.strip_prefix('/').unwrap_or(path).splitn(2, '/');
    let service = parts.next().unwrap_or_default();
    let method = parts.next().unwrap_or_default();
    if method.is_empty() || method.contains('/') {
        return Access::Needs(Role::Admin);
    }
    match service {
        "grpc.health.v1.Health" => Access::Open,
        // The schema is no secret, but the API surface is not for strangers.
        "grpc.reflection.v1.ServerReflection" | "grpc.reflection.v1alpha.ServerReflection" => {
            Access::Needs(Role::Viewer)
        }
        "strata.v1.Topology" | "strata.v1.Events" => Access::Needs(Role::Viewer),
        "strata.v1.Policies" | "strata.v1.Services" | "strata.v1.Wavelengths" => {
            if method.starts_with("Get") || method.starts_with("List") {
                Access::Needs(Role::Viewer)
            } else {
                Access::Needs(Role::Orchestrator)
            }
        }
        // A what-if is a read of a copy; the survivability table keeps a
        // core busy for up to a minute, so it is an operator's to ask for.
        "strata.v1.WhatIf" => match method {
            "WhatIf" => Access::Needs(Role::Viewer),
            _ => Access::Needs(Role::Operator),
        },
        "strata.sim.v1.FaultInjection" => Access::Needs(Role::Operator),
        // Maintenance drains (#15): moving traffic off a link before work on
        // it acts on the network's condition, as an operator does; anyone
        // who reads may see which drains are in force.
        "strata.v1.Maintenance" => match method {
            "ListDrains" => Access::Needs(Role::Viewer),
            _ => Access::Needs(Role::Operator),
        },
        // Changes to live intents (#14): an orchestrator's, as creates are.
        "strata.v1.Updates" => Access::Needs(Role::Orchestrator),
        // Runtime topology (#15): changing what the controller believes the
        // network is, nodes and links, is above any intent — an admin's,
        // said here rather than left to the default.
        "strata.v1.TopologyChanges" => Access::Needs(Role::Admin),
        _ => Access::Needs(Role::Admin),
    }
}

/// Whether a method only reads (the audit trail records changes, and
/// refusals of anything).
pub fn is_read(path: &str) -> bool {
    let method = path.rsplit('/').next().unwrap_or_default();
    [
        "Get",
        "List",
        "Watch",
        "Check",
        "ServerReflectionInfo",
        "WhatIf",
        "Survivability",
    ]
    .iter()
    .any(|p| method.starts_with(p))
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_are_told_from_changes() {
        use super::is_read;
        assert!(is_read("/strata.v1.Audit/ListAudit"));
        assert!(is_read("/strata.v1.Events/WatchTelemetry"));
        assert!(is_read("/grpc.health.v1.Health/Check"));
        assert!(is_read("/strata.v1.WhatIf/WhatIf"));
        assert!(is_read("/strata.v1.WhatIf/Survivability"));
        assert!(!is_read("/strata.v1.Policies/CreatePolicy"));
        assert!(!is_read("/strata.sim.v1.FaultInjection/CrashDevice"));
        assert!(!is_read("/strata.v1.Services/UpdateService"));
        assert!(!is_read("/strata.v1.Updates/UpdateService"));
    }

    use super::*;

    #[test]
    fn reads_need_a_viewer_writes_an_orchestrator_faults_an_operator() {
        let needs = |p| required(p);
        assert_eq!(needs("/grpc.health.v1.Health/Check"), Access::Open);
        assert_eq!(needs("/grpc.health.v1.Health/Watch"), Access::Open);
        for read in [
            "/strata.v1.Topology/ListNodes",
            "/strata.v1.Events/Watch",
            "/strata.v1.Events/WatchTelemetry",
            "/strata.v1.Policies/GetPolicy",
            "/strata.v1.Services/ListServices",
            "/strata.v1.Wavelengths/GetWavelength",
            "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
            "/strata.v1.WhatIf/WhatIf",
        ] {
            assert_eq!(needs(read), Access::Needs(Role::Viewer), "{read}");
        }
        assert_eq!(
            needs("/strata.v1.WhatIf/Survivability"),
            Access::Needs(Role::Operator)
        );
        assert_eq!(
            needs("/strata.v1.Maintenance/ListDrains"),
            Access::Needs(Role::Viewer)
        );
        for op in [
            "/strata.v1.Maintenance/Drain",
            "/strata.v1.Maintenance/Undrain",
        ] {
            assert_eq!(needs(op), Access::Needs(Role::Operator), "{op}");
        }
        assert!(is_read("/strata.v1.Maintenance/ListDrains"));
        assert!(!is_read("/strata.v1.Maintenance/Drain"));
        assert!(!is_read("/strata.v1.Maintenance/Undrain"));
        for write in [
            "/strata.v1.Policies/CreatePolicy",
            "/strata.v1.Policies/DeletePolicy",
            "/strata.v1.Services/CreateService",
            "/strata.v1.Wavelengths/DeleteWavelength",
            // a method added later is a write until a rule says otherwise
            "/strata.v1.Services/UpdateService",
            "/strata.v1.Updates/UpdateService",
        ] {
            assert_eq!(needs(write), Access::Needs(Role::Orchestrator), "{write}");
        }
        assert_eq!(
            needs("/strata.sim.v1.FaultInjection/CrashDevice"),
            Access::Needs(Role::Operator)
        );
    }

    #[test]
    fn topology_changes_are_for_admins_and_are_changes() {
        for m in [
            "AddNode",
            "UpdateNode",
            "RemoveNode",
            "AddLink",
            "UpdateLink",
            "RemoveLink",
            "ReloadTopology",
        ] {
            let path = format!("/strata.v1.TopologyChanges/{m}");
            assert_eq!(required(&path), Access::Needs(Role::Admin), "{path}");
            assert!(!is_read(&path), "{path} is audited as a change");
        }
    }

    #[test]
    fn anything_without_a_rule_is_for_admins_only() {
        for odd in [
            "",
            "/",
            "//",
            "/gnmi.gNMI/Set",
            "/strata.v1.Audit/ListAudit",
            "/strata.v1.Policies",
            "/grpc.health.v1.Healthz/Check",
        ] {
            assert_eq!(required(odd), Access::Needs(Role::Admin), "{odd:?}");
        }
    }

    #[test]
    fn roles_are_ordered_by_what_they_may_do() {
        assert!(Role::Viewer < Role::Operator);
        assert!(Role::Operator < Role::Orchestrator);
        assert!(Role::Orchestrator < Role::Admin);
    }
}
