//! A link's condition changed: which policies that concerns, and where each
//! of them goes now. The daemon's closed loop applies the condition here,
//! plans the moves, programs them make-before-break, and commits the ones
//! the headends took.

use super::policy;
use super::repair::Changes;
use super::Fabric;
use crate::pathcomp::{IgpSpf, Path, Segment};

/// What happened to the link, as it is applied to the TE graph.
#[derive(Debug, Clone, PartialEq)]
pub enum LinkCondition {
    /// Measured delay replaces the TE latency (policies with bounds or a
    /// latency metric move if a better path exists).
    Slow { delay_us: u32 },
    /// Unusable (loss, down, silent, fiber under it failed): pruned from path
    /// computation. The IGP may or may not still use it, so SID lists are
    /// built not to depend on either.
    Down,
    /// Back to its nominal attributes.
    Nominal,
}

/// A policy's new path.
#[derive(Debug, Clone)]
pub struct Move {
    pub id: String,
    pub headend: String,
    pub discriminator: u32,
    pub path: Path,
    pub segments: Vec<Segment>,
}

/// What re-placing one policy came to.
#[derive(Debug)]
pub enum Outcome {
    Move(Move),
    /// Its path stands (and it is back up if it had been stranded).
    Same {
        recovered: Option<String>,
    },
    /// No feasible path: it is stranded (with why) unless the link just
    /// recovered.
    NoPath(Option<(String, String)>),
}

/// Applies `condition` to `link` in the TE graph and returns the policies to
/// re-place: those riding the link, or on recovery those it (or a set of
/// links now all back) displaced. Policies in flight are left to finish.
pub fn apply(fabric: &mut Fabric, link: &str, condition: &LinkCondition) -> Vec<String> {
    let nominal = fabric.topology.link(link).map(|l| l.latency_us);
    match condition {
        LinkCondition::Slow { delay_us } => {
            fabric.graph.set_link_latency(link, *delay_us);
            fabric.degraded.insert(link.to_string());
        }
        LinkCondition::Down => {
            fabric.graph.set_link_pruned(link, true);
            fabric.degraded.insert(link.to_string());
        }
        LinkCondition::Nominal => {
            // A drained link stays out of service whatever its health.
            let drained = super::drain::is_drained(fabric, link);
            fabric.graph.set_link_pruned(link, drained);
            if let Some(n) = nominal {
                fabric.graph.set_link_latency(link, n);
            }
            fabric.degraded.remove(link);
        }
    }
    let mut ids = match condition {
        // Also the policies whose every displacing link is back: when several
        // links fail together (a router crash) a policy leaves on the first
        // and is never on the others, so the last one to recover is not in
        // its displaced_by.
        LinkCondition::Nominal => fabric
            .policies
            .values()
            .filter(|p| {
                p.displaced_by.contains(link)
                    || (!p.displaced_by.is_empty()
                        && p.displaced_by.iter().all(|l| !fabric.degraded.contains(l)))
            })
            .map(|p| p.id.clone())
            .collect::<Vec<_>>(),
        _ => fabric.policies_using(link),
    };
    // A policy still being created is programmed with the path it was planned
    // on; moving it now would race its own first Set.
    ids.retain(|id| !fabric.in_flight(id));
    ids
}

/// Below this many policies one thread re-places them faster than several.
const PARALLEL_FROM: usize = 16;

/// Re-places `ids` on the fabric as it is, split over the machine's cores
/// when there are many: each is placed independently (against the others'
/// current reservations), each thread keeps its own IGP trees.
pub fn plan_all(fabric: &Fabric, ids: &[String], condition: &LinkCondition) -> Vec<Outcome> {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(ids.len() / (PARALLEL_FROM / 2).max(1))
        .max(1);
    let link = condition_link(fabric, ids);
    let run = |chunk: &[String]| -> Vec<Outcome> {
        // One set of IGP trees per batch: the IGP view does not change while
        // these policies are re-placed.
        let mut spf = IgpSpf::new(&fabric.graph);
        let mut changes = Changes::new(&fabric.graph);
        chunk
            .iter()
            .filter_map(|id| {
                plan_one(
                    fabric,
                    &mut spf,
                    &mut changes,
                    id,
                    condition,
                    link.as_deref(),
                )
            })
            .collect()
    };
    if threads == 1 || ids.len() < PARALLEL_FROM {
        return run(ids);
    }
    let size = ids.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let handles: Vec<_> = ids
            .chunks(size)
            .map(|c| scope.spawn(move || run(c)))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    })
}

