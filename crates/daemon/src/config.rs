//! The controller's configuration file (TOML), as `strata controller
//! --config FILE`, `strata lab --config FILE` and `strata config check FILE`
//! read it. Pure: text in, a typed [`Config`] or every problem out.
//!
//! Every key is optional (a missing key keeps the built-in default, and a
//! command-line flag that is given beats the file). Unknown keys are refused
//! with their line and the nearest known key, wrong types and out-of-range
//! values with the key's path, so a typo never silently leaves a threshold at
//! its default.
//!
//! Conventions:
//! - durations are strings with a unit: `"800ms"`, `"5s"`, `"1.5s"`, `"2m"`,
//!   `"1h"` (a bare number is refused: is `5` seconds or milliseconds?);
//! - id ranges are inclusive two-element arrays: `evi = [1000, 65535]`;
//! - relative paths are relative to the directory holding the file, so a
//!   config and its certificates can move together.

use std::net::SocketAddr;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use toml::de::{DeTable, DeValue};
use toml::Spanned;

use crate::controller::Pools;
use crate::telemetry::health::{HealthConfig, HealthOverride, HealthPolicy, CLASSES};

/// A config file larger than this is refused rather than read.
const MAX_FILE_BYTES: u64 = 1 << 20;

/// The northbound API.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Api {
    pub listen: Option<SocketAddr>,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    pub client_ca: Option<PathBuf>,
    pub principals: Option<PathBuf>,
    pub insecure: Option<bool>,
}

/// The southbound gNMI sessions.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Devices {
    pub gnmi_ca: Option<PathBuf>,
    pub gnmi_username: Option<String>,
    pub gnmi_password_file: Option<PathBuf>,
    pub gnmi_insecure: Option<bool>,
    pub sample_interval: Option<Duration>,
    pub connect_timeout: Option<Duration>,
    pub rpc_timeout: Option<Duration>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Journal {
    pub data_dir: Option<PathBuf>,
    pub recover_journal: Option<bool>,
    /// `etcd://HOST:PORT[,…]`: intents on etcd instead of the journal.
    pub store: Option<String>,
    /// CA (PEM) of the etcd members; TLS to etcd when set.
    pub etcd_ca: Option<PathBuf>,
    /// Key prefix on etcd (default `/strata/`).
    pub etcd_prefix: Option<String>,
}

/// `[replica]`: this controller as one of several on the etcd store.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Replica {
    /// `id`: the replica's name (replicas run only with one).
    pub id: Option<String>,
    /// `lease_ttl`: how long a silent leader keeps its lease.
    pub lease_ttl: Option<Duration>,
    /// `advertise`: `host:port` clients reach this replica's API on.
    pub advertise: Option<String>,
}

/// Bounds on what the controller holds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Limits {
    /// Commands queued per device before callers are told it is overloaded.
    pub device_queue: Option<usize>,
}

/// Where a web view or metrics endpoint is served: an address, or off.
pub type Listen = Option<SocketAddr>;

/// A parsed config file. `None` means "not in the file".
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Config {
    pub api: Api,
    pub devices: Devices,
    pub journal: Journal,
    /// `[reconcile] interval`.
    pub reconcile_interval: Option<Duration>,
    /// `[web] listen`: `Some(None)` is `"off"`.
    pub web: Option<Listen>,
    /// `[metrics] listen`: `Some(None)` is `"off"`.
    pub metrics: Option<Listen>,
    /// `[closed_loop]`: defaults where the file says nothing.
    pub closed_loop: HealthPolicy,
    /// `[pools]`: defaults where the file says nothing.
    pub pools: Pools,
    pub limits: Limits,
    pub replica: Replica,
}

/// One thing wrong with a file, at a line when it has one.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub line: Option<usize>,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(l) => write!(f, "line {l}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// Everything wrong with one file.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigError {
    pub path: PathBuf,
    pub problems: Vec<Problem>,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            match p.line {
                Some(l) => write!(f, "{}:{l}: {}", self.path.display(), p.message)?,
                None => write!(f, "{}: {}", self.path.display(), p.message)?,
            }
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

/// Reads and checks `path`.
pub fn load_file(path: &Path) -> Result<Config, ConfigError> {
    let fail = |message: String| ConfigError {
        path: path.to_path_buf(),
        problems: vec![Problem {
            line: None,
            message,
        }],
    };
    let size = std::fs::metadata(path)
        .map_err(|e| fail(format!("cannot read: {e}")))?
        .len();
    if size > MAX_FILE_BYTES {
        return Err(fail(format!(
            "{size} bytes is too large for a config file (at most {MAX_FILE_BYTES})"
        )));
    }
    let text = std::fs::read_to_string(path).map_err(|e| fail(format!("cannot read: {e}")))?;
    let base = path.parent().unwrap_or(Path::new(""));
    parse(&text, base).map_err(|problems| ConfigError {
        path: path.to_path_buf(),
        problems,
    })
}

