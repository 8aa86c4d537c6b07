//! `TopologyChanges`: packet nodes and links added, changed and removed at
//! run time, and topology reloads. The controller (`controller/topology.rs`,
//! planning in `plan::topology`) does the work; this is its strata.v1
//! conversion.

use tonic::{Request, Response, Status};

use super::{audited, Northbound};
use crate::controller::topology::TopologyReport;
use crate::controller::ApiError;
use crate::model::{Endpoint, Layer, Link, Node, Role};
use crate::plan::topology::{Change, Diff};
use crate::proto::strata::v1 as api;
use api::topology_changes_server::TopologyChanges;

fn invalid(field: &str, reason: impl Into<String>) -> ApiError {
    crate::controller::error::invalid(field, reason)
}

/// A node as a topology event shows it (no live session state).
pub fn node(n: &Node) -> api::Node {
    api::Node {
        name: n.name.clone(),
        role: match n.role {
            Role::Packet => api::Role::Packet,
            Role::Optical => api::Role::Optical,
        } as i32,
        site: n.site.clone().unwrap_or_default(),
        address: n.address.to_string(),
        router_id: n.router_id.map(|r| r.to_string()).unwrap_or_default(),
        node_sid: n.node_sid.unwrap_or(0),
        interfaces: n.interfaces.clone(),
        access_interfaces: n.access_interfaces.clone(),
        ..Default::default()
    }
}

/// A link as a topology event shows it (its configured attributes).
pub fn link(l: &Link) -> api::Link {
    api::Link {
        name: l.name.clone(),
        layer: match l.layer {
            Layer::Packet => api::Layer::Packet,
            Layer::Optical => api::Layer::Optical,
            Layer::Fiber => api::Layer::Fiber,
        } as i32,
        a: Some(api::Endpoint {
            node: l.a.node.clone(),
            interface: l.a.interface.clone(),
        }),
        b: Some(api::Endpoint {
            node: l.b.node.clone(),
            interface: l.b.interface.clone(),
        }),
        length_km: l.length_km,
        latency_us: l.latency_us,
        capacity_gbps: l.capacity_gbps,
        te_metric: l.te_metric,
        igp_metric: l.igp_metric,
        srlgs: l.srlgs.iter().copied().collect(),
        admin_groups: l.admin_groups.iter().cloned().collect(),
        rides: l.rides.clone(),
        ..Default::default()
    }
}

/// The node a request gives; errors name its field (`node.…`).
pub fn node_of(n: Option<api::Node>) -> Result<Node, ApiError> {
    let n = n.ok_or_else(|| invalid("node", "required"))?;
    let role = match api::Role::try_from(n.role) {
        Ok(api::Role::Packet) | Ok(api::Role::Unspecified) => Role::Packet,
        Ok(api::Role::Optical) => Role::Optical,
        Err(_) => return Err(invalid("node.role", format!("unknown role {}", n.role))),
    };
    let address = n.address.parse().map_err(|e| {
        invalid(
            "node.address",
            format!(
                "{} is not HOST:PORT ({e}); in a lab, 127.0.0.1:0 starts a simulated device",
                crate::controller::quote(&n.address)
            ),
        )
    })?;
    let router_id = match n.router_id.as_str() {
        "" => None,
        r => Some(r.parse().map_err(|e| {
            invalid(
                "node.router_id",
                format!(
                    "{} is not an IPv4 address ({e})",
                    crate::controller::quote(r)
                ),
            )
        })?),
    };
    Ok(Node {
        name: n.name,
        role,
        site: (!n.site.is_empty()).then_some(n.site),
        location: None,
        address,
        router_id,
        node_sid: (n.node_sid != 0).then_some(n.node_sid),
        interfaces: Vec::new(),
        access_interfaces: n.access_interfaces,
    })
}

/// The link a request gives; errors name its field (`link.…`).
pub fn link_of(l: Option<api::Link>) -> Result<Link, ApiError> {
    let l = l.ok_or_else(|| invalid("link", "required"))?;
    let layer = match api::Layer::try_from(l.layer) {
        Ok(api::Layer::Packet) | Ok(api::Layer::Unspecified) => Layer::Packet,
        Ok(api::Layer::Optical) => Layer::Optical,
        Ok(api::Layer::Fiber) => Layer::Fiber,
        Err(_) => return Err(invalid("link.layer", format!("unknown layer {}", l.layer))),
    };
    let end = |e: Option<api::Endpoint>, field: &str| -> Result<Endpoint, ApiError> {
        let e = e.ok_or_else(|| invalid(field, "required"))?;
        Ok(Endpoint {
            node: e.node,
            interface: e.interface,
        })
    };
    Ok(Link {
        name: l.name,
        a: end(l.a, "link.a")?,
        b: end(l.b, "link.b")?,
        layer,
        length_km: l.length_km,
        latency_us: l.latency_us,
        capacity_gbps: l.capacity_gbps,
        te_metric: l.te_metric,
        igp_metric: l.igp_metric,
        srlgs: l.srlgs.into_iter().collect(),
        admin_groups: l.admin_groups.into_iter().collect(),
        rides: l.rides,
        plant: None,
    })
}

fn step(c: &Change) -> api::TopologyStep {
    api::TopologyStep {
        change: match c {
            Change::AddNode(_) | Change::AddLink(_) => api::Change::Created,
            Change::UpdateNode(_) | Change::UpdateLink(_) => api::Change::Updated,
            Change::RemoveNode(_) | Change::RemoveLink(_) => api::Change::Deleted,
        } as i32,
        kind: c.kind().to_string(),
        name: c.name().to_string(),
    }
}

