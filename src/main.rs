//! The `strata` command: lab, simulators, topology checks.

// Production code answers bad input and failed I/O with errors, never a
// panic (tests may unwrap).
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use strata::lab::{self, LabOptions};
use strata::model::Topology;
use strata::simulators::fabric::SimOptions;
use strata::southbound::SessionConfig;

/// Telemetry ingest decodes millions of small protobuf strings and vectors a
/// second; mimalloc's thread-local free lists halve what glibc malloc costs
/// there (see BENCHMARKS.md, ingest). `--features alloc-count` puts the
/// memory bench's counting allocator in its place.
#[cfg(not(feature = "alloc-count"))]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The fabric `strata lab` runs when no topology is given.
const DEFAULT_TOPOLOGY: &str = include_str!("../examples/us-metro.yaml");

#[derive(Parser)]
#[command(
    name = "strata",
    version,
    about = "Strata: SDN controller for metro DCI fabrics (SR-TE, EVPN, 400ZR over gNMI)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// `strata controller` as one of several replicas (README "Replicas").
#[derive(clap::Args)]
struct ReplicaArgs {
    /// Run as one of several replicas on the etcd store, under this
    /// name: one leads, the others serve reads and refuse changes,
    /// naming the leader (`[replica] id`).
    #[arg(long, value_name = "NAME")]
    replica_id: Option<String>,
    /// The leader's lease in whole seconds: a killed leader is replaced
    /// after about this long [default: 1].
    #[arg(long, value_name = "SECONDS")]
    lease_ttl: Option<u64>,
    /// HOST:PORT clients reach this replica's API on [default: --listen].
    #[arg(long, value_name = "HOST:PORT")]
    advertise: Option<String>,
}

