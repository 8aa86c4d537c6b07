//! The cabling check: what each router's LLDP agent hears on a link's ports
//! is compared with the topology, and a link whose ends disagree with it is
//! announced once (`Object::Cabling`, miscabled) — and once more when it
//! agrees again. A port on which nothing is heard (the link is down, or the
//! device does not run LLDP) is no evidence either way: the verdict stays.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use super::Controller;
use crate::model::{Layer, Topology};
use crate::object::{CablingEnd, CablingEvent, Change, Object};
use crate::telemetry::lldp::Neighbors;
use crate::telemetry::Ingest;

/// Each link's last verdict: miscabled or not (absent: nothing heard yet).
#[derive(Debug, Default)]
pub struct Cabling {
    verdicts: HashMap<String, bool>,
}

impl Cabling {
    /// Judges the packet links of `devices` on what `heard` says each device
    /// hears; returns the events of the links whose verdict changed.
    pub fn judge(
        &mut self,
        topology: &Topology,
        devices: &[String],
        heard: impl Fn(&str) -> Neighbors,
    ) -> Vec<CablingEvent> {
        let mut neighbors: HashMap<&str, Neighbors> = HashMap::new();
        let changed: HashSet<&str> = devices.iter().map(String::as_str).collect();
        // One pass over the links, each once, whatever number of devices
        // changed (a session start on every device marks them all).
        let links = topology.links.iter().filter(|l| {
            l.layer == Layer::Packet
                && (changed.contains(l.a.node.as_str()) || changed.contains(l.b.node.as_str()))
        });
        let mut events = Vec::new();
        for link in links {
            let ends: Vec<CablingEnd> = [(&link.a, &link.b), (&link.b, &link.a)]
                .into_iter()
                .map(|(end, peer)| {
                    let n = neighbors
                        .entry(end.node.as_str())
                        .or_insert_with(|| heard(&end.node));
                    CablingEnd {
                        node: end.node.clone(),
                        interface: end.interface.clone(),
                        expected: (peer.node.clone(), peer.interface.clone()),
                        heard: n.get(&end.interface).and_then(|h| h.whole()),
                    }
                })
                .collect();
            let evidence: Vec<&CablingEnd> = ends.iter().filter(|e| e.heard.is_some()).collect();
            if evidence.is_empty() {
                continue;
            }
            let miscabled = evidence
                .iter()
                .any(|e| e.heard.as_ref() != Some(&e.expected));
            let before = self.verdicts.insert(link.name.clone(), miscabled);
            // The first verdict is news only when it is bad.
            if before.unwrap_or(false) != miscabled {
                events.push(CablingEvent {
                    link: link.name.clone(),
                    miscabled,
                    ends,
                });
            }
        }
        events
    }

    /// The links judged miscabled now.
    pub fn miscabled(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .verdicts
            .iter()
            .filter(|(_, bad)| **bad)
            .map(|(l, _)| l.clone())
            .collect();
        v.sort();
        v
    }
}

/// What an event says, for people: which end hears whom instead of whom.
pub fn describe(e: &CablingEvent) -> String {
    if !e.miscabled {
        return "LLDP agrees with the topology again".into();
    }
    let wrong: Vec<String> = e
        .ends
        .iter()
        .filter_map(|end| {
            let (n, i) = end.heard.as_ref()?;
            (end.heard.as_ref() != Some(&end.expected)).then(|| {
                format!(
                    "{}:{} hears {n}:{i}, the topology says {}:{}",
                    end.node, end.interface, end.expected.0, end.expected.1
                )
            })
        })
        .collect();
    format!("miscabled: {}", wrong.join("; "))
}

