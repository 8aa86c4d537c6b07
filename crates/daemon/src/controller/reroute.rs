//! The closed loop's actuator: a link's health changed, so re-place only the
//! policies that ride it (or that it displaced), make-before-break.

use std::collections::{BTreeMap, BTreeSet};

use futures::future::join_all;
use tracing::Instrument;

use super::persist::JournalEntries;
use super::programmer::send;
use super::{Controller, Fabric};
use crate::object::{Change, Revisioned};
use crate::pathcomp::{Path, Segment};
use crate::plan::policy;
use crate::render::{DeviceEdit, Dialect, SrtePolicy};

/// What happened to the link, as the controller applies it to the TE graph.
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

#[derive(Debug, Clone, PartialEq)]
pub struct Reroute {
    pub policy: String,
    pub headend: String,
    pub from_links: Vec<String>,
    pub to_links: Vec<String>,
    pub labels: Vec<u32>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct RerouteReport {
    pub considered: usize,
    pub rerouted: Vec<Reroute>,
    /// Policies with no better (or no) path; they keep their current one.
    pub unchanged: usize,
    /// Policies with no feasible path at all (reported down).
    pub stranded: Vec<String>,
    pub failed: Vec<(String, String)>,
}

struct Move {
    id: String,
    headend: String,
    new_discriminator: u32,
    path: Path,
    segments: Vec<Segment>,
    /// The rule replaced with only the new segment list.
    edit: DeviceEdit,
}

impl Controller {
    /// Applies a link condition and re-places the affected policies.
    pub async fn link_condition(
        &self,
        link: &str,
        condition: LinkCondition,
        reason: &str,
    ) -> RerouteReport {
        let _turn = self.reroutes.lock().await;
        let affected = {
            let mut inner = self.write();
            let nominal = inner.topology.link(link).map(|l| l.latency_us);
            match &condition {
                LinkCondition::Slow { delay_us } => {
                    inner.graph.set_link_latency(link, *delay_us);
                    inner.degraded.insert(link.to_string());
                }
                LinkCondition::Down => {
                    inner.graph.set_link_pruned(link, true);
                    inner.degraded.insert(link.to_string());
                }
                LinkCondition::Nominal => {
                    inner.graph.set_link_pruned(link, false);
                    if let Some(n) = nominal {
                        inner.graph.set_link_latency(link, n);
                    }
                    inner.degraded.remove(link);
                }
            }
            let mut ids = match condition {
                // Also the policies whose every displacing link is back: when
                // several links fail together (a router crash) a policy
                // leaves on the first and is never on the others, so the last
                // one to recover is not in its displaced_by.
                LinkCondition::Nominal => inner
                    .policies
                    .values()
                    .filter(|p| {
                        p.displaced_by.contains(link)
                            || (!p.displaced_by.is_empty()
                                && p.displaced_by.iter().all(|l| !inner.degraded.contains(l)))
                    })
                    .map(|p| p.id.clone())
                    .collect::<Vec<_>>(),
                _ => inner.policies_using(link),
            };
            // A policy still being created is programmed with the path it was
            // planned on; moving it now would race its own first Set.
            ids.retain(|id| !inner.in_flight(id));
            ids
        };
        self.replace_policies(&affected, link, &condition, reason)
            .await
    }

