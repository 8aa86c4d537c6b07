//! A throwaway single-member etcd on loopback, for tests (and labs): the
//! `etcd` binary from `$STRATA_ETCD` or the PATH, in its own directory, on
//! two free ports.
//!
//! etcd cannot listen on port 0 and report the port it got, so free ports
//! are found by binding and releasing them; another process may take one in
//! between, so a start that does not come up is retried on fresh ports.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::etcd::EtcdConfig;

const READY_WITHIN: Duration = Duration::from_secs(15);
const ATTEMPTS: usize = 5;

/// TLS on the client URL: the member's certificate and key, and the CA
/// clients verify it with (PEM files).
#[derive(Debug, Clone)]
pub struct ServerTls {
    pub cert: PathBuf,
    pub key: PathBuf,
    pub ca: PathBuf,
}

/// A running etcd; killed, and its directory removed, on drop.
pub struct EtcdServer {
    child: Child,
    dir: PathBuf,
    tls: Option<ServerTls>,
    /// `127.0.0.1:PORT` of its client URL.
    pub endpoint: String,
}

/// The etcd binary: `$STRATA_ETCD`, else `etcd` on the PATH.
pub fn etcd_binary() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("STRATA_ETCD") {
        return Some(PathBuf::from(p)).filter(|p| p.is_file());
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join("etcd"))
        .find(|p| p.is_file())
}

/// For tests: a running etcd, or `None` with a loud message when there is
/// no etcd binary — unless `STRATA_REQUIRE_ETCD=1` (CI), where that panics.
pub async fn for_test(name: &str) -> Option<EtcdServer> {
    if etcd_binary().is_none() {
        let msg = format!(
            "{name}: SKIPPED, no etcd binary (install Debian's etcd-server, or set STRATA_ETCD)"
        );
        if std::env::var("STRATA_REQUIRE_ETCD").is_ok_and(|v| v == "1") {
            panic!("{msg}, and STRATA_REQUIRE_ETCD=1 requires it");
        }
        // Straight to the process's stderr: the test harness captures
        // eprintln!, and a skip must be seen.
        use std::io::Write;
        let _ = writeln!(std::io::stderr(), "\n!!!!!!!! {msg} !!!!!!!!\n");
        return None;
    }
    match EtcdServer::start().await {
        Ok(s) => Some(s),
        Err(e) => panic!("{name}: etcd would not start: {e}"),
    }
}

fn free_ports() -> std::io::Result<(u16, u16)> {
    // Both held at once so they differ; released just before etcd binds.
    let a = std::net::TcpListener::bind("127.0.0.1:0")?;
    let b = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok((a.local_addr()?.port(), b.local_addr()?.port()))
}

impl EtcdServer {
    pub async fn start() -> Result<EtcdServer, String> {
        Self::start_with(None).await
    }

    /// With `tls`, clients must use TLS and trust `tls.ca`.
    pub async fn start_with(tls: Option<ServerTls>) -> Result<EtcdServer, String> {
        let bin = etcd_binary().ok_or("no etcd binary")?;
        let mut last = String::new();
        for attempt in 0..ATTEMPTS {
            let dir = std::env::temp_dir().join(format!(
                "strata-etcd-{}-{}-{attempt}",
                std::process::id(),
                crate::controller::events::now_ns()
            ));
            std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            match Self::try_start(&bin, &dir, tls.clone()).await {
                Ok(s) => return Ok(s),
                Err(e) => {
                    let _ = std::fs::remove_dir_all(&dir);
                    last = e;
                }
            }
        }
        Err(format!("after {ATTEMPTS} attempts: {last}"))
    }

    async fn try_start(
        bin: &Path,
        dir: &Path,
        tls: Option<ServerTls>,
    ) -> Result<EtcdServer, String> {
        let (client, peer) = free_ports().map_err(|e| e.to_string())?;
        let scheme = if tls.is_some() { "https" } else { "http" };
        let client_url = format!("{scheme}://127.0.0.1:{client}");
        let peer_url = format!("http://127.0.0.1:{peer}");
        let log = std::fs::File::create(dir.join("etcd.log")).map_err(|e| e.to_string())?;
        let mut command = Command::new(bin);
        if let Some(t) = &tls {
            command
                .arg(format!("--cert-file={}", t.cert.display()))
                .arg(format!("--key-file={}", t.key.display()));
        }
        let child = command
            .arg("--name=strata-test")
            .arg(format!("--data-dir={}", dir.join("data").display()))
            .arg(format!("--listen-client-urls={client_url}"))
            .arg(format!("--advertise-client-urls={client_url}"))
            .arg(format!("--listen-peer-urls={peer_url}"))
            .arg(format!("--initial-advertise-peer-urls={peer_url}"))
            .arg(format!("--initial-cluster=strata-test={peer_url}"))
            .arg("--initial-cluster-state=new")
            // A one-member test cluster elects itself at once; these also let
            // leases be as short as a second (etcd's floor is 1.5 election
            // timeouts), which the replica tests' failovers use.
            .arg("--heartbeat-interval=100")
            .arg("--election-timeout=500")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .map_err(|e| format!("{}: {e}", bin.display()))?;
        let mut server = EtcdServer {
            child,
            dir: dir.to_path_buf(),
            tls,
            endpoint: format!("127.0.0.1:{client}"),
        };
        let deadline = Instant::now() + READY_WITHIN;
        loop {
            if let Ok(Some(status)) = server.child.try_wait() {
                let log = std::fs::read_to_string(dir.join("etcd.log")).unwrap_or_default();
                let tail: String = log.lines().rev().take(5).collect::<Vec<_>>().join(" | ");
                return Err(format!("etcd exited ({status}): {tail}"));
            }
            if server.ready().await {
                return Ok(server);
            }
            if Instant::now() > deadline {
                return Err(format!("etcd not ready within {READY_WITHIN:?}"));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn ready(&self) -> bool {
        let Ok(channel) = super::etcd::channel(&self.config()).await else {
            return false;
        };
        let mut kv = crate::proto::etcd::kv_client::KvClient::new(channel);
        let probe = crate::proto::etcd::RangeRequest {
            key: b"/".to_vec(),
            count_only: true,
            ..Default::default()
        };
        matches!(
            tokio::time::timeout(Duration::from_secs(1), kv.range(probe)).await,
            Ok(Ok(_))
        )
    }

    /// A store config on this server under `prefix`.
    pub fn config_with_prefix(&self, prefix: &str) -> EtcdConfig {
        EtcdConfig {
            endpoints: vec![self.endpoint.clone()],
            prefix: prefix.to_string(),
            ca: self.tls.as_ref().map(|t| t.ca.clone()),
            leader_lease: None,
        }
    }

    /// A store config on this server under the default prefix.
    pub fn config(&self) -> EtcdConfig {
        self.config_with_prefix(super::etcd::DEFAULT_PREFIX)
    }

    /// `etcd://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("etcd://{}", self.endpoint)
    }

    /// Kills etcd (SIGKILL) and waits for it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for EtcdServer {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
