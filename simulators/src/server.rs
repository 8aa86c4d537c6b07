//! The gNMI target a simulated device exposes: Capabilities, Get, Set and
//! Subscribe (ONCE, POLL, STREAM with SAMPLE / ON_CHANGE / TARGET_DEFINED).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::{broadcast, Semaphore};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status, Streaming};

use super::device::{check_origin, now_ns, SimDevice};
use super::killable;
use super::outbound::{self, Gone, Limits, WhenFull};
use crate::gnmi::path::{strip_module, upgrade_legacy};
use crate::gnmi::tree::{Change, DataFilter, Tree};
use crate::gnmi::value::{encode_leaf, json_typed};
use crate::gnmi::{format_path, join_prefix};
use crate::proto::gnmi::g_nmi_server::{GNmi, GNmiServer};
use crate::proto::gnmi::{
    get_request, subscribe_request, subscribe_response, subscription_list, CapabilityRequest,
    CapabilityResponse, Encoding, GetRequest, GetResponse, ModelData, Notification, Path, PathElem,
    SetRequest, SetResponse, SubscribeRequest, SubscribeResponse, Subscription, SubscriptionList,
    SubscriptionMode, Update,
};

pub const GNMI_VERSION: &str = "0.10.0";
/// The fastest SAMPLE interval a simulated device honours.
pub const MIN_SAMPLE_INTERVAL: Duration = Duration::from_millis(10);
/// Used when a client asks for sample_interval 0 ("as fast as you can").
pub const DEFAULT_SAMPLE_INTERVAL: Duration = Duration::from_millis(100);
const SUPPORTED_ENCODINGS: [Encoding; 3] = [Encoding::Json, Encoding::JsonIetf, Encoding::Proto];
/// What one subscription may hold unread before its subscriber is dropped.
pub const OUTBOUND_LIMITS: Limits = Limits {
    messages: 512,
    bytes: 4 << 20,
};
/// A burst stream is always full: a short queue keeps what it holds small.
const BURST_LIMITS: Limits = Limits {
    messages: 16,
    bytes: 4 << 20,
};
/// Concurrent Subscribe RPCs one device serves; more are refused, as a real
/// device refuses collectors beyond its limit.
pub const MAX_SUBSCRIPTIONS: usize = 16;
/// The largest request a device decodes (a whole-device config replace is
/// far smaller).
pub const MAX_REQUEST_BYTES: usize = 16 << 20;

#[derive(Clone)]
pub struct GnmiTarget {
    device: Arc<SimDevice>,
    kill: CancellationToken,
    subscriptions: Arc<Semaphore>,
}

/// How a device guards its port: TLS with this certificate and key (PEM),
/// and this username and password.
#[derive(Clone, Default)]
pub struct Guard {
    pub identity: Option<(Vec<u8>, Vec<u8>)>,
    pub login: Option<(String, String)>,
}

/// Serves `device` on `listener` until `kill` fires; then every connection dies.
pub async fn serve(
    device: Arc<SimDevice>,
    listener: TcpListener,
    kill: CancellationToken,
    guard: Guard,
) -> Result<(), tonic::transport::Error> {
    let target = GnmiTarget {
        device,
        kill: kill.clone(),
        subscriptions: Arc::new(Semaphore::new(MAX_SUBSCRIPTIONS)),
    };
    let mut server = tonic::transport::Server::builder();
    if let Some((cert, key)) = &guard.identity {
        server = server.tls_config(
            tonic::transport::ServerTlsConfig::new()
                .identity(tonic::transport::Identity::from_pem(cert, key)),
        )?;
    }
    let login = guard.login;
    let check = move |req: Request<()>| check_login(&req, login.as_ref()).map(|()| req);
    server
        .tcp_nodelay(true)
        .add_service(tonic::service::interceptor::InterceptedService::new(
            GNmiServer::new(target).max_decoding_message_size(MAX_REQUEST_BYTES),
            check,
        ))
        .serve_with_incoming_shutdown(
            killable::incoming(listener, kill.clone()),
            kill.cancelled_owned(),
        )
        .await
}

