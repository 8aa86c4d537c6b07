//! The revisioned event log behind `Events.Watch`: every change gets the next
//! revision; a bounded ring keeps recent events so a watcher can resume from
//! the revision it last saw.

use std::collections::VecDeque;
use std::sync::Mutex;

use tokio::sync::broadcast;

use crate::proto::strata::v1::{event, Change, Event};

pub const RETAINED_EVENTS: usize = 65_536;

pub struct EventLog {
    inner: Mutex<Ring>,
    live: broadcast::Sender<Event>,
}

struct Ring {
    revision: u64,
    events: VecDeque<Event>,
}

/// Why a watch cannot resume where it asked.
#[derive(Debug, Clone, PartialEq)]
pub struct Compacted {
    pub oldest_available: u64,
}

impl Default for EventLog {
    fn default() -> Self {
        let (live, _) = broadcast::channel(RETAINED_EVENTS);
        EventLog {
            inner: Mutex::new(Ring {
                revision: 0,
                events: VecDeque::new(),
            }),
            live,
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
    pub fn revision(&self) -> u64 {
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .revision
    }

    /// Reserves the next revision (objects record it) and publishes the event
    /// built for it.
    pub fn publish(
        &self,
        change: Change,
        reason: &str,
        object: impl FnOnce(u64) -> event::Object,
    ) -> u64 {
        let mut ring = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        ring.revision += 1;
        let revision = ring.revision;
        let ev = Event {
            revision,
            timestamp_ns: now_ns(),
            change: change as i32,
            reason: reason.to_string(),
            object: Some(object(revision)),
        };
        if ring.events.len() == RETAINED_EVENTS {
            ring.events.pop_front();
        }
        ring.events.push_back(ev.clone());
        // Sent under the lock so live order equals revision order.
        let _ = self.live.send(ev);
        revision
    }

    /// Events after `from` still retained, plus a receiver for later ones.
    /// Subscribing happens under the same lock as publishing, so nothing falls
    /// between the replay and the live stream.
    pub fn watch(&self, from: u64) -> Result<(Vec<Event>, broadcast::Receiver<Event>), Compacted> {
        let ring = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let rx = self.live.subscribe();
        if from == 0 {
            return Ok((Vec::new(), rx));
        }
        let oldest = ring
            .events
            .front()
            .map(|e| e.revision)
            .unwrap_or(ring.revision + 1);
        if from + 1 < oldest {
            return Err(Compacted {
                oldest_available: oldest,
            });
        }
        let replay = ring
            .events
            .iter()
            .filter(|e| e.revision > from)
            .cloned()
            .collect();
        Ok((replay, rx))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::strata::v1::DeviceEvent;

    fn device(name: &str) -> impl FnOnce(u64) -> event::Object + '_ {
        move |_| {
            event::Object::Device(DeviceEvent {
                device: name.to_string(),
                ..Default::default()
            })
        }
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
        assert_eq!(err.oldest_available, 11);
        assert!(log.watch(10).is_ok());
    }
}
