//! The revisioned event log behind `Events.Watch`: every change gets the next
//! revision; a bounded ring keeps recent events so a watcher can resume from
//! the revision it last saw.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};

use tokio::sync::broadcast;

use crate::object::{Change, Event, Footprint, Object};

pub const RETAINED_EVENTS: usize = 65_536;

/// The ring also holds at most this many bytes of events (their footprint:
/// what they pin in memory): events carry whole objects,
/// so a run of large ones evicts the oldest early rather than keeping them
/// long after the objects were deleted. The newest event is always kept, so
/// a watcher can resume from the revision before it.
pub const RETAINED_EVENT_BYTES: usize = 64 * 1024 * 1024;

/// Events are shared (`Arc`) by the ring and the live channel: the channel
/// preallocates `RETAINED_EVENTS` slots, which at a whole `Event` each held
/// 33 MiB per controller before anyone watched (`strata bench memory`).
pub struct EventLog {
    inner: Mutex<Ring>,
    live: broadcast::Sender<Arc<Event>>,
}

struct Ring {
    revision: u64,
    /// Each event with its encoded size, oldest first.
    events: VecDeque<(Arc<Event>, usize)>,
    /// The sum of those sizes.
    bytes: usize,
    /// Caps, `RETAINED_EVENTS` and `RETAINED_EVENT_BYTES` but for tests.
    max_events: usize,
    max_bytes: usize,
    /// Revisions handed out by `reserve` whose event is not out yet; events
    /// leave strictly in revision order, so later ones wait behind these.
    pending: BTreeMap<u64, Option<Event>>,
}

/// A revision reserved for a change that must reach disk before anyone sees
/// it. Publish it, or drop it to give the revision up.
pub struct Ticket<'a> {
    log: &'a EventLog,
    revision: u64,
    settled: bool,
}

impl Ticket<'_> {
    pub fn revision(&self) -> u64 {
        self.revision
    }

    pub fn publish(mut self, change: Change, reason: &str, object: Object) {
        self.settled = true;
        let ev = Event {
            revision: self.revision,
            timestamp_ns: now_ns(),
            change,
            reason: reason.to_string(),
            object,
        };
        self.log.settle(self.revision, Some(ev));
    }
}

impl Drop for Ticket<'_> {
    fn drop(&mut self) {
        if !self.settled {
            self.log.settle(self.revision, None);
        }
    }
}

/// Retained events after a revision, then the live stream.
pub type Replay = (Vec<Arc<Event>>, broadcast::Receiver<Arc<Event>>);

/// Why a watch cannot resume where it asked.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum WatchRefused {
    /// The events after the asked revision have left the ring: the watcher
    /// must re-list, then watch from the current revision.
    #[error("from_revision is no longer retained; the oldest available is {oldest_available}")]
    Compacted { oldest_available: u64 },
    /// No such revision has been handed out: waiting for it would be silent
    /// until numbering caught up, and would skip everything in between (a
    /// client resuming against a controller whose history was reset).
    #[error("from_revision is ahead of the current revision {current}")]
    Future { current: u64 },
}

impl Default for EventLog {
    fn default() -> Self {
        EventLog::with_limits(RETAINED_EVENTS, RETAINED_EVENT_BYTES)
    }
}

impl Ring {
    /// Appends, then evicts the oldest until both caps hold again (keeping
    /// the newest even when it alone is over the byte cap).
    fn push(&mut self, ev: Arc<Event>) {
        let size = ev.footprint();
        self.events.push_back((ev, size));
        self.bytes += size;
        while self.events.len() > 1
            && (self.events.len() > self.max_events || self.bytes > self.max_bytes)
        {
            if let Some((_, size)) = self.events.pop_front() {
                self.bytes -= size;
            }
        }
    }
}

pub fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as i64)
        .unwrap_or(0)
}

impl EventLog {
    /// A log keeping at most `max_events` events and `max_bytes` of them.
    fn with_limits(max_events: usize, max_bytes: usize) -> Self {
        // Live capacity stays `RETAINED_EVENTS`: a slot only pins its event
        // while some watcher has not read it, and each watcher bounds that
        // itself (`northbound::watch`).
        let (live, _) = broadcast::channel(RETAINED_EVENTS);
        EventLog {
            inner: Mutex::new(Ring {
                revision: 0,
                events: VecDeque::new(),
                bytes: 0,
                max_events: max_events.max(1),
                max_bytes,
                pending: BTreeMap::new(),
            }),
            live,
        }
    }

