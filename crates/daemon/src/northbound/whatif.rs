//! `WhatIf`: what failing links, fibers, SRLGs or nodes would do, and the
//! survivability table (every SRLG and node failed alone). The planning is
//! `plan::whatif`'s; this is its strata.v1 conversion and the discipline
//! around the state lock: the parts of the fabric a run reads are cloned
//! under the read lock, which is released before any computing starts, so a
//! minute-long survivability run never stalls a writer.

use std::pin::Pin;

use tokio::sync::{mpsc, Semaphore};
use tokio_stream::wrappers::ReceiverStream;
use tokio_stream::Stream;
use tonic::{Request, Response, Status};

use super::Northbound;
use crate::controller::ApiError;
use crate::plan::whatif::{self, Element, Failure, Summary, View, WhatIfReport};
use crate::proto::strata::v1 as api;
use api::what_if_server::WhatIf;

/// One survivability run at a time: each keeps every core busy for up to a
/// minute on a large fabric, and a second would only halve both.
static SURVIVABILITY: Semaphore = Semaphore::const_new(1);

/// Progress messages the stream may hold before the run waits for the
/// client (the table's rows follow them).
const STREAM_BACKLOG: usize = 64;

pub fn failure(req: api::WhatIfRequest) -> Failure {
    Failure {
        links: req.fail_links,
        fibers: req.fail_fibers,
        srlgs: req.fail_srlgs,
        nodes: req.fail_nodes,
    }
}

pub fn report(r: WhatIfReport) -> api::WhatIfResponse {
    api::WhatIfResponse {
        failed_links: r.failed_links,
        failed_fibers: r.failed_fibers,
        policies: r
            .policies
            .into_iter()
            .map(|p| {
                let meets_sla = p.meets_sla();
                let latency_change_us = p.latency_change_us().unwrap_or(0);
                let mut out = api::PolicyImpact {
                    id: p.id,
                    name: p.name,
                    service: p.owner.unwrap_or_default(),
                    old_links: p.old_links,
                    old_latency_us: p.old_latency_us,
                    max_latency_us: p.max_latency_us.unwrap_or(0),
                    meets_sla,
                    latency_change_us,
                    ..Default::default()
                };
                match p.outcome {
                    whatif::Outcome::Moved {
                        links,
                        nodes,
                        latency_us,
                        labels,
                    } => {
                        out.new_links = links;
                        out.new_nodes = nodes;
                        out.new_latency_us = latency_us;
                        out.new_labels = labels;
                    }
                    whatif::Outcome::Stranded { reason } => {
                        out.stranded = true;
                        out.stranded_reason = reason;
                    }
                }
                out
            })
            .collect(),
        services: r
            .services
            .into_iter()
            .map(|s| api::ServiceImpact {
                meets_sla: s.meets_sla(),
                id: s.id,
                name: s.name,
                affected_policies: s.affected,
                stranded_policies: s.stranded,
                over_bound_policies: s.over_bound,
            })
            .collect(),
        wavelengths: r
            .wavelengths
            .into_iter()
            .map(|w| api::WavelengthImpact {
                id: w.id,
                name: w.name,
                reason: w.reason,
                carries_link: w.carries_link,
            })
            .collect(),
        shortfalls: r
            .shortfalls
            .into_iter()
            .map(|s| api::LinkShortfall {
                short_gbps: s.short_gbps(),
                link: s.link,
                from: s.from,
                to: s.to,
                capacity_gbps: s.capacity_gbps,
                reserved_before_gbps: s.reserved_before_gbps,
                reserved_after_gbps: s.reserved_after_gbps,
            })
            .collect(),
        skipped_in_flight: r.skipped_in_flight,
    }
}