/// The gNMI authentication check: `username` and `password` metadata must
/// match when the device has a login.
fn check_login(req: &Request<()>, login: Option<&(String, String)>) -> Result<(), Status> {
    let Some((user, password)) = login else {
        return Ok(());
    };
    let md = |k: &str| req.metadata().get(k).and_then(|v| v.to_str().ok());
    match (md("username"), md("password")) {
        (None, _) | (_, None) => Err(Status::unauthenticated(
            "username and password metadata are required",
        )),
        (Some(u), Some(p)) if u == user && p == password => Ok(()),
        _ => Err(Status::unauthenticated("bad username or password")),
    }
}

impl GnmiTarget {
    /// The gNMI service of `device` without a socket (in-process tests).
    pub fn in_process(device: Arc<SimDevice>) -> Self {
        GnmiTarget {
            device,
            kill: CancellationToken::new(),
            subscriptions: Arc::new(Semaphore::new(MAX_SUBSCRIPTIONS)),
        }
    }

    fn ensure_alive(&self) -> Result<(), Status> {
        if self.device.is_alive() && !self.kill.is_cancelled() {
            Ok(())
        } else {
            Err(Status::unavailable(format!(
                "device {} is down",
                self.device.name
            )))
        }
    }
}

fn encoding_of(raw: i32, what: &str) -> Result<Encoding, Status> {
    let enc = Encoding::try_from(raw)
        .map_err(|_| Status::invalid_argument(format!("{what}: unknown encoding {raw}")))?;
    if SUPPORTED_ENCODINGS.contains(&enc) {
        Ok(enc)
    } else {
        Err(Status::unimplemented(format!(
            "{what}: encoding {} is not supported (supported: JSON, JSON_IETF, PROTO)",
            enc.as_str_name()
        )))
    }
}

fn full_path(prefix: Option<&Path>, path: &Path) -> Result<Path, Status> {
    let path = upgrade_legacy(path).map_err(|e| Status::invalid_argument(e.to_string()))?;
    check_origin(Some(&path))?;
    Ok(join_prefix(prefix, &path))
}

/// Every leaf under `path` as an Update in `encoding`.
fn leaf_updates(
    tree: &Tree,
    path: &Path,
    encoding: Encoding,
    under: Option<&Path>,
) -> Result<Vec<Update>, Status> {
    let found = tree.find(path).map_err(|e| e.to_status())?;
    let mut leaves = Vec::new();
    for f in found
        .iter()
        .filter(|f| under.is_none_or(|c| is_prefix(c, &f.path)))
    {
        Tree::leaves(f, &mut leaves);
    }
    Ok(leaves
        .into_iter()
        .map(|(path, value, ty)| Update {
            path: Some(path),
            val: Some(encode_leaf(value, ty, encoding)),
            ..Default::default()
        })
        .collect())
}

/// Does `pattern` (wildcards allowed) match the first elements of `concrete`?
fn is_prefix(pattern: &Path, concrete: &Path) -> bool {
    pattern.elem.len() <= concrete.elem.len()
        && pattern
            .elem
            .iter()
            .zip(&concrete.elem)
            .all(|(p, c)| elem_matches(p, c))
}

fn elem_matches(pattern: &PathElem, concrete: &PathElem) -> bool {
    strip_module(&pattern.name) == strip_module(&concrete.name)
        && pattern.key.iter().all(|(k, v)| {
            v == "*"
                || concrete
                    .key
                    .get(k)
                    .is_some_and(|c| c == v || bare_identity(c) == bare_identity(v))
        })
}

/// An identity key value without its module (`openconfig-policy-types:ISIS`
/// and `ISIS` name one protocol); anything else, e.g. an IPv6 address, as is.
fn bare_identity(v: &str) -> &str {
    match v.split_once(':') {
        Some((m, name))
            if !m.is_empty()
                && m.starts_with(|c: char| c.is_ascii_alphabetic())
                && m.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
                && !name.contains(':') =>
        {
            name
        }
        _ => v,
    }
}

