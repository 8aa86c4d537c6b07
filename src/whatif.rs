//! `strata whatif`: ask a running controller what a failure would do
//! (`fail NAME…`), or for the survivability table of every single SRLG and
//! node failure, and print the answers as tables.

use std::fmt::Write as _;
use std::io::Write as _;

use crate::proto::strata::v1 as api;
use crate::security::client::ClientCredentials;
use api::topology_client::TopologyClient;
use api::what_if_client::WhatIfClient;

/// Sorts operator-given names into what the API asks for: a number is an
/// SRLG, a packet link a link, a fiber or optical link a fiber, else a node.
async fn resolve(
    channel: crate::security::client::Authed,
    names: &[String],
) -> anyhow::Result<api::WhatIfRequest> {
    let mut topo = TopologyClient::new(channel);
    let mut req = api::WhatIfRequest::default();
    for name in names {
        if let Ok(srlg) = name.parse::<u32>() {
            req.fail_srlgs.push(srlg);
            continue;
        }
        match topo
            .get_link(api::GetLinkRequest { name: name.clone() })
            .await
        {
            Ok(link) => {
                if link.into_inner().layer == api::Layer::Packet as i32 {
                    req.fail_links.push(name.clone());
                } else {
                    req.fail_fibers.push(name.clone());
                }
                continue;
            }
            Err(s) if s.code() == tonic::Code::NotFound => {}
            Err(s) => return Err(anyhow::anyhow!("looking up {name:?}: {}", s.message())),
        }
        match topo
            .get_node(api::GetNodeRequest { name: name.clone() })
            .await
        {
            Ok(_) => req.fail_nodes.push(name.clone()),
            Err(s) if s.code() == tonic::Code::NotFound => {
                anyhow::bail!("{name:?} is not a link, fiber, SRLG number or node")
            }
            Err(s) => return Err(anyhow::anyhow!("looking up {name:?}: {}", s.message())),
        }
    }
    Ok(req)
}

fn list(items: &[String]) -> String {
    if items.is_empty() {
        "-".into()
    } else {
        items.join(",")
    }
}

/// The answer as an operator reads it: what goes down, then each policy,
/// service, wavelength and short link.
pub fn render(r: &api::WhatIfResponse) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "down: links {}; fibers {}",
        list(&r.failed_links),
        list(&r.failed_fibers)
    );
    if r.policies.is_empty() {
        let _ = writeln!(out, "policies: none affected");
    } else {
        let _ = writeln!(
            out,
            "{:<10} {:<12} {:<10} {:<24} {:<24} {:>10} {:>10}  SLA",
            "POLICY", "NAME", "SERVICE", "OLD PATH", "NEW PATH", "LATENCY", "CHANGE"
        );
        for p in &r.policies {
            let (new, latency, change) = if p.stranded {
                ("stranded".to_string(), "-".to_string(), "-".to_string())
            } else {
                (
                    list(&p.new_links),
                    format!("{} µs", p.new_latency_us),
                    format!("{:+} µs", p.latency_change_us),
                )
            };
            let sla = match (p.meets_sla, p.max_latency_us) {
                (true, 0) => "ok".to_string(),
                (true, b) => format!("ok (≤ {b} µs)"),
                (false, 0) => "BROKEN".to_string(),
                (false, b) => format!("BROKEN (≤ {b} µs)"),
            };
            let service = if p.service.is_empty() {
                "-"
            } else {
                &p.service
            };
            let _ = writeln!(
                out,
                "{:<10} {:<12} {:<10} {:<24} {:<24} {:>10} {:>10}  {sla}",
                p.id,
                p.name,
                service,
                list(&p.old_links),
                new,
                latency,
                change
            );
            if p.stranded {
                let _ = writeln!(out, "  {}: {}", p.id, p.stranded_reason);
            }
        }
    }
    for s in &r.services {
        let _ = writeln!(
            out,
            "service {} ({}): {} transports affected, {} stranded, {} over bound: {}",
            s.id,
            s.name,
            s.affected_policies.len(),
            s.stranded_policies.len(),
            s.over_bound_policies.len(),
            if s.meets_sla { "SLA met" } else { "SLA BROKEN" }
        );
    }
    for w in &r.wavelengths {
        let _ = writeln!(
            out,
            "wavelength {} ({}) lost, with link {}: {}",
            w.id, w.name, w.carries_link, w.reason
        );
    }
    for s in &r.shortfalls {
        let _ = writeln!(
            out,
            "short: {} {}→{}: {:.1} of {:.1} Gb/s reserved ({:.1} over; was {:.1})",
            s.link,
            s.from,
            s.to,
            s.reserved_after_gbps,
            s.capacity_gbps,
            s.short_gbps,
            s.reserved_before_gbps
        );
    }
    if r.shortfalls.is_empty() {
        let _ = writeln!(out, "capacity: no link short");
    }
    if !r.skipped_in_flight.is_empty() {
        let _ = writeln!(
            out,
            "left to requests in progress: {}",
            list(&r.skipped_in_flight)
        );
    }
    out
}

