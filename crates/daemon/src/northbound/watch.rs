//! `Events.Watch`: replay from a revision, then follow live.

use std::collections::HashSet;
use std::sync::Arc;

use tokio::sync::broadcast::error::RecvError;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};

use super::Northbound;
use crate::controller::events::WatchRefused;
use crate::controller::quote;
use crate::proto::strata::v1 as api;
use api::events_server::Events;

/// Entries allowed in each `TelemetryRequest` filter list: every sample is
/// checked against the stream's filter, so its size is the client's to
/// choose only within reason.
pub const MAX_FILTER_ENTRIES: usize = 10_000;

const METRICS: [&str; 4] = ["delay_us", "loss_percent", "osnr_db", "up"];

/// A `TelemetryRequest`'s filters as sets, built once per stream: every
/// sample the controller ingests is checked against every stream's filter,
/// and scanning the lists made large filters cost O(entries) per sample.
#[derive(Debug, Default)]
pub struct TelemetryFilter {
    devices: HashSet<String>,
    links: HashSet<String>,
    metrics: HashSet<String>,
}

impl TelemetryFilter {
    pub fn new(req: api::TelemetryRequest) -> Self {
        TelemetryFilter {
            devices: req.devices.into_iter().collect(),
            links: req.links.into_iter().collect(),
            metrics: req.metrics.into_iter().collect(),
        }
    }

    /// An empty list lets everything through on that field.
    pub fn wants(&self, s: &api::TelemetrySample) -> bool {
        let admits = |set: &HashSet<String>, v: &String| set.is_empty() || set.contains(v);
        admits(&self.devices, &s.device)
            && admits(&self.links, &s.link)
            && admits(&self.metrics, &s.metric)
    }
}

#[tonic::async_trait]
impl Events for Northbound {
    type WatchStream = ReceiverStream<Result<api::Event, Status>>;
    type WatchTelemetryStream = ReceiverStream<Result<api::TelemetrySample, Status>>;

    async fn watch_telemetry(
        &self,
        req: Request<api::TelemetryRequest>,
    ) -> Result<Response<Self::WatchTelemetryStream>, Status> {
        let f = req.into_inner();
        for (field, list) in [
            ("devices", &f.devices),
            ("links", &f.links),
            ("metrics", &f.metrics),
        ] {
            if list.len() > MAX_FILTER_ENTRIES {
                return Err(Status::invalid_argument(format!(
                    "{field}: {} entries, over the limit of {MAX_FILTER_ENTRIES}",
                    list.len()
                )));
            }
        }
        if let Some((i, m)) = f
            .metrics
            .iter()
            .enumerate()
            .find(|(_, m)| !METRICS.contains(&m.as_str()))
        {
            return Err(Status::invalid_argument(format!(
                "metrics[{i}]: {} is not one of {METRICS:?}",
                quote(m)
            )));
        }
        {
            let inner = self.controller.read();
            // Topology lookups scan its lists: with up to MAX_FILTER_ENTRIES
            // names to check, index them once (only when there is something
            // to check, so the common empty filter costs nothing).
            let nodes: HashSet<&str> = if f.devices.is_empty() {
                HashSet::new()
            } else {
                inner
                    .topology
                    .nodes
                    .iter()
                    .map(|n| n.name.as_str())
                    .collect()
            };
            let links: HashSet<&str> = if f.links.is_empty() {
                HashSet::new()
            } else {
                inner
                    .topology
                    .links
                    .iter()
                    .map(|l| l.name.as_str())
                    .collect()
            };
            if let Some((i, d)) = f
                .devices
                .iter()
                .enumerate()
                .find(|(_, d)| !nodes.contains(d.as_str()))
            {
                return Err(Status::not_found(format!(
                    "devices[{i}]: node {} not found",
                    quote(d)
                )));
            }
            if let Some((i, l)) = f
                .links
                .iter()
                .enumerate()
                .find(|(_, l)| !links.contains(l.as_str()))
            {
                return Err(Status::not_found(format!(
                    "links[{i}]: link {} not found",
                    quote(l)
                )));
            }
        }
        let filter = TelemetryFilter::new(f);
        let mut live = self.controller.telemetry().subscribe();
        let (tx, rx) = mpsc::channel(4096);
        tokio::spawn(async move {
            loop {
                let s = match live.recv().await {
                    Ok(s) => s,
                    // A slow viewer skips samples rather than slowing the loop.
                    Err(RecvError::Lagged(_)) => continue,
                    Err(RecvError::Closed) => return,
                };
                if filter.wants(&s) && tx.send(Ok(s)).await.is_err() {
                    return;
                }
            }
        });
        Ok(Response::new(ReceiverStream::new(rx)))
    }

