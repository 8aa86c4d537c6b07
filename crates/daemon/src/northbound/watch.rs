//! `Events.Watch`: replay from a revision, then follow live.

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

#[tonic::async_trait]
impl Events for Northbound {
    type WatchStream = ReceiverStream<Result<api::Event, Status>>;
    type WatchTelemetryStream = ReceiverStream<Result<api::TelemetrySample, Status>>;

    async fn watch_telemetry(
        &self,
        req: Request<api::TelemetryRequest>,
    ) -> Result<Response<Self::WatchTelemetryStream>, Status> {
        let f = req.into_inner();
        const METRICS: [&str; 4] = ["delay_us", "loss_percent", "osnr_db", "up"];
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
            if let Some((i, d)) = f
                .devices
                .iter()
                .enumerate()
                .find(|(_, d)| inner.topology.node(d).is_none())
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
                .find(|(_, l)| inner.topology.link(l).is_none())
            {
                return Err(Status::not_found(format!(
                    "links[{i}]: link {} not found",
                    quote(l)
                )));
            }
        }
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
                let wanted = (f.devices.is_empty() || f.devices.contains(&s.device))
                    && (f.links.is_empty() || f.links.contains(&s.link))
                    && (f.metrics.is_empty() || f.metrics.contains(&s.metric));
                if wanted && tx.send(Ok(s)).await.is_err() {
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