/// The one degraded link every policy in `ids` rides, if there is one: what
/// a repair path avoids. (`plan_all` is not told the link; a breach's
/// policies all ride it, so it is the link they share that is degraded.)
fn condition_link(fabric: &Fabric, ids: &[String]) -> Option<String> {
    let first = fabric.policies.get(ids.first()?)?;
    let links = first.path.links(&fabric.graph);
    let mut shared = links.into_iter().filter(|l| {
        fabric.degraded.contains(l)
            && ids.iter().all(|id| {
                fabric
                    .link_index
                    .get(l)
                    .is_some_and(|users| users.contains(id))
            })
    });
    let link = shared.next()?;
    // two degraded links shared by all: ambiguous, compute
    shared.next().is_none().then_some(link)
}

fn plan_one(
    fabric: &Fabric,
    spf: &mut IgpSpf<'_>,
    changes: &mut Changes<'_>,
    id: &String,
    condition: &LinkCondition,
    link: Option<&str>,
) -> Option<Outcome> {
    let p = fabric.policies.get(id)?;
    // A repair path known to be what `replan` would compute is taken as is.
    let known = match (condition, link) {
        (LinkCondition::Nominal, _) | (_, None) => None,
        (_, Some(l)) => fabric.repairs.lookup(fabric, changes, p, l),
    };
    let planned = match known {
        Some(found) => Ok(found),
        None => policy::replan(fabric, spf, p),
    };
    Some(match planned {
        Ok((path, segments)) if path.edges != p.path.edges => Outcome::Move(Move {
            id: id.clone(),
            headend: p.headend.clone(),
            discriminator: p.discriminator + 1,
            path,
            segments,
        }),
        Ok(_) => Outcome::Same {
            recovered: p.stranded.is_some().then(|| id.clone()),
        },
        Err(why) => Outcome::NoPath(
            (*condition != LinkCondition::Nominal).then(|| (id.clone(), why.to_string())),
        ),
    })
}

/// Puts a programmed move into the fabric: the policy's new path (its
/// reservation moves with it), its new discriminator, and what displaced it.
/// Returns the links it left, or `None` if the policy is gone.
pub fn commit_move(
    fabric: &mut Fabric,
    m: Move,
    link: &str,
    condition: &LinkCondition,
) -> Option<Vec<String>> {
    let from_links = fabric.repath_policy(&m.id, m.path)?;
    let degraded = &fabric.degraded;
    let record = fabric.policies.get_mut(&m.id)?;
    record.segments = m.segments;
    record.discriminator = m.discriminator;
    match condition {
        LinkCondition::Nominal => {
            // Displaced now only by what is still degraded.
            record.displaced_by.retain(|l| degraded.contains(l));
        }
        _ => {
            record.displaced_by.insert(link.to_string());
        }
    }
    record.stranded = None;
    Some(from_links)
}

/// Marks a policy stranded (no feasible path while `link` is degraded) or
/// recovered; returns whether it changed.
pub fn mark(fabric: &mut Fabric, id: &str, link: &str, stranded: Option<String>) -> bool {
    let Some(p) = fabric.policies.get_mut(id) else {
        return false;
    };
    match stranded {
        Some(reason) => {
            p.stranded = Some(reason);
            p.displaced_by.insert(link.to_string());
        }
        None => {
            p.stranded = None;
            p.displaced_by.remove(link);
        }
    }
    true
}
