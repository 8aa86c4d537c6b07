//! The operator web view: one page (the fabric on a map, link health and
//! telemetry, the breach/reroute feed, services and policies) plus the JSON
//! and server-sent-event endpoints it reads. Everything it serves is built
//! into the binary, so it works where the controller runs, offline.
//!
//! Data comes from the same in-process sources as the northbound API: the
//! controller's read view (through the northbound's own conversions), its
//! event log and its live telemetry broadcast.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::http::header;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

pub mod auth;

pub use auth::WebAuth;

use crate::controller::events::WatchRefused;
use crate::controller::Controller;
use crate::northbound::Northbound;
use crate::object::{self, Change, Object, PolicyState, ServiceState, Session};
use crate::proto::strata::v1 as api;

const INDEX: &str = include_str!("assets/index.html");
const APP_JS: &str = include_str!("assets/app.js");
const STYLE: &str = include_str!("assets/style.css");

/// Messages queued per browser. A browser that reads slower than this is
/// skipped ahead with a fresh snapshot instead of being buffered for.
const CLIENT_QUEUE: usize = 64;
/// Telemetry is coalesced per link and pushed at this pace: a lab makes
/// thousands of samples a second, a person reads a few updates.
const PUSH_EVERY: Duration = Duration::from_millis(250);
/// How far back the feed of a newly opened page reaches, in revisions.
const RECENT_REVISIONS: u64 = 2000;
const RECENT_EVENTS: usize = 50;

#[derive(Clone)]
struct Web {
    controller: Arc<Controller>,
    /// Event streams end when this turns true, so a browser left open does
    /// not hold a shutdown for the whole drain timeout.
    halted: tokio::sync::watch::Receiver<bool>,
}

/// Binds `addr` and serves the view there in the background, to callers
/// `auth` lets in, until `halted` turns true; returns the bound address (for
/// `:0`) and the serving task.
pub fn serve(
    addr: SocketAddr,
    controller: Arc<Controller>,
    auth: Arc<WebAuth>,
    mut halted: tokio::sync::watch::Receiver<bool>,
) -> anyhow::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let listener = crate::net::listen(addr)
        .map_err(|e| anyhow::anyhow!("cannot listen for the web view on {addr}: {e}"))?;
    let bound = listener.local_addr()?;
    let app = router(controller, auth, halted.clone());
    let task = tokio::spawn(async move {
        let stop = async move {
            let _ = halted.wait_for(|h| *h).await;
        };
        // Event streams never end on their own: each watches `halted` too.
        if let Err(e) = axum::serve(listener, app)
            .with_graceful_shutdown(stop)
            .await
        {
            tracing::warn!("web view stopped: {e}");
        }
    });
    Ok((bound, task))
}

/// The routes, for embedding elsewhere or testing without a socket.
pub fn router(
    controller: Arc<Controller>,
    auth: Arc<WebAuth>,
    halted: tokio::sync::watch::Receiver<bool>,
) -> Router {
    let web = Web { controller, halted };
    // Signing in, and the style sheet its page uses, need no session.
    let sign_in = Router::new()
        .route("/login", get(auth::login_page).post(auth::login_post))
        .route(
            "/style.css",
            get(|| async { asset("text/css; charset=utf-8", STYLE) }),
        )
        .with_state(auth.clone());
    Router::new()
        .route(
            "/",
            get(|| async { asset("text/html; charset=utf-8", INDEX) }),
        )
        .route(
            "/app.js",
            get(|| async { asset("text/javascript; charset=utf-8", APP_JS) }),
        )
        .route("/api/topology", get(topology))
        .route("/api/state", get(state))
        .route("/api/events", get(events))
        .with_state(web)
        .layer(axum::middleware::from_fn_with_state(auth, auth::require))
        .merge(sign_in)
}

fn asset(kind: &'static str, body: &'static str) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, kind),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
}

async fn topology(axum::extract::State(web): axum::extract::State<Web>) -> Json<Value> {
    Json(topology_json(&web.controller))
}