#[derive(Subcommand)]
enum Command {
    /// Simulators + controller southbound in one process, with a live summary.
    Lab {
        #[command(flatten)]
        topology: TopologyArg,
        /// Stop after this many seconds (default: run until Ctrl-C).
        #[arg(long)]
        duration: Option<f64>,
        /// How often simulated devices measure delay/loss/OSNR (ms).
        #[arg(long, default_value_t = 200)]
        measure_interval_ms: u64,
        /// Simulators listen on any free loopback port instead of the
        /// topology's addresses (so a lab can run beside another one).
        #[arg(long)]
        ephemeral_ports: bool,
        #[command(flatten)]
        daemon: DaemonArgs,
        /// Journal intents in this directory, so they survive a restart
        /// (default: in memory only).
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Where the lab writes its throwaway CA, certificate and admin token
        /// (default: $STRATA_CREDENTIALS, else lab-credentials in the default
        /// data directory, where `strata watch`/`fault` look).
        #[arg(long, value_name = "DIR")]
        credentials: Option<PathBuf>,
    },
    /// The controller against the devices of a topology: journal, southbound
    /// gNMI, closed loop, reconciliation, northbound API. Stops cleanly on
    /// SIGTERM or Ctrl-C.
    Controller {
        #[command(flatten)]
        topology: TopologyArg,
        #[command(flatten)]
        daemon: DaemonArgs,
        #[command(flatten)]
        tls: Box<ControllerTlsArgs>,
        /// Intent journal directory (default: $STRATA_DATA_DIR, else
        /// $XDG_STATE_HOME/strata, else ~/.local/state/strata).
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Keep intents on etcd instead of the journal:
        /// etcd://HOST:PORT[,HOST:PORT...] (the journal section's `store`).
        #[arg(long, value_name = "etcd://HOST:PORT[,...]")]
        store: Option<String>,
        /// Talk TLS to etcd, trusting this CA (PEM) for its members.
        #[arg(long, value_name = "FILE")]
        etcd_ca: Option<PathBuf>,
        /// Key prefix of this controller's state on etcd [default: /strata/].
        #[arg(long, value_name = "PREFIX")]
        etcd_prefix: Option<String>,
        #[command(flatten)]
        replica: Box<ReplicaArgs>,
    },
    /// Run the gNMI device simulators of a topology (one port per device).
    Sim {
        #[command(flatten)]
        topology: TopologyArg,
        #[arg(long)]
        duration: Option<f64>,
        #[arg(long, default_value_t = 200)]
        measure_interval_ms: u64,
        /// Where the fault-injection gRPC service listens.
        #[arg(long, default_value = "127.0.0.1:50052")]
        control: std::net::SocketAddr,
    },
    /// Benchmarks (figures go to stdout as a table).
    Bench {
        #[command(subcommand)]
        suite: BenchSuite,
    },
    /// Live operator view of a running controller: links, telemetry, breaches, reroutes.
    Watch {
        #[arg(long, default_value = "127.0.0.1:50051")]
        api: std::net::SocketAddr,
        /// Print one frame and exit.
        #[arg(long)]
        once: bool,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Ask a running controller what a failure would do (nothing is changed).
    Whatif {
        #[arg(long, default_value = "127.0.0.1:50051")]
        api: std::net::SocketAddr,
        #[command(flatten)]
        client: ClientArgs,
        #[command(subcommand)]
        what: WhatifCommand,
    },
    /// Drain a link, fiber or node for maintenance: everything on it moves
    /// off make-before-break, and new placements avoid it until undrained.
    Drain {
        #[arg(long, default_value = "127.0.0.1:50051")]
        api: std::net::SocketAddr,
        #[command(flatten)]
        client: ClientArgs,
        /// A link, fiber or node name.
        target: String,
        /// Why (shown in events).
        #[arg(long, default_value = "")]
        reason: String,
    },
    /// End a drain: its links are back in service and what it moved returns.
    Undrain {
        #[arg(long, default_value = "127.0.0.1:50051")]
        api: std::net::SocketAddr,
        #[command(flatten)]
        client: ClientArgs,
        target: String,
    },
    /// The drains in force.
    Drains {
        #[arg(long, default_value = "127.0.0.1:50051")]
        api: std::net::SocketAddr,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Reload the topology: the difference between the topology in force
    /// and the file (`--file`, else the controller's own file read again)
    /// is applied as one change, or only shown with --dry-run.
    ReloadTopology {
        #[arg(long, default_value = "127.0.0.1:50051")]
        api: std::net::SocketAddr,
        #[command(flatten)]
        client: ClientArgs,
        /// A topology file to send (default: the controller re-reads its own).
        #[arg(long)]
        file: Option<PathBuf>,
        /// Show the steps without applying them.
        #[arg(long)]
        dry_run: bool,
    },
    /// Add a packet node at run time (a lab starts a simulated device for it).
    AddNode {
        #[arg(long, default_value = "127.0.0.1:50051")]
        api: std::net::SocketAddr,
        #[command(flatten)]
        client: ClientArgs,
        name: String,
        /// The device's gNMI address (a lab replaces it with its simulator's).
        #[arg(long, default_value = "127.0.0.1:0")]
        address: String,
        #[arg(long)]
        router_id: String,
        #[arg(long)]
        node_sid: u32,
        /// Customer-facing ports, comma-separated.
        #[arg(long, value_delimiter = ',')]
        access_interfaces: Vec<String>,
        #[arg(long, default_value = "")]
        site: String,
        #[arg(long)]
        dry_run: bool,
    },
    /// Add a packet link at run time between two nodes' interfaces.
    AddLink {
        #[arg(long, default_value = "127.0.0.1:50051")]
        api: std::net::SocketAddr,
        #[command(flatten)]
        client: ClientArgs,
        name: String,
        /// NODE:INTERFACE
        #[arg(long)]
        a: String,
        /// NODE:INTERFACE
        #[arg(long)]
        b: String,
        #[arg(long, default_value_t = 100.0)]
        capacity_gbps: f64,
        #[arg(long, default_value_t = 0.0)]
        length_km: f64,
        #[arg(long)]
        dry_run: bool,
    },
    /// Remove a packet link (refused, listing its users, while anything
    /// rides it: drain it first).
    RemoveLink {
        #[arg(long, default_value = "127.0.0.1:50051")]
        api: std::net::SocketAddr,
        #[command(flatten)]
        client: ClientArgs,
        name: String,
        #[arg(long)]
        dry_run: bool,
    },
    /// Remove a packet node and its links (refused, listing its users, while
    /// anything uses it).
    RemoveNode {
        #[arg(long, default_value = "127.0.0.1:50051")]
        api: std::net::SocketAddr,
        #[command(flatten)]
        client: ClientArgs,
        name: String,
        #[arg(long)]
        dry_run: bool,
    },
    /// Inject a fault into a running lab or simulator.
    Fault {
        /// The lab's API address, or the simulator's --control address.
        #[arg(long, default_value = "127.0.0.1:50051")]
        api: std::net::SocketAddr,
        #[command(flatten)]
        client: ClientArgs,
        #[command(subcommand)]
        fault: FaultCommand,
    },
    /// Validate a topology file and summarise it.
    Topology { file: PathBuf },
    /// Controller config files (TOML; see examples/strata.toml).
    Config {
        #[command(subcommand)]
        action: ConfigCommand,
    },
    /// Make a bearer token: prints the token (give it to the caller; it is
    /// not stored) and the entry to add to the controller's principals file.
    Token {
        /// Who the token is for (shown in permission errors and logs).
        name: String,
        /// viewer, operator, orchestrator or admin.
        #[arg(long, value_parser = ["viewer", "operator", "orchestrator", "admin"])]
        role: String,
    },
    /// Print a shell completion script, e.g. `strata completions bash > /etc/bash_completion.d/strata`.
    Completions { shell: clap_complete::Shell },
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Check a config file: print a summary if it is valid, else every
    /// problem with its line (exit status 1).
    Check {
        file: PathBuf,
        /// Also check that `[closed_loop.links]` names links of this topology.
        #[arg(long)]
        topology: Option<PathBuf>,
    },
}

/// The fabric to run (shared by every subcommand that runs one).
#[derive(Args)]
struct TopologyArg {
    /// Topology file (default: the built-in 16-metro US fabric, examples/us-metro.yaml).
    #[arg(long)]
    topology: Option<PathBuf>,
}

/// How a client reaches a secured API (default: the lab's credentials).
#[derive(Args)]
struct ClientArgs {
    /// CA certificate (PEM) the API's certificate must chain to.
    #[arg(long, value_name = "FILE")]
    ca: Option<PathBuf>,
    /// File holding the bearer token to send.
    #[arg(long, value_name = "FILE")]
    token_file: Option<PathBuf>,
    /// A directory with ca.pem and admin.token, as `strata lab` writes
    /// (default: $STRATA_CREDENTIALS, else the lab's default).
    #[arg(long, value_name = "DIR")]
    credentials: Option<PathBuf>,
    /// Plaintext, no token (for an API started with --insecure).
    #[arg(long)]
    insecure: bool,
}

impl ClientArgs {
    fn credentials(&self) -> Result<strata::security::client::ClientCredentials, String> {
        strata::security::client::ClientCredentials::discover(
            &strata::security::client::ClientFlags {
                ca: self.ca.clone(),
                token_file: self.token_file.clone(),
                credentials_dir: self.credentials.clone(),
                insecure: self.insecure,
            },
        )
        .map_err(|e| e.to_string())
    }
}

/// TLS and authentication of `strata controller`'s API: required unless
/// --insecure.
#[derive(Args)]
struct ControllerTlsArgs {
    /// The API's TLS certificate chain (PEM).
    #[arg(long, value_name = "FILE")]
    tls_cert: Option<PathBuf>,
    /// The API's TLS private key (PEM).
    #[arg(long, value_name = "FILE")]
    tls_key: Option<PathBuf>,
    /// Ask clients for certificates chaining to this CA (mTLS); the
    /// principals file maps them to roles.
    #[arg(long, value_name = "FILE")]
    client_ca: Option<PathBuf>,
    /// Who may call the API, as what role (bearer-token digests and client
    /// certificate fingerprints, TOML); re-read when it changes.
    #[arg(long, value_name = "FILE")]
    principals: Option<PathBuf>,
    /// CA certificates (PEM) devices' gNMI certificates must chain to; each
    /// device is verified under its node name.
    #[arg(long, value_name = "FILE")]
    gnmi_ca: Option<PathBuf>,
    /// gNMI username sent to devices (`username` metadata).
    #[arg(long, requires = "gnmi_password_file")]
    gnmi_username: Option<String>,
    /// File holding the gNMI password (`password` metadata).
    #[arg(long, value_name = "FILE", requires = "gnmi_username")]
    gnmi_password_file: Option<PathBuf>,
    /// Talk gNMI to devices in plaintext, without verifying them.
    #[arg(long)]
    gnmi_insecure: bool,
}

impl ControllerTlsArgs {
    /// These flags over the config file's `[api]` and `[devices]`: a flag
    /// that is given wins, the file fills in the rest.
    fn over(&self, file: &strata::config::Config) -> ControllerTlsArgs {
        let (api, dev) = (&file.api, &file.devices);
        let pick = |flag: &Option<PathBuf>, file: &Option<PathBuf>| flag.clone().or(file.clone());
        // The southbound's trust is one choice (a CA or plaintext): a flag
        // making it replaces the file's, whichever way the file went.
        let (gnmi_ca, gnmi_insecure) = if self.gnmi_ca.is_some() || self.gnmi_insecure {
            (self.gnmi_ca.clone(), self.gnmi_insecure)
        } else {
            (dev.gnmi_ca.clone(), dev.gnmi_insecure == Some(true))
        };
        // The login too (clap makes the two flags come together).
        let (gnmi_username, gnmi_password_file) = if self.gnmi_username.is_some() {
            (self.gnmi_username.clone(), self.gnmi_password_file.clone())
        } else {
            (dev.gnmi_username.clone(), dev.gnmi_password_file.clone())
        };
        ControllerTlsArgs {
            tls_cert: pick(&self.tls_cert, &api.tls_cert),
            tls_key: pick(&self.tls_key, &api.tls_key),
            client_ca: pick(&self.client_ca, &api.client_ca),
            principals: pick(&self.principals, &api.principals),
            gnmi_ca,
            gnmi_username,
            gnmi_password_file,
            gnmi_insecure,
        }
    }

    fn device_credentials(
        &self,
    ) -> Result<strata::southbound::credentials::DeviceCredentials, String> {
        use strata::southbound::credentials::{DeviceCredentials, DeviceFiles, DeviceTls, Login};
        let tls = match (&self.gnmi_ca, self.gnmi_insecure) {
            (Some(_), true) => return Err("--gnmi-ca and --gnmi-insecure contradict each other".into()),
            (None, true) => None,
            (None, false) => {
                return Err(
                    "devices are reached over TLS: give --gnmi-ca FILE (the CA their gNMI certificates chain to), or --gnmi-insecure for plaintext gNMI"
                        .into(),
                )
            }
            (Some(ca), false) => Some(DeviceTls {
                ca_pem: std::sync::Arc::new(
                    std::fs::read(ca).map_err(|e| format!("--gnmi-ca {}: {e}", ca.display()))?,
                ),
                identity: None,
            }),
        };
        let login = match (&self.gnmi_username, &self.gnmi_password_file) {
            (Some(username), Some(file)) => Some(Login {
                username: username.clone(),
                password: std::fs::read_to_string(file)
                    .map_err(|e| format!("--gnmi-password-file {}: {e}", file.display()))?
                    .trim_end_matches(['\r', '\n'])
                    .to_string(),
            }),
            _ => None,
        };
        Ok(DeviceCredentials {
            tls,
            login,
            files: DeviceFiles {
                ca: self.gnmi_ca.clone(),
                password: self.gnmi_password_file.clone(),
            },
        })
    }

    fn security(&self, insecure: bool) -> Result<strata::security::Security, String> {
        let tls = match (&self.tls_cert, &self.tls_key) {
            (Some(cert), Some(key)) => Some(strata::security::TlsFiles {
                cert: cert.clone(),
                key: key.clone(),
                client_ca: self.client_ca.clone(),
            }),
            (None, None) if self.client_ca.is_none() => None,
            _ => {
                return Err(
                    "--tls-cert and --tls-key go together (and --client-ca needs them)".into(),
                )
            }
        };
        Ok(strata::security::Security {
            tls,
            principals: self.principals.clone(),
            insecure,
        })
    }
}

/// Options of the controller daemon, the same for `strata controller` and
/// `strata lab` (which runs that daemon against simulators).
#[derive(Args)]
struct DaemonArgs {
    /// Controller config file (TOML, see examples/strata.toml): listen,
    /// TLS, devices, closed-loop thresholds, pools. Flags given beside it win.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Address of the northbound strata.v1 gRPC API [default: 127.0.0.1:50051].
    #[arg(long)]
    listen: Option<std::net::SocketAddr>,
    /// SAMPLE interval the controller subscribes with (ms) [default: 1000].
    #[arg(long)]
    sample_interval_ms: Option<u64>,
    /// Reconcile every device this often (seconds), besides on connect
    /// [default: 30].
    #[arg(long)]
    reconcile_interval: Option<f64>,
    /// Serve Prometheus metrics on http://ADDR/metrics (off by default).
    #[arg(long)]
    metrics: Option<std::net::SocketAddr>,
    /// Export spans and metrics by OTLP/gRPC to this collector, e.g.
    /// http://127.0.0.1:4317 (default: $OTEL_EXPORTER_OTLP_ENDPOINT; off when neither is set).
    #[arg(long)]
    otlp_endpoint: Option<String>,
    /// Start even if the journal is damaged (not just torn by a crash):
    /// keep every intact entry before and after the damage, and hold
    /// reconciliation deletions until the hold file is removed.
    #[arg(long)]
    recover_journal: bool,
    /// Serve the operator web view (live map, link health, breaches and
    /// reroutes) on http://ADDR/, or `off`. Default: off for `strata
    /// controller`; 127.0.0.1:8051 for `strata lab` (127.0.0.1:0, any free
    /// port, with --ephemeral-ports).
    #[arg(long, value_name = "ADDR|off")]
    web: Option<String>,
    /// Serve the API in plaintext (and, without a principals file, let
    /// every caller in as an admin). Only on a network you trust.
    #[arg(long)]
    insecure: bool,
}

impl DaemonArgs {
    /// The `--config` file, or an empty one (every value its default).
    fn config(&self) -> Result<strata::config::Config, String> {
        match &self.config {
            Some(path) => strata::config::load_file(path).map_err(|e| e.to_string()),
            None => Ok(strata::config::Config::default()),
        }
    }

    /// The daemon's options: each flag given, else the config file's value,
    /// else the default. `data_dir` is the flag's.
    fn options(
        &self,
        file: &strata::config::Config,
        data_dir: Option<PathBuf>,
    ) -> Result<strata::daemon::DaemonOptions, String> {
        let defaults = SessionConfig::default();
        let sample_interval = match self.sample_interval_ms {
            Some(ms) => Duration::from_millis(ms.max(10)),
            None => file
                .devices
                .sample_interval
                .unwrap_or(defaults.sample_interval),
        };
        let reconcile_interval = match self.reconcile_interval {
            Some(s) => positive_secs(s, "--reconcile-interval")?,
            None => file.reconcile_interval.unwrap_or(Duration::from_secs(30)),
        };
        Ok(strata::daemon::DaemonOptions {
            listen: self.listen.or(file.api.listen).unwrap_or(DEFAULT_LISTEN),
            sessions: SessionConfig {
                sample_interval,
                connect_timeout: file
                    .devices
                    .connect_timeout
                    .unwrap_or(defaults.connect_timeout),
                rpc_timeout: file.devices.rpc_timeout.unwrap_or(defaults.rpc_timeout),
                queue_depth: file.limits.device_queue.unwrap_or(defaults.queue_depth),
                ..defaults
            },
            health: file.closed_loop.clone(),
            pools: file.pools,
            metrics: self.metrics.or(file.metrics.flatten()),
            data_dir: data_dir.or(file.journal.data_dir.clone()),
            etcd: None,
            replica: None,
            reconcile_interval,
            recover_journal: self.recover_journal || file.journal.recover_journal == Some(true),
            web: self.web(file, None)?,
            security: strata::security::Security::insecure(),
        })
    }

    /// `--insecure`, or the file's `api.insecure`.
    fn insecure(&self, file: &strata::config::Config) -> bool {
        self.insecure || file.api.insecure == Some(true)
    }

    /// `--web`, else the file's `[web] listen`, else `default`.
    fn web(
        &self,
        file: &strata::config::Config,
        default: Option<std::net::SocketAddr>,
    ) -> Result<Option<std::net::SocketAddr>, String> {
        match self.web.as_deref() {
            None => Ok(file.web.unwrap_or(default)),
            Some("off" | "none" | "") => Ok(None),
            Some(a) => a
                .parse()
                .map(Some)
                .map_err(|e| format!("--web {a:?}: {e} (give ADDR:PORT or off)")),
        }
    }
}

/// Where the northbound API listens unless told otherwise.
const DEFAULT_LISTEN: std::net::SocketAddr =
    std::net::SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 50051);

/// Where `strata lab` serves its web view unless told otherwise.
const LAB_WEB: std::net::SocketAddr =
    std::net::SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 8051);

