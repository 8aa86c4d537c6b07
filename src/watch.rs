//! `strata watch`: a live operator view over the northbound API — links with
//! their current delay/loss/OSNR and health, and the latest breaches and
//! reroutes — redrawn in place once a second.

use std::collections::{BTreeMap, VecDeque};
use std::io::{IsTerminal, Write};
use std::time::Duration;

use tokio_stream::StreamExt;

use crate::proto::strata::v1 as api;
use api::events_client::EventsClient;
use api::topology_client::TopologyClient;

#[derive(Default, Clone)]
struct LinkView {
    delay_us: Option<f64>,
    loss: Option<f64>,
    osnr: Option<f64>,
    state: String,
}

fn event_line(e: &api::Event) -> Option<String> {
    let t = chrono_like(e.timestamp_ns);
    match e.object.as_ref()? {
        api::event::Object::Policy(p) if e.change == api::Change::Updated as i32 => {
            let path = p
                .path
                .as_ref()
                .map(|p| p.links.join(" > "))
                .unwrap_or_default();
            Some(format!(
                "{t} reroute  {} ({}) → {path}  [{}]",
                p.id,
                p.spec.as_ref().map(|s| s.name.as_str()).unwrap_or(""),
                e.reason
            ))
        }
        // A live change to a service (UpdateService): what it is now, and why.
        api::event::Object::Service(s) if e.change == api::Change::Updated as i32 => Some(format!(
            "{t} update   {} ({}) {} Gbps  [{}]",
            s.id,
            s.spec.as_ref().map(|s| s.name.as_str()).unwrap_or(""),
            s.spec.as_ref().map_or(0.0, |s| s.bandwidth_gbps),
            e.reason
        )),
        api::event::Object::Breach(b) if b.cleared => Some(format!("{t} cleared  {}", b.link)),
        api::event::Object::Breach(b) => Some(format!(
            "{t} BREACH   {} {} {:.1} (threshold {:.1})",
            b.link, b.metric, b.value, b.threshold
        )),
        api::event::Object::Device(d) => Some(format!("{t} device   {} {}", d.device, e.reason)),
        api::event::Object::Cabling(c) if c.miscabled => {
            Some(format!("{t} MISCABLED {}: {}", c.link, e.reason))
        }
        api::event::Object::Cabling(c) => Some(format!("{t} recabled {}", c.link)),
        api::event::Object::Drain(d) => {
            let info = d.drain.clone().unwrap_or_default();
            Some(if e.change == api::Change::Deleted as i32 {
                format!("{t} undrain  {}", info.target)
            } else if e.change == api::Change::Created as i32 {
                format!(
                    "{t} DRAIN    {} {} ({})  [{}]",
                    info.kind,
                    info.target,
                    info.links.join(", "),
                    info.reason
                )
            } else if d.unmoved_policies.is_empty() {
                format!(
                    "{t} drained  {}: {} moved",
                    info.target,
                    d.moved_policies.len()
                )
            } else {
                format!(
                    "{t} drained  {}: {} moved, could not move {}",
                    info.target,
                    d.moved_policies.len(),
                    d.unmoved_policies.join(", ")
                )
            })
        }
        api::event::Object::Topology(x) => {
            let sign = if e.change == api::Change::Created as i32 {
                '+'
            } else if e.change == api::Change::Deleted as i32 {
                '-'
            } else {
                '~'
            };
            Some(format!("{t} topology {sign} {} {}", x.kind, x.name))
        }
        _ => None,
    }
}

fn chrono_like(ns: i64) -> String {
    let secs = ns.div_euclid(1_000_000_000);
    let ms = ns.rem_euclid(1_000_000_000) / 1_000_000;
    format!(
        "{:02}:{:02}:{:02}.{:03}",
        (secs / 3600) % 24,
        (secs / 60) % 60,
        secs % 60,
        ms
    )
}