async fn state(axum::extract::State(web): axum::extract::State<Web>) -> Json<Value> {
    let (recent, _) = recent_and_live(&web.controller);
    Json(snapshot(&web.controller, &recent))
}

async fn events(axum::extract::State(web): axum::extract::State<Web>) -> impl IntoResponse {
    let (tx, rx) = mpsc::channel(CLIENT_QUEUE);
    tokio::spawn(feed(web.controller, tx, web.halted));
    Sse::new(ReceiverStream::new(rx)).keep_alive(KeepAlive::default())
}

fn sse(name: &str, data: &Value) -> Result<SseEvent, Infallible> {
    Ok(SseEvent::default().event(name).data(data.to_string()))
}

/// Feed-worthy events still retained, and the live event stream from right
/// after them (so nothing falls between the snapshot's feed and the stream).
fn recent_and_live(
    controller: &Controller,
) -> (
    Vec<Value>,
    Option<tokio::sync::broadcast::Receiver<Arc<object::Event>>>,
) {
    let log = controller.events();
    let from = log.revision().saturating_sub(RECENT_REVISIONS).max(1);
    let watched = log.watch(from).or_else(|refused| match refused {
        WatchRefused::Compacted { oldest_available } => {
            log.watch(oldest_available.saturating_sub(1).max(1))
        }
        future => Err(future),
    });
    match watched {
        Ok((replay, live)) => {
            let mut recent: Vec<Value> = replay
                .iter()
                .filter(|e| feed_worthy(e))
                .map(|e| event_json(e))
                .collect();
            let skip = recent.len().saturating_sub(RECENT_EVENTS);
            recent.drain(..skip);
            (recent, Some(live))
        }
        Err(_) => (Vec::new(), log.watch(0).ok().map(|(_, live)| live)),
    }
}

fn feed_worthy(e: &object::Event) -> bool {
    match &e.object {
        Object::Breach(_)
        | Object::Device(_)
        | Object::Cabling(_)
        | Object::Drain(_)
        | Object::Topology(_) => true,
        Object::Policy(_) => e.change == Change::Updated,
        _ => false,
    }
}

/// One browser's stream: a snapshot, then events as they happen, coalesced
/// telemetry and link status every `PUSH_EVERY`. Memory per browser is the
/// bounded queue plus one entry per link.
async fn feed(
    controller: Arc<Controller>,
    tx: mpsc::Sender<Result<SseEvent, Infallible>>,
    mut halted: tokio::sync::watch::Receiver<bool>,
) {
    let mut telemetry = controller.telemetry().subscribe();
    let (recent, live) = recent_and_live(&controller);
    let Some(mut live) = live else { return };
    if tx
        .send(sse("snapshot", &snapshot(&controller, &recent)))
        .await
        .is_err()
    {
        return;
    }
    let mut pending: BTreeMap<String, serde_json::Map<String, Value>> = BTreeMap::new();
    let mut links_changed = false;
    // Set when a message had to be dropped: the browser gets a whole new
    // snapshot once it has room, rather than a feed with holes in it.
    let mut behind = false;
    let mut tick = tokio::time::interval(PUSH_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tokio::select! {
            _ = tx.closed() => return,
            _ = halted.wait_for(|h| *h) => return,
            ev = live.recv() => match ev {
                Ok(ev) => {
                    links_changed = true;
                    if !behind && feed_worthy(&ev) {
                        behind = tx.try_send(sse("event", &event_json(&ev))).is_err();
                    }
                    // Services and policies change state without a breach.
                    if !behind && !feed_worthy(&ev) {
                        behind = tx.try_send(sse("object", &event_json(&ev))).is_err();
                    }
                }
                Err(RecvError::Lagged(_)) => behind = true,
                Err(RecvError::Closed) => return,
            },
            s = telemetry.recv() => match s {
                Ok(s) => {
                    let entry = pending.entry(s.link).or_default();
                    entry.insert(s.metric, json!(finite(s.value)));
                    entry.insert("state".into(), json!(s.state));
                }
                // Coalesced anyway: the next sample of each link catches up.
                Err(RecvError::Lagged(_)) => continue,
                Err(RecvError::Closed) => return,
            },
            _ = tick.tick() => {
                if behind {
                    if tx.capacity() > 0 {
                        let (recent, _) = recent_and_live(&controller);
                        behind = tx.try_send(sse("resync", &snapshot(&controller, &recent))).is_err();
                        links_changed = false;
                    }
                    continue;
                }
                if links_changed {
                    links_changed = false;
                    behind = tx.try_send(sse("links", &link_statuses(&controller))).is_err();
                }
                if !pending.is_empty() && !behind {
                    let batch = Value::Object(std::mem::take(&mut pending).into_iter().map(|(k, v)| (k, Value::Object(v))).collect());
                    behind = tx.try_send(sse("telemetry", &batch)).is_err();
                }
            }
        }
    }
}

