//! `Topology`: nodes and links with TE attributes and live status.

use tonic::{Request, Response, Status};

use super::paging::Page;
use super::Northbound;
use crate::controller::{quote, Controller, Fabric};
use crate::model::{Layer, Link, Node, Role};
use crate::proto::strata::v1 as api;
use crate::state::SessionState;
use api::topology_server::Topology;

fn role(r: Role) -> api::Role {
    match r {
        Role::Packet => api::Role::Packet,
        Role::Optical => api::Role::Optical,
    }
}

fn layer(l: Layer) -> api::Layer {
    match l {
        Layer::Packet => api::Layer::Packet,
        Layer::Optical => api::Layer::Optical,
        Layer::Fiber => api::Layer::Fiber,
    }
}

impl Northbound {
    /// A node as the API shows it (`controller` for its session state).
    pub(crate) fn node_view(
        controller: &Controller,
        inner: &Fabric,
        name: &str,
    ) -> Option<api::Node> {
        let n = inner.topology.node(name)?;
        let status = controller.sessions().and_then(|s| s.device(name));
        Some(api::Node {
            name: n.name.clone(),
            role: role(n.role) as i32,
            site: n.site.clone().unwrap_or_default(),
            address: n.address.to_string(),
            router_id: n.router_id.map(|r| r.to_string()).unwrap_or_default(),
            node_sid: n.node_sid.unwrap_or(0),
            interfaces: n.interfaces.clone(),
            access_interfaces: n.access_interfaces.clone(),
            session: match status.as_ref().map(|s| s.state) {
                None => api::SessionState::Unspecified,
                Some(SessionState::Connecting) => api::SessionState::Connecting,
                Some(SessionState::Up) => api::SessionState::Up,
                Some(SessionState::Down) => api::SessionState::Down,
            } as i32,
            reconcile_error: status
                .as_ref()
                .and_then(|s| s.reconcile_error.clone())
                .unwrap_or_default(),
            last_error: status.and_then(|s| s.last_error).unwrap_or_default(),
        })
    }

    pub(crate) fn link_view(inner: &Fabric, name: &str) -> Option<api::Link> {
        let l = inner.topology.link(name)?;
        let edges: Vec<_> = inner
            .graph
            .edges_of_link(name)
            .filter_map(|e| inner.graph.edges.get(e))
            .collect();
        let reserved = edges.iter().map(|e| e.reserved_gbps).fold(0.0, f64::max);
        let up = edges.iter().all(|e| e.up && !e.pruned);
        let degraded = inner.degraded.contains(name);
        let latency = edges
            .iter()
            .map(|e| e.latency_us)
            .max()
            .unwrap_or(l.latency_us);
        let srlgs: std::collections::BTreeSet<u32> = edges
            .iter()
            .flat_map(|e| e.srlgs.iter().copied())
            .chain(l.srlgs.iter().copied())
            .collect();
        Some(api::Link {
            name: l.name.clone(),
            layer: layer(l.layer) as i32,
            a: Some(api::Endpoint {
                node: l.a.node.clone(),
                interface: l.a.interface.clone(),
            }),
            b: Some(api::Endpoint {
                node: l.b.node.clone(),
                interface: l.b.interface.clone(),
            }),
            length_km: l.length_km,
            latency_us: latency,
            capacity_gbps: l.capacity_gbps,
            reserved_gbps: reserved,
            te_metric: l.te_metric,
            igp_metric: l.igp_metric,
            srlgs: srlgs.into_iter().collect(),
            admin_groups: l.admin_groups.iter().cloned().collect(),
            rides: l.rides.clone(),
            status: if !up {
                api::LinkStatus::Down
            } else if degraded {
                api::LinkStatus::Degraded
            } else {
                api::LinkStatus::Up
            } as i32,
        })
    }
}

#[tonic::async_trait]
impl Topology for Northbound {
    async fn get_node(
        &self,
        req: Request<api::GetNodeRequest>,
    ) -> Result<Response<api::Node>, Status> {
        let name = req.into_inner().name;
        let inner = self.controller.read();
        Northbound::node_view(&self.controller, &inner, &name)
            .map(Response::new)
            .ok_or_else(|| Status::not_found(format!("name: node {} not found", quote(&name))))
    }

    async fn list_nodes(
        &self,
        req: Request<api::ListNodesRequest>,
    ) -> Result<Response<api::ListNodesResponse>, Status> {
        let r = req.into_inner();
        let want = r.role;
        if api::Role::try_from(want).is_err() {
            return Err(Status::invalid_argument(format!(
                "role: unknown value {want}"
            )));
        }
        let page = Page::new(
            "ListNodes",
            &[&want.to_string()],
            r.page_size,
            &r.page_token,
        )?;
        let inner = self.controller.read();
        // The topology keeps file order; paging needs name order. Sorting
        // references is cheap beside building the views, and the topology
        // never changes under a running controller.
        let mut matching: Vec<&Node> = inner
            .topology
            .nodes
            .iter()
            .filter(|n| want == 0 || role(n.role) as i32 == want)
            .collect();
        matching.sort_unstable_by(|a, b| a.name.cmp(&b.name));
        let (window, more) = page.of_sorted(&matching, |n| &n.name);
        let nodes: Vec<api::Node> = window
            .iter()
            .filter_map(|n| Northbound::node_view(&self.controller, &inner, &n.name))
            .collect();
        Ok(Response::new(api::ListNodesResponse {
            next_page_token: page.next_token(window.last().map(|n| n.name.as_str()), more),
            nodes,
        }))
    }

    async fn get_link(
        &self,
        req: Request<api::GetLinkRequest>,
    ) -> Result<Response<api::Link>, Status> {
        let name = req.into_inner().name;
        let inner = self.controller.read();
        Northbound::link_view(&inner, &name)
            .map(Response::new)
            .ok_or_else(|| Status::not_found(format!("name: link {} not found", quote(&name))))
    }

    async fn list_links(
        &self,
        req: Request<api::ListLinksRequest>,
    ) -> Result<Response<api::ListLinksResponse>, Status> {
        let r = req.into_inner();
        if api::Layer::try_from(r.layer).is_err() {
            return Err(Status::invalid_argument(format!(
                "layer: unknown value {}",
                r.layer
            )));
        }
        let page = Page::new(
            "ListLinks",
            &[&r.layer.to_string(), &r.node],
            r.page_size,
            &r.page_token,
        )?;
        let inner = self.controller.read();
        if !r.node.is_empty() && inner.topology.node(&r.node).is_none() {
            return Err(Status::not_found(format!(
                "node: node {} not found",
                quote(&r.node)
            )));
        }
        let mut matching: Vec<&Link> = inner
            .topology
            .links
            .iter()
            .filter(|l| r.layer == 0 || layer(l.layer) as i32 == r.layer)
            .filter(|l| r.node.is_empty() || l.touches(&r.node))
            .collect();
        matching.sort_unstable_by(|a, b| a.name.cmp(&b.name));
        let (window, more) = page.of_sorted(&matching, |l| &l.name);
        let links: Vec<api::Link> = window
            .iter()
            .filter_map(|l| Northbound::link_view(&inner, &l.name))
            .collect();
        Ok(Response::new(api::ListLinksResponse {
            next_page_token: page.next_token(window.last().map(|l| l.name.as_str()), more),
            links,
        }))
    }
}