#[derive(Subcommand)]
enum BenchSuite {
    /// Breach → affected headends acked, p50/p99, on generated fabrics of simulated devices.
    Reroute {
        /// Fabric sizes (simulated devices).
        #[arg(long, value_delimiter = ',', default_values_t = vec![100, 1000])]
        devices: Vec<usize>,
        /// Policy counts.
        #[arg(long, value_delimiter = ',', default_values_t = vec![1000, 10000])]
        policies: Vec<usize>,
        #[arg(long, default_value_t = 200)]
        trials: usize,
    },
    /// EVPN services/s accepted + journaled (fsync) + programmed on the lab,
    /// against the same load with the journal off.
    Provision {
        /// Topology (default: the built-in example fabric).
        #[arg(long)]
        topology: Option<PathBuf>,
        #[arg(long, default_value_t = 5000)]
        services: usize,
        /// Concurrent client requests.
        #[arg(long, value_delimiter = ',', default_values_t = vec![1, 64, 256])]
        concurrency: Vec<usize>,
        /// Run the simulators in this process, as `strata lab` does (the CPU
        /// figures then cover both); by default they run in a child process.
        #[arg(long)]
        sims_in_process: bool,
    },
    /// Per-path CSPF / shortest / k-shortest / disjoint-pair time against petgraph and networkx.
    Pathcomp {
        /// Fabric sizes (nodes, about four links each).
        #[arg(long, value_delimiter = ',', default_values_t = vec![1000, 10000])]
        nodes: Vec<usize>,
        /// Random (src, dst) pairs for shortest path and CSPF.
        #[arg(long, default_value_t = 300)]
        queries: usize,
        /// How many of those pairs also run k-shortest (k=8) and the disjoint pair.
        #[arg(long, default_value_t = 20)]
        heavy_queries: usize,
        /// Leave out the networkx rows.
        #[arg(long)]
        skip_networkx: bool,
        /// Where the plot goes.
        #[arg(long, default_value = "bench/out")]
        out: PathBuf,
    },
    /// Telemetry samples/s sustained from N devices streaming flat out, and the controller's CPU.
    Ingest {
        /// Fabric sizes (simulated devices, run in a child process).
        #[arg(long, value_delimiter = ',', default_values_t = vec![10, 100, 1000])]
        devices: Vec<usize>,
        /// Measurement window per size (after a warm-up).
        #[arg(long, default_value_t = 5.0)]
        seconds: f64,
    },
    /// What-if latency (random single-link / SRLG failures) and the
    /// survivability table's total time, computed on a generated fabric.
    Whatif {
        #[arg(long, default_value_t = 1000)]
        devices: usize,
        #[arg(long, default_value_t = 10_000)]
        policies: usize,
        #[arg(long, default_value_t = 200)]
        trials: usize,
    },
    /// The simulators of `bench ingest` and `bench provision` (their child
    /// process): a generated fabric streaming flat out (`--devices N`), or a
    /// topology file (default: the built-in example fabric).
    #[command(hide = true)]
    Sims {
        #[arg(long, conflicts_with = "topology")]
        devices: Option<usize>,
        #[arg(long)]
        topology: Option<PathBuf>,
    },
    /// Resident memory of the controller at scale, one fresh process per
    /// configuration, with a half-size peer run.
    Memory {
        #[arg(long, default_value_t = 1000)]
        devices: usize,
        #[arg(long, default_value_t = 10_000)]
        policies: usize,
        #[arg(long, default_value_t = 100_000)]
        links: usize,
        /// Skip the half-size peer run.
        #[arg(long)]
        no_peer: bool,
        /// Measure in this process and print the figures as JSON (how the
        /// suite runs each configuration in a fresh process).
        #[arg(long, hide = true)]
        child: bool,
    },
}

