//! The per-device gNMI session task and the handle the controller uses.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use dashmap::DashMap;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio_stream::wrappers::ReceiverStream;
use tonic::service::interceptor::InterceptedService;

use super::backoff::Backoff;
use super::coalesce;
use super::credentials::{DeviceChannel, DeviceCredentials};
use crate::gnmi::parse_path;
use crate::model::Role;
use crate::proto::gnmi::g_nmi_client::GNmiClient;
use crate::proto::gnmi::{
    subscribe_request, subscribe_response, subscription_list, CapabilityRequest, Encoding,
    GetRequest, GetResponse, SetRequest, SetResponse, SubscribeRequest, Subscription,
    SubscriptionList, SubscriptionMode,
};
use crate::state::FabricState;
use crate::telemetry::Ingest;

#[derive(Debug, Clone)]
pub struct SessionConfig {
    pub connect_timeout: Duration,
    /// Deadline of one Set or Get, queueing included.
    pub rpc_timeout: Duration,
    pub backoff_base: Duration,
    pub backoff_cap: Duration,
    /// SAMPLE interval asked of devices for delay/loss/optical/counters.
    pub sample_interval: Duration,
    /// Commands queued per device before callers are told it is overloaded.
    pub queue_depth: usize,
    /// TLS and the gNMI login every session uses.
    pub credentials: DeviceCredentials,
    /// The largest response accepted from a device; reconciliation reads a
    /// container that would exceed it entry by entry.
    pub max_response_bytes: usize,
    /// The master-arbitration election id every Set carries (see `fence`).
    pub election: super::fence::Election,
}

pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 64 << 20;

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            connect_timeout: Duration::from_secs(3),
            rpc_timeout: Duration::from_secs(5),
            backoff_base: Duration::from_millis(200),
            backoff_cap: Duration::from_secs(10),
            sample_interval: Duration::from_secs(1),
            queue_depth: 1024,
            credentials: DeviceCredentials::default(),
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            election: Default::default(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct DeviceTarget {
    pub name: String,
    pub role: Role,
    pub address: SocketAddr,
    /// Names a router's own IS-IS LSP (system id = router id in BCD), where
    /// its link delay and loss are read.
    pub router_id: Option<Ipv4Addr>,
}

#[derive(Debug, Clone, thiserror::Error, PartialEq)]
pub enum SouthboundError {
    #[error("unknown device {0:?}")]
    UnknownDevice(String),
    #[error("device {device} is not connected: {reason}")]
    Unavailable { device: String, reason: String },
    #[error("device {device} has {depth} requests queued; try later")]
    Overloaded { device: String, depth: usize },
    #[error("device {device} did not answer within {timeout:?}")]
    Timeout { device: String, timeout: Duration },
    /// What the controller asked for cannot be sent (it is never sent).
    #[error("device {device}: request not sent: {reason}")]
    BadRequest { device: String, reason: String },
    /// The device answered with an error status (e.g. a rejected Set).
    #[error("device {device} rejected the request: {code:?}: {message}")]
    Rejected {
        device: String,
        code: tonic::Code,
        message: String,
    },
}

enum Command {
    Set(
        SetRequest,
        oneshot::Sender<Result<SetResponse, SouthboundError>>,
    ),
    Get(
        GetRequest,
        oneshot::Sender<Result<GetResponse, SouthboundError>>,
    ),
}

struct Session {
    commands: mpsc::Sender<Command>,
    task: JoinHandle<()>,
}

/// The controller's handle on every device session.
pub struct Southbound {
    sessions: DashMap<String, Session>,
    state: Arc<FabricState>,
    ingest: Arc<Ingest>,
    config: SessionConfig,
}

impl Southbound {
    pub fn new(state: Arc<FabricState>, ingest: Arc<Ingest>, config: SessionConfig) -> Arc<Self> {
        Arc::new(Southbound {
            sessions: DashMap::new(),
            state,
            ingest,
            config,
        })
    }

    pub fn state(&self) -> &Arc<FabricState> {
        &self.state
    }

    /// Starts (or restarts) the session task for a device.
    pub fn add_device(&self, target: DeviceTarget) {
        let (tx, rx) = mpsc::channel(self.config.queue_depth);
        self.state.session_connecting(&target.name);
        let task = SessionTask {
            target: target.clone(),
            config: self.config.clone(),
            state: self.state.clone(),
            ingest: self.ingest.clone(),
        };
        // The session is findable before it can come up: whoever reacts to
        // its first "up" (reconciliation) can already send it requests.
        let (go, ready) = oneshot::channel::<()>();
        let handle = tokio::spawn(async move {
            if ready.await.is_ok() {
                task.run(rx).await;
            }
        });
        if let Some(old) = self.sessions.insert(
            target.name,
            Session {
                commands: tx,
                task: handle,
            },
        ) {
            old.task.abort();
        }
        let _ = go.send(());
    }

    pub fn remove_device(&self, name: &str) {
        if let Some((_, s)) = self.sessions.remove(name) {
            s.task.abort();
        }
        self.state.forget(name);
    }

    pub fn shutdown(&self) {
        for s in self.sessions.iter() {
            s.task.abort();
        }
        self.sessions.clear();
    }

    pub async fn set(&self, device: &str, req: SetRequest) -> Result<SetResponse, SouthboundError> {
        self.call(device, |tx| Command::Set(req, tx)).await
    }

    pub async fn get(&self, device: &str, req: GetRequest) -> Result<GetResponse, SouthboundError> {
        self.call(device, |tx| Command::Get(req, tx)).await
    }

    async fn call<T>(
        &self,
        device: &str,
        make: impl FnOnce(oneshot::Sender<Result<T, SouthboundError>>) -> Command,
    ) -> Result<T, SouthboundError> {
        let commands = self
            .sessions
            .get(device)
            .map(|s| s.commands.clone())
            .ok_or_else(|| SouthboundError::UnknownDevice(device.to_string()))?;
        let (tx, rx) = oneshot::channel();
        commands.try_send(make(tx)).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => SouthboundError::Overloaded {
                device: device.to_string(),
                depth: self.config.queue_depth,
            },
            mpsc::error::TrySendError::Closed(_) => SouthboundError::Unavailable {
                device: device.to_string(),
                reason: "session stopped".into(),
            },
        })?;
        let timeout = self.config.rpc_timeout;
        match tokio::time::timeout(timeout, rx).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err(SouthboundError::Unavailable {
                device: device.to_string(),
                reason: "session restarted".into(),
            }),
            Err(_) => Err(SouthboundError::Timeout {
                device: device.to_string(),
                timeout,
            }),
        }
    }
}