    /// How many events, and how many bytes of them, the ring holds.
    pub fn retained(&self) -> (usize, usize) {
        let ring = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        (ring.events.len(), ring.bytes)
    }

    pub fn revision(&self) -> u64 {
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .revision
    }

    /// Continues numbering after `revision` (the journal's highest), so
    /// revisions never go backwards across a restart.
    pub fn resume_after(&self, revision: u64) {
        let mut ring = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        ring.revision = ring.revision.max(revision);
    }

    /// Reserves the next revision (objects record it) and publishes the event
    /// built for it.
    pub fn publish(&self, change: Change, reason: &str, object: impl FnOnce(u64) -> Object) -> u64 {
        let ticket = self.reserve();
        let revision = ticket.revision;
        ticket.publish(change, reason, object(revision));
        revision
    }

    pub fn reserve(&self) -> Ticket<'_> {
        let mut ring = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        ring.revision += 1;
        let revision = ring.revision;
        ring.pending.insert(revision, None);
        Ticket {
            log: self,
            revision,
            settled: false,
        }
    }

    fn settle(&self, revision: u64, ev: Option<Event>) {
        let mut ring = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        match ev {
            Some(ev) => {
                ring.pending.insert(revision, Some(ev));
            }
            None => {
                ring.pending.remove(&revision);
            }
        }
        while let Some(entry) = ring.pending.first_entry() {
            if entry.get().is_none() {
                break;
            }
            let Some(ev) = entry.remove() else { break };
            let ev = Arc::new(ev);
            ring.push(ev.clone());
            // Sent under the lock so live order equals revision order.
            let _ = self.live.send(ev);
        }
    }

    /// Events after `from` still retained, plus a receiver for later ones.
    /// Subscribing happens under the same lock as publishing, so nothing falls
    /// between the replay and the live stream.
    pub fn watch(&self, from: u64) -> Result<Replay, WatchRefused> {
        let ring = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if from > ring.revision {
            return Err(WatchRefused::Future {
                current: ring.revision,
            });
        }
        let rx = self.live.subscribe();
        if from == 0 {
            return Ok((Vec::new(), rx));
        }
        let oldest = ring
            .events
            .front()
            .map(|(e, _)| e.revision)
            .unwrap_or(ring.revision.saturating_add(1));
        // `from` is the last revision the watcher saw: it resumes if the
        // next one is still held (`from < u64::MAX` here: it is <= revision).
        if from.saturating_add(1) < oldest {
            return Err(WatchRefused::Compacted {
                oldest_available: oldest,
            });
        }
        let replay = ring
            .events
            .iter()
            .filter(|(e, _)| e.revision > from)
            .map(|(e, _)| e.clone())
            .collect();
        Ok((replay, rx))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::object::{DeviceEvent, Session};

    fn dev(device: &str, error: String) -> Object {
        Object::Device(DeviceEvent {
            device: device.to_string(),
            session: Session::Up,
            error,
        })
    }

    fn device(name: &str) -> impl FnOnce(u64) -> Object + '_ {
        move |_| dev(name, String::new())
    }

    #[test]
    fn events_wait_behind_a_reserved_revision_and_skip_a_dropped_one() {
        let log = EventLog::default();
        let (_, mut rx) = log.watch(0).unwrap();
        let first = log.reserve();
        let second = log.reserve();
        log.publish(Change::Updated, "", device("d3"));
        assert!(rx.try_recv().is_err(), "revision 3 waits for 1 and 2");
        second.publish(Change::Created, "", device("d2")(0));
        assert!(rx.try_recv().is_err());
        drop(first);
        let out: Vec<u64> = std::iter::from_fn(|| rx.try_recv().ok())
            .map(|e| e.revision)
            .collect();
        assert_eq!(out, [2, 3]);
        assert_eq!(log.revision(), 3);
        log.resume_after(10);
        assert_eq!(log.publish(Change::Updated, "", device("d")), 11);
    }

    #[test]
    fn resume_replays_after_the_revision_then_goes_live() {
        let log = EventLog::default();
        for d in ["a", "b", "c"] {
            log.publish(Change::Updated, "", device(d));
        }
        let (replay, mut rx) = log.watch(1).unwrap();
        assert_eq!(
            replay.iter().map(|e| e.revision).collect::<Vec<_>>(),
            vec![2, 3]
        );
        log.publish(Change::Updated, "", device("d"));
        assert_eq!(rx.try_recv().unwrap().revision, 4);
        let (replay, _) = log.watch(0).unwrap();
        assert!(replay.is_empty());
    }

    #[test]
    fn too_old_a_revision_is_refused() {
        let log = EventLog::default();
        for _ in 0..RETAINED_EVENTS + 10 {
            log.publish(Change::Updated, "", device("x"));
        }
        let err = log.watch(3).unwrap_err();
        assert_eq!(
            err,
            WatchRefused::Compacted {
                oldest_available: 11
            }
        );
        assert!(log.watch(10).is_ok());
    }

    fn revisions(log: &EventLog) -> Vec<u64> {
        let ring = log.inner.lock().unwrap();
        ring.events.iter().map(|(e, _)| e.revision).collect()
    }

    #[test]
    fn the_ring_keeps_at_most_its_count_oldest_out_first() {
        let log = EventLog::with_limits(4, usize::MAX);
        for _ in 0..10 {
            log.publish(Change::Updated, "", device("x"));
        }
        assert_eq!(revisions(&log), [7, 8, 9, 10]);
        let (count, bytes) = log.retained();
        let one = log.watch(9).unwrap().0[0].footprint();
        assert_eq!((count, bytes), (4, 4 * one), "bytes follow the evictions");
        assert_eq!(
            log.watch(5).unwrap_err(),
            WatchRefused::Compacted {
                oldest_available: 7
            }
        );
        assert_eq!(log.watch(6).unwrap().0.len(), 4);
    }

    #[test]
    fn large_events_are_evicted_by_bytes_oldest_first() {
        let log = EventLog::with_limits(RETAINED_EVENTS, 10_000);
        let small = |_| dev("s", String::new());
        let big = |_| dev("b", "x".repeat(4_000));
        log.publish(Change::Updated, "", small);
        log.publish(Change::Updated, "", big);
        log.publish(Change::Updated, "", big);
        assert_eq!(revisions(&log), [1, 2, 3], "8 kB fits");
        log.publish(Change::Updated, "", big);
        // 12 kB is over: the oldest go, the small one first, until it fits.
        assert_eq!(revisions(&log), [3, 4]);
        let (_, bytes) = log.retained();
        assert!(bytes <= 10_000 && bytes > 8_000, "{bytes}");
        assert_eq!(
            log.watch(1).unwrap_err(),
            WatchRefused::Compacted {
                oldest_available: 3
            }
        );
        let (replay, _) = log.watch(2).unwrap();
        assert_eq!(
            replay.iter().map(|e| e.revision).collect::<Vec<_>>(),
            [3, 4]
        );
        // An event over the whole cap still stays, alone, until the next.
        let huge = |_| dev("", "x".repeat(20_000));
        log.publish(Change::Updated, "", huge);
        assert_eq!(revisions(&log), [5]);
        assert!(log.watch(4).is_ok(), "resumes from the revision before it");
        log.publish(Change::Updated, "", small);
        assert_eq!(revisions(&log), [6]);
        assert!(log.retained().1 < 1_000, "the huge one is no longer pinned");
    }

    #[test]
    fn a_revision_not_handed_out_yet_is_refused_not_awaited() {
        let log = EventLog::default();
        assert!(
            log.watch(0).is_ok(),
            "0 means from now, on an empty log too"
        );
        assert_eq!(
            log.watch(1).unwrap_err(),
            WatchRefused::Future { current: 0 }
        );
        for d in ["a", "b"] {
            log.publish(Change::Updated, "", device(d));
        }
        let (replay, _) = log.watch(2).unwrap();
        assert!(
            replay.is_empty(),
            "the current revision resumes with nothing to replay"
        );
        assert_eq!(
            log.watch(u64::MAX).unwrap_err(),
            WatchRefused::Future { current: 2 }
        );
        // A restart continues numbering from the journal: a watcher that saw
        // the last revision before it resumes; one claiming more is refused.
        let restarted = EventLog::default();
        restarted.resume_after(2);
        assert!(restarted.watch(2).is_ok());
        assert_eq!(
            restarted.watch(3).unwrap_err(),
            WatchRefused::Future { current: 2 }
        );
    }
}