#[derive(Subcommand)]
enum WhatifCommand {
    /// Fail these together: link, fiber and node names, SRLG numbers.
    Fail {
        #[arg(required = true)]
        names: Vec<String>,
    },
    /// Every SRLG and every node failed alone: what each would strand or break.
    Survivability,
}

#[derive(Subcommand)]
enum FaultCommand {
    /// Add delay and/or loss to a link.
    Impair {
        link: String,
        #[arg(long, default_value_t = 0)]
        delay_us: u32,
        #[arg(long, default_value_t = 0.0)]
        loss_percent: f64,
    },
    /// Cut a link (a fiber cut takes down every link riding it).
    Cut { link: String },
    /// Clear every fault on a link (and plug a miscabled one back).
    Restore { link: String },
    /// Cross the patch cords of two packet links (LLDP then disagrees with the topology).
    Miscable { first: String, second: String },
    /// Lower the OSNR of channels on a fiber.
    Osnr { link: String, penalty_db: f64 },
    /// Power-cut a device.
    Crash { device: String },
    /// Boot a crashed device (optionally with its configuration lost).
    Restart {
        device: String,
        #[arg(long)]
        wipe: bool,
    },
}

async fn fault(
    api: std::net::SocketAddr,
    cmd: FaultCommand,
    credentials: &strata::security::client::ClientCredentials,
) -> Result<String, String> {
    use strata::proto::strata::sim::v1 as pb;
    let channel = credentials
        .connect(&api.to_string())
        .await
        .map_err(|e| e.to_string())?;
    let mut client = pb::fault_injection_client::FaultInjectionClient::new(channel);
    let reply = match cmd {
        FaultCommand::Impair {
            link,
            delay_us,
            loss_percent,
        } => {
            client
                .impair_link(pb::ImpairLinkRequest {
                    link,
                    extra_delay_us: delay_us,
                    loss_percent,
                })
                .await
        }
        FaultCommand::Cut { link } => client.cut_link(pb::LinkRequest { link }).await,
        FaultCommand::Restore { link } => client.restore_link(pb::LinkRequest { link }).await,
        FaultCommand::Miscable { first, second } => {
            client
                .miscable_links(pb::MiscableRequest { first, second })
                .await
        }
        FaultCommand::Osnr { link, penalty_db } => {
            client
                .degrade_osnr(pb::DegradeOsnrRequest { link, penalty_db })
                .await
        }
        FaultCommand::Crash { device } => {
            client
                .crash_device(pb::DeviceRequest {
                    device,
                    wipe: false,
                })
                .await
        }
        FaultCommand::Restart { device, wipe } => {
            client
                .restart_device(pb::DeviceRequest { device, wipe })
                .await
        }
    };
    reply
        .map(|r| r.into_inner().detail)
        .map_err(|s| format!("{:?}: {}", s.code(), s.message()))
}