/// Runs until Ctrl-C (or after one frame with `once`).
pub async fn run(
    api_addr: std::net::SocketAddr,
    once: bool,
    credentials: &crate::security::client::ClientCredentials,
) -> anyhow::Result<()> {
    let channel = credentials.connect(&api_addr.to_string()).await?;
    let topo = TopologyClient::new(channel.clone());
    let mut events = EventsClient::new(channel);
    let mut tele = events
        .watch_telemetry(api::TelemetryRequest::default())
        .await?
        .into_inner();
    // Replay what is retained so the view starts with recent history.
    let mut evs = match events.watch(api::WatchRequest { from_revision: 1 }).await {
        Ok(s) => s.into_inner(),
        Err(_) => events
            .watch(api::WatchRequest { from_revision: 0 })
            .await?
            .into_inner(),
    };
    let mut last_revision = 0;
    let mut views: BTreeMap<String, LinkView> = BTreeMap::new();
    let mut recent: VecDeque<String> = VecDeque::new();
    // A single frame waits a moment so it shows live values, not blanks.
    let first = tokio::time::Instant::now()
        + if once {
            Duration::from_millis(2500)
        } else {
            Duration::ZERO
        };
    let mut ticker = tokio::time::interval_at(first, Duration::from_secs(1));
    let tty = std::io::stdout().is_terminal();
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => return Ok(()),
            s = tele.next() => match s {
                Some(Ok(s)) => {
                    let v = views.entry(s.link.clone()).or_default();
                    match s.metric.as_str() {
                        "delay_us" => v.delay_us = Some(s.value),
                        "loss_percent" => v.loss = Some(s.value),
                        "osnr_db" => v.osnr = Some(s.value),
                        _ => {}
                    }
                    v.state = s.state;
                }
                Some(Err(e)) => anyhow::bail!("telemetry stream: {e}"),
                None => anyhow::bail!("telemetry stream ended"),
            },
            e = evs.next() => match e {
                Some(Ok(e)) => {
                    last_revision = e.revision;
                    if let Some(line) = event_line(&e) {
                        recent.push_front(line);
                        recent.truncate(12);
                    }
                }
                // The controller does not wait for a watcher that fell behind
                // (a stalled terminal): pick up from the last event shown.
                Some(Err(e)) if e.code() == tonic::Code::ResourceExhausted => {
                    evs = events
                        .watch(api::WatchRequest { from_revision: last_revision })
                        .await?
                        .into_inner();
                }
                Some(Err(e)) => anyhow::bail!("event stream: {e}"),
                None => anyhow::bail!("event stream ended"),
            },
            _ = ticker.tick() => {
                let links = crate::pages::all_pages(|page_token| {
                    let mut topo = topo.clone();
                    async move {
                        let r = topo.list_links(api::ListLinksRequest { page_token, ..Default::default() }).await?.into_inner();
                        Ok::<_, tonic::Status>((r.links, r.next_page_token))
                    }
                }).await?;
                let mut out = String::new();
                if tty { out.push_str("\x1b[H\x1b[2J"); }
                out.push_str(&format!("strata watch — {api_addr} — {} links\n\n", links.len()));
                out.push_str(&format!("{:<34} {:<7} {:>9} {:>10} {:>7} {:>8} {:>9}  {}\n", "LINK", "LAYER", "TE µs", "DELAY µs", "LOSS %", "OSNR dB", "RSVD Gb/s", "STATE"));
                for l in &links {
                    let v = views.get(&l.name).cloned().unwrap_or_default();
                    let layer = match api::Layer::try_from(l.layer) { Ok(api::Layer::Packet) => "packet", Ok(api::Layer::Fiber) => "fiber", Ok(api::Layer::Optical) => "optical", _ => "?" };
                    let f = |x: Option<f64>, p: usize| x.map(|x| format!("{x:.p$}")).unwrap_or_else(|| "-".into());
                    let state = if l.status == api::LinkStatus::Down as i32 { "DOWN".to_string() } else if v.state.is_empty() { "-".into() } else { v.state.clone() };
                    out.push_str(&format!("{:<34} {:<7} {:>9} {:>10} {:>7} {:>8} {:>9.1}  {}\n", l.name, layer, l.latency_us, f(v.delay_us, 0), f(v.loss, 2), f(v.osnr, 1), l.reserved_gbps, state));
                }
                out.push_str("\nrecent breaches and reroutes:\n");
                for r in &recent { out.push_str("  "); out.push_str(r); out.push('\n'); }
                print!("{out}");
                let _ = std::io::stdout().flush();
                if once { return Ok(()); }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_service_update_is_shown_with_its_bandwidth_and_reason() {
        let e = api::Event {
            revision: 9,
            timestamp_ns: 0,
            change: api::Change::Updated as i32,
            reason: "bandwidth now 200 Gbps".into(),
            object: Some(api::event::Object::Service(api::Service {
                id: "svc-1".into(),
                spec: Some(api::ServiceSpec {
                    name: "dci".into(),
                    bandwidth_gbps: 200.0,
                    ..Default::default()
                }),
                ..Default::default()
            })),
        };
        assert_eq!(
            event_line(&e).as_deref(),
            Some("00:00:00.000 update   svc-1 (dci) 200 Gbps  [bandwidth now 200 Gbps]")
        );
    }

    #[test]
    fn topology_changes_are_shown_as_steps() {
        let e = |change: api::Change, kind: &str, name: &str| api::Event {
            revision: 3,
            timestamp_ns: 0,
            change: change as i32,
            reason: String::new(),
            object: Some(api::event::Object::Topology(api::TopologyEvent {
                kind: kind.into(),
                name: name.into(),
                ..Default::default()
            })),
        };
        assert_eq!(
            event_line(&e(api::Change::Created, "node", "pe4")).as_deref(),
            Some("00:00:00.000 topology + node pe4")
        );
        assert_eq!(
            event_line(&e(api::Change::Deleted, "link", "pe2-pe4")).as_deref(),
            Some("00:00:00.000 topology - link pe2-pe4")
        );
    }
}