pub async fn fail(
    api_addr: std::net::SocketAddr,
    names: &[String],
    credentials: &ClientCredentials,
) -> anyhow::Result<String> {
    let channel = credentials.connect(&api_addr.to_string()).await?;
    let req = resolve(channel.clone(), names).await?;
    let r = WhatIfClient::new(channel)
        .what_if(req)
        .await
        .map_err(|s| anyhow::anyhow!("{:?}: {}", s.code(), s.message()))?;
    Ok(render(&r.into_inner()))
}

/// The table's rows, one per element.
pub fn render_table(rows: &[api::SurvivabilityRow]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<6} {:<12} {:>6} {:>8} {:>6} {:>9} {:>9} {:>9} {:>8}  VERDICT",
        "KIND", "NAME", "LINKS", "AFFECTED", "MOVED", "STRANDED", "SERVICES", "WAVES", "SHORT"
    );
    for r in rows {
        let short = if r.shortfall_links.is_empty() {
            "-".to_string()
        } else {
            format!("{:.0}G", r.worst_shortfall_gbps)
        };
        let _ = writeln!(
            out,
            "{:<6} {:<12} {:>6} {:>8} {:>6} {:>9} {:>9} {:>9} {:>8}  {}",
            r.kind,
            r.name,
            r.failed_links,
            r.affected_policies,
            r.moved_policies,
            r.stranded_policies.len(),
            r.broken_services.len(),
            r.stranded_wavelengths.len(),
            short,
            if r.survives { "survives" } else { "BREAKS" }
        );
        for (what, ids) in [
            ("stranded", &r.stranded_policies),
            ("over bound", &r.over_bound_policies),
            ("services broken", &r.broken_services),
            ("wavelengths lost", &r.stranded_wavelengths),
            ("short", &r.shortfall_links),
        ] {
            if !ids.is_empty() {
                let _ = writeln!(out, "  {what}: {}", ids.join(", "));
            }
        }
    }
    let broken = rows.iter().filter(|r| !r.survives).count();
    let _ = writeln!(
        out,
        "{} single failures, {} survived, {} break something",
        rows.len(),
        rows.len() - broken,
        broken
    );
    out
}

pub async fn survivability(
    api_addr: std::net::SocketAddr,
    credentials: &ClientCredentials,
) -> anyhow::Result<String> {
    let channel = credentials.connect(&api_addr.to_string()).await?;
    let mut stream = WhatIfClient::new(channel)
        .survivability(api::SurvivabilityRequest {})
        .await
        .map_err(|s| anyhow::anyhow!("{:?}: {}", s.code(), s.message()))?
        .into_inner();
    let mut rows = Vec::new();
    let tty = std::io::IsTerminal::is_terminal(&std::io::stderr());
    while let Some(msg) = stream
        .message()
        .await
        .map_err(|s| anyhow::anyhow!("{:?}: {}", s.code(), s.message()))?
    {
        match msg.row {
            Some(row) => rows.push(row),
            None if tty => {
                eprint!("\rsurvivability: {}/{} failures", msg.done, msg.total);
                let _ = std::io::stderr().flush();
            }
            None if msg.done == msg.total => {
                eprintln!("survivability: {}/{} failures", msg.done, msg.total)
            }
            None => {}
        }
    }
    if tty {
        eprintln!();
    }
    let _ = std::io::stderr().flush();
    anyhow::ensure!(
        !rows.is_empty(),
        "survivability: the controller sent no table"
    );
    Ok(render_table(&rows))
}
