//! The `strata` command: lab, simulators, topology checks.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use strata::lab::{self, LabOptions};
use strata::model::Topology;
use strata::simulators::fabric::SimOptions;
use strata::southbound::SessionConfig;

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

#[derive(Subcommand)]
enum Command {
    /// Simulators + controller southbound in one process, with a live summary.
    Lab {
        /// Topology file (default: the built-in 16-metro US fabric, examples/us-metro.yaml).
        #[arg(long)]
        topology: Option<PathBuf>,
        /// Stop after this many seconds (default: run until Ctrl-C).
        #[arg(long)]
        duration: Option<f64>,
        /// How often simulated devices measure delay/loss/OSNR (ms).
        #[arg(long, default_value_t = 200)]
        measure_interval_ms: u64,
        /// SAMPLE interval the controller subscribes with (ms).
        #[arg(long, default_value_t = 1000)]
        sample_interval_ms: u64,
    },
    /// Run the gNMI device simulators of a topology (one port per device).
    Sim {
        #[arg(long)]
        topology: Option<PathBuf>,
        #[arg(long)]
        duration: Option<f64>,
        #[arg(long, default_value_t = 200)]
        measure_interval_ms: u64,
    },
    /// Validate a topology file and summarise it.
    Topology { file: PathBuf },
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

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
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
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("strata: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<ExitCode, String> {
    match cli.command {
        Command::Lab {
            topology,
            duration,
            measure_interval_ms,
            sample_interval_ms,
        } => {
            let topology = load(topology.as_ref())?;
            let options = LabOptions {
                sim: SimOptions {
                    measure_interval: Duration::from_millis(measure_interval_ms.max(10)),
                    ephemeral_ports: false,
                },
                sessions: SessionConfig {
                    sample_interval: Duration::from_millis(sample_interval_ms.max(10)),
                    ..SessionConfig::default()
                },
                duration: secs(duration)?,
            };
            let outcome = lab::run_lab(&topology, options)
                .await
                .map_err(|e| e.to_string())?;
            // A timed run is a smoke test: it fails unless every device came up.
            Ok(if outcome.up == outcome.devices {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Command::Sim {
            topology,
            duration,
            measure_interval_ms,
        } => {
            let topology = load(topology.as_ref())?;
            let options = SimOptions {
                measure_interval: Duration::from_millis(measure_interval_ms.max(10)),
                ephemeral_ports: false,
            };
            lab::run_sims(&topology, options, secs(duration)?)
                .await
                .map_err(|e| e.to_string())?;
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
