//! Simulated devices in a child process (`strata bench sims`), so a bench
//! measures the controller's CPU apart from the devices it programs or
//! listens to — as it would be with real routers and transponders.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::model::Topology;
use crate::simulators::fabric::{SimFabric, SimOptions};

/// Which fabric the child simulates; both sides build it the same way.
#[derive(Debug, Clone)]
pub enum SimsFabric {
    /// `generated_fabric(devices, seed 7)`, streaming flat out (burst sampling).
    Generated { devices: usize },
    /// A topology file (`None`: the built-in example), measuring every 200 ms.
    File(Option<PathBuf>),
}

impl SimsFabric {
    fn args(&self) -> Vec<String> {
        match self {
            SimsFabric::Generated { devices } => {
                vec!["--devices".into(), devices.to_string()]
            }
            SimsFabric::File(None) => Vec::new(),
            SimsFabric::File(Some(p)) => vec!["--topology".into(), p.display().to_string()],
        }
    }
}

/// The simulators' child process: started, it reports its devices' addresses.
pub struct ChildSims {
    child: Child,
    addresses: HashMap<String, SocketAddr>,
}

impl ChildSims {
    /// Starts `strata bench sims …` and waits for every device to listen.
    /// Blocking: call it from `spawn_blocking`.
    pub fn spawn(fabric: &SimsFabric) -> anyhow::Result<ChildSims> {
        let exe = std::env::current_exe()?;
        let mut child = Command::new(exe)
            .args(["bench", "sims"])
            .args(fabric.args())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| anyhow::anyhow!("no stdout from the simulators"))?;
        let mut addresses = HashMap::new();
        for line in BufReader::new(stdout).lines() {
            let line = line?;
            if line == "ready" {
                return Ok(ChildSims { child, addresses });
            }
            let mut parts = line.split_whitespace();
            if let (Some(name), Some(addr)) = (parts.next(), parts.next()) {
                addresses.insert(name.to_string(), addr.parse()?);
            }
        }
        let _ = child.kill();
        anyhow::bail!("the simulators exited before they were ready")
    }

    pub fn addresses(&self) -> &HashMap<String, SocketAddr> {
        &self.addresses
    }

    /// The child's CPU time so far (user + system).
    pub fn cpu(&self) -> Duration {
        cpu_time(&format!("/proc/{}/stat", self.child.id())).unwrap_or_default()
    }
}

impl Drop for ChildSims {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The child side: the fabric's simulators until stdin closes.
pub async fn serve(t: Topology, burst: bool) -> anyhow::Result<()> {
    let fabric = SimFabric::new(
        &t,
        SimOptions {
            // Burst mode changes the cached batch with every measurement;
            // once a second is plenty there.
            measure_interval: if burst {
                Duration::from_secs(1)
            } else {
                Duration::from_millis(200)
            },
            ephemeral_ports: true,
        },
    );
    if burst {
        fabric.burst_sampling();
    }
    fabric.start().await?;
    {
        let mut out = std::io::stdout().lock();
        for n in &t.nodes {
            if let Some(a) = fabric.address(&n.name) {
                writeln!(out, "{} {a}", n.name)?;
            }
        }
        writeln!(out, "ready")?;
        out.flush()?;
    }
    // The parent holds our stdin: when it goes, so do we.
    tokio::task::spawn_blocking(|| {
        let mut sink = String::new();
        while std::io::stdin().read_line(&mut sink).is_ok_and(|n| n > 0) {
            sink.clear();
        }
    })
    .await?;
    fabric.shutdown().await;
    Ok(())
}

/// CPU time (utime + stime) of a process or thread from its /proc stat file.
pub(crate) fn cpu_time(stat: &str) -> Option<Duration> {
    let text = std::fs::read_to_string(stat).ok()?;
    // Fields after the parenthesised command name: state is the first, utime the 12th.
    let rest = text.get(text.rfind(')')? + 1..)?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // USER_HZ is 100 on every Linux architecture Strata targets.
    Some(Duration::from_millis(ticks * 10))
}

/// This process's CPU time so far.
pub(crate) fn self_cpu() -> Duration {
    cpu_time("/proc/self/stat").unwrap_or_default()
}