fn notification(
    updates: Vec<Update>,
    deletes: Vec<Path>,
    prefix: Option<&Path>,
) -> SubscribeResponse {
    SubscribeResponse {
        response: Some(subscribe_response::Response::Update(Notification {
            timestamp: now_ns(),
            prefix: prefix.filter(|p| !p.target.is_empty()).map(|p| Path {
                target: p.target.clone(),
                ..Default::default()
            }),
            update: updates,
            delete: deletes,
            atomic: false,
        })),
        ..Default::default()
    }
}

fn sync_response() -> SubscribeResponse {
    SubscribeResponse {
        response: Some(subscribe_response::Response::SyncResponse(true)),
        ..Default::default()
    }
}

#[tonic::async_trait]
impl GNmi for GnmiTarget {
    async fn capabilities(
        &self,
        _req: Request<CapabilityRequest>,
    ) -> Result<Response<CapabilityResponse>, Status> {
        self.ensure_alive()?;
        Ok(Response::new(CapabilityResponse {
            supported_models: self
                .device
                .models()
                .iter()
                .map(|(name, org, version)| ModelData {
                    name: name.to_string(),
                    organization: org.to_string(),
                    version: version.to_string(),
                })
                .collect(),
            supported_encodings: SUPPORTED_ENCODINGS.iter().map(|e| *e as i32).collect(),
            g_nmi_version: GNMI_VERSION.to_string(),
            extension: vec![],
        }))
    }

    async fn get(&self, req: Request<GetRequest>) -> Result<Response<GetResponse>, Status> {
        self.ensure_alive()?;
        let req = req.into_inner();
        let encoding = encoding_of(req.encoding, "GetRequest.encoding")?;
        let filter = match get_request::DataType::try_from(req.r#type) {
            Ok(get_request::DataType::All) => DataFilter::All,
            Ok(get_request::DataType::Config) => DataFilter::Config,
            Ok(get_request::DataType::State) | Ok(get_request::DataType::Operational) => {
                DataFilter::State
            }
            Err(_) => {
                return Err(Status::invalid_argument(format!(
                    "GetRequest.type: unknown data type {}",
                    req.r#type
                )))
            }
        };
        if req.path.is_empty() {
            return Err(Status::invalid_argument(
                "GetRequest.path: at least one path is required",
            ));
        }
        let prefix = match &req.prefix {
            Some(p) => {
                Some(upgrade_legacy(p).map_err(|e| Status::invalid_argument(e.to_string()))?)
            }
            None => None,
        };
        check_origin(prefix.as_ref())?;
        let mut notifications = Vec::with_capacity(req.path.len());
        for rel in &req.path {
            let path = full_path(prefix.as_ref(), rel)?;
            let updates = self.device.read(|tree| -> Result<Vec<Update>, Status> {
                if encoding == Encoding::Proto {
                    return leaf_updates(tree, &path, encoding, None);
                }
                let found = tree.find(&path).map_err(|e| e.to_status())?;
                Ok(found
                    .iter()
                    // CONFIG of a state-only node (or the reverse) is no data.
                    .filter(|f| filter == DataFilter::All || Tree::has_data(f, filter))
                    .map(|f| Update {
                        path: Some(f.path.clone()),
                        val: Some(json_typed(
                            &Tree::export(f, encoding == Encoding::JsonIetf, filter),
                            encoding == Encoding::JsonIetf,
                        )),
                        ..Default::default()
                    })
                    .collect())
            })?;
            if updates.is_empty() {
                return Err(Status::not_found(format!(
                    "no data at path {}",
                    format_path(&path)
                )));
            }
            notifications.push(Notification {
                timestamp: now_ns(),
                prefix: None,
                update: updates,
                delete: vec![],
                atomic: false,
            });
        }
        Ok(Response::new(GetResponse {
            notification: notifications,
            ..Default::default()
        }))
    }