/// Parses `text`; relative paths in it are taken relative to `base`.
pub fn parse(text: &str, base: &Path) -> Result<Config, Vec<Problem>> {
    let mut cx = Cx {
        text,
        base,
        problems: Vec::new(),
    };
    let (doc, errors) = DeTable::parse_recoverable(text);
    if !errors.is_empty() {
        // A document with syntax errors is only partly read: judging its keys
        // would report phantoms, so only the syntax is reported.
        for e in errors {
            let line = e.span().map(|s| cx.line(s.start));
            cx.problems.push(Problem {
                line,
                message: e.message().trim_end().to_string(),
            });
        }
        return Err(cx.problems);
    }
    let config = cx.document(doc.get_ref());
    // In file order (keys are judged table by table); problems of the file as
    // a whole, which have no line, last.
    cx.problems.sort_by_key(|p| p.line.unwrap_or(usize::MAX));
    if cx.problems.is_empty() {
        Ok(config)
    } else {
        Err(cx.problems)
    }
}

/// Known keys of each table, for unknown-key checks and suggestions.
const TOP: &[&str] = &[
    "api",
    "devices",
    "journal",
    "reconcile",
    "web",
    "metrics",
    "closed_loop",
    "pools",
    "limits",
    "replica",
];
const API: &[&str] = &[
    "listen",
    "tls_cert",
    "tls_key",
    "client_ca",
    "principals",
    "insecure",
];
const DEVICES: &[&str] = &[
    "gnmi_ca",
    "gnmi_username",
    "gnmi_password_file",
    "gnmi_insecure",
    "sample_interval",
    "connect_timeout",
    "rpc_timeout",
];
const JOURNAL: &[&str] = &[
    "data_dir",
    "recover_journal",
    "store",
    "etcd_ca",
    "etcd_prefix",
];
const RECONCILE: &[&str] = &["interval"];
const REPLICA: &[&str] = &["id", "lease_ttl", "advertise"];
const LISTEN: &[&str] = &["listen"];
const THRESHOLDS: &[&str] = &[
    "ewma_alpha",
    "delay_excess_us",
    "delay_excess_factor",
    "loss_percent",
    "osnr_min_db",
    "hysteresis",
    "hold_down",
    "silence_timeout",
];
const POOLS: &[&str] = &["evi", "vni", "default_color"];
const LIMITS: &[&str] = &["device_queue"];

type Table<'i> = DeTable<'i>;
type Value<'i> = Spanned<DeValue<'i>>;

struct Cx<'a> {
    text: &'a str,
    base: &'a Path,
    problems: Vec<Problem>,
}

