//! Replicas: any number of controllers on one etcd prefix, one of them the
//! leader (`election`). The leader is an ordinary controller on the etcd
//! store — it programs devices, runs the closed loop and reconciliation,
//! and commits — fenced on the devices by its term. Followers program
//! nothing: they keep a hot copy of the state (`mirror`) and serve reads
//! (Get, List, Watch, what-if), and refuse every change with UNAVAILABLE,
//! naming the leader in the message and in the `strata-leader` metadata
//! (its advertised API address), which Strata's own clients follow.
//!
//! A replica runs in turns (`run`): follower until it wins the leader key,
//! then leader until it stops or its lease is lost, then follower again.
//! Each turn is its own `Daemon`; a new leader's start-up is exactly a
//! controller's on etcd — load at the latest revision, take a term (the
//! election id its Sets carry, above every earlier leader's), reconcile
//! every device as it connects, start the closed loop.

pub mod election;
pub mod mirror;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use election::{Elector, Leader, Outcome};

/// The metadata key a follower names the leader's address in.
pub const LEADER_METADATA: &str = "strata-leader";

/// `--replica-id`, `--lease-ttl`, `--advertise` (or the config's `[replica]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplicaOptions {
    /// This replica's name (unique among the replicas of one prefix).
    pub id: String,
    /// The leader's lease: a killed leader is replaced after about this long.
    pub lease_ttl: Duration,
    /// Where clients reach this replica's API (followers send them here when
    /// it leads).
    pub advertise: String,
}

pub const DEFAULT_LEASE_TTL: Duration = Duration::from_secs(1);

/// Who leads, as this replica last heard.
#[derive(Debug, Default)]
pub struct Board(RwLock<Option<Leader>>);

impl Board {
    pub fn set(&self, leader: Option<Leader>) {
        *self.0.write().unwrap_or_else(|e| e.into_inner()) = leader;
    }