    async fn set(&self, req: Request<SetRequest>) -> Result<Response<SetResponse>, Status> {
        self.ensure_alive()?;
        let mut req = req.into_inner();
        // Old clients may still send string path elements; accept them.
        for p in req.delete.iter_mut().chain(req.prefix.iter_mut()) {
            *p = upgrade_legacy(p).map_err(|e| Status::invalid_argument(e.to_string()))?;
        }
        for u in req.update.iter_mut().chain(req.replace.iter_mut()) {
            if let Some(p) = u.path.as_mut() {
                *p = upgrade_legacy(p).map_err(|e| Status::invalid_argument(e.to_string()))?;
            }
        }
        self.device.apply_set(&req).map(Response::new)
    }

    type SubscribeStream = outbound::Receiver;

    async fn subscribe(
        &self,
        req: Request<Streaming<SubscribeRequest>>,
    ) -> Result<Response<Self::SubscribeStream>, Status> {
        self.ensure_alive()?;
        // Taken before the first request arrives: a stream that never sends
        // one holds a slot too, as it does on a real device.
        let slot = self
            .subscriptions
            .clone()
            .try_acquire_owned()
            .map_err(|_| {
                Status::resource_exhausted(format!(
                    "device {} serves at most {MAX_SUBSCRIPTIONS} subscriptions at once",
                    self.device.name
                ))
            })?;
        let mut inbound = req.into_inner();
        let first = inbound.message().await?.ok_or_else(|| {
            Status::invalid_argument("Subscribe: the stream ended before a SubscriptionList")
        })?;
        let Some(subscribe_request::Request::Subscribe(list)) = first.request else {
            return Err(Status::invalid_argument(
                "SubscribeRequest.subscribe: the first request must carry a SubscriptionList",
            ));
        };
        let plan = Plan::validate(&self.device, list)?;
        let (tx, rx) = if self.device.burst() {
            outbound::channel(BURST_LIMITS, WhenFull::Wait)
        } else {
            outbound::channel(OUTBOUND_LIMITS, WhenFull::Disconnect)
        };
        let device = self.device.clone();
        let kill = self.kill.clone();
        tokio::spawn(async move {
            let _slot = slot;
            // Ends the stream even if the plan panics.
            let finish = Finish(tx.clone());
            let outcome = tokio::select! {
                r = plan.run(&device, inbound, &tx) => r,
                _ = kill.cancelled() => Err(Status::unavailable(format!("device {} went down", device.name))),
            };
            if tx.overflowed() {
                device
                    .subscribers_dropped
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                tracing::info!(device = %device.name, "dropped a subscriber that stopped reading");
            }
            finish.0.finish(outcome.err());
        });
        Ok(Response::new(rx))
    }
}

struct Finish(Outbound);

impl Drop for Finish {
    fn drop(&mut self) {
        self.0.finish(None);
    }
}

/// A validated subscription request.
struct Plan {
    mode: subscription_list::Mode,
    encoding: Encoding,
    updates_only: bool,
    prefix: Option<Path>,
    subs: Vec<Sub>,
}

struct Sub {
    path: Path,
    mode: SubscriptionMode,
    sample: Duration,
    suppress_redundant: bool,
    heartbeat: Option<Duration>,
}

type Outbound = outbound::Sender;

impl Plan {
    fn validate(device: &SimDevice, list: SubscriptionList) -> Result<Plan, Status> {
        let mode = subscription_list::Mode::try_from(list.mode).map_err(|_| {
            Status::invalid_argument(format!("SubscriptionList.mode: unknown mode {}", list.mode))
        })?;
        let encoding = encoding_of(list.encoding, "SubscriptionList.encoding")?;
        if list.subscription.is_empty() {
            return Err(Status::invalid_argument(
                "SubscriptionList.subscription: at least one subscription is required",
            ));
        }
        let prefix = match &list.prefix {
            Some(p) => {
                Some(upgrade_legacy(p).map_err(|e| Status::invalid_argument(e.to_string()))?)
            }
            None => None,
        };
        check_origin(prefix.as_ref())?;
        let mut subs = Vec::new();
        for (i, s) in list.subscription.iter().enumerate() {
            let path = full_path(prefix.as_ref(), &s.path.clone().unwrap_or_default())?;
            // The path must exist in the schema; its data may appear later (spec 3.5.1.3).
            device
                .read(|t| t.find(&path).map(|_| ()))
                .map_err(|e| e.to_status())?;
            subs.push(Sub::validate(i, s, path)?);
        }
        Ok(Plan {
            mode,
            encoding,
            updates_only: list.updates_only,
            prefix,
            subs,
        })
    }

