//! Maintenance drains: an operator takes a link or a node out of service
//! before planned work. A drain resolves to packet links, which are pruned
//! from path computation (so new placements avoid them) and stay pruned
//! whatever telemetry says until undrained; the policies on them are then
//! moved by the reroute (`plan::reroute`) — the one mover — as if the links
//! had failed, make-before-break.

use std::collections::{BTreeMap, BTreeSet};

use super::error::{not_found, quote, PlanError};
use super::Fabric;
use crate::model::Layer;

/// What was drained, as the operator named it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetKind {
    /// A packet link, or a fiber / optical link (its riders are drained).
    Link,
    /// A node: every packet link at it.
    Node,
}

impl TargetKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TargetKind::Link => "link",
            TargetKind::Node => "node",
        }
    }
}

/// One drain in force.
#[derive(Debug, Clone, PartialEq)]
pub struct Drain {
    pub target: String,
    pub kind: TargetKind,
    /// The packet links it takes out of service, in topology order.
    pub links: Vec<String>,
    pub reason: String,
    pub revision: u64,
}

/// Drains in force, by target name.
pub type Drains = BTreeMap<String, Drain>;

/// The packet links draining `target` takes out, in topology order: a
/// packet link itself, the packet links riding a fiber or optical link, or
/// every packet link at a node. `field` names the request's field.
pub fn resolve(fabric: &Fabric, target: &str, field: &str) -> Result<Drain, PlanError> {
    let t = &fabric.topology;
    let (kind, links): (TargetKind, Vec<String>) = if let Some(l) = t.link(target) {
        let links = if l.layer == Layer::Packet {
            vec![l.name.clone()]
        } else {
            // Riders directly or through an optical link over this fiber.
            let lower: BTreeSet<&str> = t
                .links
                .iter()
                .filter(|x| x.name == target || x.rides.iter().any(|r| r == target))
                .map(|x| x.name.as_str())
                .collect();
            t.links
                .iter()
                .filter(|x| x.layer == Layer::Packet)
                .filter(|x| x.rides.iter().any(|r| lower.contains(r.as_str())))
                .map(|x| x.name.clone())
                .collect()
        };
        (TargetKind::Link, links)
    } else if t.node(target).is_some() {
        let links = t
            .links
            .iter()
            .filter(|x| x.layer == Layer::Packet)
            .filter(|x| x.a.node == target || x.b.node == target)
            .map(|x| x.name.clone())
            .collect();
        (TargetKind::Node, links)
    } else {
        return Err(not_found(field, format!("link or node {}", quote(target))));
    };
    Ok(Drain {
        target: target.to_string(),
        kind,
        links,
        reason: String::new(),
        revision: 0,
    })
}

/// Every packet link some drain takes out.
pub fn drained_links(drains: &Drains) -> BTreeSet<&str> {
    drains
        .values()
        .flat_map(|d| d.links.iter().map(String::as_str))
        .collect()
}

/// Puts `drain` in force: its links are pruned. Returns, per link, the
/// policies then on it that a reroute may move (not in flight), for the
/// reroute to re-place link by link.
pub fn apply(fabric: &mut Fabric, drain: Drain) -> Vec<(String, Vec<String>)> {
    for l in &drain.links {
        fabric.graph.set_link_pruned(l, true);
    }
    let links = drain.links.clone();
    fabric.drains.insert(drain.target.clone(), drain);
    links
        .into_iter()
        .map(|l| {
            let mut ids = fabric.policies_using(&l);
            ids.retain(|id| !fabric.in_flight(id));
            (l, ids)
        })
        .collect()
}

/// Ends the drain of `target`. Returns it and the links now back in service
/// (in no other drain and not degraded by telemetry), which are un-pruned
/// here; the caller restores the policies they displaced. `None` if no such
/// drain is in force.
pub fn lift(fabric: &mut Fabric, target: &str) -> Option<(Drain, Vec<String>)> {
    let drain = fabric.drains.remove(target)?;
    let still: BTreeSet<String> = drained_links(&fabric.drains)
        .into_iter()
        .map(str::to_string)
        .collect();
    let back: Vec<String> = drain
        .links
        .iter()
        .filter(|l| !still.contains(*l) && !fabric.degraded.contains(*l))
        .cloned()
        .collect();
    for l in &back {
        fabric.graph.set_link_pruned(l, false);
    }
    Some((drain, back))
}

/// Whether `link` is drained (kept pruned whatever its health).
pub fn is_drained(fabric: &Fabric, link: &str) -> bool {
    fabric
        .drains
        .values()
        .any(|d| d.links.iter().any(|l| l == link))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::fixtures::{policy as add, small};

    #[test]
    fn targets_resolve_to_packet_links() {
        let f = small();
        assert_eq!(resolve(&f, "pe1-pe2", "target").unwrap().links, ["pe1-pe2"]);
        let fiber = resolve(&f, "ot1-ot2", "target").unwrap();
        assert_eq!(
            (fiber.kind, fiber.links),
            (TargetKind::Link, vec!["pe1-pe2".to_string()])
        );
        let node = resolve(&f, "pe1", "target").unwrap();
        assert_eq!(node.kind, TargetKind::Node);
        assert_eq!(node.links, ["pe1-pe2", "pe1-pe3"]);
        let err = resolve(&f, "nope", "target").unwrap_err().to_string();
        assert_eq!(err, "target: link or node \"nope\" not found");
    }

    #[test]
    fn a_drain_prunes_lists_its_users_and_new_placements_avoid_it_until_lifted() {
        let mut f = small();
        let id = add(&mut f, "a", "pe1", "pe2", 7);
        assert_eq!(f.policies[&id].path.links(&f.graph), ["pe1-pe2"]);
        let d = resolve(&f, "pe1-pe2", "target").unwrap();
        let users = apply(&mut f, d);
        assert_eq!(users, [("pe1-pe2".to_string(), vec![id.clone()])]);
        assert!(is_drained(&f, "pe1-pe2"));
        let other = add(&mut f, "b", "pe1", "pe2", 8);
        assert_eq!(
            f.policies[&other].path.links(&f.graph),
            ["pe1-pe3", "pe2-pe3"]
        );
        // A link in two drains stays out until both are lifted.
        let node = resolve(&f, "pe2", "target").unwrap();
        apply(&mut f, node);
        let (_, back) = lift(&mut f, "pe1-pe2").unwrap();
        assert!(back.is_empty(), "pe2 is still drained: {back:?}");
        assert!(is_drained(&f, "pe1-pe2"));
        let (d, back) = lift(&mut f, "pe2").unwrap();
        assert_eq!(d.kind, TargetKind::Node);
        assert_eq!(back, ["pe1-pe2", "pe2-pe3"]);
        assert!(lift(&mut f, "pe2").is_none());
        let third = add(&mut f, "c", "pe1", "pe2", 9);
        assert_eq!(f.policies[&third].path.links(&f.graph), ["pe1-pe2"]);
    }

    #[test]
    fn a_degraded_link_stays_pruned_when_its_drain_is_lifted() {
        let mut f = small();
        let d = resolve(&f, "pe1-pe2", "target").unwrap();
        apply(&mut f, d);
        f.degraded.insert("pe1-pe2".into());
        let (_, back) = lift(&mut f, "pe1-pe2").unwrap();
        assert!(back.is_empty());
    }
}