impl Cx<'_> {
    /// The 1-based line holding byte `offset`.
    fn line(&self, offset: usize) -> usize {
        let end = offset.min(self.text.len());
        self.text.as_bytes()[..end]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1
    }

    fn problem(&mut self, span: Range<usize>, message: String) {
        let line = Some(self.line(span.start));
        self.problems.push(Problem { line, message });
    }

    /// Reports every key of `table` (at `path`) not in `known`.
    fn known_keys(&mut self, table: &Table<'_>, path: &str, known: &[&str]) {
        for (key, _) in table.iter() {
            let k: &str = key.get_ref();
            if known.contains(&k) {
                continue;
            }
            let full = join(path, k);
            let message = match suggest(k, known.iter().copied()) {
                Some(s) => format!("unknown key `{full}`; did you mean `{s}`?"),
                None => format!(
                    "unknown key `{full}` (known keys{}: {})",
                    if path.is_empty() {
                        String::new()
                    } else {
                        format!(" of [{path}]")
                    },
                    known.join(", ")
                ),
            };
            self.problem(key.span(), message);
        }
    }

    /// The table under `key`, or `None` (reported if `key` holds something else).
    fn table<'t, 'i>(
        &mut self,
        parent: &'t Table<'i>,
        path: &str,
        key: &str,
    ) -> Option<&'t Table<'i>> {
        let v = parent.get(key)?;
        match v.get_ref() {
            DeValue::Table(t) => Some(t),
            other => {
                self.problem(
                    v.span(),
                    format!(
                        "{}: expected a table, found {}",
                        join(path, key),
                        other.type_str()
                    ),
                );
                None
            }
        }
    }

    fn wrong_type(&mut self, v: &Value<'_>, path: &str, expected: &str) {
        self.problem(
            v.span(),
            format!(
                "{path}: expected {expected}, found {}",
                v.get_ref().type_str()
            ),
        );
    }

    fn string(&mut self, t: &Table<'_>, path: &str, key: &str) -> Option<(String, Range<usize>)> {
        let v = t.get(key)?;
        match v.get_ref() {
            DeValue::String(s) => Some((s.to_string(), v.span())),
            _ => {
                self.wrong_type(v, &join(path, key), "a string");
                None
            }
        }
    }

    fn bool(&mut self, t: &Table<'_>, path: &str, key: &str) -> Option<bool> {
        let v = t.get(key)?;
        match v.get_ref() {
            DeValue::Boolean(b) => Some(*b),
            _ => {
                self.wrong_type(v, &join(path, key), "true or false");
                None
            }
        }
    }

    fn path(&mut self, t: &Table<'_>, path: &str, key: &str) -> Option<PathBuf> {
        let (s, span) = self.string(t, path, key)?;
        if s.is_empty() {
            self.problem(span, format!("{}: an empty path", join(path, key)));
            return None;
        }
        Some(self.base.join(s))
    }

    fn addr(&mut self, t: &Table<'_>, path: &str, key: &str) -> Option<SocketAddr> {
        let (s, span) = self.string(t, path, key)?;
        match s.parse() {
            Ok(a) => Some(a),
            Err(_) => {
                self.problem(
                    span,
                    format!(
                        "{}: {s:?} is not an address (give IP:PORT, e.g. \"127.0.0.1:50051\")",
                        join(path, key)
                    ),
                );
                None
            }
        }
    }

    /// An address, or `"off"`.
    fn listen(&mut self, t: &Table<'_>, path: &str, key: &str) -> Option<Listen> {
        let (s, span) = self.string(t, path, key)?;
        if s == "off" {
            return Some(None);
        }
        match s.parse() {
            Ok(a) => Some(Some(a)),
            Err(_) => {
                self.problem(
                    span,
                    format!(
                        "{}: {s:?} is not an address (give IP:PORT or \"off\")",
                        join(path, key)
                    ),
                );
                None
            }
        }
    }

    /// A number (integer or float) in `lo..=hi`, or `lo..hi` when `open_hi`;
    /// `lo` is excluded when `open_lo`.
    fn number(
        &mut self,
        t: &Table<'_>,
        path: &str,
        key: &str,
        (lo, hi): (f64, f64),
        (open_lo, open_hi): (bool, bool),
    ) -> Option<f64> {
        let v = t.get(key)?;
        let full = join(path, key);
        let x = match v.get_ref() {
            DeValue::Integer(i) => i64::from_str_radix(i.as_str(), i.radix())
                .ok()
                .map(|x| x as f64),
            DeValue::Float(f) => f.as_str().parse::<f64>().ok(),
            _ => {
                self.wrong_type(v, &full, "a number");
                return None;
            }
        };
        let Some(x) = x.filter(|x| x.is_finite()) else {
            self.problem(v.span(), format!("{full}: not a finite number"));
            return None;
        };
        let below = if open_lo { x <= lo } else { x < lo };
        let above = if open_hi { x >= hi } else { x > hi };
        if below || above {
            let range = format!(
                "{lo}..{}{hi}{}",
                if open_hi { "" } else { "=" },
                if open_lo {
                    format!(" ({lo} excluded)")
                } else {
                    String::new()
                }
            );
            self.problem(v.span(), format!("{full}: {x} is not in {range}"));
            return None;
        }
        Some(x)
    }

    /// An integer in `lo..=hi`.
    fn integer(&mut self, v: &Value<'_>, full: &str, (lo, hi): (u64, u64)) -> Option<u32> {
        let DeValue::Integer(i) = v.get_ref() else {
            self.wrong_type(v, full, "an integer");
            return None;
        };
        match i64::from_str_radix(i.as_str(), i.radix()) {
            Ok(x) if x >= 0 && (lo..=hi).contains(&(x as u64)) => u32::try_from(x).ok(),
            Ok(x) => {
                self.problem(v.span(), format!("{full}: {x} is not in {lo}..={hi}"));
                None
            }
            Err(_) => {
                self.problem(v.span(), format!("{full}: too large (at most {hi})"));
                None
            }
        }
    }

    /// An inclusive `[min, max]` range within `limits`.
    fn id_range(
        &mut self,
        t: &Table<'_>,
        path: &str,
        key: &str,
        limits: (u32, u32),
    ) -> Option<(u32, u32)> {
        let v = t.get(key)?;
        let full = join(path, key);
        let bounds = (u64::from(limits.0), u64::from(limits.1));
        let items = match v.get_ref() {
            DeValue::Array(a) if a.len() == 2 => a,
            _ => {
                self.problem(
                    v.span(),
                    format!("{full}: expected [min, max] (two integers, inclusive)"),
                );
                return None;
            }
        };
        let min = self.integer(&items[0], &format!("{full}[0]"), bounds);
        let max = self.integer(&items[1], &format!("{full}[1]"), bounds);
        let (min, max) = (min?, max?);
        if min > max {
            self.problem(
                v.span(),
                format!("{full}: min {min} is greater than max {max}"),
            );
            return None;
        }
        Some((min, max))
    }

    /// A duration string of at least `min`.
    fn duration(
        &mut self,
        t: &Table<'_>,
        path: &str,
        key: &str,
        min: Duration,
    ) -> Option<Duration> {
        let v = t.get(key)?;
        let full = join(path, key);
        let DeValue::String(s) = v.get_ref() else {
            self.problem(
                v.span(),
                format!(
                    "{full}: expected a duration string with a unit (e.g. \"5s\" or \"800ms\"), found {}",
                    v.get_ref().type_str()
                ),
            );
            return None;
        };
        match parse_duration(s) {
            Ok(d) if d >= min => Some(d),
            Ok(d) => {
                self.problem(
                    v.span(),
                    format!("{full}: {d:?} is shorter than the minimum {min:?}"),
                );
                None
            }
            Err(e) => {
                self.problem(v.span(), format!("{full}: {e}"));
                None
            }
        }
    }

    fn document(&mut self, doc: &Table<'_>) -> Config {
        self.known_keys(doc, "", TOP);
        let mut c = Config::default();
        if let Some(t) = self.table(doc, "", "api") {
            self.known_keys(t, "api", API);
            c.api = Api {
                listen: self.addr(t, "api", "listen"),
                tls_cert: self.path(t, "api", "tls_cert"),
                tls_key: self.path(t, "api", "tls_key"),
                client_ca: self.path(t, "api", "client_ca"),
                principals: self.path(t, "api", "principals"),
                insecure: self.bool(t, "api", "insecure"),
            };
        }
        if let Some(t) = self.table(doc, "", "devices") {
            let p = "devices";
            self.known_keys(t, p, DEVICES);
            c.devices = Devices {
                gnmi_ca: self.path(t, p, "gnmi_ca"),
                gnmi_username: self.string(t, p, "gnmi_username").map(|(s, _)| s),
                gnmi_password_file: self.path(t, p, "gnmi_password_file"),
                gnmi_insecure: self.bool(t, p, "gnmi_insecure"),
                // The controller's floor for --sample-interval-ms too.
                sample_interval: self.duration(t, p, "sample_interval", Duration::from_millis(10)),
                connect_timeout: self.duration(t, p, "connect_timeout", Duration::from_millis(1)),
                rpc_timeout: self.duration(t, p, "rpc_timeout", Duration::from_millis(1)),
            };
        }
        if let Some(t) = self.table(doc, "", "journal") {
            self.known_keys(t, "journal", JOURNAL);
            let store = self.string(t, "journal", "store").and_then(|(url, span)| {
                match crate::store::etcd::EtcdConfig::parse(&url) {
                    Ok(_) => Some(url),
                    Err(e) => {
                        self.problem(span, format!("journal.store: {e}"));
                        None
                    }
                }
            });
            let etcd_prefix =
                self.string(t, "journal", "etcd_prefix")
                    .and_then(|(p, span)| match p.starts_with('/') {
                        true => Some(p),
                        false => {
                            self.problem(span, "journal.etcd_prefix: must start with /".into());
                            None
                        }
                    });
            c.journal = Journal {
                data_dir: self.path(t, "journal", "data_dir"),
                recover_journal: self.bool(t, "journal", "recover_journal"),
                store,
                etcd_ca: self.path(t, "journal", "etcd_ca"),
                etcd_prefix,
            };
        }
        if let Some(t) = self.table(doc, "", "replica") {
            let p = "replica";
            self.known_keys(t, p, REPLICA);
            let advertise = self.string(t, p, "advertise").and_then(|(a, span)| {
                match a.rsplit_once(':').is_some_and(|(h, port)| {
                    !h.is_empty() && port.parse::<u16>().is_ok_and(|p| p > 0)
                }) {
                    true => Some(a),
                    false => {
                        self.problem(span, format!("replica.advertise: {a:?} is not HOST:PORT"));
                        None
                    }
                }
            });
            c.replica = Replica {
                id: self.string(t, p, "id").map(|(s, _)| s),
                // etcd's leases count whole seconds.
                lease_ttl: self.duration(t, p, "lease_ttl", Duration::from_secs(1)),
                advertise,
            };
        }
        if let Some(t) = self.table(doc, "", "reconcile") {
            self.known_keys(t, "reconcile", RECONCILE);
            c.reconcile_interval =
                self.duration(t, "reconcile", "interval", Duration::from_millis(1));
        }
        if let Some(t) = self.table(doc, "", "web") {
            self.known_keys(t, "web", LISTEN);
            c.web = self.listen(t, "web", "listen");
        }
        if let Some(t) = self.table(doc, "", "metrics") {
            self.known_keys(t, "metrics", LISTEN);
            c.metrics = self.listen(t, "metrics", "listen");
        }
        if let Some(t) = self.table(doc, "", "closed_loop") {
            c.closed_loop = self.closed_loop(t);
        }
        if let Some(t) = self.table(doc, "", "pools") {
            c.pools = self.pools(t);
        }
        if let Some(t) = self.table(doc, "", "limits") {
            self.known_keys(t, "limits", LIMITS);
            c.limits.device_queue = t
                .get("device_queue")
                .and_then(|v| self.integer(v, "limits.device_queue", (1, 1 << 20)))
                .map(|n| n as usize);
        }
        self.pairs(&c);
        c
    }

    /// Keys that only make sense together (the flags enforce the same).
    fn pairs(&mut self, c: &Config) {
        let a = &c.api;
        if a.tls_cert.is_some() != a.tls_key.is_some() {
            self.problems.push(Problem {
                line: None,
                message: "api.tls_cert and api.tls_key go together".into(),
            });
        }
        let d = &c.devices;
        if d.gnmi_username.is_some() != d.gnmi_password_file.is_some() {
            self.problems.push(Problem {
                line: None,
                message: "devices.gnmi_username and devices.gnmi_password_file go together".into(),
            });
        }
        if d.gnmi_ca.is_some() && d.gnmi_insecure == Some(true) {
            self.problems.push(Problem {
                line: None,
                message: "devices.gnmi_ca and devices.gnmi_insecure = true contradict each other"
                    .into(),
            });
        }
    }

    fn thresholds(&mut self, t: &Table<'_>, path: &str) -> HealthOverride {
        HealthOverride {
            ewma_alpha: self.number(t, path, "ewma_alpha", (0.0, 1.0), (true, false)),
            delay_excess_us: self.number(t, path, "delay_excess_us", (0.0, 1e9), (false, false)),
            delay_excess_factor: self.number(
                t,
                path,
                "delay_excess_factor",
                (0.0, 1000.0),
                (false, false),
            ),
            loss_percent: self.number(t, path, "loss_percent", (0.0, 100.0), (false, false)),
            osnr_min_db: self.number(t, path, "osnr_min_db", (0.0, 100.0), (false, false)),
            hysteresis: self.number(t, path, "hysteresis", (0.0, 1.0), (false, true)),
            hold_down: self.duration(t, path, "hold_down", Duration::ZERO),
            // A zero timeout would call every link silent between samples.
            silence_timeout: self.duration(t, path, "silence_timeout", Duration::from_millis(1)),
        }
    }

    fn closed_loop(&mut self, t: &Table<'_>) -> HealthPolicy {
        let path = "closed_loop";
        let mut known = THRESHOLDS.to_vec();
        known.extend(["links", "classes", "osnr_below_prediction_db"]);
        self.known_keys(t, path, &known);
        let global = self.thresholds(t, path).apply(&HealthConfig::default());
        let mut policy = HealthPolicy {
            global,
            osnr_below_prediction_db: self.number(
                t,
                path,
                "osnr_below_prediction_db",
                (0.0, 30.0),
                (true, false),
            ),
            ..Default::default()
        };
        if let Some(links) = self.table(t, path, "links") {
            for (name, v) in links.iter() {
                let sub = format!("{path}.links.{}", quote_key(name.get_ref()));
                if let Some(o) = self.override_table(v, &sub) {
                    policy.links.insert(name.get_ref().to_string(), o);
                }
            }
        }
        if let Some(classes) = self.table(t, path, "classes") {
            self.known_keys(classes, "closed_loop.classes", &CLASSES);
            for (name, v) in classes.iter() {
                if !CLASSES.contains(&name.get_ref().as_ref()) {
                    continue;
                }
                let sub = format!("{path}.classes.{}", name.get_ref());
                if let Some(o) = self.override_table(v, &sub) {
                    policy.classes.insert(name.get_ref().to_string(), o);
                }
            }
        }
        policy
    }

    fn override_table(&mut self, v: &Value<'_>, path: &str) -> Option<HealthOverride> {
        let DeValue::Table(t) = v.get_ref() else {
            self.wrong_type(v, path, "a table of thresholds");
            return None;
        };
        self.known_keys(t, path, THRESHOLDS);
        Some(self.thresholds(t, path))
    }

    fn pools(&mut self, t: &Table<'_>) -> Pools {
        use crate::controller::{COLOR_LIMITS, EVI_LIMITS, VNI_LIMITS};
        self.known_keys(t, "pools", POOLS);
        let d = Pools::default();
        Pools {
            evi: self
                .id_range(t, "pools", "evi", EVI_LIMITS)
                .unwrap_or(d.evi),
            vni: self
                .id_range(t, "pools", "vni", VNI_LIMITS)
                .unwrap_or(d.vni),
            default_color: t
                .get("default_color")
                .and_then(|v| {
                    let bounds = (u64::from(COLOR_LIMITS.0), u64::from(COLOR_LIMITS.1));
                    self.integer(v, "pools.default_color", bounds)
                })
                .unwrap_or(d.default_color),
        }
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// A key as TOML would need it written in a dotted path.
fn quote_key(k: &str) -> String {
    if !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        k.to_string()
    } else {
        format!("{k:?}")
    }
}