    async fn snapshot(&self, device: &SimDevice, tx: &Outbound) -> Result<(), Gone> {
        for sub in &self.subs {
            let updates = device
                .read(|t| leaf_updates(t, &sub.path, self.encoding, None))
                .unwrap_or_default();
            if !updates.is_empty() {
                send(tx, notification(updates, vec![], self.prefix.as_ref())).await?;
            }
        }
        Ok(())
    }

    async fn run(
        self,
        device: &Arc<SimDevice>,
        mut inbound: Streaming<SubscribeRequest>,
        tx: &Outbound,
    ) -> Result<(), Status> {
        // Subscribe to changes before the snapshot so nothing falls in between.
        let changes = device.subscribe_changes();
        let initial = |plan: &Plan| !plan.updates_only;
        match self.mode {
            subscription_list::Mode::Once => {
                if initial(&self) && self.snapshot(device, tx).await.is_err() {
                    return Ok(());
                }
                let _ = send(tx, sync_response()).await;
                Ok(())
            }
            subscription_list::Mode::Poll => {
                if (initial(&self) && self.snapshot(device, tx).await.is_err())
                    || send(tx, sync_response()).await.is_err()
                {
                    return Ok(());
                }
                while let Some(msg) = inbound.message().await? {
                    match msg.request {
                        Some(subscribe_request::Request::Poll(_)) => {
                            if self.snapshot(device, tx).await.is_err()
                                || send(tx, sync_response()).await.is_err()
                            {
                                return Ok(());
                            }
                        }
                        _ => {
                            return Err(Status::invalid_argument(
                                "SubscribeRequest: only Poll may follow a POLL SubscriptionList",
                            ))
                        }
                    }
                }
                Ok(())
            }
            subscription_list::Mode::Stream => {
                if (initial(&self) && self.snapshot(device, tx).await.is_err())
                    || send(tx, sync_response()).await.is_err()
                {
                    return Ok(());
                }
                let plan = Arc::new(self);
                let mut tasks = JoinSet::new();
                let burst = device.burst();
                if burst && plan.subs.iter().any(|s| s.mode == SubscriptionMode::Sample) {
                    tasks.spawn(burst_loop(plan.clone(), device.clone(), tx.clone()));
                }
                for i in 0..plan.subs.len() {
                    let sub = &plan.subs[i];
                    if sub.mode == SubscriptionMode::Sample {
                        if burst {
                            continue;
                        }
                        tasks.spawn(sample_loop(plan.clone(), i, device.clone(), tx.clone()));
                    } else if let Some(hb) = sub.heartbeat {
                        tasks.spawn(heartbeat_loop(
                            plan.clone(),
                            i,
                            hb,
                            device.clone(),
                            tx.clone(),
                        ));
                    }
                }
                let on_change = plan.subs.iter().any(|s| s.mode != SubscriptionMode::Sample);
                let watcher = on_change_loop(plan.clone(), device.clone(), changes, tx.clone());
                tokio::pin!(watcher);
                // A client may half-close its side once subscribed; the stream
                // lives on until it cancels (our receiver is dropped).
                let mut inbound_open = true;
                loop {
                    tokio::select! {
                        msg = inbound.message(), if inbound_open => match msg {
                            Ok(Some(_)) => {
                                return Err(Status::invalid_argument(
                                    "SubscribeRequest: a STREAM subscription takes no further requests",
                                ));
                            }
                            Ok(None) => inbound_open = false,
                            Err(_) => return Ok(()),
                        },
                        _ = &mut watcher, if on_change => return Ok(()),
                        _ = tx.closed() => return Ok(()),
                    }
                }
            }
        }
    }
}