impl Drop for Southbound {
    fn drop(&mut self) {
        self.shutdown();
    }
}

struct SessionTask {
    target: DeviceTarget,
    config: SessionConfig,
    state: Arc<FabricState>,
    ingest: Arc<Ingest>,
}

/// Models a device must announce for a session at all. What each intent
/// needs beyond these is checked when the intent is programmed, so a device
/// lacking, say, openconfig-pf-srte still serves EVPN and is reported for
/// the policies it cannot take.
fn required_models(role: Role) -> &'static [&'static str] {
    match role {
        Role::Packet => &["openconfig-interfaces", "openconfig-network-instance"],
        Role::Optical => &["openconfig-platform"],
    }
}

impl SessionTask {
    async fn run(self, mut commands: mpsc::Receiver<Command>) {
        let mut backoff = Backoff::new(self.config.backoff_base, self.config.backoff_cap);
        let name = self.target.name.clone();
        loop {
            self.state.session_connecting(&name);
            let reason = match self.connect().await {
                Ok((client, channel, models)) => {
                    backoff.reset();
                    tracing::info!(device = %name, address = %self.target.address, "gNMI session up");
                    self.state.session_up(&name, models);
                    let reason = self.serve(client, channel, &mut commands).await;
                    tracing::warn!(device = %name, %reason, "gNMI session down");
                    reason
                }
                Err(reason) => {
                    tracing::debug!(device = %name, %reason, attempt = backoff.attempts(), "gNMI connect failed");
                    reason
                }
            };
            self.state.session_down(&name, &reason);
            let delay = backoff.next_delay(&mut rand::rng());
            // While down, callers get a fast, clear error rather than a hang.
            let sleep = tokio::time::sleep(delay);
            tokio::pin!(sleep);
            loop {
                tokio::select! {
                    _ = &mut sleep => break,
                    cmd = commands.recv() => match cmd {
                        Some(cmd) => self.refuse(cmd, &reason),
                        None => return,
                    },
                }
            }
        }
    }

    fn refuse(&self, cmd: Command, reason: &str) {
        let err = SouthboundError::Unavailable {
            device: self.target.name.clone(),
            reason: reason.to_string(),
        };
        match cmd {
            Command::Set(_, tx) => {
                let _ = tx.send(Err(err));
            }
            Command::Get(_, tx) => {
                let _ = tx.send(Err(err));
            }
        }
    }

