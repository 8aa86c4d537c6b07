//! The replay driver's machinery: reading a case, the JSON → request adapter,
//! the in-process devices that record every Set, and the step runner.
//!
//! The adapter (`mod adapter`) is the only part that knows the controller's
//! request types, so when the API moves from proto requests to domain intents
//! only it has to change; the case files stay as they are.

use std::collections::BTreeMap;
use std::path::{Path as FsPath, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use strata::northbound::ControllerApi;

use serde_json::{json, Map, Value};
use strata::controller::closed_loop::ClosedLoop;
use strata::controller::programmer::Programmer;
use strata::controller::Controller;
use strata::gnmi::tree::{DataFilter, Tree};
use strata::gnmi::{format_path, join_prefix, parse_path};
use strata::model::Topology;
use strata::proto::gnmi::{
    typed_value, GetRequest, GetResponse, Notification, SetRequest, TypedValue, Update,
};
use strata::proto::strata::v1 as api;
use strata::simulators::device::SimDevice;
use strata::southbound::SouthboundError;
use strata::telemetry::health::{HealthConfig, Reading};

/// Where a step came from, for every error message: `case/input.jsonl:7`.
#[derive(Clone)]
pub struct At(pub String);

impl std::fmt::Display for At {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

pub struct Step {
    pub line: usize,
    pub at: At,
    pub op: String,
    pub arg: Value,
}

pub struct Case {
    pub name: String,
    pub dir: PathBuf,
    pub topology: Topology,
    pub steps: Vec<Step>,
}

/// What a case produced: one JSON line per device Set, one per event.
#[derive(Default)]
pub struct Output {
    pub sets: Vec<String>,
    pub events: Vec<String>,
}

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Reads `input.jsonl`: the first step names the topology file (relative to
/// the repository root), the rest are run in order. Blank lines and lines
/// starting with `//` are skipped so cases can say why a step is there.
pub fn load_case(dir: &FsPath) -> Result<Case, String> {
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let input = dir.join("input.jsonl");
    let text = std::fs::read_to_string(&input)
        .map_err(|e| format!("{}: cannot read: {e}", input.display()))?;
    let mut steps = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let at = At(format!("{name}/input.jsonl:{line}"));
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with("//") {
            continue;
        }
        let v: Value = serde_json::from_str(trimmed).map_err(|e| format!("{at}: not JSON: {e}"))?;
        let obj = v
            .as_object()
            .filter(|o| o.len() == 1)
            .ok_or_else(|| format!("{at}: a step is an object with exactly one key"))?;
        let Some((op, arg)) = obj.iter().next() else {
            return Err(format!("{at}: empty step"));
        };
        steps.push(Step {
            line,
            at,
            op: op.clone(),
            arg: arg.clone(),
        });
    }
    let first = steps
        .first()
        .filter(|s| s.op == "topology")
        .ok_or_else(|| {
            format!("{name}/input.jsonl:1: the first step must be {{\"topology\": \"<file>\"}}")
        })?;
    let file = first
        .arg
        .as_str()
        .ok_or_else(|| format!("{}: topology is a path string", first.at))?;
    let text = std::fs::read_to_string(repo_root().join(file))
        .map_err(|e| format!("{}: cannot read topology {file}: {e}", first.at))?;
    let topology = strata::topology::parse_str(&text)
        .map_err(|e| format!("{}: topology {file}: {e}", first.at))?;
    steps.remove(0);
    Ok(Case {
        name,
        dir: dir.to_path_buf(),
        topology,
        steps,
    })
}

// ------------------------------------------------------------------ adapter

/// JSON → controller requests, for the fields the cases use. Unknown fields
/// are refused so a typo in a case fails loudly instead of being ignored.
mod adapter {
    use super::*;

    pub struct Fields<'a> {
        at: &'a At,
        what: &'a str,
        obj: &'a Map<String, Value>,
    }

    impl<'a> Fields<'a> {
        pub fn new(
            at: &'a At,
            what: &'a str,
            v: &'a Value,
            known: &[&str],
        ) -> Result<Self, String> {
            let obj = v
                .as_object()
                .ok_or_else(|| format!("{at}: {what} must be an object"))?;
            if let Some(k) = obj.keys().find(|k| !known.contains(&k.as_str())) {
                return Err(format!(
                    "{at}: {what}: unknown field {k:?} (known: {})",
                    known.join(", ")
                ));
            }
            Ok(Fields { at, what, obj })
        }

        fn bad(&self, field: &str, want: &str) -> String {
            format!("{}: {}.{field} must be {want}", self.at, self.what)
        }

        pub fn str(&self, field: &str) -> Result<String, String> {
            match self.obj.get(field) {
                None => Ok(String::new()),
                Some(v) => v
                    .as_str()
                    .map(str::to_string)
                    .ok_or_else(|| self.bad(field, "a string")),
            }
        }

        pub fn u64(&self, field: &str) -> Result<u64, String> {
            match self.obj.get(field) {
                None => Ok(0),
                Some(v) => v
                    .as_u64()
                    .ok_or_else(|| self.bad(field, "an unsigned integer")),
            }
        }

        pub fn u32(&self, field: &str) -> Result<u32, String> {
            u32::try_from(self.u64(field)?).map_err(|_| self.bad(field, "a 32-bit integer"))
        }

        pub fn f64(&self, field: &str) -> Result<Option<f64>, String> {
            match self.obj.get(field) {
                None => Ok(None),
                Some(v) => v
                    .as_f64()
                    .map(Some)
                    .ok_or_else(|| self.bad(field, "a number")),
            }
        }

        pub fn bool(&self, field: &str) -> Result<Option<bool>, String> {
            match self.obj.get(field) {
                None => Ok(None),
                Some(v) => v
                    .as_bool()
                    .map(Some)
                    .ok_or_else(|| self.bad(field, "a boolean")),
            }
        }

        pub fn strs(&self, field: &str) -> Result<Vec<String>, String> {
            match self.obj.get(field) {
                None => Ok(Vec::new()),
                Some(Value::Array(a)) => a
                    .iter()
                    .map(|v| {
                        v.as_str()
                            .map(str::to_string)
                            .ok_or_else(|| self.bad(field, "a list of strings"))
                    })
                    .collect(),
                Some(_) => Err(self.bad(field, "a list of strings")),
            }
        }

        pub fn get(&self, field: &str) -> Option<&'a Value> {
            self.obj.get(field)
        }
    }

    fn constraints(at: &At, v: Option<&Value>) -> Result<Option<api::Constraints>, String> {
        let Some(v) = v else { return Ok(None) };
        let f = Fields::new(
            at,
            "constraints",
            v,
            &[
                "metric",
                "max_latency_us",
                "bandwidth_gbps",
                "exclude_nodes",
                "exclude_links",
                "disjoint_from",
            ],
        )?;
        let metric = match f.str("metric")?.as_str() {
            "" | "latency" => api::Metric::Latency,
            "igp" => api::Metric::Igp,
            "te" => api::Metric::Te,
            "hop_count" => api::Metric::HopCount,
            other => return Err(format!("{at}: constraints.metric: unknown {other:?}")),
        };
        Ok(Some(api::Constraints {
            metric: metric as i32,
            max_latency_us: f.u64("max_latency_us")?,
            bandwidth_gbps: f.f64("bandwidth_gbps")?.unwrap_or(0.0),
            exclude_nodes: f.strs("exclude_nodes")?,
            exclude_links: f.strs("exclude_links")?,
            disjoint_from: f.str("disjoint_from")?,
            ..Default::default()
        }))
    }

    pub fn policy(at: &At, v: &Value) -> Result<api::CreatePolicyRequest, String> {
        let f = Fields::new(
            at,
            "create_policy",
            v,
            &[
                "request_id",
                "name",
                "headend",
                "endpoint",
                "color",
                "constraints",
            ],
        )?;
        Ok(api::CreatePolicyRequest {
            request_id: f.str("request_id")?,
            spec: Some(api::PolicySpec {
                name: f.str("name")?,
                headend: f.str("headend")?,
                endpoint: f.str("endpoint")?,
                color: f.u32("color")?,
                constraints: constraints(at, f.get("constraints"))?,
            }),
        })
    }

    pub fn service(at: &At, v: &Value) -> Result<api::CreateServiceRequest, String> {
        let f = Fields::new(
            at,
            "create_service",
            v,
            &[
                "request_id",
                "name",
                "type",
                "attachments",
                "bandwidth_gbps",
                "evi",
                "vni",
                "color",
            ],
        )?;
        let kind = match f.str("type")?.as_str() {
            "e_line" => api::ServiceType::ELine,
            "e_lan" => api::ServiceType::ELan,
            other => {
                return Err(format!(
                    "{at}: create_service.type must be \"e_line\" or \"e_lan\", not {other:?}"
                ))
            }
        };
        let mut attachments = Vec::new();
        for a in f
            .get("attachments")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let a = Fields::new(at, "attachment", a, &["device", "interface", "vlan"])?;
            attachments.push(api::Attachment {
                device: a.str("device")?,
                interface: a.str("interface")?,
                vlan: a.u32("vlan")?,
            });
        }
        Ok(api::CreateServiceRequest {
            request_id: f.str("request_id")?,
            spec: Some(api::ServiceSpec {
                name: f.str("name")?,
                r#type: kind as i32,
                attachments,
                bandwidth_gbps: f.f64("bandwidth_gbps")?.unwrap_or(0.0),
                evi: f.u32("evi")?,
                vni: f.u32("vni")?,
                color: f.u32("color")?,
                ..Default::default()
            }),
        })
    }

    pub fn wavelength(at: &At, v: &Value) -> Result<api::CreateWavelengthRequest, String> {
        let f = Fields::new(
            at,
            "create_wavelength",
            v,
            &[
                "request_id",
                "name",
                "a",
                "b",
                "operational_mode",
                "frequency_mhz",
                "carries_link",
            ],
        )?;
        Ok(api::CreateWavelengthRequest {
            request_id: f.str("request_id")?,
            spec: Some(api::WavelengthSpec {
                name: f.str("name")?,
                a: f.str("a")?,
                b: f.str("b")?,
                operational_mode: f.u32("operational_mode")?,
                frequency_mhz: f.u64("frequency_mhz")?,
                carries_link: f.str("carries_link")?,
                ..Default::default()
            }),
        })
    }

    /// Health config overrides; unset fields keep the daemon's defaults.
    pub fn health(at: &At, v: &Value) -> Result<HealthConfig, String> {
        let f = Fields::new(
            at,
            "health",
            v,
            &[
                "ewma_alpha",
                "hold_down_ms",
                "silence_timeout_ms",
                "hysteresis",
                "delay_excess_us",
            ],
        )?;
        let mut c = HealthConfig::default();
        if let Some(x) = f.f64("ewma_alpha")? {
            c.ewma_alpha = x;
        }
        if let Some(x) = f.f64("hysteresis")? {
            c.hysteresis = x;
        }
        if let Some(x) = f.f64("delay_excess_us")? {
            c.delay_excess_us = x;
        }
        if f.get("hold_down_ms").is_some() {
            c.hold_down = Duration::from_millis(f.u64("hold_down_ms")?);
        }
        if f.get("silence_timeout_ms").is_some() {
            c.silence_timeout = Duration::from_millis(f.u64("silence_timeout_ms")?);
        }
        Ok(c)
    }

    /// An object named by `id` or by `name` (names survive a change of the
    /// id scheme; ids are what the API takes).
    pub fn target(at: &At, what: &str, v: &Value) -> Result<(String, String), String> {
        let f = Fields::new(at, what, v, &["id", "name"])?;
        let (id, name) = (f.str("id")?, f.str("name")?);
        if id.is_empty() == name.is_empty() {
            return Err(format!("{at}: {what} takes exactly one of id or name"));
        }
        Ok((id, name))
    }
}