impl Sub {
    fn validate(i: usize, s: &Subscription, path: Path) -> Result<Sub, Status> {
        let field = |f: &str| format!("SubscriptionList.subscription[{i}].{f}");
        let mode = SubscriptionMode::try_from(s.mode).map_err(|_| {
            Status::invalid_argument(format!("{}: unknown mode {}", field("mode"), s.mode))
        })?;
        let sample = match s.sample_interval {
            0 => DEFAULT_SAMPLE_INTERVAL,
            ns => Duration::from_nanos(ns),
        };
        if mode == SubscriptionMode::Sample && sample < MIN_SAMPLE_INTERVAL {
            return Err(Status::invalid_argument(format!(
                "{}: {} ns is below the minimum of {} ms for {}",
                field("sample_interval"),
                s.sample_interval,
                MIN_SAMPLE_INTERVAL.as_millis(),
                format_path(&path)
            )));
        }
        let heartbeat = match s.heartbeat_interval {
            0 => None,
            ns if Duration::from_nanos(ns) < MIN_SAMPLE_INTERVAL => {
                return Err(Status::invalid_argument(format!(
                    "{}: {ns} ns is below the minimum of {} ms",
                    field("heartbeat_interval"),
                    MIN_SAMPLE_INTERVAL.as_millis()
                )))
            }
            ns => Some(Duration::from_nanos(ns)),
        };
        Ok(Sub {
            path,
            mode,
            sample,
            suppress_redundant: s.suppress_redundant,
            heartbeat,
        })
    }
}

async fn send(tx: &Outbound, msg: SubscribeResponse) -> Result<(), Gone> {
    tx.send(msg).await
}

async fn sample_loop(plan: Arc<Plan>, i: usize, device: Arc<SimDevice>, tx: Outbound) {
    let sub = &plan.subs[i];
    let mut ticker = tokio::time::interval(sub.sample);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    ticker.tick().await; // the snapshot already covered t=0
    let mut last: HashMap<String, Vec<u8>> = HashMap::new();
    let mut last_full = tokio::time::Instant::now();
    loop {
        ticker.tick().await;
        let Ok(mut updates) = device.read(|t| leaf_updates(t, &sub.path, plan.encoding, None))
        else {
            continue;
        };
        if sub.suppress_redundant {
            let heartbeat_due = sub.heartbeat.is_some_and(|hb| last_full.elapsed() >= hb);
            if heartbeat_due {
                last_full = tokio::time::Instant::now();
            }
            updates.retain(|u| {
                let key = u.path.as_ref().map(format_path).unwrap_or_default();
                let bytes =
                    prost::Message::encode_to_vec(u.val.as_ref().unwrap_or(&Default::default()));
                let changed = last.get(&key) != Some(&bytes);
                last.insert(key, bytes);
                changed || heartbeat_due
            });
        }
        if updates.is_empty() {
            continue;
        }
        if send(&tx, notification(updates, vec![], plan.prefix.as_ref()))
            .await
            .is_err()
        {
            return;
        }
    }
}

/// Bench only (`SimDevice::set_burst`): every SAMPLE path of the subscription
/// sent back to back, as fast as the subscriber reads, re-read from the tree
/// only when it changed.
async fn burst_loop(plan: Arc<Plan>, device: Arc<SimDevice>, tx: Outbound) {
    let paths: Vec<Path> = plan
        .subs
        .iter()
        .filter(|s| s.mode == SubscriptionMode::Sample)
        .map(|s| s.path.clone())
        .collect();
    let target = plan.prefix.as_ref().map(|p| p.target.clone());
    let mut seen = None;
    let mut batch = Vec::new();
    loop {
        let generation = device.generation();
        if seen != Some(generation) {
            seen = Some(generation);
            batch = burst_notifications(&device, &paths, plan.encoding);
            if let Some(target) = &target {
                for n in &mut batch {
                    n.prefix.get_or_insert_with(Path::default).target = target.clone();
                }
            }
        }
        if batch.is_empty() {
            tokio::time::sleep(MIN_SAMPLE_INTERVAL).await;
            continue;
        }
        for n in &batch {
            let mut n = n.clone();
            n.timestamp = now_ns();
            let msg = SubscribeResponse {
                response: Some(subscribe_response::Response::Update(n)),
                ..Default::default()
            };
            if send(&tx, msg).await.is_err() {
                return;
            }
        }
    }
}