    async fn connect(
        &self,
    ) -> Result<(GNmiClient<DeviceChannel>, DeviceChannel, Vec<String>), String> {
        // Re-read per connect: a renewed CA or rotated password applies to
        // the next session.
        let credentials = &self.config.credentials.fresh();
        let endpoint = credentials
            .endpoint(&self.target.name, self.target.address)?
            .connect_timeout(self.config.connect_timeout)
            .tcp_nodelay(true)
            .http2_keep_alive_interval(Duration::from_secs(5))
            .keep_alive_timeout(Duration::from_secs(5));
        let channel = tokio::time::timeout(self.config.connect_timeout, endpoint.connect())
            .await
            .map_err(|_| format!("connect timed out after {:?}", self.config.connect_timeout))?
            .map_err(|e| {
                format!(
                    "connect to {} ({}): {e}{}",
                    self.target.address,
                    if credentials.is_tls() {
                        "TLS"
                    } else {
                        "plaintext"
                    },
                    crate::net::causes(&e)
                )
            })?;
        let channel = InterceptedService::new(channel, credentials.metadata()?);
        let mut client = GNmiClient::new(channel.clone())
            .max_decoding_message_size(self.config.max_response_bytes);
        let caps = tokio::time::timeout(
            self.config.rpc_timeout,
            client.capabilities(CapabilityRequest::default()),
        )
        .await
        .map_err(|_| "Capabilities timed out".to_string())?
        .map_err(|s| format!("Capabilities failed: {}: {}", s.code(), s.message()))?
        .into_inner();
        let models: Vec<String> = caps
            .supported_models
            .iter()
            .map(|m| m.name.clone())
            .collect();
        let missing: Vec<&str> = required_models(self.target.role)
            .iter()
            .copied()
            .filter(|m| !models.iter().any(|have| have == m))
            .collect();
        if !missing.is_empty() {
            return Err(format!("device lacks required models {missing:?}"));
        }
        if !caps
            .supported_encodings
            .contains(&(Encoding::JsonIetf as i32))
        {
            return Err("device does not support JSON_IETF encoding".into());
        }
        Ok((client, channel, models))
    }

    /// Runs an up session until something breaks; returns why.
    async fn serve(
        &self,
        client: GNmiClient<DeviceChannel>,
        channel: DeviceChannel,
        commands: &mut mpsc::Receiver<Command>,
    ) -> String {
        let telemetry = tokio::spawn(stream_telemetry(
            channel,
            self.target.clone(),
            self.config.sample_interval,
            self.ingest.clone(),
        ));
        let reason = self.handle_commands(client, commands, telemetry).await;
        reason
    }

    async fn handle_commands(
        &self,
        mut client: GNmiClient<DeviceChannel>,
        commands: &mut mpsc::Receiver<Command>,
        mut telemetry: JoinHandle<String>,
    ) -> String {
        // Commands taken off the queue while batching that must go next.
        let mut deferred: std::collections::VecDeque<Command> = Default::default();
        loop {
            let cmd = match deferred.pop_front() {
                Some(cmd) => cmd,
                None => tokio::select! {
                    ended = &mut telemetry => {
                        return ended.unwrap_or_else(|e| format!("telemetry task failed: {e}"));
                    }
                    cmd = commands.recv() => match cmd {
                        Some(cmd) => cmd,
                        None => {
                            telemetry.abort();
                            return "session closed".into();
                        }
                    },
                },
            };
            let broken = match cmd {
                Command::Set(req, tx) => {
                    let mut batch = vec![(req, tx)];
                    let mut footprint = coalesce::Footprint::default();
                    if coalesce::mergeable(&batch[0].0) && footprint.admit(&batch[0].0) {
                        while batch.len() < coalesce::MAX_MERGED {
                            match commands.try_recv() {
                                Ok(Command::Set(r, t))
                                    if coalesce::mergeable(&r) && footprint.admit(&r) =>
                                {
                                    batch.push((r, t))
                                }
                                Ok(other) => {
                                    deferred.push_back(other);
                                    break;
                                }
                                Err(_) => break,
                            }
                        }
                    }
                    self.set_batch(&mut client, batch).await
                }
                Command::Get(req, tx) => {
                    let r = client.get(req).await;
                    let broken = transport_broken(&r);
                    let _ = tx.send(self.outcome(r));
                    broken
                }
            };
            if let Some(reason) = broken {
                telemetry.abort();
                for cmd in deferred.drain(..) {
                    self.refuse(cmd, &reason);
                }
                return reason;
            }
        }
    }