// ------------------------------------------------------------------ devices

/// In-process devices (the simulators' data tree and transactional Set, no
/// sockets) that record every Set the controller sends, in arrival order.
pub struct Devices {
    devices: BTreeMap<String, SimDevice>,
    /// (device, request, the device's refusal if it refused).
    log: Mutex<Vec<(String, SetRequest, Option<String>)>>,
    /// Devices that refuse every Set (unreachable, or rejecting config), to
    /// replay partial failures and their rollback.
    refusing: Mutex<std::collections::BTreeSet<String>>,
}

impl Devices {
    pub fn new(topology: &Topology) -> Arc<Self> {
        let devices = topology
            .nodes
            .iter()
            .filter_map(|n| Some((n.name.clone(), SimDevice::from_topology(topology, &n.name)?)))
            .collect();
        Arc::new(Devices {
            devices,
            log: Mutex::new(Vec::new()),
            refusing: Mutex::default(),
        })
    }

    pub fn device(&self, at: &At, name: &str) -> Result<&SimDevice, String> {
        self.devices
            .get(name)
            .ok_or_else(|| format!("{at}: no device {name:?} in the topology"))
    }

    pub fn take(&self) -> Vec<(String, SetRequest, Option<String>)> {
        std::mem::take(&mut *self.log.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

#[tonic::async_trait]
impl Programmer for Devices {
    async fn set(&self, device: &str, req: SetRequest) -> Result<(), SouthboundError> {
        let Some(dev) = self.devices.get(device) else {
            return Err(SouthboundError::UnknownDevice(device.to_string()));
        };
        let refusing = self
            .refusing
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains(device);
        let result = if refusing {
            Err(SouthboundError::Unavailable {
                device: device.to_string(),
                reason: "refusing Sets (replay step device_refuses)".into(),
            })
        } else {
            dev.apply_set(&req)
                .map(|_| ())
                .map_err(|s| SouthboundError::Rejected {
                    device: device.to_string(),
                    code: s.code(),
                    message: s.message().to_string(),
                })
        };
        let refusal = result.as_ref().err().map(ToString::to_string);
        self.log
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((device.to_string(), req, refusal));
        result
    }

    async fn get(&self, device: &str, req: GetRequest) -> Result<GetResponse, SouthboundError> {
        let Some(dev) = self.devices.get(device) else {
            return Err(SouthboundError::UnknownDevice(device.to_string()));
        };
        let rejected = |code, message: String| SouthboundError::Rejected {
            device: device.to_string(),
            code,
            message,
        };
        let mut notification = Vec::new();
        for rel in &req.path {
            let path = join_prefix(req.prefix.as_ref(), rel);
            let update = dev.read(|tree| -> Result<Vec<Update>, SouthboundError> {
                let found = tree
                    .find(&path)
                    .map_err(|e| rejected(e.code(), e.to_string()))?;
                found
                    .iter()
                    .map(|f| {
                        let value = Tree::export(f, true, DataFilter::Config);
                        let bytes = serde_json::to_vec(&value)
                            .map_err(|e| rejected(tonic::Code::Internal, e.to_string()))?;
                        Ok(Update {
                            path: Some(f.path.clone()),
                            val: Some(TypedValue {
                                value: Some(typed_value::Value::JsonIetfVal(bytes)),
                            }),
                            ..Default::default()
                        })
                    })
                    .collect()
            })?;
            if update.is_empty() {
                return Err(rejected(
                    tonic::Code::NotFound,
                    format!("no data at {}", format_path(&path)),
                ));
            }
            notification.push(Notification {
                update,
                ..Default::default()
            });
        }
        Ok(GetResponse {
            notification,
            ..Default::default()
        })
    }
}

/// A Set as reviewable JSON: paths in text form, values decoded.
fn set_json(line: usize, device: &str, req: &SetRequest, refusal: &Option<String>) -> Value {
    let prefix = req.prefix.as_ref();
    let updates = |us: &[Update]| -> Value {
        us.iter()
            .map(|u| {
                let path = join_prefix(prefix, &u.path.clone().unwrap_or_default());
                let value = u
                    .val
                    .as_ref()
                    .and_then(|tv| strata::gnmi::value::typed_to_json(tv).ok())
                    .unwrap_or(Value::Null);
                json!({"path": format_path(&path), "value": value})
            })
            .collect()
    };
    let mut out = Map::new();
    out.insert("step".into(), json!(line));
    out.insert("device".into(), json!(device));
    if !req.delete.is_empty() {
        let deletes: Vec<String> = req
            .delete
            .iter()
            .map(|p| format_path(&join_prefix(prefix, p)))
            .collect();
        out.insert("delete".into(), json!(deletes));
    }
    if !req.replace.is_empty() {
        out.insert("replace".into(), updates(&req.replace));
    }
    if !req.update.is_empty() {
        out.insert("update".into(), updates(&req.update));
    }
    if let Some(r) = refusal {
        out.insert("refused".into(), json!(r));
    }
    Value::Object(out)
}

/// A watch event without its timestamp (wall clock); revisions stay, they
/// are deterministic.
fn event_json(line: usize, ev: &api::Event) -> Value {
    use api::event::Object;
    let change = match api::Change::try_from(ev.change) {
        Ok(api::Change::Created) => "created",
        Ok(api::Change::Updated) => "updated",
        Ok(api::Change::Deleted) => "deleted",
        _ => "unspecified",
    };
    let mut out = Map::new();
    out.insert("step".into(), json!(line));
    out.insert("revision".into(), json!(ev.revision));
    out.insert("change".into(), json!(change));
    match &ev.object {
        Some(Object::Policy(p)) => {
            let state = match api::PolicyState::try_from(p.state) {
                Ok(api::PolicyState::Programmed) => "programmed",
                Ok(api::PolicyState::Down) => "down",
                _ => "unspecified",
            };
            out.insert("kind".into(), json!("policy"));
            out.insert("id".into(), json!(p.id));
            out.insert("state".into(), json!(state));
            let links = p.path.as_ref().map(|x| x.links.clone()).unwrap_or_default();
            out.insert("links".into(), json!(links));
        }
        Some(Object::Service(s)) => {
            out.insert("kind".into(), json!("service"));
            out.insert("id".into(), json!(s.id));
            out.insert("transport".into(), json!(s.transport_policies));
        }
        Some(Object::Wavelength(w)) => {
            out.insert("kind".into(), json!("wavelength"));
            out.insert("id".into(), json!(w.id));
            out.insert("channel".into(), json!(w.channel));
            out.insert("fibers".into(), json!(w.fibers));
        }
        Some(Object::Breach(b)) => {
            out.insert("kind".into(), json!("breach"));
            out.insert("id".into(), json!(b.link));
            out.insert("metric".into(), json!(b.metric));
            out.insert("cleared".into(), json!(b.cleared));
        }
        Some(Object::Device(d)) => {
            out.insert("kind".into(), json!("device"));
            out.insert("id".into(), json!(d.device));
        }
        Some(Object::Cabling(c)) => {
            out.insert("kind".into(), json!("cabling"));
            out.insert("id".into(), json!(c.link));
            out.insert("miscabled".into(), json!(c.miscabled));
        }
        Some(Object::Drain(d)) => {
            let info = d.drain.clone().unwrap_or_default();
            out.insert("kind".into(), json!("drain"));
            out.insert("id".into(), json!(info.target));
            out.insert("links".into(), json!(info.links));
            out.insert("moved".into(), json!(d.moved_policies));
            out.insert("unmoved".into(), json!(d.unmoved_policies));
        }
        Some(Object::Topology(t)) => {
            out.insert("kind".into(), json!(format!("topology-{}", t.kind)));
            out.insert("id".into(), json!(t.name));
        }
        None => {}
    }
    out.insert("reason".into(), json!(ev.reason));
    Value::Object(out)
}

// ------------------------------------------------------------------ runner

struct Run {
    case_name: String,
    topology: Topology,
    devices: Arc<Devices>,
    controller: Arc<Controller>,
    health: HealthConfig,
    closed_loop: Option<ClosedLoop>,
    /// The fake clock: advanced only by `tick_ms`.
    now_ns: u64,
    events: tokio::sync::broadcast::Receiver<Arc<strata::object::Event>>,
    out: Output,
    /// Sets recorded so far, and how many there were at each `mark`.
    sets_seen: usize,
    marks: BTreeMap<String, usize>,
    /// Why the step's request was refused, written after the step's events.
    refusal: Option<String>,
}

pub async fn run(case: &Case) -> Result<Output, String> {
    let devices = Devices::new(&case.topology);
    let controller = Controller::new(case.topology.clone(), devices.clone(), None);
    let (_, events) = controller
        .events()
        .watch(0)
        .map_err(|e| format!("{}: watch: {e:?}", case.name))?;
    let mut run = Run {
        case_name: case.name.clone(),
        topology: case.topology.clone(),
        devices,
        controller,
        health: HealthConfig::default(),
        closed_loop: None,
        now_ns: 0,
        events,
        out: Output::default(),
        sets_seen: 0,
        marks: BTreeMap::new(),
        refusal: None,
    };
    for step in &case.steps {
        run.step(step).await?;
        run.collect(step.line)?;
    }
    Ok(run.out)
}

impl Run {
    /// Moves what the step caused into the output. Sets of one step to
    /// different devices are sorted by device: the controller programs
    /// devices concurrently, so only each device's own order is meaningful.
    fn collect(&mut self, line: usize) -> Result<(), String> {
        let mut sets = self.devices.take();
        sets.sort_by(|a, b| a.0.cmp(&b.0));
        for (device, req, refusal) in &sets {
            self.out
                .sets
                .push(set_json(line, device, req, refusal).to_string());
            self.sets_seen += 1;
        }
        loop {
            match self.events.try_recv() {
                Ok(ev) => self
                    .out
                    .events
                    .push(event_json(line, &strata::northbound::convert::event(&ev)).to_string()),
                Err(tokio::sync::broadcast::error::TryRecvError::Empty) => break,
                Err(e) => return Err(format!("{}: event stream: {e}", self.case_name)),
            }
        }
        if let Some(reason) = self.refusal.take() {
            self.out
                .events
                .push(json!({"step": line, "kind": "error", "reason": reason}).to_string());
        }
        Ok(())
    }

    fn closed_loop(&mut self) -> &mut ClosedLoop {
        let (c, t, h) = (&self.controller, &self.topology, &self.health);
        self.closed_loop
            .get_or_insert_with(|| ClosedLoop::new(c.clone(), t, h.clone()))
    }

    /// A refused request is part of the expected behaviour: it goes to the
    /// events file as an `error` line rather than failing the case.
    fn refused(&mut self, e: impl std::fmt::Display) {
        self.refusal = Some(e.to_string());
    }

    fn resolve(&self, at: &At, kind: &str, arg: &Value) -> Result<String, String> {
        let (id, name) = adapter::target(at, kind, arg)?;
        if !id.is_empty() {
            return Ok(id);
        }
        let c = &self.controller;
        let found = match kind {
            "delete_policy" => c
                .list_policies("", "")
                .into_iter()
                .find(|p| p.spec.as_ref().is_some_and(|s| s.name == name))
                .map(|p| p.id),
            "delete_service" => c
                .list_services()
                .into_iter()
                .find(|p| p.spec.as_ref().is_some_and(|s| s.name == name))
                .map(|p| p.id),
            _ => c
                .list_wavelengths()
                .into_iter()
                .find(|p| p.spec.as_ref().is_some_and(|s| s.name == name))
                .map(|p| p.id),
        };
        found.ok_or_else(|| format!("{at}: {kind}: nothing named {name:?}"))
    }

    async fn step(&mut self, s: &Step) -> Result<(), String> {
        let at = &s.at;
        let c = self.controller.clone();
        match s.op.as_str() {
            "create_policy" => {
                if let Err(e) = c.create_policy(adapter::policy(at, &s.arg)?).await {
                    self.refused(e);
                }
            }
            "create_service" => {
                if let Err(e) = c.create_service(adapter::service(at, &s.arg)?).await {
                    self.refused(e);
                }
            }
            "create_wavelength" => {
                if let Err(e) = c.create_wavelength(adapter::wavelength(at, &s.arg)?).await {
                    self.refused(e);
                }
            }
            "delete_policy" | "delete_service" | "delete_wavelength" => {
                let id = self.resolve(at, &s.op, &s.arg)?;
                let r = match s.op.as_str() {
                    "delete_policy" => c.delete_policy(&id, 0).await,
                    "delete_service" => c.delete_service(&id, 0).await,
                    _ => c.delete_wavelength(&id, 0).await,
                };
                if let Err(e) = r {
                    self.refused(e);
                }
            }
            "health" => {
                if self.closed_loop.is_some() {
                    return Err(format!(
                        "{at}: health must come before the first telemetry or tick"
                    ));
                }
                self.health = adapter::health(at, &s.arg)?;
            }
            "telemetry" => self.telemetry(at, &s.arg).await?,
            "tick_ms" => {
                let ms = s
                    .arg
                    .as_u64()
                    .ok_or_else(|| format!("{at}: tick_ms takes milliseconds"))?;
                self.now_ns += ms * 1_000_000;
                let now = self.now_ns;
                self.closed_loop().tick(now).await;
            }
            "device_restart" => {
                let f = adapter::Fields::new(at, "device_restart", &s.arg, &["device", "wipe"])?;
                let dev = self.devices.device(at, &f.str("device")?)?;
                // A restart that kept its configuration leaves nothing to see
                // in-process; only a wipe changes the device.
                if f.bool("wipe")?.unwrap_or(false) {
                    dev.wipe();
                }
            }
            "device_write" => self.device_write(at, &s.arg)?,
            "device_refuses" => {
                let f = adapter::Fields::new(at, "device_refuses", &s.arg, &["device", "refuse"])?;
                let name = f.str("device")?;
                self.devices.device(at, &name)?;
                let mut refusing = self
                    .devices
                    .refusing
                    .lock()
                    .unwrap_or_else(|e| e.into_inner());
                if f.bool("refuse")?.unwrap_or(true) {
                    refusing.insert(name);
                } else {
                    refusing.remove(&name);
                }
            }
            "reconcile" => {
                let device = s
                    .arg
                    .as_str()
                    .ok_or_else(|| format!("{at}: reconcile takes a device name"))?;
                if let Err(e) = c.reconcile_device(device).await {
                    self.refused(e);
                }
            }
            "mark" => {
                let name = s
                    .arg
                    .as_str()
                    .ok_or_else(|| format!("{at}: mark takes a name"))?;
                self.marks.insert(name.to_string(), self.sets_seen);
            }
            "expect_policy" => self.expect_policy(at, &s.arg)?,
            "expect_sets" => self.expect_sets(at, &s.arg)?,
            "expect_device" => self.expect_device(at, &s.arg)?,
            other => return Err(format!("{at}: unknown step {other:?}")),
        }
        Ok(())
    }

    /// Readings for one end of a link (end `a` unless `end` says `b`), in
    /// the order up, delay, loss, OSNR, all at the current fake time.
    async fn telemetry(&mut self, at: &At, arg: &Value) -> Result<(), String> {
        let f = adapter::Fields::new(
            at,
            "telemetry",
            arg,
            &["link", "end", "delay_us", "loss_percent", "osnr_db", "up"],
        )?;
        let name = f.str("link")?;
        let link = self
            .topology
            .link(&name)
            .ok_or_else(|| format!("{at}: no link {name:?} in the topology"))?;
        let end = match f.str("end")?.as_str() {
            "" | "a" => &link.a,
            "b" => &link.b,
            other => return Err(format!("{at}: telemetry.end must be a or b, not {other:?}")),
        };
        // The closed loop knows links by interface; an optical reading that
        // names its channel component is mapped back through discovered facts.
        let port = end.interface.clone();
        let device = end.node.clone();
        let mut readings = Vec::new();
        if let Some(up) = f.bool("up")? {
            readings.push(Reading::Up(up));
        }
        if let Some(x) = f.f64("delay_us")? {
            readings.push(Reading::DelayUs(x));
        }
        if let Some(x) = f.f64("loss_percent")? {
            readings.push(Reading::LossPercent(x));
        }
        if let Some(x) = f.f64("osnr_db")? {
            readings.push(Reading::OsnrDb(x));
        }
        if readings.is_empty() {
            return Err(format!("{at}: telemetry without a reading"));
        }
        let now = self.now_ns;
        for r in readings {
            self.closed_loop().observe(&device, &port, r, now).await;
        }
        Ok(())
    }

    /// Configuration put on a device behind Strata's back (an operator, or
    /// a previous controller): applied to the device, not recorded as a Set.
    fn device_write(&self, at: &At, arg: &Value) -> Result<(), String> {
        let f = adapter::Fields::new(at, "device_write", arg, &["device", "update", "delete"])?;
        let dev = self.devices.device(at, &f.str("device")?)?;
        let path = |p: &str| parse_path(p).map_err(|e| format!("{at}: path {p:?}: {e}"));
        let mut req = SetRequest::default();
        for p in f.strs("delete")? {
            req.delete.push(path(&p)?);
        }
        for u in f
            .get("update")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let u = adapter::Fields::new(at, "device_write.update", u, &["path", "value"])?;
            let value = u.get("value").cloned().unwrap_or(Value::Null);
            req.update.push(Update {
                path: Some(path(&u.str("path")?)?),
                val: Some(TypedValue {
                    value: Some(typed_value::Value::JsonIetfVal(
                        value.to_string().into_bytes(),
                    )),
                }),
                ..Default::default()
            });
        }
        dev.apply_set(&req)
            .map(|_| ())
            .map_err(|e| format!("{at}: device refused the write: {e}"))
    }

    fn expect_policy(&self, at: &At, arg: &Value) -> Result<(), String> {
        let f = adapter::Fields::new(at, "expect_policy", arg, &["name", "links", "state"])?;
        let name = f.str("name")?;
        let p = self
            .controller
            .list_policies("", "")
            .into_iter()
            .find(|p| p.spec.as_ref().is_some_and(|s| s.name == name))
            .ok_or_else(|| format!("{at}: expect_policy: no policy named {name:?}"))?;
        if f.get("links").is_some() {
            let want = f.strs("links")?;
            let have = p.path.map(|x| x.links).unwrap_or_default();
            if want != have {
                return Err(format!(
                    "{at}: expect_policy {name}: links {have:?}, expected {want:?}"
                ));
            }
        }
        let state = f.str("state")?;
        if !state.is_empty() {
            let have = match api::PolicyState::try_from(p.state) {
                Ok(api::PolicyState::Programmed) => "programmed",
                Ok(api::PolicyState::Down) => "down",
                _ => "unspecified",
            };
            if have != state {
                return Err(format!(
                    "{at}: expect_policy {name}: state {have}, expected {state}"
                ));
            }
        }
        Ok(())
    }

    /// The number of Sets since the `mark` named `since` (e.g. 0 while a
    /// link flaps). Marks, not line numbers, so editing a case keeps them.
    fn expect_sets(&self, at: &At, arg: &Value) -> Result<(), String> {
        let f = adapter::Fields::new(at, "expect_sets", arg, &["since", "count"])?;
        let since = f.str("since")?;
        let from = *self
            .marks
            .get(&since)
            .ok_or_else(|| format!("{at}: expect_sets: no earlier mark {since:?}"))?;
        if f.get("count").is_none() {
            return Err(format!("{at}: expect_sets needs a count"));
        }
        let want = f.u64("count")? as usize;
        let have = self.sets_seen - from;
        if have != want {
            return Err(format!(
                "{at}: expect_sets: {have} Sets since mark {since:?}, expected {want}"
            ));
        }
        Ok(())
    }

    /// Whether the device holds configuration at `path` (after a reconcile:
    /// foreign config kept, stale config gone, wiped config back).
    fn expect_device(&self, at: &At, arg: &Value) -> Result<(), String> {
        let f = adapter::Fields::new(at, "expect_device", arg, &["device", "path", "present"])?;
        let dev = self.devices.device(at, &f.str("device")?)?;
        let text = f.str("path")?;
        let path = parse_path(&text).map_err(|e| format!("{at}: path {text:?}: {e}"))?;
        let present = dev.read(|t| t.find(&path).is_ok_and(|found| !found.is_empty()));
        let want = f.bool("present")?.unwrap_or(true);
        if present != want {
            return Err(format!(
                "{at}: expect_device: {text} is {}on the device, expected {}",
                if present { "" } else { "not " },
                if want { "present" } else { "absent" }
            ));
        }
        Ok(())
    }
}
