//! `strata reload-topology`, `strata add-node`, `strata add-link`,
//! `strata remove-link`, `strata remove-node`: runtime topology changes on a
//! running controller, each with `--dry-run`, printed as the steps they take.

use std::fmt::Write as _;

use crate::proto::strata::v1 as api;
use crate::security::client::ClientCredentials;
use api::topology_changes_client::TopologyChangesClient;

fn status(s: tonic::Status) -> anyhow::Error {
    anyhow::anyhow!("{:?}: {}", s.code(), s.message())
}

/// The steps as `+ node pe4`, `~ link pe1-pe3`, `- link pe2-pe3`.
pub fn render(r: &api::TopologyChangeResponse) -> String {
    let mut out = String::new();
    if r.steps.is_empty() {
        out.push_str("no change: the topology is already so\n");
        return out;
    }
    let _ = if r.applied {
        writeln!(out, "applied (revision {}):", r.revision)
    } else {
        writeln!(out, "dry run, nothing changed; would apply:")
    };
    for s in &r.steps {
        let sign = match api::Change::try_from(s.change) {
            Ok(api::Change::Created) => '+',
            Ok(api::Change::Deleted) => '-',
            _ => '~',
        };
        let _ = writeln!(out, "  {sign} {} {}", s.kind, s.name);
    }
    out
}

/// Sends one change through `call`; a replica follower's refusal naming
/// the leader is followed there once (`ClientCredentials::follow_leader`).
async fn change<F, Fut>(
    api_addr: std::net::SocketAddr,
    credentials: &ClientCredentials,
    mut call: F,
) -> anyhow::Result<String>
where
    F: FnMut(TopologyChangesClient<crate::security::client::Authed>) -> Fut,
    Fut: std::future::Future<
        Output = Result<tonic::Response<api::TopologyChangeResponse>, tonic::Status>,
    >,
{
    let r = credentials
        .follow_leader(&api_addr.to_string(), |channel| {
            call(TopologyChangesClient::new(channel))
        })
        .await?
        .map_err(status)?;
    Ok(render(&r.into_inner()))
}

/// Reloads from `file` (its text is sent), or has the controller read its
/// own topology file again when `None`.
pub async fn reload(
    api_addr: std::net::SocketAddr,
    file: Option<&std::path::Path>,
    dry_run: bool,
    credentials: &ClientCredentials,
) -> anyhow::Result<String> {
    let text = match file {
        Some(f) => std::fs::read_to_string(f)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", f.display()))?,
        None => String::new(),
    };
    let req = api::ReloadTopologyRequest { text, dry_run };
    change(api_addr, credentials, |mut c| {
        let req = req.clone();
        async move { c.reload_topology(req).await }
    })
    .await
}

pub async fn remove_link(
    api_addr: std::net::SocketAddr,
    name: &str,
    dry_run: bool,
    credentials: &ClientCredentials,
) -> anyhow::Result<String> {
    let req = api::RemoveLinkRequest {
        name: name.into(),
        dry_run,
    };
    change(api_addr, credentials, |mut c| {
        let req = req.clone();
        async move { c.remove_link(req).await }
    })
    .await
}

pub async fn remove_node(
    api_addr: std::net::SocketAddr,
    name: &str,
    dry_run: bool,
    credentials: &ClientCredentials,
) -> anyhow::Result<String> {
    let req = api::RemoveNodeRequest {
        name: name.into(),
        dry_run,
    };
    change(api_addr, credentials, |mut c| {
        let req = req.clone();
        async move { c.remove_node(req).await }
    })
    .await
}

pub async fn add_node(
    api_addr: std::net::SocketAddr,
    node: api::Node,
    dry_run: bool,
    credentials: &ClientCredentials,
) -> anyhow::Result<String> {
    let req = api::AddNodeRequest {
        node: Some(node),
        dry_run,
    };
    change(api_addr, credentials, |mut c| {
        let req = req.clone();
        async move { c.add_node(req).await }
    })
    .await
}

pub async fn add_link(
    api_addr: std::net::SocketAddr,
    link: api::Link,
    dry_run: bool,
    credentials: &ClientCredentials,
) -> anyhow::Result<String> {
    let req = api::AddLinkRequest {
        link: Some(link),
        dry_run,
    };
    change(api_addr, credentials, |mut c| {
        let req = req.clone();
        async move { c.add_link(req).await }
    })
    .await
}

/// `NODE:INTERFACE` as a link end.
pub fn endpoint(s: &str) -> Result<api::Endpoint, String> {
    match s.split_once(':') {
        Some((node, interface)) if !node.is_empty() && !interface.is_empty() => Ok(api::Endpoint {
            node: node.into(),
            interface: interface.into(),
        }),
        _ => Err(format!("{s:?} is not NODE:INTERFACE")),
    }
}