fn response(object: &str, r: TopologyReport) -> Response<api::TopologyChangeResponse> {
    audited(
        object,
        api::TopologyChangeResponse {
            steps: r.steps.iter().map(step).collect(),
            applied: r.applied,
            revision: r.revision,
        },
    )
}

impl Northbound {
    async fn topology_change(
        &self,
        object: &str,
        change: Change,
        dry_run: bool,
        field: &str,
    ) -> Result<Response<api::TopologyChangeResponse>, Status> {
        let r = self
            .controller
            .change_topology(Diff::one(change), dry_run, field)
            .await?;
        Ok(response(object, r))
    }
}

#[tonic::async_trait]
impl TopologyChanges for Northbound {
    async fn add_node(
        &self,
        req: Request<api::AddNodeRequest>,
    ) -> Result<Response<api::TopologyChangeResponse>, Status> {
        let req = req.into_inner();
        let n = node_of(req.node)?;
        let name = n.name.clone();
        self.topology_change(&name, Change::AddNode(n), req.dry_run, "node")
            .await
    }

    async fn update_node(
        &self,
        req: Request<api::UpdateNodeRequest>,
    ) -> Result<Response<api::TopologyChangeResponse>, Status> {
        let req = req.into_inner();
        let n = node_of(req.node)?;
        let name = n.name.clone();
        self.topology_change(&name, Change::UpdateNode(n), req.dry_run, "node")
            .await
    }

    async fn remove_node(
        &self,
        req: Request<api::RemoveNodeRequest>,
    ) -> Result<Response<api::TopologyChangeResponse>, Status> {
        let req = req.into_inner();
        if req.name.is_empty() {
            return Err(invalid("name", "must name a node").into());
        }
        self.topology_change(
            &req.name.clone(),
            Change::RemoveNode(req.name),
            req.dry_run,
            "name",
        )
        .await
    }

    async fn add_link(
        &self,
        req: Request<api::AddLinkRequest>,
    ) -> Result<Response<api::TopologyChangeResponse>, Status> {
        let req = req.into_inner();
        let l = link_of(req.link)?;
        let name = l.name.clone();
        self.topology_change(&name, Change::AddLink(l), req.dry_run, "link")
            .await
    }

    async fn update_link(
        &self,
        req: Request<api::UpdateLinkRequest>,
    ) -> Result<Response<api::TopologyChangeResponse>, Status> {
        let req = req.into_inner();
        let l = link_of(req.link)?;
        let name = l.name.clone();
        self.topology_change(&name, Change::UpdateLink(l), req.dry_run, "link")
            .await
    }

    async fn remove_link(
        &self,
        req: Request<api::RemoveLinkRequest>,
    ) -> Result<Response<api::TopologyChangeResponse>, Status> {
        let req = req.into_inner();
        if req.name.is_empty() {
            return Err(invalid("name", "must name a link").into());
        }
        self.topology_change(
            &req.name.clone(),
            Change::RemoveLink(req.name),
            req.dry_run,
            "name",
        )
        .await
    }

    async fn reload_topology(
        &self,
        req: Request<api::ReloadTopologyRequest>,
    ) -> Result<Response<api::TopologyChangeResponse>, Status> {
        let req = req.into_inner();
        let text = (!req.text.is_empty()).then_some(req.text.as_str());
        let r = self.controller.reload_topology(text, req.dry_run).await?;
        Ok(response("topology", r))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of(e: ApiError) -> String {
        let s = tonic::Status::from(e);
        assert_eq!(s.code(), tonic::Code::InvalidArgument, "{s:?}");
        s.message()
            .split(':')
            .next()
            .unwrap_or_default()
            .to_string()
    }

    #[test]
    fn bad_nodes_and_links_name_the_field() {
        assert_eq!(field_of(node_of(None).unwrap_err()), "node");
        let n = api::Node {
            name: "pe9".into(),
            address: "nowhere".into(),
            ..Default::default()
        };
        assert_eq!(
            field_of(node_of(Some(n.clone())).unwrap_err()),
            "node.address"
        );
        let n = api::Node {
            address: "127.0.0.1:0".into(),
            router_id: "10.0.0".into(),
            ..n
        };
        assert_eq!(
            field_of(node_of(Some(n.clone())).unwrap_err()),
            "node.router_id"
        );
        let n = api::Node { role: 9, ..n };
        assert_eq!(field_of(node_of(Some(n)).unwrap_err()), "node.role");
        assert_eq!(field_of(link_of(None).unwrap_err()), "link");
        let l = api::Link {
            name: "x".into(),
            a: Some(api::Endpoint::default()),
            ..Default::default()
        };
        assert_eq!(field_of(link_of(Some(l)).unwrap_err()), "link.b");
        // What converts is checked by the planner, which names its fields too.
        let n = node_of(Some(node(&Node {
            name: "pe9".into(),
            role: Role::Packet,
            site: Some("annex".into()),
            location: None,
            address: "127.0.0.1:7".parse().unwrap(),
            router_id: Some("10.0.0.9".parse().unwrap()),
            node_sid: Some(16009),
            interfaces: vec![],
            access_interfaces: vec!["ce-1".into()],
        })))
        .unwrap();
        assert_eq!(n.node_sid, Some(16009));
        assert_eq!(n.site.as_deref(), Some("annex"));
    }
}