    /// Sends queued Sets as one when there are several; if the device refuses
    /// the merged Set, each is retried alone so only the bad one fails.
    async fn set_batch(
        &self,
        client: &mut GNmiClient<DeviceChannel>,
        batch: Vec<(
            SetRequest,
            oneshot::Sender<Result<SetResponse, SouthboundError>>,
        )>,
    ) -> Option<String> {
        if batch.len() > 1 {
            let reqs: Vec<SetRequest> = batch.iter().map(|(r, _)| r.clone()).collect();
            let sent = std::time::Instant::now();
            let r = client
                .set(self.config.election.fence(coalesce::merge(&reqs)))
                .await;
            tracing::trace!(device = %self.target.name, merged = reqs.len(), rtt = ?sent.elapsed(), "merged set");
            match r {
                Ok(resp) => {
                    let resp = resp.into_inner();
                    for (req, tx) in batch {
                        let _ = tx.send(Ok(coalesce::split(&resp, &req)));
                    }
                    return None;
                }
                Err(s) if transport_broken::<()>(&Err(s.clone())).is_some() => {
                    let reason = transport_broken::<()>(&Err(s.clone()));
                    for (_, tx) in batch {
                        let _ = tx.send(self.outcome::<SetResponse>(Err(s.clone())));
                    }
                    return reason;
                }
                Err(_) => {}
            }
        }
        let mut rest = batch.into_iter();
        for (req, tx) in rest.by_ref() {
            let r = client.set(self.config.election.fence(req)).await;
            let broken = transport_broken(&r);
            let _ = tx.send(self.outcome(r));
            if let Some(reason) = &broken {
                for (req, tx) in rest {
                    self.refuse(Command::Set(req, tx), reason);
                }
                return broken;
            }
        }
        None
    }

    fn outcome<T>(
        &self,
        r: Result<tonic::Response<T>, tonic::Status>,
    ) -> Result<T, SouthboundError> {
        r.map(tonic::Response::into_inner).map_err(|s| {
            if s.code() == tonic::Code::Unavailable {
                SouthboundError::Unavailable {
                    device: self.target.name.clone(),
                    reason: s.message().to_string(),
                }
            } else {
                SouthboundError::Rejected {
                    device: self.target.name.clone(),
                    code: s.code(),
                    message: s.message().to_string(),
                }
            }
        })
    }
}

fn transport_broken<T>(r: &Result<T, tonic::Status>) -> Option<String> {
    match r {
        Err(s) if s.code() == tonic::Code::Unavailable => {
            Some(format!("device unavailable: {}", s.message()))
        }
        _ => None,
    }
}

fn subscription(path: &str, mode: SubscriptionMode, sample: Duration) -> Subscription {
    Subscription {
        path: parse_path(path).ok(),
        mode: mode as i32,
        sample_interval: if mode == SubscriptionMode::Sample {
            sample.as_nanos() as u64
        } else {
            0
        },
        ..Default::default()
    }
}

/// One STREAM subscription per device: SAMPLE for measurements, ON_CHANGE for
/// status. Returns why it ended.
async fn stream_telemetry(
    channel: DeviceChannel,
    target: DeviceTarget,
    sample: Duration,
    ingest: Arc<Ingest>,
) -> String {
    let (sampled, on_change) =
        crate::render::openconfig::telemetry::subscriptions(target.role, target.router_id);
    if target.role == Role::Packet && target.router_id.is_none() {
        tracing::warn!(device = %target.name, "no router_id: its link delay and loss cannot be streamed");
    }
    let mut subs: Vec<Subscription> = sampled
        .iter()
        .map(|p| subscription(p, SubscriptionMode::Sample, sample))
        .collect();
    subs.extend(
        on_change
            .iter()
            .map(|p| subscription(p, SubscriptionMode::OnChange, sample)),
    );
    let request = SubscribeRequest {
        request: Some(subscribe_request::Request::Subscribe(SubscriptionList {
            subscription: subs,
            mode: subscription_list::Mode::Stream as i32,
            encoding: Encoding::Proto as i32,
            ..Default::default()
        })),
        ..Default::default()
    };
    // Keep our half of the stream open for the subscription's lifetime.
    let (req_tx, req_rx) = mpsc::channel(1);
    if req_tx.send(request).await.is_err() {
        return "subscription request could not be queued".into();
    }
    let mut stream = match super::codec::subscribe(channel, ReceiverStream::new(req_rx)).await {
        Ok(r) => r.into_inner(),
        Err(s) => return format!("Subscribe failed: {}: {}", s.code(), s.message()),
    };
    let device = ingest.device(&target.name);
    // Before the first notification of this session: ifindexes and IS-IS
    // instances from an earlier one must not name this session's links.
    device.start_session(target.router_id);
    loop {
        match stream.message().await {
            Ok(Some(resp)) => {
                if let Some(subscribe_response::Response::Update(n)) = resp.response {
                    ingest.on_device_notification(&device, &n);
                }
            }
            Ok(None) => return "telemetry stream ended".into(),
            Err(s) => return format!("telemetry stream broke: {}: {}", s.code(), s.message()),
        }
        // req_tx stays alive until here
        let _ = &req_tx;
    }
}