fn load(path: Option<&PathBuf>) -> Result<Topology, String> {
    match path {
        Some(p) => strata::topology::load_file(p).map_err(|e| e.to_string()),
        None => strata::topology::parse_str(DEFAULT_TOPOLOGY).map_err(|e| e.to_string()),
    }
}

fn secs(x: Option<f64>) -> Result<Option<Duration>, String> {
    match x {
        None => Ok(None),
        Some(s) if s.is_finite() && s > 0.0 => Ok(Some(Duration::from_secs_f64(s))),
        Some(s) => Err(format!(
            "--duration must be a positive number of seconds, got {s}"
        )),
    }
}

fn positive_secs(x: f64, flag: &str) -> Result<Duration, String> {
    if x.is_finite() && x > 0.0 {
        Ok(Duration::from_secs_f64(x))
    } else {
        Err(format!("{flag}: {x} must be a positive number of seconds"))
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("strata: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    // Only the lab runs the controller, so only it exports (a benchmark would
    // measure the exporter too).
    let otlp = match &cli.command {
        Command::Lab { daemon, .. } | Command::Controller { daemon, .. } => {
            strata::otel::endpoint(daemon.otlp_endpoint.clone())
        }
        _ => None,
    };
    // The OTLP channel is built on this runtime and must outlive its flush.
    let otel = {
        let _rt = runtime.enter();
        match strata::otel::init(otlp.clone(), "strata") {
            Ok(o) => {
                if let Some(e) = otlp.as_ref().filter(|_| o.is_some()) {
                    eprintln!("OpenTelemetry: spans and metrics to {e} (OTLP/gRPC)");
                }
                o
            }
            Err(e) => {
                eprintln!("strata: cannot set up logging or OpenTelemetry export: {e}");
                return ExitCode::FAILURE;
            }
        }
    };
    let code = match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("strata: {e}");
            ExitCode::FAILURE
        }
    };
    if let Some(otel) = otel {
        if let Err(e) = otel.shutdown() {
            eprintln!("strata: {e}");
        }
    }
    code
}

/// `--store etcd://…` (else the config file's `journal.store`), with its CA
/// and prefix from the flags, else the file.
fn etcd_store(
    file: &strata::config::Config,
    store: Option<String>,
    ca: Option<PathBuf>,
    prefix: Option<String>,
) -> Result<Option<strata::store::etcd::EtcdConfig>, String> {
    let Some(url) = store.or(file.journal.store.clone()) else {
        if ca.is_some() || prefix.is_some() {
            return Err("--etcd-ca and --etcd-prefix need --store etcd://...".into());
        }
        return Ok(None);
    };
    let mut etcd =
        strata::store::etcd::EtcdConfig::parse(&url).map_err(|e| format!("--store: {e}"))?;
    etcd.ca = ca.or(file.journal.etcd_ca.clone());
    if let Some(p) = prefix.or(file.journal.etcd_prefix.clone()) {
        if !p.starts_with('/') {
            return Err(format!("--etcd-prefix {p:?}: must start with /"));
        }
        etcd.prefix = p;
    }
    Ok(Some(etcd))
}