    async fn watch(
        &self,
        req: Request<api::WatchRequest>,
    ) -> Result<Response<Self::WatchStream>, Status> {
        let from = req.into_inner().from_revision;
        let (replay, mut live) = self.controller.events().watch(from).map_err(|refused| {
            let advice = match refused {
                WatchRefused::Compacted { .. } => "re-list, then watch from the current revision",
                WatchRefused::Future { .. } => {
                    "it was never handed out here (a reset controller?); re-list, then watch from the current revision"
                }
            };
            Status::out_of_range(format!("{refused} (from_revision {from}): {advice}"))
        })?;
        let (tx, rx) = mpsc::channel(1024);
        tokio::spawn(async move {
            let mut last = from;
            for ev in replay {
                last = ev.revision;
                if tx.send(Ok(Arc::unwrap_or_clone(ev))).await.is_err() {
                    return;
                }
            }
            loop {
                let ev = match live.recv().await {
                    Ok(ev) => ev,
                    Err(RecvError::Lagged(n)) => {
                        let _ = tx
                            .send(Err(Status::data_loss(format!(
                                "watcher fell {n} events behind after revision {last}; resume from {last}"
                            ))))
                            .await;
                        return;
                    }
                    Err(RecvError::Closed) => return,
                };
                if ev.revision <= last {
                    continue;
                }
                last = ev.revision;
                if tx.send(Ok(Arc::unwrap_or_clone(ev))).await.is_err() {
                    return;
                }
            }
        });
        Ok(Response::new(ReceiverStream::new(rx)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(device: &str, link: &str, metric: &str) -> api::TelemetrySample {
        api::TelemetrySample {
            device: device.into(),
            link: link.into(),
            metric: metric.into(),
            ..Default::default()
        }
    }

    fn filter(devices: &[&str], links: &[&str], metrics: &[&str]) -> TelemetryFilter {
        let own = |v: &[&str]| v.iter().map(|s| s.to_string()).collect();
        TelemetryFilter::new(api::TelemetryRequest {
            devices: own(devices),
            links: own(links),
            metrics: own(metrics),
        })
    }

    #[test]
    fn empty_filter_wants_everything() {
        assert!(filter(&[], &[], &[]).wants(&sample("pe1", "pe1-pe2", "delay_us")));
    }

    #[test]
    fn every_non_empty_list_must_match() {
        let f = filter(&["pe1", "pe2"], &[], &["delay_us"]);
        assert!(f.wants(&sample("pe2", "any", "delay_us")));
        assert!(
            !f.wants(&sample("pe3", "any", "delay_us")),
            "device not listed"
        );
        assert!(!f.wants(&sample("pe1", "any", "up")), "metric not listed");
        let f = filter(&[], &["pe1-pe2"], &[]);
        assert!(f.wants(&sample("pe9", "pe1-pe2", "up")));
        assert!(!f.wants(&sample("pe1", "pe1-pe3", "up")));
        assert!(
            !f.wants(&sample("pe1", "", "up")),
            "a sample without a link"
        );
    }

    #[test]
    fn large_filters_are_sets() {
        let names: Vec<String> = (0..MAX_FILTER_ENTRIES).map(|i| format!("d{i}")).collect();
        let f = TelemetryFilter::new(api::TelemetryRequest {
            devices: names,
            ..Default::default()
        });
        assert_eq!(f.devices.len(), MAX_FILTER_ENTRIES);
        assert!(f.wants(&sample("d9999", "l", "up")));
        assert!(!f.wants(&sample("d10000", "l", "up")));
    }
}
