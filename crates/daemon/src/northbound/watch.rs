//! `Events.Watch`: replay from a revision, then follow live.

use std::collections::{HashSet, VecDeque};
use std::pin::Pin;
use std::sync::Arc;

use tokio::sync::broadcast::error::RecvError;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tokio_stream::{Stream, StreamExt};
use tonic::{Request, Response, Status};

use super::convert;
use super::Northbound;
use crate::controller::events::WatchRefused;
use crate::controller::quote;
use crate::object::{self, Footprint};
use crate::proto::strata::v1 as api;
use api::events_server::Events;

/// Entries allowed in each `TelemetryRequest` filter list: every sample is
/// checked against the stream's filter, so its size is the client's to
/// choose only within reason.
pub const MAX_FILTER_ENTRIES: usize = 10_000;

/// Encoded bytes of live events one `Watch` may have taken in and not yet
/// handed to its stream. A watcher that does not read this far behind (or
/// more than `RETAINED_EVENTS` events behind, when the live channel drops
/// events for it) ends with RESOURCE_EXHAUSTED saying the revision to resume
/// from; what it missed is still in the ring, so a new `Watch` from that
/// revision replays it. Queued events are shared with the ring, so this
/// bounds what a stalled watcher pins after the ring has let them go.
pub const MAX_WATCH_BACKLOG_BYTES: usize = 8 * 1024 * 1024;

/// Watch and WatchTelemetry streams open at once, over all callers. Each
/// costs a task, its queues and the transport's buffers, so their number is
/// bounded like everything else a client can make the controller hold; one
/// more is refused with RESOURCE_EXHAUSTED until another closes.
pub const MAX_STREAMS: usize = 1024;

/// Events handed to the stream ahead of the transport. Each is turned into
/// its own copy only when the transport takes it, so this is small: the
/// backlog above is where a slow reader's events wait.
const WATCH_STREAM_QUEUE: usize = 64;

type EventItem = Result<Arc<object::Event>, Status>;

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
    pub fn wants(&self, s: &object::TelemetrySample) -> bool {
        let admits = |set: &HashSet<String>, v: &String| set.is_empty() || set.contains(v);
        admits(&self.devices, &s.device)
            && admits(&self.links, &s.link)
            && admits(&self.metrics, &s.metric)
    }
}

impl Northbound {
    /// A slot for one more open stream, held by its feeding task until the
    /// stream ends (the client closed it or fell behind).
    fn stream_permit(&self) -> Result<tokio::sync::OwnedSemaphorePermit, Status> {
        self.streams.clone().try_acquire_owned().map_err(|_| {
            Status::resource_exhausted(format!(
                "too many open watch streams ({MAX_STREAMS}, Watch and WatchTelemetry together); \
                 close one and retry"
            ))
        })
    }
}