/// `"800ms"`, `"5s"`, `"1.5s"`, `"2m"`, `"1h"`.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (number, unit) = s.split_at(split);
    let scale = match unit.trim() {
        "ms" => 1e-3,
        "s" => 1.0,
        "m" | "min" => 60.0,
        "h" => 3600.0,
        "" => {
            return Err(format!(
                "{s:?} has no unit (write e.g. \"{s}s\" or \"{s}ms\")"
            ))
        }
        u => return Err(format!("{s:?}: unknown unit {u:?} (use ms, s, m or h)")),
    };
    let x: f64 = number
        .parse()
        .map_err(|_| format!("{s:?} is not a duration (e.g. \"5s\" or \"800ms\")"))?;
    Duration::try_from_secs_f64(x * scale).map_err(|_| format!("{s:?} is out of range"))
}

// One "did you mean" for the whole workspace (topology files too).
pub use crate::suggest::{edit_distance, suggest};

impl Config {
    /// A few lines on what the file sets, for `strata config check`.
    pub fn summary(&self) -> Vec<String> {
        let mut lines = Vec::new();
        let show = |p: &Option<PathBuf>| p.as_ref().map(|p| p.display().to_string());
        let a = &self.api;
        let mut api = Vec::new();
        if let Some(l) = a.listen {
            api.push(format!("listen {l}"));
        }
        if let Some(c) = show(&a.tls_cert) {
            api.push(format!("TLS certificate {c}"));
        }
        if let Some(c) = show(&a.client_ca) {
            api.push(format!("client CA {c}"));
        }
        if let Some(p) = show(&a.principals) {
            api.push(format!("principals {p}"));
        }
        if a.insecure == Some(true) {
            api.push("INSECURE (plaintext)".into());
        }
        if !api.is_empty() {
            lines.push(format!("api: {}", api.join(", ")));
        }
        let d = &self.devices;
        let mut dev = Vec::new();
        if let Some(c) = show(&d.gnmi_ca) {
            dev.push(format!("gNMI CA {c}"));
        }
        if d.gnmi_insecure == Some(true) {
            dev.push("plaintext gNMI".into());
        }
        if let Some(u) = &d.gnmi_username {
            dev.push(format!("login {u:?}"));
        }
        if let Some(s) = d.sample_interval {
            dev.push(format!("sample every {s:?}"));
        }
        if !dev.is_empty() {
            lines.push(format!("devices: {}", dev.join(", ")));
        }
        if let Some(dir) = show(&self.journal.data_dir) {
            lines.push(format!("journal: {dir}"));
        }
        if let Some(store) = &self.journal.store {
            lines.push(format!("store: {store}"));
        }
        if let Some(id) = &self.replica.id {
            lines.push(format!(
                "replica: {id:?}{}{}",
                self.replica
                    .lease_ttl
                    .map(|t| format!(", lease {t:?}"))
                    .unwrap_or_default(),
                self.replica
                    .advertise
                    .as_ref()
                    .map(|a| format!(", advertised as {a}"))
                    .unwrap_or_default()
            ));
        }
        if let Some(i) = self.reconcile_interval {
            lines.push(format!("reconcile: every {i:?}"));
        }
        let listen = |l: &Listen| l.map_or("off".to_string(), |a| a.to_string());
        if let Some(w) = &self.web {
            lines.push(format!("web: {}", listen(w)));
        }
        if let Some(m) = &self.metrics {
            lines.push(format!("metrics: {}", listen(m)));
        }
        let g = &self.closed_loop.global;
        lines.push(format!(
            "closed loop: delay > nominal + max({} µs, {}×), loss > {} %, OSNR < {} dB, hysteresis {}, hold-down {:?}, silence {:?}",
            g.delay_excess_us,
            g.delay_excess_factor,
            g.loss_percent,
            g.osnr_min_db,
            g.hysteresis,
            g.hold_down,
            g.silence_timeout,
        ));
        let overrides: Vec<String> = (self.closed_loop.classes.keys())
            .map(|c| format!("class {c}"))
            .chain(self.closed_loop.links.keys().map(|l| format!("link {l}")))
            .collect();
        if !overrides.is_empty() {
            lines.push(format!("closed loop overrides: {}", overrides.join(", ")));
        }
        if let Some(db) = self.closed_loop.osnr_below_prediction_db {
            lines.push(format!(
                "wavelengths: flagged when OSNR reads over {db} dB below the prediction"
            ));
        }
        let p = &self.pools;
        lines.push(format!(
            "pools: EVI {}..={}, VNI {}..={}, default color {}",
            p.evi.0, p.evi.1, p.vni.0, p.vni.1, p.default_color
        ));
        if let Some(q) = self.limits.device_queue {
            lines.push(format!("limits: {q} commands queued per device"));
        }
        lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str) -> Config {
        match parse(text, Path::new("/etc/strata")) {
            Ok(c) => c,
            Err(p) => panic!("{p:?}"),
        }
    }