/// Runs the check whenever a device's LLDP neighbors change, until `halted`.
pub fn spawn(
    controller: Arc<Controller>,
    ingest: Arc<Ingest>,
    mut halted: tokio::sync::watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut cabling = Cabling::default();
        loop {
            let devices = tokio::select! {
                d = ingest.cabling_changes() => d,
                _ = halted.wait_for(|h| *h) => return,
            };
            // Judged under the read lock (no I/O inside: the neighbors are
            // the ingest's memory), published after it.
            let events = {
                let fabric = controller.read();
                cabling.judge(&fabric.topology, &devices, |d| ingest.neighbors(d))
            };
            for e in events {
                let reason = describe(&e);
                if e.miscabled {
                    tracing::warn!(link = %e.link, %reason, "cabling disagrees with the topology");
                } else {
                    tracing::info!(link = %e.link, "cabling agrees with the topology again");
                }
                controller
                    .events()
                    .publish(Change::Updated, &reason, |_| Object::Cabling(e));
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telemetry::lldp::Heard;

    fn topology() -> Topology {
        crate::topology::parse_str(include_str!("../../../../examples/small.yaml"))
            .expect("valid example")
    }

    /// Every packet port hears exactly what the topology says, except the
    /// overrides: (node, interface) → (node, interface) heard.
    /// (node, interface): a port, or who is heard on one.
    type Port<'a> = (&'a str, &'a str);

    fn hearing(t: &Topology, overrides: &[(Port, Port)]) -> impl Fn(&str) -> Neighbors {
        let mut all: HashMap<String, Neighbors> = HashMap::new();
        for l in t.links.iter().filter(|l| l.layer == Layer::Packet) {
            for (end, peer) in [(&l.a, &l.b), (&l.b, &l.a)] {
                all.entry(end.node.clone()).or_default().insert(
                    end.interface.clone(),
                    Heard {
                        system: Some(peer.node.clone()),
                        port: Some(peer.interface.clone()),
                    },
                );
            }
        }
        for ((n, i), (hn, hi)) in overrides {
            all.entry(n.to_string()).or_default().insert(
                i.to_string(),
                Heard {
                    system: Some(hn.to_string()),
                    port: Some(hi.to_string()),
                },
            );
        }
        move |d| all.get(d).cloned().unwrap_or_default()
    }

    fn packet_devices(t: &Topology) -> Vec<String> {
        t.nodes
            .iter()
            .filter(|n| t.links_of(&n.name).any(|l| l.layer == Layer::Packet))
            .map(|n| n.name.clone())
            .collect()
    }

    #[test]
    fn correct_cabling_is_silent_and_a_crossed_pair_is_announced_once_each() {
        let t = topology();
        let mut c = Cabling::default();
        let all = packet_devices(&t);
        assert!(
            c.judge(&t, &all, hearing(&t, &[])).is_empty(),
            "all agree: no news"
        );
        let packet: Vec<&crate::model::Link> = t
            .links
            .iter()
            .filter(|l| l.layer == Layer::Packet)
            .collect();
        let (x, y) = (packet[0], packet[1]);
        // x's a-end now hears y's b-end, and so on round the crossed pair.
        let crossed = [
            (
                (x.a.node.as_str(), x.a.interface.as_str()),
                (y.b.node.as_str(), y.b.interface.as_str()),
            ),
            (
                (y.b.node.as_str(), y.b.interface.as_str()),
                (x.a.node.as_str(), x.a.interface.as_str()),
            ),
            (
                (y.a.node.as_str(), y.a.interface.as_str()),
                (x.b.node.as_str(), x.b.interface.as_str()),
            ),
            (
                (x.b.node.as_str(), x.b.interface.as_str()),
                (y.a.node.as_str(), y.a.interface.as_str()),
            ),
        ];
        // Only one end has reported so far.
        let events = c.judge(
            &t,
            std::slice::from_ref(&x.a.node),
            hearing(&t, &crossed[..1]),
        );
        let names: Vec<&str> = events.iter().map(|e| e.link.as_str()).collect();
        assert_eq!(names, [x.name.as_str()], "{events:?}");
        assert!(events[0].miscabled);
        assert!(describe(&events[0]).contains(&format!("hears {}:{}", y.b.node, y.b.interface)));
        // The rest report: y becomes miscabled, x is still (no second event).
        let events = c.judge(&t, &all, hearing(&t, &crossed));
        let names: Vec<&str> = events.iter().map(|e| e.link.as_str()).collect();
        assert_eq!(names, [y.name.as_str()], "{events:?}");
        let mut bad = vec![x.name.clone(), y.name.clone()];
        bad.sort();
        assert_eq!(c.miscabled(), bad);
        // Plugged back: each agrees again, once.
        let events = c.judge(&t, &all, hearing(&t, &[]));
        assert_eq!(events.len(), 2, "{events:?}");
        assert!(events.iter().all(|e| !e.miscabled));
        assert!(c.miscabled().is_empty());
        assert!(c.judge(&t, &all, hearing(&t, &[])).is_empty());
    }

    #[test]
    fn a_port_that_hears_nothing_is_no_evidence() {
        let t = topology();
        let mut c = Cabling::default();
        let x = t
            .links
            .iter()
            .find(|l| l.layer == Layer::Packet)
            .expect("a packet link");
        let wrong = [(
            (x.a.node.as_str(), x.a.interface.as_str()),
            ("elsewhere", "et-9"),
        )];
        assert_eq!(
            c.judge(&t, std::slice::from_ref(&x.a.node), hearing(&t, &wrong))
                .len(),
            1
        );
        // The link goes down: neither end hears anyone. Still miscabled.
        let silent = |_: &str| Neighbors::new();
        assert!(c
            .judge(&t, &[x.a.node.clone(), x.b.node.clone()], silent)
            .is_empty());
        assert_eq!(c.miscabled(), vec![x.name.clone()]);
    }
}