/// The leaves under `paths` as a router batches them: one notification per
/// list entry (an interface, a component), whose path is the prefix, with
/// every leaf of that entry relative to it.
pub fn burst_notifications(
    device: &SimDevice,
    paths: &[Path],
    encoding: Encoding,
) -> Vec<Notification> {
    let mut groups: Vec<Notification> = Vec::new();
    for path in paths {
        let updates = device
            .read(|t| leaf_updates(t, path, encoding, None))
            .unwrap_or_default();
        for mut u in updates {
            let Some(full) = u.path.take() else { continue };
            // Split after the last keyed element: that is the list entry.
            let split = full
                .elem
                .iter()
                .rposition(|e| !e.key.is_empty())
                .map_or(0, |i| i + 1);
            let prefix = Path {
                origin: full.origin.clone(),
                elem: full.elem[..split].to_vec(),
                ..Default::default()
            };
            u.path = Some(Path {
                elem: full.elem[split..].to_vec(),
                ..Default::default()
            });
            match groups
                .iter_mut()
                .find(|n| n.prefix.as_ref() == Some(&prefix))
            {
                Some(n) => n.update.push(u),
                None => groups.push(Notification {
                    timestamp: now_ns(),
                    prefix: Some(prefix),
                    update: vec![u],
                    delete: vec![],
                    atomic: false,
                }),
            }
        }
    }
    groups
}

async fn heartbeat_loop(
    plan: Arc<Plan>,
    i: usize,
    every: Duration,
    device: Arc<SimDevice>,
    tx: Outbound,
) {
    let sub = &plan.subs[i];
    let mut ticker = tokio::time::interval(every);
    ticker.tick().await;
    loop {
        ticker.tick().await;
        let updates = device
            .read(|t| leaf_updates(t, &sub.path, plan.encoding, None))
            .unwrap_or_default();
        if !updates.is_empty()
            && send(&tx, notification(updates, vec![], plan.prefix.as_ref()))
                .await
                .is_err()
        {
            return;
        }
    }
}

/// ON_CHANGE and TARGET_DEFINED: forward what a change touched under each
/// subscribed path. A subscriber that lags re-reads everything instead.
async fn on_change_loop(
    plan: Arc<Plan>,
    device: Arc<SimDevice>,
    mut changes: broadcast::Receiver<Arc<Vec<Change>>>,
    tx: Outbound,
) {
    let subs: Vec<&Sub> = plan
        .subs
        .iter()
        .filter(|s| s.mode != SubscriptionMode::Sample)
        .collect();
    loop {
        let batch = match changes.recv().await {
            Ok(batch) => batch,
            Err(broadcast::error::RecvError::Lagged(_)) => {
                for sub in &subs {
                    let updates = device
                        .read(|t| leaf_updates(t, &sub.path, plan.encoding, None))
                        .unwrap_or_default();
                    if !updates.is_empty()
                        && send(&tx, notification(updates, vec![], plan.prefix.as_ref()))
                            .await
                            .is_err()
                    {
                        return;
                    }
                }
                continue;
            }
            Err(broadcast::error::RecvError::Closed) => return,
        };
        let mut updates = Vec::new();
        let mut deletes = Vec::new();
        for change in batch.iter() {
            for sub in &subs {
                match change {
                    Change::Updated(at) => {
                        let result = if is_prefix(&sub.path, at) {
                            device.read(|t| leaf_updates(t, at, plan.encoding, None))
                        } else if is_prefix(at, &sub.path) {
                            device.read(|t| leaf_updates(t, &sub.path, plan.encoding, Some(at)))
                        } else {
                            continue;
                        };
                        updates.extend(result.unwrap_or_default());
                    }
                    Change::Deleted(at) => {
                        if is_prefix(&sub.path, at) || is_prefix(at, &sub.path) {
                            deletes.push(at.clone());
                        }
                    }
                }
            }
        }
        if (!updates.is_empty() || !deletes.is_empty())
            && send(&tx, notification(updates, deletes, plan.prefix.as_ref()))
                .await
                .is_err()
        {
            return;
        }
    }
}
