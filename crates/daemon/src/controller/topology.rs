//! Runtime topology: nodes and links added, changed and removed through the
//! API or by reloading the topology file, checked and applied by
//! `plan::topology`, through the one pipeline. A change has nothing to
//! program (Strata configures no IGP), so its pipeline run is: stage —
//! check the change whole under the write lock and prune the links it
//! removes, so nothing new is placed on them while it is journaled —
//! persist, then commit (apply it, publish one event per step) or revert
//! (un-prune). Only then are device sessions started for added nodes and
//! stopped for removed ones, outside the lock (`NodeDevices`).

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;

use super::error::ApiError;
use super::pipeline::Staged;
use super::programmer::Plan;
use super::{Controller, Fabric};
use crate::model::{Node, Topology};
use crate::object::{Change as EventChange, Object, TopologyEvent};
use crate::plan::topology::{self, Change, Diff};
use crate::proto::strata::store::v1 as store;
use crate::store::schema;

/// What answers for the devices of nodes that come and go at run time. The
/// daemon's opens and closes gNMI sessions; a lab's also starts a simulated
/// device for each added node.
pub trait NodeDevices: Send + Sync {
    /// Before `node` is added: where its device listens (a lab starts one
    /// and answers its port; a controller answers the node's address).
    fn prepare<'a>(
        &'a self,
        node: &'a Node,
    ) -> Pin<Box<dyn Future<Output = Result<SocketAddr, String>> + Send + 'a>>;
    /// A prepared node was not added after all.
    fn discard(&self, name: &str);
    /// `node` is in the topology now (or its address changed): talk to it.
    fn connect(&self, node: &Node);
    /// The node is gone from the topology.
    fn disconnect(&self, name: &str);
}

/// What a topology change did, or would do (a dry run).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TopologyReport {
    /// The steps, spelled out (a node's removal lists its links') and in
    /// the order they apply.
    pub steps: Vec<Change>,
    pub applied: bool,
    /// The revision of the last step's event (0 when nothing was applied).
    pub revision: u64,
}

fn entry(fabric: &Fabric, c: &Change, revision: u64) -> store::Entry {
    use store::entry::Op;
    let op = match c {
        Change::AddNode(n) | Change::UpdateNode(n) => {
            Op::TopologyNode(schema::topology_node(&n.name, Some(n), revision))
        }
        Change::RemoveNode(name) => Op::TopologyNode(schema::topology_node(name, None, revision)),
        Change::AddLink(l) | Change::UpdateLink(l) => {
            Op::TopologyLink(schema::topology_link(&l.name, Some(l), revision))
        }
        Change::RemoveLink(name) => Op::TopologyLink(schema::topology_link(name, None, revision)),
    };
    store::Entry {
        next_id: fabric.next_id,
        op: Some(op),
    }
}

fn event(fabric: &Fabric, c: &Change) -> Object {
    let name = c.name().to_string();
    Object::Topology(TopologyEvent {
        kind: c.kind().to_string(),
        node: match c {
            Change::AddNode(_) | Change::UpdateNode(_) => fabric.topology.node(&name).cloned(),
            _ => None,
        },
        link: match c {
            Change::AddLink(_) | Change::UpdateLink(_) => fabric.topology.link(&name).cloned(),
            _ => None,
        },
        name,
    })
}

fn event_change(c: &Change) -> EventChange {
    match c.verb() {
        "added" => EventChange::Created,
        "removed" => EventChange::Deleted,
        _ => EventChange::Updated,
    }
}

/// Links the API gives get what a file would derive for them.
fn completed(t: &Topology, mut diff: Diff) -> Diff {
    for c in &mut diff.changes {
        if let Change::AddLink(l) | Change::UpdateLink(l) = c {
            topology::complete_link(t, l);
        }
    }
    diff
}

impl Controller {
    /// Who starts and stops device sessions for nodes added and removed at
    /// run time (the daemon sets one; a lab replaces it with its own).
    pub fn set_node_devices(&self, devices: Arc<dyn NodeDevices>) {
        *self.node_devices.write().unwrap_or_else(|e| e.into_inner()) = Some(devices);
    }