/// `--replica-id` (else `[replica] id`) with its lease and advertised
/// address; `None` runs a lone controller.
fn replica_options(
    file: &strata::config::Config,
    id: Option<String>,
    lease_ttl: Option<u64>,
    advertise: Option<String>,
    listen: std::net::SocketAddr,
) -> Result<Option<strata::replica::ReplicaOptions>, String> {
    let Some(id) = id.or(file.replica.id.clone()) else {
        if lease_ttl.is_some() || advertise.is_some() {
            return Err("--lease-ttl and --advertise need --replica-id".into());
        }
        return Ok(None);
    };
    if id.is_empty() || id.contains(char::is_whitespace) {
        return Err(format!(
            "--replica-id {id:?}: must be a non-empty name without spaces"
        ));
    }
    let lease_ttl = match lease_ttl {
        Some(0) => return Err("--lease-ttl: must be at least 1 second".into()),
        Some(s) => Duration::from_secs(s),
        None => file
            .replica
            .lease_ttl
            .unwrap_or(strata::replica::DEFAULT_LEASE_TTL),
    };
    let advertise = match advertise.or(file.replica.advertise.clone()) {
        Some(a) => a,
        None if listen.ip().is_unspecified() => {
            return Err(format!(
                "--advertise: the API listens on {listen}, so say where clients reach this replica"
            ))
        }
        None => listen.to_string(),
    };
    Ok(Some(strata::replica::ReplicaOptions {
        id,
        lease_ttl,
        advertise,
    }))
}

/// A command's report printed as it is, or its error with its causes.
fn printed(out: anyhow::Result<String>) -> Result<ExitCode, String> {
    let out = out.map_err(|e| format!("{e:#}"))?;
    print!("{out}");
    Ok(ExitCode::SUCCESS)
}