/// JSON has no NaN or infinity; a bad reading shows as missing.
fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

fn role(r: i32) -> &'static str {
    match api::Role::try_from(r) {
        Ok(api::Role::Packet) => "packet",
        Ok(api::Role::Optical) => "optical",
        _ => "unknown",
    }
}

fn layer(l: i32) -> &'static str {
    match api::Layer::try_from(l) {
        Ok(api::Layer::Packet) => "packet",
        Ok(api::Layer::Optical) => "optical",
        Ok(api::Layer::Fiber) => "fiber",
        _ => "unknown",
    }
}

fn link_status(s: i32) -> &'static str {
    match api::LinkStatus::try_from(s) {
        Ok(api::LinkStatus::Up) => "up",
        Ok(api::LinkStatus::Down) => "down",
        Ok(api::LinkStatus::Degraded) => "degraded",
        _ => "unknown",
    }
}

fn session(s: i32) -> &'static str {
    match api::SessionState::try_from(s) {
        Ok(api::SessionState::Connecting) => "connecting",
        Ok(api::SessionState::Up) => "up",
        Ok(api::SessionState::Down) => "down",
        _ => "unknown",
    }
}

fn topology_json(controller: &Arc<Controller>) -> Value {
    let inner = controller.read();
    let nodes: Vec<Value> = inner
        .topology
        .nodes
        .iter()
        .filter_map(|n| {
            let v = Northbound::node_view(controller, &inner, &n.name)?;
            Some(json!({
                "name": v.name,
                "role": role(v.role),
                "site": v.site,
                "lat": n.location.map(|l| l.lat).and_then(finite),
                "lon": n.location.map(|l| l.lon).and_then(finite),
                "session": session(v.session),
                "last_error": v.last_error,
            }))
        })
        .collect();
    let links: Vec<Value> = inner
        .topology
        .links
        .iter()
        .filter_map(|l| Northbound::link_view(&inner, &l.name))
        .map(|l| {
            json!({
                "name": l.name,
                "layer": layer(l.layer),
                "a": l.a.as_ref().map(|e| e.node.clone()).unwrap_or_default(),
                "b": l.b.as_ref().map(|e| e.node.clone()).unwrap_or_default(),
                "status": link_status(l.status),
                "latency_us": l.latency_us,
                "length_km": finite(l.length_km),
                "capacity_gbps": finite(l.capacity_gbps),
                "reserved_gbps": finite(l.reserved_gbps),
                "srlgs": l.srlgs,
                "rides": l.rides,
            })
        })
        .collect();
    json!({ "name": inner.topology.name, "nodes": nodes, "links": links })
}

fn link_statuses(controller: &Controller) -> Value {
    let inner = controller.read();
    Value::Object(
        inner
            .topology
            .links
            .iter()
            .filter_map(|l| Northbound::link_view(&inner, &l.name))
            .map(|l| (l.name, json!(link_status(l.status))))
            .collect(),
    )
}