    fn node_devices(&self) -> Option<Arc<dyn NodeDevices>> {
        self.node_devices
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// How many topology changes have been committed (0 at start).
    pub fn topology_generation(&self) -> u64 {
        self.topology_generation
            .load(std::sync::atomic::Ordering::Acquire)
    }

    /// The topology file `ReloadTopology` and SIGHUP read again.
    pub fn set_topology_file(&self, path: PathBuf) {
        *self
            .topology_file
            .write()
            .unwrap_or_else(|e| e.into_inner()) = Some(path);
    }

    pub fn topology_file(&self) -> Option<PathBuf> {
        self.topology_file
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Reloads the topology from `text` (a topology file's content), or
    /// from the controller's own topology file when `None`: the diff against
    /// the topology in force, applied whole (or only shown, `dry_run`).
    pub async fn reload_topology(
        &self,
        text: Option<&str>,
        dry_run: bool,
    ) -> Result<TopologyReport, ApiError> {
        let new = match text {
            Some(t) => crate::topology::parse_str(t)
                .map_err(|e| super::error::invalid("text", e.to_string()))?,
            None => {
                let Some(path) = self.topology_file() else {
                    return Err(super::error::precondition(
                        "this controller was not started from a topology file; send the file's text",
                    ));
                };
                crate::topology::load_file(&path)
                    .map_err(|e| super::error::precondition(e.to_string()))?
            }
        };
        let diff = topology::diff(&self.read().topology, &new);
        self.change_topology(diff, dry_run, "topology").await
    }

    /// Applies a topology change whole, or refuses it changing nothing:
    /// INVALID_ARGUMENT naming the field, NOT_FOUND for an unknown name,
    /// ALREADY_EXISTS for a taken one, FAILED_PRECONDITION listing the users
    /// of what it would remove. `dry_run` checks it and says what it would
    /// do. `field` names the request field errors point at.
    pub async fn change_topology(
        &self,
        diff: Diff,
        dry_run: bool,
        field: &str,
    ) -> Result<TopologyReport, ApiError> {
        // Topology changes take turns: each is checked against what the
        // previous one left.
        let _turn = self.topology_turn.lock().await;
        let mut diff = {
            let fabric = self.read();
            let diff = completed(&fabric.topology, diff);
            topology::check(&fabric, &diff, field)?
        };
        if dry_run || diff.is_empty() {
            return Ok(TopologyReport {
                steps: diff.changes,
                ..Default::default()
            });
        }
        // A node update restarts its session only if where or who it is
        // changed.
        let reached_before: std::collections::HashMap<String, _> = {
            let fabric = self.read();
            diff.changes
                .iter()
                .filter_map(|c| match c {
                    Change::UpdateNode(n) => fabric
                        .topology
                        .node(&n.name)
                        .map(|old| (n.name.clone(), (old.address, old.router_id))),
                    _ => None,
                })
                .collect()
        };
        let devices = self.node_devices();
        let mut prepared: Vec<String> = Vec::new();
        if let Some(d) = &devices {
            for c in &mut diff.changes {
                if let Change::AddNode(n) = c {
                    match d.prepare(n).await {
                        Ok(address) => {
                            n.address = address;
                            prepared.push(n.name.clone());
                        }
                        Err(e) => {
                            for p in &prepared {
                                d.discard(p);
                            }
                            return Err(ApiError::Device(format!(
                                "cannot start the device of node {}: {e}",
                                n.name
                            )));
                        }
                    }
                }
            }
        }
        // No reroute or drain runs while the change is staged and
        // journaled: a move planned before a link's removal must not land
        // on it after.
        let reroutes = self.reroutes.lock().await;
        let outcome = match self.stage_topology(diff.clone(), field) {
            Ok(staged) => self.execute(staged).await,
            Err(e) => Err(e),
        };
        drop(reroutes);
        let revision = match outcome {
            Ok(r) => r,
            Err(e) => {
                if let Some(d) = &devices {
                    for p in &prepared {
                        d.discard(p);
                    }
                }
                return Err(e);
            }
        };
        for c in &diff.changes {
            tracing::info!(change = %c, revision, "topology changed");
        }
        if let Some(d) = &devices {
            let fabric_nodes: Vec<Node> = {
                let fabric = self.read();
                diff.changes
                    .iter()
                    .filter_map(|c| match c {
                        Change::AddNode(n) => fabric.topology.node(&n.name).cloned(),
                        Change::UpdateNode(n)
                            if reached_before.get(&n.name) != Some(&(n.address, n.router_id)) =>
                        {
                            fabric.topology.node(&n.name).cloned()
                        }
                        _ => None,
                    })
                    .collect()
            };
            for c in &diff.changes {
                if let Change::RemoveNode(name) = c {
                    d.disconnect(name);
                }
            }
            for n in &fabric_nodes {
                d.connect(n);
            }
        }
        Controller::spawn_repairs(self.me.clone());
        Ok(TopologyReport {
            steps: diff.changes,
            applied: true,
            revision,
        })
    }

    fn stage_topology(&self, diff: Diff, field: &str) -> Result<Staged<'_, u64>, ApiError> {
        let mut fabric = self.write();
        let diff = topology::check(&fabric, &diff, field)?;
        // Nothing new lands on a link being removed while the change is
        // journaled (a removed node's links are in the diff too).
        let mut pruned = Vec::new();
        for c in &diff.changes {
            if let Change::RemoveLink(l) = c {
                let was = fabric
                    .graph
                    .edges_of_link(l)
                    .all(|e| fabric.graph.edges[e].pruned);
                if !was {
                    fabric.graph.set_link_pruned(l, true);
                    pruned.push(l.clone());
                }
            }
        }
        let tickets: Vec<_> = diff.changes.iter().map(|_| self.events.reserve()).collect();
        let mut entries: Vec<store::Entry> = diff
            .changes
            .iter()
            .zip(&tickets)
            .map(|(c, t)| entry(&fabric, c, t.revision()))
            .collect();
        // A drain of what goes away ends with it, in the journal too.
        let last = tickets.last().map_or(0, |t| t.revision());
        for target in topology::drains_ended(&fabric, &diff) {
            entries.push(store::Entry {
                next_id: fabric.next_id,
                op: Some(store::entry::Op::Removed(store::Removed {
                    kind: store::Kind::Drain as i32,
                    id: target,
                    revision: last,
                })),
            });
        }
        Ok(Staged {
            plan: Plan::default(),
            entries,
            commit: Box::new(move |fabric: &mut Fabric| {
                topology::apply(fabric, &diff);
                self.topology_generation
                    .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
                let mut last = 0;
                for (c, ticket) in diff.changes.iter().zip(tickets) {
                    last = ticket.revision();
                    ticket.publish(
                        event_change(c),
                        &format!("topology: {} {} {}", c.kind(), c.name(), c.verb()),
                        event(fabric, c),
                    );
                }
                Ok(last)
            }),
            revert: Box::new(move |fabric: &mut Fabric| {
                for l in &pruned {
                    fabric.graph.set_link_pruned(l, false);
                }
            }),
        })
    }
}

/// What a follower's watchers hear when its mirror's reload moved the
/// topology from `old`'s to `new`'s: one event per step, as the leader
/// published them.
pub(super) fn replicated(old: &Fabric, new: &Fabric) -> Vec<(EventChange, Object)> {
    topology::diff(&old.topology, &new.topology)
        .changes
        .iter()
        .map(|c| (event_change(c), event(new, c)))
        .collect()
}

/// Start-up: the journaled runtime nodes and links over the topology file,
/// before any intent is restored (intents may use them). A record the file
/// now contradicts (an interface taken, an end gone) is skipped with a
/// warning rather than stopping the controller.
pub(super) fn restore_topology(fabric: &mut Fabric, entries: &[store::Entry]) {
    use store::entry::Op;
    let mut target = fabric.topology.clone();
    for e in entries {
        match &e.op {
            Some(Op::TopologyNode(n)) => {
                target.nodes.retain(|x| x.name != n.name);
                match schema::topology_node_of(n) {
                    Ok(Some(node)) => target.nodes.push(node),
                    Ok(None) => {}
                    Err(err) => tracing::warn!(error = %err, "journaled node skipped"),
                }
            }
            Some(Op::TopologyLink(l)) => {
                target.links.retain(|x| x.name != l.name);
                if let Some(link) = schema::topology_link_of(l) {
                    target.links.push(link);
                }
            }
            _ => {}
        }
    }
    let diff = topology::diff(&fabric.topology, &target);
    for c in diff.changes {
        match topology::check(fabric, &Diff::one(c.clone()), "journal") {
            Ok(d) => topology::apply(fabric, &d),
            Err(e) => tracing::warn!(change = %c, error = %e, "journaled topology change skipped"),
        }
    }
}

#[cfg(test)]
mod tests;