#[tonic::async_trait]
impl Events for Northbound {
    type WatchStream = Pin<Box<dyn Stream<Item = Result<api::Event, Status>> + Send>>;
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
        let permit = self.stream_permit()?;
        let filter = TelemetryFilter::new(f);
        let mut live = self.controller.telemetry().subscribe();
        let (tx, rx) = mpsc::channel(4096);
        tokio::spawn(async move {
            let _permit = permit;
            loop {
                let got = tokio::select! {
                    got = live.recv() => got,
                    // Gone while no sample flows: free the slot now.
                    () = tx.closed() => return,
                };
                let s = match got {
                    Ok(s) => s,
                    // A slow viewer skips samples rather than slowing the loop.
                    Err(RecvError::Lagged(_)) => continue,
                    Err(RecvError::Closed) => return,
                };
                if filter.wants(&s) && tx.send(Ok(convert::sample(&s))).await.is_err() {
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
        let permit = self.stream_permit()?;
        let (replay, live) = self.controller.events().watch(from).map_err(|refused| {
            let advice = match refused {
                WatchRefused::Compacted { .. } => "re-list, then watch from the current revision",
                WatchRefused::Future { .. } => {
                    "it was never handed out here (a reset controller?); re-list, then watch from the current revision"
                }
            };
            Status::out_of_range(format!("{refused} (from_revision {from}): {advice}"))
        })?;
        let (tx, rx) = mpsc::channel::<EventItem>(WATCH_STREAM_QUEUE);
        tokio::spawn(async move {
            let _permit = permit;
            follow(from, replay.into(), live, tx).await
        });
        // The event becomes a strata.v1 message only as the transport takes it.
        let stream = ReceiverStream::new(rx).map(|item| item.map(|ev| convert::event(&ev)));
        Ok(Response::new(Box::pin(stream)))
    }
}

/// Feeds one watcher: the replay, then live events. Live events are always
/// taken off the broadcast channel into a per-watcher backlog (so a slow
/// watcher never holds the channel's slots), and the backlog is bounded by
/// `MAX_WATCH_BACKLOG_BYTES`; past it, or when the channel has already
/// dropped events for this watcher, the stream ends with RESOURCE_EXHAUSTED
/// after the last event handed over, naming its revision.
async fn follow(
    from: u64,
    mut replay: VecDeque<Arc<object::Event>>,
    live: tokio::sync::broadcast::Receiver<Arc<object::Event>>,
    tx: mpsc::Sender<EventItem>,
) {
    let mut live = Some(live);
    let mut backlog: VecDeque<(Arc<object::Event>, usize)> = VecDeque::new();
    let mut backlog_bytes = 0usize;
    // The last revision handed to the stream, and the last one taken in.
    let mut sent = from;
    let mut taken = replay.back().map_or(from, |e| e.revision);
    loop {
        let pending = !replay.is_empty() || !backlog.is_empty();
        if !pending && live.is_none() {
            return;
        }
        tokio::select! {
            permit = tx.reserve(), if pending => {
                let Ok(permit) = permit else { return };
                let ev = match replay.pop_front() {
                    Some(ev) => ev,
                    None => match backlog.pop_front() {
                        Some((ev, size)) => {
                            backlog_bytes -= size;
                            ev
                        }
                        None => continue,
                    },
                };
                sent = ev.revision;
                permit.send(Ok(ev));
            }
            got = recv(&mut live), if live.is_some() => match got {
                Ok(ev) => {
                    // The replay and the live stream overlap by design.
                    if ev.revision <= taken {
                        continue;
                    }
                    taken = ev.revision;
                    let size = ev.footprint();
                    backlog_bytes += size;
                    backlog.push_back((ev, size));
                    // One event alone may be larger: it is still delivered.
                    if backlog_bytes > MAX_WATCH_BACKLOG_BYTES && backlog.len() > 1 {
                        break;
                    }
                }
                Err(RecvError::Lagged(_)) => break,
                // The controller is going away: hand over what is queued.
                Err(RecvError::Closed) => live = None,
            },
            () = tx.closed() => return,
        }
    }
    // Fell behind: let go of everything queued (and the channel) before
    // waiting for the reader to take the events already handed over.
    drop((live, replay, backlog));
    let _ = tx
        .send(Err(Status::resource_exhausted(format!(
            "watcher fell behind after revision {sent}; resume from {sent}"
        ))))
        .await;
}

async fn recv(
    live: &mut Option<tokio::sync::broadcast::Receiver<Arc<object::Event>>>,
) -> Result<Arc<object::Event>, RecvError> {
    match live {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn open_streams_are_capped_and_a_closed_one_frees_its_slot() {
        let topology = crate::topology::parse_str(include_str!("../../../../examples/small.yaml"))
            .expect("valid example");
        let c = crate::controller::Controller::new(
            topology,
            crate::controller::programmer::Recorder::new(),
            None,
        );
        let nb = Northbound::new(c, crate::audit::AuditLog::in_memory());
        let watch = || Request::new(api::WatchRequest { from_revision: 0 });
        let mut open = Vec::new();
        for _ in 1..MAX_STREAMS {
            open.push(nb.watch(watch()).await.expect("under the cap").into_inner());
        }
        // Telemetry and event streams share the cap.
        let telemetry = nb
            .watch_telemetry(Request::new(api::TelemetryRequest::default()))
            .await
            .expect("the last slot");
        let refused = nb
            .watch(watch())
            .await
            .err()
            .expect("one over the cap is refused");
        assert_eq!(refused.code(), tonic::Code::ResourceExhausted);
        assert!(
            refused.message().contains("too many open watch streams"),
            "{refused}"
        );
        let refused = nb
            .watch_telemetry(Request::new(api::TelemetryRequest::default()))
            .await
            .expect_err("the cap covers telemetry streams too");
        assert_eq!(refused.code(), tonic::Code::ResourceExhausted);
        // A closed stream gives its slot back even when nothing is flowing.
        drop(telemetry);
        let reopened = tokio::time::timeout(std::time::Duration::from_secs(5), async {
            loop {
                if let Ok(s) = nb.watch(watch()).await {
                    return s;
                }
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
        })
        .await
        .expect("closing a stream frees its slot");
        drop((reopened, open));
    }

    fn sample(device: &str, link: &str, metric: &str) -> object::TelemetrySample {
        object::TelemetrySample {
            device: device.into(),
            port: String::new(),
            link: link.into(),
            metric: metric.into(),
            value: 0.0,
            timestamp_ns: 0,
            state: String::new(),
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

    fn event(revision: u64, bytes: usize) -> Arc<object::Event> {
        Arc::new(object::Event {
            revision,
            timestamp_ns: 0,
            change: object::Change::Updated,
            reason: String::new(),
            object: object::Object::Device(object::DeviceEvent {
                device: String::new(),
                session: object::Session::Up,
                error: "x".repeat(bytes),
            }),
        })
    }

    #[tokio::test]
    async fn a_watcher_the_channel_dropped_events_for_is_told_where_to_resume() {
        let (live_tx, live) = tokio::sync::broadcast::channel(2);
        for r in 4..=6 {
            live_tx.send(event(r, 10)).unwrap();
        }
        let (tx, mut rx) = mpsc::channel(8);
        let replay = VecDeque::from([event(2, 10), event(3, 10)]);
        follow(1, replay, live, tx).await;
        let mut sent = Vec::new();
        let end = loop {
            match rx.recv().await.unwrap() {
                Ok(e) => sent.push(e.revision),
                Err(status) => break status,
            }
        };
        assert!(rx.recv().await.is_none());
        // Whether the replay went out before the lag was noticed is up to
        // scheduling; either way the status names the last event sent.
        assert_eq!(sent, [2, 3][..sent.len()]);
        let last = sent.last().copied().unwrap_or(1);
        assert_eq!(end.code(), tonic::Code::ResourceExhausted);
        assert_eq!(
            end.message(),
            format!("watcher fell behind after revision {last}; resume from {last}")
        );
    }

    #[tokio::test]
    async fn a_watcher_that_does_not_read_is_cut_off_by_bytes_not_waited_for() {
        let (live_tx, live) = tokio::sync::broadcast::channel(16);
        // Room for one event ahead of the reader, who reads nothing yet.
        let (tx, mut rx) = mpsc::channel(1);
        let task = tokio::spawn(follow(0, VecDeque::new(), live, tx));
        let third = MAX_WATCH_BACKLOG_BYTES / 3;
        // One event in the stream, then a backlog: two of a third of the
        // limit each fit, a third one (with its framing) is over and ends it.
        live_tx.send(event(1, third)).unwrap();
        // (A current-thread runtime: this lets the task hand event 1 over.)
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
        for r in 2..=4 {
            live_tx.send(event(r, third)).unwrap();
        }
        // ... and take the rest in, before the reader frees any room.
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
        let first = rx.recv().await.unwrap().unwrap();
        assert_eq!(first.revision, 1);
        let end = rx.recv().await.unwrap().unwrap_err();
        assert_eq!(end.code(), tonic::Code::ResourceExhausted);
        assert_eq!(
            end.message(),
            "watcher fell behind after revision 1; resume from 1"
        );
        assert!(rx.recv().await.is_none());
        task.await.unwrap();
        assert_eq!(live_tx.receiver_count(), 0, "the live receiver is let go");
    }

    #[tokio::test]
    async fn a_reader_keeping_up_gets_every_event_once_in_order() {
        let (live_tx, live) = tokio::sync::broadcast::channel(1024);
        let (tx, mut rx) = mpsc::channel(1);
        // The replay overlaps the live stream (it was subscribed under the
        // same lock): revisions 2 and 3 arrive both ways.
        let replay = VecDeque::from([event(2, 10), event(3, 10)]);
        for r in 2..=200 {
            live_tx.send(event(r, 1000)).unwrap();
        }
        tokio::spawn(follow(1, replay, live, tx));
        let mut got = Vec::new();
        while got.len() < 199 {
            got.push(rx.recv().await.unwrap().unwrap().revision);
        }
        assert_eq!(got, (2..=200).collect::<Vec<_>>());
        drop(live_tx);
        assert!(rx.recv().await.is_none(), "ends when the controller does");
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
