//! `strata drain` / `strata undrain` / `strata drains`: maintenance drains
//! on a running controller, printed as an operator reads them.

use std::fmt::Write as _;

use crate::proto::strata::v1 as api;
use crate::security::client::ClientCredentials;
use api::maintenance_client::MaintenanceClient;

fn status(s: tonic::Status) -> anyhow::Error {
    anyhow::anyhow!("{:?}: {}", s.code(), s.message())
}

fn list(items: &[String]) -> String {
    if items.is_empty() {
        "-".into()
    } else {
        items.join(", ")
    }
}

pub fn render_drain(r: &api::DrainResponse) -> String {
    let d = r.drain.clone().unwrap_or_default();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "drained {} {} (links {}): {}",
        d.kind,
        d.target,
        list(&d.links),
        d.reason
    );
    let _ = writeln!(out, "moved: {}", list(&r.moved_policies));
    let _ = writeln!(
        out,
        "could not move (kept on their path): {}",
        list(&r.unmoved_policies)
    );
    if !r.failed_policies.is_empty() {
        let _ = writeln!(
            out,
            "headend refused the move: {}",
            list(&r.failed_policies)
        );
    }
    out
}

pub fn render_undrain(r: &api::UndrainResponse) -> String {
    let d = r.drain.clone().unwrap_or_default();
    let mut out = String::new();
    let _ = writeln!(out, "undrained {} {}", d.kind, d.target);
    let _ = writeln!(out, "links back in service: {}", list(&r.links_back));
    let _ = writeln!(out, "restored: {}", list(&r.restored_policies));
    out
}

pub fn render_list(r: &api::ListDrainsResponse) -> String {
    if r.drains.is_empty() {
        return "no drains in force\n".into();
    }
    let mut out = String::new();
    for d in &r.drains {
        let _ = writeln!(
            out,
            "{} {} (links {}): {}",
            d.kind,
            d.target,
            list(&d.links),
            d.reason
        );
    }
    out
}

pub async fn drain(
    api_addr: std::net::SocketAddr,
    target: &str,
    reason: &str,
    credentials: &ClientCredentials,
) -> anyhow::Result<String> {
    let r = credentials
        .follow_leader(&api_addr.to_string(), |channel| async move {
            MaintenanceClient::new(channel)
                .drain(api::DrainRequest {
                    target: target.into(),
                    reason: reason.into(),
                })
                .await
        })
        .await?
        .map_err(status)?;
    Ok(render_drain(&r.into_inner()))
}

pub async fn undrain(
    api_addr: std::net::SocketAddr,
    target: &str,
    credentials: &ClientCredentials,
) -> anyhow::Result<String> {
    let r = credentials
        .follow_leader(&api_addr.to_string(), |channel| async move {
            MaintenanceClient::new(channel)
                .undrain(api::UndrainRequest {
                    target: target.into(),
                })
                .await
        })
        .await?
        .map_err(status)?;
    Ok(render_undrain(&r.into_inner()))
}

pub async fn drains(
    api_addr: std::net::SocketAddr,
    credentials: &ClientCredentials,
) -> anyhow::Result<String> {
    let channel = credentials.connect(&api_addr.to_string()).await?;
    let r = MaintenanceClient::new(channel)
        .list_drains(api::ListDrainsRequest {})
        .await
        .map_err(status)?;
    Ok(render_list(&r.into_inner()))
}