fn snapshot(controller: &Arc<Controller>, recent: &[Value]) -> Value {
    let (reroutes, last) = controller.metrics().last_reroute();
    json!({
        "revision": controller.events().revision(),
        "topology": topology_json(controller),
        "policies": controller.policies("", "").iter().map(policy_json).collect::<Vec<_>>(),
        "services": controller.services().iter().map(service_json).collect::<Vec<_>>(),
        "wavelengths": controller.wavelengths().iter().map(wavelength_json).collect::<Vec<_>>(),
        "recent": recent,
        "reroutes": { "count": reroutes, "last_ms": last.as_secs_f64() * 1e3 },
    })
}

fn policy_json(p: &object::Policy) -> Value {
    let (spec, path) = (&p.spec, &p.path);
    json!({
        "id": p.id,
        "name": spec.name,
        "headend": spec.headend,
        "endpoint": spec.endpoint,
        "color": spec.color,
        "owner": p.owner,
        "state": match p.state {
            PolicyState::Programmed => "programmed",
            PolicyState::Down => "down",
        },
        "max_latency_us": spec.constraints.max_latency_us,
        "nodes": path.nodes,
        "links": path.links,
        "latency_us": path.latency_us,
        "sids": path.segments.iter().map(|s| s.label).collect::<Vec<_>>(),
        "revision": p.revision,
    })
}

fn service_json(s: &object::Service) -> Value {
    let spec = &s.spec;
    json!({
        "id": s.id,
        "name": spec.name,
        "type": spec.service_type.map_or("unknown", |t| t.name()),
        "bandwidth_gbps": finite(spec.bandwidth_gbps),
        "state": match s.state {
            ServiceState::Active => "active",
        },
        "attachments": spec.attachments.iter().map(|a| a.device.clone()).collect::<Vec<_>>(),
        "policies": s.transport_policies,
        "revision": s.revision,
    })
}

fn wavelength_json(w: &object::Wavelength) -> Value {
    let spec = &w.spec;
    json!({
        "id": w.id,
        "name": spec.name,
        "a": spec.a,
        "b": spec.b,
        "fibers": w.fibers,
        "nodes": w.nodes,
        "channel": w.channel,
        "estimated_osnr_db": finite(w.estimated_osnr_db),
        "required_osnr_db": finite(w.required_osnr_db),
        "mode": w.mode_name,
        "gsnr_db": finite(w.gsnr_db),
        "osnr_margin_db": finite(w.osnr_margin_db),
        "limit": w.limit,
        "measured_osnr_db": w.measured_osnr_db.and_then(finite),
        "below_prediction": w.below_prediction,
        "carries_link": spec.carries_link,
    })
}