    fn errors(text: &str) -> Vec<String> {
        match parse(text, Path::new("/etc/strata")) {
            Ok(c) => panic!("accepted: {c:?}"),
            Err(p) => p.iter().map(ToString::to_string).collect(),
        }
    }

    #[test]
    fn an_empty_file_is_all_defaults() {
        let c = ok("");
        assert_eq!(c, Config::default());
        assert_eq!(c.closed_loop.global, HealthConfig::default());
        assert_eq!(c.pools, Pools::default());
    }

    #[test]
    fn the_store_on_etcd_is_read_and_checked() {
        let c = ok(r#"
[journal]
store = "etcd://10.0.0.1:2379,10.0.0.2:2379"
etcd_ca = "etcd-ca.pem"
etcd_prefix = "/fabric-a/"
"#);
        assert_eq!(
            c.journal.store.as_deref(),
            Some("etcd://10.0.0.1:2379,10.0.0.2:2379")
        );
        assert_eq!(
            c.journal.etcd_ca,
            Some(PathBuf::from("/etc/strata/etcd-ca.pem"))
        );
        assert_eq!(c.journal.etcd_prefix.as_deref(), Some("/fabric-a/"));
        let e = errors("[journal]\nstore = \"10.0.0.1:2379\"\netcd_prefix = \"x\"\n");
        assert!(
            e.iter()
                .any(|e| e.contains("line 2") && e.contains("journal.store")),
            "{e:?}"
        );
        assert!(
            e.iter()
                .any(|e| e.contains("line 3") && e.contains("journal.etcd_prefix")),
            "{e:?}"
        );
    }

    #[test]
    fn every_section_is_read_with_typed_values() {
        let c = ok(r#"
[api]
listen = "0.0.0.0:50051"
tls_cert = "api.pem"
tls_key = "/keys/api.key"
principals = "principals.toml"

[devices]
gnmi_ca = "devices-ca.pem"
gnmi_username = "strata"
gnmi_password_file = "gnmi.password"
sample_interval = "500ms"
connect_timeout = "2s"
rpc_timeout = "1.5s"

[journal]
data_dir = "/var/lib/strata"
recover_journal = true

[reconcile]
interval = "1m"

[web]
listen = "off"

[metrics]
listen = "127.0.0.1:9100"

[closed_loop]
loss_percent = 0.5
hysteresis = 0.3
hold_down = "10s"
osnr_below_prediction_db = 3.5

[pools]
evi = [2000, 2999]
vni = [20000, 29999]
default_color = 200

[limits]
device_queue = 64
"#);
        assert_eq!(c.api.listen, Some("0.0.0.0:50051".parse().unwrap()));
        assert_eq!(c.limits.device_queue, Some(64));
        // Relative to the file's directory; absolute paths untouched.
        assert_eq!(c.api.tls_cert, Some(PathBuf::from("/etc/strata/api.pem")));
        assert_eq!(c.api.tls_key, Some(PathBuf::from("/keys/api.key")));
        assert_eq!(c.devices.sample_interval, Some(Duration::from_millis(500)));
        assert_eq!(c.devices.rpc_timeout, Some(Duration::from_millis(1500)));
        assert_eq!(c.journal.recover_journal, Some(true));
        assert_eq!(c.reconcile_interval, Some(Duration::from_secs(60)));
        assert_eq!(c.web, Some(None));
        assert_eq!(c.metrics, Some(Some("127.0.0.1:9100".parse().unwrap())));
        let g = &c.closed_loop.global;
        assert_eq!((g.loss_percent, g.hysteresis), (0.5, 0.3));
        assert_eq!(g.hold_down, Duration::from_secs(10));
        // What the file leaves out keeps its default.
        assert_eq!(g.osnr_min_db, HealthConfig::default().osnr_min_db);
        assert_eq!(c.closed_loop.osnr_below_prediction_db, Some(3.5));
        assert!(c
            .summary()
            .iter()
            .any(|l| l == "wavelengths: flagged when OSNR reads over 3.5 dB below the prediction"));
        let e = errors("[closed_loop]\nosnr_below_prediction_db = 0\n");
        assert!(
            e[0].contains("closed_loop.osnr_below_prediction_db") && e[0].contains("excluded"),
            "{e:?}"
        );
        assert_eq!(
            c.pools,
            Pools {
                evi: (2000, 2999),
                vni: (20000, 29999),
                default_color: 200
            }
        );
    }

    #[test]
    fn unknown_keys_name_their_line_and_the_nearest_key() {
        let e =
            errors("[closed_loop]\nloss_percent = 2\nhysterisis = 0.1\n\n[pool]\nevi = [1, 2]\n");
        assert_eq!(
            e,
            [
                "line 3: unknown key `closed_loop.hysterisis`; did you mean `hysteresis`?",
                "line 5: unknown key `pool`; did you mean `pools`?",
            ]
        );
        // Nothing near: the known keys are listed instead.
        let e = errors("[api]\nfrobnicate = 1\n");
        assert_eq!(e.len(), 1);
        assert!(
            e[0].starts_with(
                "line 2: unknown key `api.frobnicate` (known keys of [api]: listen, tls_cert"
            ),
            "{e:?}"
        );
        // Keys of override tables are checked against the thresholds.
        let e = errors("[closed_loop.links.\"cmh-nva-p1\"]\nloss_pct = 1\n");
        assert_eq!(
            e,
            ["line 2: unknown key `closed_loop.links.cmh-nva-p1.loss_pct`; did you mean `loss_percent`?"]
        );
        let e = errors("[closed_loop.classes.optcal]\nosnr_min_db = 20\n");
        assert_eq!(
            e,
            ["line 1: unknown key `closed_loop.classes.optcal`; did you mean `optical`?"]
        );
    }

    #[test]
    fn wrong_types_and_ranges_name_the_key_path() {
        let e = errors(
            "[closed_loop]\nhysteresis = 1.5\newma_alpha = 0\nloss_percent = \"1\"\nhold_down = 5\n\n[api]\nlisten = \"localhost\"\ninsecure = \"yes\"\n",
        );
        assert_eq!(
            e,
            [
                "line 2: closed_loop.hysteresis: 1.5 is not in 0..1",
                "line 3: closed_loop.ewma_alpha: 0 is not in 0..=1 (0 excluded)",
                "line 4: closed_loop.loss_percent: expected a number, found string",
                "line 5: closed_loop.hold_down: expected a duration string with a unit (e.g. \"5s\" or \"800ms\"), found integer",
                "line 8: api.listen: \"localhost\" is not an address (give IP:PORT, e.g. \"127.0.0.1:50051\")",
                "line 9: api.insecure: expected true or false, found string",
            ]
        );
    }

    #[test]
    fn pools_are_checked_against_protocol_ranges_and_order() {
        let e = errors("[pools]\nevi = [0, 10]\nvni = [20, 10]\ndefault_color = 4294967296\n");
        assert_eq!(
            e,
            [
                "line 2: pools.evi[0]: 0 is not in 1..=65535",
                "line 3: pools.vni: min 20 is greater than max 10",
                "line 4: pools.default_color: 4294967296 is not in 1..=4294967295",
            ]
        );
        let e = errors("[pools]\nvni = [1, 16777216]\nevi = 7\n");
        assert_eq!(
            e,
            [
                "line 2: pools.vni[1]: 16777216 is not in 1..=16777215",
                "line 3: pools.evi: expected [min, max] (two integers, inclusive)",
            ]
        );
    }

    #[test]
    fn link_and_class_overrides_are_read() {
        let c = ok(r#"
[closed_loop]
loss_percent = 2

[closed_loop.classes.optical]
osnr_min_db = 21.5

[closed_loop.links."cmh-nva-p1"]
delay_excess_us = 200
hold_down = "30s"
"#);
        let p = &c.closed_loop;
        assert_eq!(p.global.loss_percent, 2.0);
        assert_eq!(p.classes["optical"].osnr_min_db, Some(21.5));
        let link = &p.links["cmh-nva-p1"];
        assert_eq!(link.delay_excess_us, Some(200.0));
        assert_eq!(link.hold_down, Some(Duration::from_secs(30)));
        assert_eq!(link.loss_percent, None, "unset fields fall through");
    }

    #[test]
    fn syntax_errors_and_pairs_are_reported() {
        let e = errors("[api]\nlisten = \n");
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(e[0].starts_with("line 2: "), "{e:?}");
        let e = errors("[api]\ntls_cert = \"a.pem\"\n[devices]\ngnmi_username = \"u\"\n");
        assert_eq!(
            e,
            [
                "api.tls_cert and api.tls_key go together",
                "devices.gnmi_username and devices.gnmi_password_file go together",
            ]
        );
    }

    #[test]
    fn the_replica_section_is_read_and_checked() {
        let c =
            ok("[replica]\nid = \"ctl-a\"\nlease_ttl = \"2s\"\nadvertise = \"10.0.0.21:50051\"\n");
        assert_eq!(c.replica.id.as_deref(), Some("ctl-a"));
        assert_eq!(c.replica.lease_ttl, Some(Duration::from_secs(2)));
        assert_eq!(c.replica.advertise.as_deref(), Some("10.0.0.21:50051"));
        let e = errors(
            "[replica]\nid = \"a\"\nlease_ttl = \"100ms\"\nadvertise = \"nowhere\"\nleader = 1\n",
        );
        for (line, what) in [
            (3, "replica.lease_ttl"),
            (4, "replica.advertise"),
            (5, "replica.leader"),
        ] {
            assert!(
                e.iter()
                    .any(|e| e.contains(&format!("line {line}")) && e.contains(what)),
                "{what}: {e:?}"
            );
        }
    }

    #[test]
    fn durations_need_a_unit() {
        assert_eq!(parse_duration("800ms"), Ok(Duration::from_millis(800)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert!(parse_duration("5").unwrap_err().contains("no unit"));
        assert!(parse_duration("5 days")
            .unwrap_err()
            .contains("unknown unit"));
        assert!(parse_duration("s").is_err());
        assert!(parse_duration("-1s").is_err());
    }

    #[test]
    fn edit_distance_and_suggestions() {
        assert_eq!(edit_distance("", ""), 0);
        assert_eq!(edit_distance("abc", ""), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("hysterisis", "hysteresis"), 1);
        assert_eq!(edit_distance("flaw", "lawn"), 2);
        assert_eq!(suggest("lisen", ["listen", "insecure"]), Some("listen"));
        assert_eq!(
            suggest("sample_interval_ms", DEVICES.iter().copied()),
            Some("sample_interval")
        );
        assert_eq!(suggest("zzzzzz", ["listen"]), None);
    }
}