async fn run(cli: Cli) -> Result<ExitCode, String> {
    match cli.command {
        Command::Completions { shell } => {
            use clap::CommandFactory;
            clap_complete::generate(shell, &mut Cli::command(), "strata", &mut std::io::stdout());
            Ok(ExitCode::SUCCESS)
        }
        Command::Lab {
            topology,
            duration,
            measure_interval_ms,
            ephemeral_ports,
            daemon,
            data_dir,
            credentials,
        } => {
            let topology_file = topology.topology.clone();
            let topology = load(topology.topology.as_ref())?;
            let file = daemon.config()?;
            // The lab makes its own API credentials and device logins.
            let (api, dev) = (&file.api, &file.devices);
            if api.tls_cert.is_some()
                || api.client_ca.is_some()
                || api.principals.is_some()
                || dev.gnmi_ca.is_some()
                || dev.gnmi_username.is_some()
            {
                eprintln!("strata lab: the lab makes its own credentials; ignoring the config file's TLS, principals and gNMI login");
            }
            let d = daemon.options(&file, data_dir)?;
            let security = if daemon.insecure(&file) {
                strata::lab::LabSecurity::Insecure
            } else {
                let dir = credentials.unwrap_or_else(strata::security::client::lab_credentials_dir);
                strata::lab::LabSecurity::generate(&dir).map_err(|e| format!("{e:#}"))?
            };
            let web = daemon.web(
                &file,
                Some(if ephemeral_ports {
                    std::net::SocketAddr::new(LAB_WEB.ip(), 0)
                } else {
                    LAB_WEB
                }),
            )?;
            let options = LabOptions {
                listen: d.listen,
                sim: SimOptions {
                    measure_interval: Duration::from_millis(measure_interval_ms.max(10)),
                    ephemeral_ports,
                },
                sessions: d.sessions,
                duration: secs(duration)?,
                health: d.health,
                pools: d.pools,
                metrics: d.metrics,
                data_dir: d.data_dir,
                reconcile_interval: d.reconcile_interval,
                recover_journal: d.recover_journal,
                web,
                security,
            };
            let outcome = lab::run_lab(&topology, topology_file, options)
                .await
                .map_err(|e| e.to_string())?;
            // A timed run is a smoke test: it fails unless every device came up.
            Ok(if outcome.up == outcome.devices {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Command::Controller {
            topology,
            daemon,
            tls,
            data_dir,
            store,
            etcd_ca,
            etcd_prefix,
            replica,
        } => {
            let ReplicaArgs {
                replica_id,
                lease_ttl,
                advertise,
            } = *replica;
            let topology_file = topology.topology.clone();
            let topology = load(topology.topology.as_ref())?;
            let file = daemon.config()?;
            let mut options = daemon.options(&file, data_dir)?;
            options.etcd = etcd_store(&file, store, etcd_ca, etcd_prefix)?;
            options.replica =
                replica_options(&file, replica_id, lease_ttl, advertise, options.listen)?;
            if options.replica.is_some() && options.etcd.is_none() {
                return Err("--replica-id needs the etcd store (--store etcd://...)".into());
            }
            if options.data_dir.is_none() && options.etcd.is_none() {
                options.data_dir = Some(strata::daemon::default_data_dir());
            }
            let insecure = daemon.insecure(&file);
            let tls = tls.over(&file);
            options.security = tls.security(insecure)?;
            options.sessions.credentials = tls.device_credentials()?;
            if insecure && !options.listen.ip().is_loopback() {
                eprintln!(
                    "strata controller: WARNING: --insecure on {}: anyone who reaches this address can read and change the network",
                    options.listen
                );
            }
            strata::daemon::run_controller(&topology, topology_file, options)
                .await
                .map_err(|e| format!("{e:#}"))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Sim {
            topology,
            duration,
            measure_interval_ms,
            control,
        } => {
            let topology = load(topology.topology.as_ref())?;
            let options = SimOptions {
                measure_interval: Duration::from_millis(measure_interval_ms.max(10)),
                ephemeral_ports: false,
            };
            lab::run_sims(&topology, options, control, secs(duration)?)
                .await
                .map_err(|e| e.to_string())?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench {
            suite:
                BenchSuite::Reroute {
                    devices,
                    policies,
                    trials,
                },
        } => {
            strata::bench::print_header();
            let mut rows = Vec::new();
            for &d in &devices {
                for &p in &policies {
                    eprintln!("bench reroute: {d} devices, {p} policies, {trials} trials …");
                    let row = strata::bench::reroute(d, p, trials)
                        .await
                        .map_err(|e| e.to_string())?;
                    strata::bench::print_row(&row);
                    rows.push(row);
                }
            }
            let plot = std::path::Path::new("bench/out/reroute-latency.svg");
            strata::bench::reroute::plot_latency(&rows, plot).map_err(|e| e.to_string())?;
            eprintln!("bench reroute: wrote {}", plot.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench {
            suite:
                BenchSuite::Pathcomp {
                    nodes,
                    queries,
                    heavy_queries,
                    skip_networkx,
                    out,
                },
        } => {
            let options = strata::bench::pathcomp::Options {
                nodes,
                queries,
                heavy_queries,
                networkx: !skip_networkx,
                out_dir: out,
            };
            strata::bench::pathcomp::run(&options).map_err(|e| e.to_string())?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench {
            suite:
                BenchSuite::Provision {
                    topology: file,
                    services,
                    concurrency,
                    sims_in_process,
                },
        } => {
            let topology = load(file.as_ref())?;
            use strata::bench::provision::SimsPlace;
            let place = if sims_in_process {
                SimsPlace::InProcess
            } else {
                SimsPlace::Child(strata::bench::sims::SimsFabric::File(file.clone()))
            };
            strata::bench::provision::print_header();
            for &c in &concurrency {
                use strata::bench::provision::Durability;
                // etcd only where there is an etcd binary to start.
                let kinds: Vec<Durability> =
                    [Durability::Journal, Durability::Etcd, Durability::Off]
                        .into_iter()
                        .filter(|d| {
                            *d != Durability::Etcd
                                || strata::store::etcd_server::etcd_binary().is_some()
                        })
                        .collect();
                for durability in kinds {
                    eprintln!(
                        "bench provision: {services} services, concurrency {c}, store {durability:?} …"
                    );
                    let row = strata::bench::provision::provision(
                        &topology,
                        services,
                        c,
                        durability,
                        place.clone(),
                    )
                    .await
                    .map_err(|e| e.to_string())?;
                    strata::bench::provision::print_row(&row);
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench {
            suite: BenchSuite::Ingest { devices, seconds },
        } => {
            let window = secs(Some(seconds))?.unwrap_or(Duration::from_secs(5));
            strata::bench::ingest::print_header();
            for &d in &devices {
                eprintln!("bench ingest: {d} devices, {window:?} window …");
                let row = strata::bench::ingest::ingest(d, window)
                    .await
                    .map_err(|e| e.to_string())?;
                strata::bench::ingest::print_row(&row);
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench {
            suite:
                BenchSuite::Whatif {
                    devices,
                    policies,
                    trials,
                },
        } => {
            let options = strata::bench::whatif::Options {
                devices,
                policies,
                trials,
                seed: 42,
            };
            tokio::task::spawn_blocking(move || strata::bench::whatif::run(options))
                .await
                .map_err(|e| e.to_string())?
                .map_err(|e| format!("{e:#}"))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench {
            suite: BenchSuite::Sims { devices, topology },
        } => {
            let (t, burst) = match devices {
                Some(d) => (strata::bench::generated_fabric(d, 7), true),
                None => (load(topology.as_ref())?, false),
            };
            strata::bench::sims::serve(t, burst)
                .await
                .map_err(|e| e.to_string())?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench {
            suite:
                BenchSuite::Memory {
                    devices,
                    policies,
                    links,
                    no_peer,
                    child,
                },
        } => {
            use strata::bench::memory;
            let config = memory::Config {
                devices,
                policies,
                links,
            };
            if child {
                memory::child(config).await
            } else {
                tokio::task::spawn_blocking(move || memory::run(config, !no_peer))
                    .await
                    .map_err(|e| e.to_string())?
            }
            .map_err(|e| format!("{e:#}"))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Watch { api, once, client } => {
            strata::watch::run(api, once, &client.credentials()?)
                .await
                .map_err(|e| e.to_string())?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Whatif { api, client, what } => {
            let credentials = client.credentials()?;
            let out = match what {
                WhatifCommand::Fail { names } => {
                    strata::whatif::fail(api, &names, &credentials).await
                }
                WhatifCommand::Survivability => {
                    strata::whatif::survivability(api, &credentials).await
                }
            }
            .map_err(|e| format!("{e:#}"))?;
            print!("{out}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Drain {
            api,
            client,
            target,
            reason,
        } => printed(strata::drain::drain(api, &target, &reason, &client.credentials()?).await),
        Command::Undrain {
            api,
            client,
            target,
        } => printed(strata::drain::undrain(api, &target, &client.credentials()?).await),
        Command::Drains { api, client } => {
            printed(strata::drain::drains(api, &client.credentials()?).await)
        }
        Command::ReloadTopology {
            api,
            client,
            file,
            dry_run,
        } => printed(
            strata::topo::reload(api, file.as_deref(), dry_run, &client.credentials()?).await,
        ),
        Command::AddNode {
            api,
            client,
            name,
            address,
            router_id,
            node_sid,
            access_interfaces,
            site,
            dry_run,
        } => {
            let node = strata::proto::strata::v1::Node {
                name,
                role: strata::proto::strata::v1::Role::Packet as i32,
                address,
                router_id,
                node_sid,
                access_interfaces,
                site,
                ..Default::default()
            };
            printed(strata::topo::add_node(api, node, dry_run, &client.credentials()?).await)
        }
        Command::AddLink {
            api,
            client,
            name,
            a,
            b,
            capacity_gbps,
            length_km,
            dry_run,
        } => {
            let link = strata::proto::strata::v1::Link {
                name,
                layer: strata::proto::strata::v1::Layer::Packet as i32,
                a: Some(strata::topo::endpoint(&a)?),
                b: Some(strata::topo::endpoint(&b)?),
                capacity_gbps,
                length_km,
                ..Default::default()
            };
            printed(strata::topo::add_link(api, link, dry_run, &client.credentials()?).await)
        }
        Command::RemoveLink {
            api,
            client,
            name,
            dry_run,
        } => printed(strata::topo::remove_link(api, &name, dry_run, &client.credentials()?).await),
        Command::RemoveNode {
            api,
            client,
            name,
            dry_run,
        } => printed(strata::topo::remove_node(api, &name, dry_run, &client.credentials()?).await),
        Command::Fault {
            api,
            client,
            fault: cmd,
        } => {
            println!("{}", fault(api, cmd, &client.credentials()?).await?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Token { name, role } => {
            use strata::security::Role;
            let role = match role.as_str() {
                "viewer" => Role::Viewer,
                "operator" => Role::Operator,
                "orchestrator" => Role::Orchestrator,
                _ => Role::Admin,
            };
            let token = strata::security::pki::new_token();
            eprintln!("# the token for {name:?} ({role}); it is shown once and stored nowhere:");
            println!("{token}");
            eprintln!(
                "# add this to the principals file (the controller re-reads it within seconds):"
            );
            eprint!(
                "{}",
                strata::security::principals::token_entry(&name, role, &token)
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Config {
            action: ConfigCommand::Check { file, topology },
        } => {
            let config = match strata::config::load_file(&file) {
                Ok(c) => c,
                Err(e) => {
                    eprintln!("{e}");
                    let n = e.problems.len();
                    eprintln!(
                        "{}: invalid ({n} problem{})",
                        file.display(),
                        if n == 1 { "" } else { "s" }
                    );
                    return Ok(ExitCode::FAILURE);
                }
            };
            if let Some(t) = topology {
                let t = load(Some(&t))?;
                if let Err(e) = config.closed_loop.check_links(&t) {
                    eprintln!("{}: {e}", file.display());
                    return Ok(ExitCode::FAILURE);
                }
            }
            println!("{}: valid", file.display());
            for line in config.summary() {
                println!("  {line}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Topology { file } => {
            let t = load(Some(&file))?;
            let count = |l: strata::model::Layer| t.links.iter().filter(|x| x.layer == l).count();
            println!(
                "{}: fabric {:?} is valid: {} nodes, {} links ({} packet, {} optical, {} fiber)",
                file.display(),
                t.name,
                t.nodes.len(),
                t.links.len(),
                count(strata::model::Layer::Packet),
                count(strata::model::Layer::Optical),
                count(strata::model::Layer::Fiber)
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn controller(args: &[&str]) -> (DaemonArgs, ControllerTlsArgs) {
        let argv = ["strata", "controller"].iter().chain(args);
        match Cli::try_parse_from(argv).map(|c| c.command) {
            Ok(Command::Controller { daemon, tls, .. }) => (daemon, *tls),
            Ok(_) => panic!("not the controller"),
            Err(e) => panic!("{e}"),
        }
    }

    fn file() -> strata::config::Config {
        let text = r#"
[api]
listen = "10.0.0.1:50051"
tls_cert = "api.pem"
tls_key = "api.key"
principals = "principals.toml"

[devices]
gnmi_ca = "devices-ca.pem"
gnmi_username = "file-user"
gnmi_password_file = "file.password"
sample_interval = "250ms"

[reconcile]
interval = "1m"

[web]
listen = "127.0.0.1:8051"

[limits]
device_queue = 16
"#;
        match strata::config::parse(text, std::path::Path::new("/etc/strata")) {
            Ok(c) => c,
            Err(p) => panic!("{p:?}"),
        }
    }

    #[test]
    fn without_flags_the_file_decides() {
        let (daemon, tls) = controller(&[]);
        let f = file();
        let o = daemon.options(&f, None).unwrap();
        assert_eq!(o.listen, "10.0.0.1:50051".parse().unwrap());
        assert_eq!(o.sessions.sample_interval, Duration::from_millis(250));
        assert_eq!(o.reconcile_interval, Duration::from_secs(60));
        assert_eq!(o.web, Some("127.0.0.1:8051".parse().unwrap()));
        assert_eq!(o.sessions.queue_depth, 16);
        let t = tls.over(&f);
        assert_eq!(t.tls_cert, Some(PathBuf::from("/etc/strata/api.pem")));
        assert_eq!(t.gnmi_ca, Some(PathBuf::from("/etc/strata/devices-ca.pem")));
        assert_eq!(t.gnmi_username.as_deref(), Some("file-user"));
        // With no file at all, the built-in defaults.
        let o = daemon.options(&Default::default(), None).unwrap();
        assert_eq!(o.listen, DEFAULT_LISTEN);
        assert_eq!(o.sessions.sample_interval, Duration::from_secs(1));
        assert_eq!(o.reconcile_interval, Duration::from_secs(30));
        assert_eq!(o.web, None);
    }

    #[test]
    fn flags_given_beat_the_file_and_only_those() {
        let (daemon, tls) = controller(&[
            "--listen",
            "127.0.0.1:6000",
            "--reconcile-interval",
            "5",
            "--web",
            "off",
            "--tls-cert",
            "/flags/api.pem",
            "--gnmi-insecure",
            "--gnmi-username",
            "flag-user",
            "--gnmi-password-file",
            "/flags/password",
        ]);
        let f = file();
        let o = daemon.options(&f, None).unwrap();
        assert_eq!(o.listen, "127.0.0.1:6000".parse().unwrap());
        assert_eq!(o.reconcile_interval, Duration::from_secs(5));
        assert_eq!(o.web, None, "--web off beats the file's address");
        // Not given: still the file's.
        assert_eq!(o.sessions.sample_interval, Duration::from_millis(250));
        let t = tls.over(&f);
        assert_eq!(t.tls_cert, Some(PathBuf::from("/flags/api.pem")));
        assert_eq!(t.tls_key, Some(PathBuf::from("/etc/strata/api.key")));
        // --gnmi-insecure replaces the file's CA rather than contradicting it.
        assert_eq!((t.gnmi_ca.as_ref(), t.gnmi_insecure), (None, true));
        assert_eq!(
            (t.gnmi_username.as_deref(), t.gnmi_password_file.as_deref()),
            (
                Some("flag-user"),
                Some(std::path::Path::new("/flags/password"))
            )
        );
    }
}