    pub fn get(&self) -> Option<Leader> {
        self.0.read().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// Whether one turn's API may change anything. A follower's never may; a
/// leader's may until it steps down (then at once, before its server is
/// even stopped, so no change is accepted after the lease is in doubt).
#[derive(Debug)]
pub struct Gate {
    me: String,
    leading: AtomicBool,
    board: Arc<Board>,
}

impl Gate {
    pub fn follower(me: &str, board: Arc<Board>) -> Arc<Gate> {
        Arc::new(Gate {
            me: me.to_string(),
            leading: AtomicBool::new(false),
            board,
        })
    }

    pub fn leader(me: &str, board: Arc<Board>) -> Arc<Gate> {
        Arc::new(Gate {
            me: me.to_string(),
            leading: AtomicBool::new(true),
            board,
        })
    }

    pub fn leading(&self) -> bool {
        self.leading.load(Ordering::SeqCst)
    }

    pub fn step_down(&self) {
        self.leading.store(false, Ordering::SeqCst);
    }

    /// The answer to a change asked of a replica that does not lead: none
    /// while it leads.
    pub fn refusal(&self, method: &str) -> Option<tonic::Status> {
        if self.leading() {
            return None;
        }
        let leader = self.board.get().filter(|l| l.id != self.me);
        let mut status = tonic::Status::unavailable(match &leader {
            Some(l) => format!(
                "replica {} is a follower: {method} must be sent to the leader, replica {} at {}",
                self.me, l.id, l.address
            ),
            None => format!(
                "replica {} is a follower and no leader is elected yet: retry {method} shortly",
                self.me
            ),
        });
        if let Some(v) = leader.and_then(|l| l.address.parse().ok()) {
            status.metadata_mut().insert(LEADER_METADATA, v);
        }
        Some(status)
    }
}

/// The leader a refusal names (`strata-leader`), if it names one.
pub fn leader_of(status: &tonic::Status) -> Option<String> {
    (status.code() == tonic::Code::Unavailable)
        .then(|| status.metadata().get(LEADER_METADATA))
        .flatten()
        .and_then(|v| v.to_str().ok())
        .filter(|a| !a.is_empty())
        .map(str::to_string)
}

/// What a replica is doing now (for logs and tests: `strata controller`
/// prints a line at every change).
fn announce(me: &str, what: &str) {
    println!("strata controller: replica {me} {what}");
    tracing::info!(replica = me, "{what}");
}

/// The turn a replica is in now, for what arrives from outside the API
/// (SIGHUP): its controller, and whether it may change anything.
#[derive(Default)]
struct Turn(RwLock<Option<(Arc<crate::controller::Controller>, Arc<Gate>)>>);

impl Turn {
    fn set(&self, turn: Option<(Arc<crate::controller::Controller>, Arc<Gate>)>) {
        *self.0.write().unwrap_or_else(|e| e.into_inner()) = turn;
    }

    /// The controller a topology reload may change: the leader's only.
    fn leading(&self, what: &str) -> Result<Arc<crate::controller::Controller>, String> {
        match &*self.0.read().unwrap_or_else(|e| e.into_inner()) {
            Some((controller, gate)) => match gate.refusal(what) {
                None => Ok(controller.clone()),
                Some(refused) => Err(refused.message().to_string()),
            },
            None => Err(format!(
                "this replica is between turns: retry {what} shortly"
            )),
        }
    }
}

/// `strata controller` as a replica: turns of follower and leader on the
/// etcd store until `stop` resolves. SIGHUP reloads `file` while this
/// replica leads; a follower says so and changes nothing.
pub async fn run(
    topology: &crate::model::Topology,
    file: Option<std::path::PathBuf>,
    options: &crate::daemon::DaemonOptions,
    stop: impl std::future::Future<Output = ()>,
) -> anyhow::Result<()> {
    let replica = options
        .replica
        .clone()
        .ok_or_else(|| anyhow::anyhow!("not a replica"))?;
    let etcd = options
        .etcd
        .clone()
        .ok_or_else(|| anyhow::anyhow!("replicas need the etcd store (--store etcd://...)"))?;
    let me = Leader {
        id: replica.id.clone(),
        address: replica.advertise.clone(),
    };
    let elector = Elector::connect(&etcd, me.clone(), replica.lease_ttl)
        .await
        .map_err(anyhow::Error::msg)?;
    let board = Arc::new(Board::default());
    let turn = Arc::new(Turn::default());
    let hangups = file.as_ref().and_then(|_| {
        let turn = turn.clone();
        crate::daemon::reload_on_hangup_with(move || turn.leading("a topology reload"))
    });
    let outcome = turns(topology, file, options, stop, &elector, &me, &board, &turn).await;
    if let Some(h) = hangups {
        h.abort();
    }
    outcome
}

/// Follower and leader turns until `stop` resolves (`run`).
#[allow(clippy::too_many_arguments)]
async fn turns(
    topology: &crate::model::Topology,
    file: Option<std::path::PathBuf>,
    options: &crate::daemon::DaemonOptions,
    stop: impl std::future::Future<Output = ()>,
    elector: &Elector,
    me: &Leader,
    board: &Arc<Board>,
    turn: &Turn,
) -> anyhow::Result<()> {
    let etcd = options
        .etcd
        .clone()
        .ok_or_else(|| anyhow::anyhow!("replicas need the etcd store (--store etcd://...)"))?;
    // Each turn's controller reads the same topology file again.
    let enter = |d: &crate::daemon::Daemon, gate: &Arc<Gate>| {
        if let Some(f) = &file {
            d.controller.set_topology_file(f.clone());
        }
        turn.set(Some((d.controller.clone(), gate.clone())));
    };
    tokio::pin!(stop);
    let mut first = true;
    loop {
        // A follower's turn: serve reads, campaign until we win.
        let gate = Gate::follower(&me.id, board.clone());
        let follower = match crate::daemon::Daemon::start_replica(topology, options, gate.clone())
            .await
        {
            Ok(d) => {
                enter(&d, &gate);
                d
            }
            // The first start's errors are the operator's (flags, files, an
            // unreachable etcd) and stop the process; a later turn's are
            // etcd being away for a moment, waited out.
            Err(e) if first => return Err(e),
            Err(e) => {
                tracing::warn!(replica = %me.id, error = %format!("{e:#}"), "cannot start following; retrying");
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(500)) => continue,
                    _ = &mut stop => return Ok(()),
                }
            }
        };
        first = false;
        announce(
            &me.id,
            &format!("follows (API on {}, reads only)", follower.api),
        );
        let lease = tokio::select! {
            lease = campaign(elector, board) => lease,
            _ = &mut stop => {
                turn.set(None);
                follower.shutdown().await;
                return Ok(());
            }
        };
        turn.set(None);
        follower.abort().await;
        // The leader's turn.
        let gate = Gate::leader(&me.id, board.clone());
        board.set(Some(me.clone()));
        // Its commits hold only while the leader key is its lease's.
        let mut leading = options.clone();
        leading.etcd = Some(crate::store::etcd::EtcdConfig {
            leader_lease: Some(lease.id),
            ..etcd.clone()
        });
        // The gate closes the moment the lease is in doubt, whatever the
        // turn is doing then (starting up included).
        let closer = tokio::spawn({
            let (gate, lost) = (gate.clone(), lease.lost_signal());
            async move {
                lost.await;
                gate.step_down();
            }
        });
        // Not raced against the lease: a start cut off half-way would leave
        // its sessions and tasks running. Checked right after instead.
        let started = crate::daemon::Daemon::start_replica(topology, &leading, gate.clone()).await;
        let leader = match started {
            Ok(d) if lease.is_lost() => {
                closer.abort();
                gate.step_down();
                board.set(None);
                announce(&me.id, "lost its lease while taking over; following again");
                d.abort().await;
                continue;
            }
            Ok(d) => {
                enter(&d, &gate);
                d
            }
            Err(e) => {
                closer.abort();
                gate.step_down();
                board.set(None);
                // Give the key back so another replica can lead.
                elector.revoke(&lease).await;
                tracing::error!(replica = %me.id, error = %format!("{e:#}"), "cannot take over; following again");
                announce(&me.id, "could not take over; following again");
                continue;
            }
        };
        announce(
            &me.id,
            &format!(
                "leads (API on {}, lease {:?}, term {})",
                leader.api,
                lease.ttl,
                leader.term().unwrap_or_default()
            ),
        );
        tokio::select! {
            _ = lease.lost() => {
                closer.abort();
                gate.step_down();
                // Until the next campaign step reads the key, nobody is
                // known to lead (least of all this replica).
                board.set(None);
                announce(&me.id, "lost its lease: stepped down");
                turn.set(None);
                leader.abort().await;
            }
            _ = &mut stop => {
                closer.abort();
                gate.step_down();
                turn.set(None);
                leader.shutdown().await;
                elector.revoke(&lease).await;
                return Ok(());
            }
        }
    }
}