pub fn row(element: Element, s: Summary) -> api::SurvivabilityRow {
    let (kind, name) = match element {
        Element::Srlg(n) => ("srlg", n.to_string()),
        Element::Node(n) => ("node", n),
        Element::Link(n) => ("link", n),
        Element::Fiber(n) => ("fiber", n),
    };
    api::SurvivabilityRow {
        kind: kind.into(),
        name,
        survives: s.survives(),
        failed_links: s.failed_links as u32,
        affected_policies: s.affected_policies as u32,
        moved_policies: s.moved_policies as u32,
        stranded_policies: s.stranded_policies,
        over_bound_policies: s.over_bound_policies,
        broken_services: s.broken_services,
        stranded_wavelengths: s.stranded_wavelengths,
        shortfall_links: s.shortfall_links,
        worst_shortfall_gbps: s.worst_shortfall_gbps,
    }
}

#[tonic::async_trait]
impl WhatIf for Northbound {
    async fn what_if(
        &self,
        req: Request<api::WhatIfRequest>,
    ) -> Result<Response<api::WhatIfResponse>, Status> {
        let failure = failure(req.into_inner());
        // Only what this failure can touch is cloned, and the lock is let go
        // before the re-placements run.
        let view = {
            let fabric = self.controller.read();
            View::for_failure(&fabric, &failure).map_err(ApiError::from)?
        };
        // The IGP trees of earlier what-ifs are taken (briefly locked, not
        // held while computing) and given back after: they stay valid while
        // the IGP view does, and building them was much of a what-if's time.
        let kept = self.whatif_trees.clone();
        let r = tokio::task::spawn_blocking(move || {
            let mut trees = std::mem::take(&mut *kept.lock().unwrap_or_else(|e| e.into_inner()));
            let r = view.what_if_with(&failure, &mut trees);
            *kept.lock().unwrap_or_else(|e| e.into_inner()) = trees;
            r
        })
        .await
        .map_err(|e| Status::internal(format!("what-if: {e}")))?
        .map_err(ApiError::from)?;
        Ok(Response::new(report(r)))
    }

    type SurvivabilityStream =
        Pin<Box<dyn Stream<Item = Result<api::SurvivabilityProgress, Status>> + Send>>;

    async fn survivability(
        &self,
        _req: Request<api::SurvivabilityRequest>,
    ) -> Result<Response<Self::SurvivabilityStream>, Status> {
        let permit = SURVIVABILITY.try_acquire().map_err(|_| {
            Status::resource_exhausted(
                "a survivability run is in progress; retry when it has finished",
            )
        })?;
        let view = View::all(&self.controller.read());
        let (tx, rx) = mpsc::channel(STREAM_BACKLOG);
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let elements = view.elements();
            let total = elements.len();
            let mut shown = 0usize;
            // About a hundred progress messages, whatever the fabric's size.
            let step = (total / 100).max(1);
            let rows = view.survivability_while(&elements, |done, total| {
                if done != total && done - shown < step {
                    return !tx.is_closed();
                }
                shown = done;
                tx.blocking_send(Ok(api::SurvivabilityProgress {
                    done: done as u32,
                    total: total as u32,
                    row: None,
                }))
                .is_ok()
            });
            if rows.len() < total {
                return; // the client went away
            }
            for (e, s) in rows {
                let msg = api::SurvivabilityProgress {
                    done: total as u32,
                    total: total as u32,
                    row: Some(row(e, s)),
                };
                if tx.blocking_send(Ok(msg)).is_err() {
                    return;
                }
            }
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stranded_policy_says_why_and_has_no_new_path() {
        let r = WhatIfReport {
            policies: vec![whatif::PolicyImpact {
                id: "pol-1".into(),
                name: "a".into(),
                owner: None,
                riders: Vec::new(),
                old_links: vec!["x".into()],
                old_latency_us: 10,
                outcome: whatif::Outcome::Stranded {
                    reason: "no path".into(),
                },
                max_latency_us: Some(100),
            }],
            ..Default::default()
        };
        let p = &report(r).policies[0];
        assert!(p.stranded && !p.meets_sla);
        assert_eq!(p.stranded_reason, "no path");
        assert!(p.new_links.is_empty());
        assert_eq!((p.max_latency_us, p.latency_change_us), (100, 0));
    }
}