    async fn replace_policies(
        &self,
        ids: &[String],
        link: &str,
        condition: &LinkCondition,
        reason: &str,
    ) -> RerouteReport {
        let mut report = RerouteReport {
            considered: ids.len(),
            ..Default::default()
        };
        let t0 = std::time::Instant::now();
        // Policies left without any feasible path (they keep the old one and
        // are reported down), and ones whose link came back under them.
        let mut stranded: Vec<(String, String)> = Vec::new();
        let mut recovered: Vec<String> = Vec::new();
        let compute = tracing::info_span!(
            "compute",
            link,
            policies = ids.len() as i64,
            moves = tracing::field::Empty
        );
        let outcomes: Vec<Outcome> = compute.in_scope(|| {
            let inner = self.read();
            plan_all(&inner, ids, condition, &|headend| self.dialect(headend))
        });
        let mut moves = Vec::new();
        for outcome in outcomes {
            match outcome {
                Outcome::Move(m) => moves.push(m),
                Outcome::Same { recovered: r } => {
                    report.unchanged += 1;
                    recovered.extend(r);
                }
                Outcome::NoPath(s) => {
                    report.unchanged += 1;
                    stranded.extend(s);
                }
            }
        }
        compute.record("moves", moves.len() as i64);
        drop(compute);
        self.mark_stranded(link, &stranded, &recovered);
        report.stranded = stranded.into_iter().map(|(id, _)| id).collect();
        if moves.is_empty() {
            return report;
        }
        // Make before break, per headend in parallel: one Set replaces each
        // moved rule with only its new segment list, so the new list is in and
        // the old one out in the same commit.
        let mut by_headend: BTreeMap<&str, Vec<&Move>> = BTreeMap::new();
        for m in &moves {
            by_headend.entry(&m.headend).or_default().push(m);
        }
        // Until the moves are committed, reconciliation leaves the headends be.
        let _writing = self.writes.writing(by_headend.keys().copied());
        let t1 = t0.elapsed();
        let program = tracing::info_span!(
            "program",
            link,
            headends = by_headend.len() as i64,
            moves = moves.len() as i64
        );
        let programmer = self.programmer.clone();
        let results = join_all(by_headend.into_iter().map(|(headend, ms)| {
            let programmer = programmer.clone();
            // Created here, outside `program`'s scope, so its parent is named.
            let set =
                tracing::info_span!(parent: &program, "set", headend, policies = ms.len() as i64);
            async move {
                let mut edit = DeviceEdit::default();
                for m in &ms {
                    edit.extend(m.edit.clone());
                }
                let r = send(programmer.as_ref(), headend, &edit)
                    .await
                    .map_err(|e| e.to_string());
                (ms.iter().map(|m| m.id.clone()).collect::<Vec<_>>(), r)
            }
            .instrument(set)
        }))
        .instrument(program.clone())
        .await;
        drop(program);
        let t2 = t0.elapsed();
        tracing::debug!(link, moves = moves.len(), plan = ?t1, program = ?(t2 - t1), "reroute programmed");
        let mut ok: BTreeSet<String> = BTreeSet::new();
        for (ids, r) in results {
            match r {
                Ok(()) => ok.extend(ids),
                Err(e) => report
                    .failed
                    .extend(ids.into_iter().map(|id| (id, e.clone()))),
            }
        }
        let mut inner = self.write();
        let mut journal = Vec::new();
        for m in moves.into_iter().filter(|m| ok.contains(&m.id)) {
            let Some(mut record) = inner.remove_policy(&m.id) else {
                continue;
            };
            let from_links = record.path.links(&inner.graph);
            record.path = m.path;
            record.segments = m.segments;
            record.discriminator = m.new_discriminator;
            match condition {
                LinkCondition::Nominal => {
                    // Displaced now only by what is still degraded.
                    let degraded = &inner.degraded;
                    record.displaced_by.retain(|l| degraded.contains(l));
                }
                _ => {
                    record.displaced_by.insert(link.to_string());
                }
            }
            record.stranded = None;
            let to_links = record.path.links(&inner.graph);
            let view = record.view(&inner.graph);
            record.revision = self
                .events
                .publish(Change::Updated, reason, |rev| view.at(rev));
            report.rerouted.push(Reroute {
                policy: record.id.clone(),
                headend: record.headend.clone(),
                from_links,
                to_links,
                labels: record.labels(),
            });
            journal.push(inner.policy_entry(&record));
            inner.insert_policy(record);
        }
        drop(inner);
        self.record(&journal);
        report
    }
}

/// What re-placing one policy came to.
enum Outcome {
    Move(Move),
    /// Its path stands (and it is back up if it had been stranded).
    Same {
        recovered: Option<String>,
    },
    /// No feasible path: it is stranded unless the link just recovered.
    NoPath(Option<(String, String)>),
}

/// Below this many policies one thread re-places them faster than several.
const PARALLEL_FROM: usize = 16;

/// Re-places `ids`, split over the machine's cores when there are many: the
/// policies are independent, each thread keeps its own IGP trees.
/// How each headend is spoken to.
type Dialects<'a> = &'a (dyn Fn(&str) -> Dialect + Sync);

fn plan_all(
    inner: &Fabric,
    ids: &[String],
    condition: &LinkCondition,
    dialect: Dialects<'_>,
) -> Vec<Outcome> {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(ids.len() / (PARALLEL_FROM / 2).max(1))
        .max(1);
    let run = |chunk: &[String]| -> Vec<Outcome> {
        // One set of IGP trees per batch: the IGP view does not change while
        // these policies are re-placed.
        let mut spf = crate::pathcomp::IgpSpf::new(&inner.graph);
        chunk
            .iter()
            .filter_map(|id| plan_one(inner, &mut spf, id, condition, dialect))
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

fn plan_one(
    inner: &Fabric,
    spf: &mut crate::pathcomp::IgpSpf<'_>,
    id: &String,
    condition: &LinkCondition,
    dialect: Dialects<'_>,
) -> Option<Outcome> {
    let p = inner.policies.get(id)?;
    Some(match policy::replan(inner, spf, p) {
        Ok((path, segments)) if path.edges != p.path.edges => {
            let d = p.discriminator + 1;
            let labels = crate::plan::records::labels(&segments);
            Outcome::Move(Move {
                id: id.clone(),
                headend: p.headend.clone(),
                new_discriminator: d,
                edit: dialect(&p.headend).reroute(&SrtePolicy {
                    name: &p.spec.name,
                    sequence_id: p.sequence_id,
                    endpoint: &p.endpoint_address,
                    color: p.color,
                    labels: &labels,
                    discriminator: d,
                }),
                path,
                segments,
            })
        }
        Ok(_) => Outcome::Same {
            recovered: p.stranded.is_some().then(|| id.clone()),
        },
        Err(why) => Outcome::NoPath(
            (*condition != LinkCondition::Nominal).then(|| (id.clone(), why.to_string())),
        ),
    })
}

impl Controller {
    /// Flags policies that have nowhere to go (state DOWN, with why) and clears
    /// the flag once their link is back, publishing each change.
    fn mark_stranded(&self, link: &str, stranded: &[(String, String)], recovered: &[String]) {
        if stranded.is_empty() && recovered.is_empty() {
            return;
        }
        let mut inner = self.write();
        let mut journal = Vec::new();
        for (id, why) in stranded {
            let reason =
                format!("policy {id} has no feasible path while {link} is degraded: {why}");
            let view = match inner.policies.get_mut(id) {
                Some(p) => {
                    p.stranded = Some(reason.clone());
                    p.displaced_by.insert(link.to_string());
                    p.clone()
                }
                None => continue,
            };
            let shown = view.view(&inner.graph);
            let rev = self
                .events
                .publish(Change::Updated, &reason, |rev| shown.at(rev));
            if let Some(p) = inner.policies.get_mut(id) {
                p.revision = rev;
            }
            if let Some(p) = inner.policies.get(id) {
                journal.push(inner.policy_entry(p));
            }
        }
        for id in recovered {
            let view = match inner.policies.get_mut(id) {
                Some(p) => {
                    p.stranded = None;
                    p.displaced_by.remove(link);
                    p.clone()
                }
                None => continue,
            };
            let shown = view.view(&inner.graph);
            let reason = format!("policy {id} is up again: {link} recovered");
            let rev = self
                .events
                .publish(Change::Updated, &reason, |rev| shown.at(rev));
            if let Some(p) = inner.policies.get_mut(id) {
                p.revision = rev;
            }
            if let Some(p) = inner.policies.get(id) {
                journal.push(inner.policy_entry(p));
            }
        }
        drop(inner);
        self.record(&journal);
    }
}