/// Campaigns until this replica holds the leader key; returns its lease.
async fn campaign(elector: &Elector, board: &Board) -> Lease {
    let mut lease: Option<election::Lease> = None;
    loop {
        let held = match lease.take().filter(|l| !l.is_lost()) {
            Some(l) => Ok(l),
            None => elector.grant().await,
        };
        let l = match held {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(error = %e, "replica: cannot get a lease; retrying");
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            }
        };
        let patience = l.ttl / 3;
        match elector.try_win(&l).await {
            Ok(Outcome::Won { .. }) if l.remaining() > Duration::ZERO => return l,
            Ok(Outcome::Won { .. }) => {}
            Ok(Outcome::Held { leader, revision }) => {
                if leader.id == elector.me().id {
                    tracing::warn!(replica = %leader.id, address = %leader.address, "another replica holds the leader key under this replica's name: replica ids must be unique");
                }
                if !leader.id.is_empty() {
                    board.set(Some(leader));
                }
                lease = Some(l);
                elector.wait_change(revision, patience).await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "replica: campaign step failed; retrying");
                lease = Some(l);
                tokio::time::sleep(patience).await;
            }
        }
    }
}

use election::Lease;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_follower_refuses_changes_naming_the_leader_and_a_leader_until_it_steps_down() {
        let board = Arc::new(Board::default());
        let follower = Gate::follower("r2", board.clone());
        let refused = follower
            .refusal("/strata.v1.Services/CreateService")
            .unwrap();
        assert_eq!(refused.code(), tonic::Code::Unavailable);
        assert!(refused.message().contains("no leader is elected yet"));
        assert_eq!(leader_of(&refused), None);
        board.set(Some(Leader {
            id: "r1".into(),
            address: "127.0.0.1:50051".into(),
        }));
        let refused = follower
            .refusal("/strata.v1.Services/CreateService")
            .unwrap();
        assert!(
            refused
                .message()
                .contains("the leader, replica r1 at 127.0.0.1:50051"),
            "{}",
            refused.message()
        );
        assert_eq!(leader_of(&refused).as_deref(), Some("127.0.0.1:50051"));

        let leader = Gate::leader("r1", board);
        assert!(leader
            .refusal("/strata.v1.Services/CreateService")
            .is_none());
        leader.step_down();
        // Stepped down, it names nobody (the board still says itself).
        let refused = leader.refusal("/strata.v1.Services/CreateService").unwrap();
        assert_eq!(leader_of(&refused), None);
        assert_eq!(
            leader_of(&tonic::Status::aborted("busy")),
            None,
            "only UNAVAILABLE redirects"
        );
    }
}