fn event_json(e: &object::Event) -> Value {
    let change = match e.change {
        Change::Created => "created",
        Change::Updated => "updated",
        Change::Deleted => "deleted",
    };
    let mut v = json!({
        "revision": e.revision,
        "time_ms": e.timestamp_ns as f64 / 1e6,
        "change": change,
        "reason": e.reason,
    });
    let (kind, object) = match &e.object {
        Object::Breach(b) => (
            if b.cleared { "cleared" } else { "breach" },
            json!({
                "link": b.link,
                "metric": b.metric,
                "value": finite(b.value),
                "threshold": finite(b.threshold),
            }),
        ),
        Object::Policy(p) => (
            if e.change == Change::Updated {
                "reroute"
            } else {
                "policy"
            },
            policy_json(p),
        ),
        Object::Service(s) => ("service", service_json(s)),
        Object::Wavelength(w) => ("wavelength", wavelength_json(w)),
        Object::Cabling(c) => (
            if c.miscabled { "miscabled" } else { "recabled" },
            json!({
                "link": c.link,
                "ends": c.ends.iter().map(|e| json!({
                    "node": e.node,
                    "interface": e.interface,
                    "expected": format!("{}:{}", e.expected.0, e.expected.1),
                    "heard": e.heard.as_ref().map(|(n, i)| format!("{n}:{i}")),
                })).collect::<Vec<_>>(),
            }),
        ),
        Object::Device(d) => (
            "device",
            json!({
                "device": d.device,
                "session": match d.session {
                    Session::Up => "up",
                    Session::Down => "down",
                },
                "error": d.error,
            }),
        ),
        Object::Drain(d) => (
            if e.change == Change::Deleted {
                "undrain"
            } else {
                "drain"
            },
            json!({
                "target": d.target,
                "kind": d.kind,
                "links": d.links,
                "moved": d.moved,
                "unmoved": d.unmoved,
            }),
        ),
        Object::Topology(t) => (
            "topology",
            json!({
                "kind": t.kind,
                "name": t.name,
                "change": change,
            }),
        ),
    };
    v["kind"] = json!(kind);
    v["object"] = object;
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controller::programmer::Recorder;

    fn name(e: &Result<SseEvent, Infallible>) -> String {
        // The event's wire bytes are private; its Debug shows them.
        let text = format!("{e:?}");
        [
            "snapshot",
            "resync",
            "event",
            "links",
            "telemetry",
            "object",
        ]
        .into_iter()
        .find(|n| text.contains(&format!("event: {n}\\n")))
        .unwrap_or("?")
        .to_string()
    }

    #[tokio::test]
    async fn a_browser_stream_ends_when_the_daemon_halts() {
        let topology = crate::topology::parse_str(include_str!("../../../../examples/small.yaml"))
            .expect("valid example");
        let c = Controller::new(topology, Recorder::new(), None);
        let (tx, mut rx) = mpsc::channel(CLIENT_QUEUE);
        let (halt, halted) = tokio::sync::watch::channel(false);
        let task = tokio::spawn(feed(c.clone(), tx, halted));
        let first = tokio::time::timeout(Duration::from_secs(5), rx.recv())
            .await
            .expect("the snapshot comes")
            .expect("stream open");
        assert_eq!(name(&first), "snapshot");
        // Open and idle: nothing ends it but the halt.
        tokio::time::sleep(PUSH_EVERY * 3).await;
        assert!(!task.is_finished(), "the stream ended on its own");
        halt.send(true).expect("feed listening");
        tokio::time::timeout(Duration::from_secs(5), task)
            .await
            .expect("the stream ends promptly after the halt")
            .expect("feed did not panic");
        // Everything queued is delivered, then the stream is closed.
        while let Some(m) = rx.recv().await {
            assert_ne!(name(&m), "?");
        }
    }

    #[tokio::test]
    async fn a_browser_that_stops_reading_holds_a_bounded_queue_then_gets_a_resync() {
        let topology = crate::topology::parse_str(include_str!("../../../../examples/small.yaml"))
            .expect("valid example");
        let c = Controller::new(topology, Recorder::new(), None);
        let (tx, mut rx) = mpsc::channel(CLIENT_QUEUE);
        let (_halt, halted) = tokio::sync::watch::channel(false);
        tokio::spawn(feed(c.clone(), tx.clone(), halted));
        tokio::time::sleep(Duration::from_millis(50)).await;
        for i in 0..CLIENT_QUEUE * 4 {
            c.events().publish(Change::Updated, "session up", |_| {
                Object::Device(object::DeviceEvent {
                    device: format!("d{i}"),
                    session: Session::Up,
                    error: String::new(),
                })
            });
            tokio::task::yield_now().await;
        }
        tokio::time::sleep(PUSH_EVERY * 2).await;
        assert_eq!(tx.capacity(), 0, "the queue filled up");
        let mut queued = Vec::new();
        while let Ok(m) = rx.try_recv() {
            queued.push(name(&m));
        }
        assert!(queued.len() <= CLIENT_QUEUE, "{} queued", queued.len());
        assert_eq!(queued[0], "snapshot");
        // Once the browser reads again it is brought back with a snapshot.
        let next = tokio::time::timeout(PUSH_EVERY * 8, rx.recv())
            .await
            .expect("a message comes")
            .expect("stream open");
        assert_eq!(name(&next), "resync");
    }
}
