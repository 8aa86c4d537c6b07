//! `strata bench`: one module per suite, each measuring Strata against an
//! in-run peer and printing a table.

// Production code answers bad input and failed I/O with errors, never a
// panic (tests may unwrap).
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

// Suites address the layers as they did inside the single crate.
pub(crate) use strata_core::{model, render};
pub(crate) use strata_daemon::{controller, daemon, gnmi, proto, security, southbound, telemetry};
pub(crate) use strata_lab as lab;
pub(crate) use strata_sim as simulators;

pub mod ingest;
pub mod memory;
pub mod networkx;
pub mod pathcomp;
pub mod plot;
pub mod provision;
pub mod reroute;
pub mod rng;
pub mod sims;
pub mod whatif;

pub use reroute::{generated_fabric, print_header, print_row, reroute};

/// The one daemon wiring as the benches run it on simulators: plaintext, no
/// journal, and reconciliation out of the measurement (a day away), so only
/// what a bench does programs devices.
pub(crate) fn daemon_options(
    sessions: southbound::SessionConfig,
    health: telemetry::health::HealthPolicy,
) -> anyhow::Result<daemon::DaemonOptions> {
    Ok(daemon::DaemonOptions {
        listen: "127.0.0.1:0".parse()?,
        sessions,
        health,
        pools: Default::default(),
        metrics: None,
        data_dir: None,
        etcd: None,
        replica: None,
        reconcile_interval: std::time::Duration::from_secs(24 * 3600),
        recover_journal: false,
        web: None,
        security: security::Security::insecure(),
    })
}

/// Waits (up to two minutes) for every device's session to come up.
pub(crate) async fn all_up(daemon: &daemon::Daemon, devices: usize) -> anyhow::Result<()> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while daemon.state.counts().up < devices {
        if std::time::Instant::now() > deadline {
            anyhow::bail!(
                "only {} of {devices} sessions came up",
                daemon.state.counts().up
            );
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    Ok(())
}
