//! When each device is reconciled next, kube-rs style: every pass returns the
//! next action for its device — come back after the interval when it worked,
//! sooner with exponential backoff when it failed — and a device is never
//! reconciled twice at once (a request for a device already running is
//! remembered and served when the run ends).
//!
//! Pure and clock-free: the caller passes `now`, so tests drive it with a
//! fake clock and the runner with `tokio::time::Instant`.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

/// What a finished pass asks for next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Done; come back after the periodic interval.
    AwaitInterval,
    /// Failed; retry after the device's current backoff.
    Retry,
    /// Could not run now (e.g. a change to the device is in flight); try again
    /// after this short delay without counting it as a failure.
    RequeueAfter(Duration),
}

#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    pub first: Duration,
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            first: Duration::from_millis(500),
            max: Duration::from_secs(30),
        }
    }
}

impl Backoff {
    /// The delay after `failures` consecutive failures (1 → `first`, doubling,
    /// capped at `max`).
    pub fn delay(&self, failures: u32) -> Duration {
        let exp = failures.saturating_sub(1).min(20);
        self.first.saturating_mul(1u32 << exp).min(self.max)
    }
}

#[derive(Debug, Clone)]
struct Device<I> {
    due: Option<I>,
    failures: u32,
    running: bool,
    /// Asked for again while running: run once more when this run ends.
    again: bool,
    /// Forgotten while running: dropped when the run ends.
    forgotten: bool,
}

/// Per-device due times. `I` is an instant type (`std`/`tokio` `Instant`, or a
/// test clock) supporting `+ Duration` and ordering.
#[derive(Debug, Clone)]
pub struct Schedule<I> {
    devices: BTreeMap<String, Device<I>>,
    interval: Duration,
    backoff: Backoff,
}

impl<I> Schedule<I>
where
    I: Copy + Ord + std::ops::Add<Duration, Output = I>,
{
    pub fn new(interval: Duration, backoff: Backoff) -> Self {
        Schedule {
            devices: BTreeMap::new(),
            interval,
            backoff,
        }
    }

    fn device(&mut self, name: &str) -> &mut Device<I> {
        self.devices.entry(name.to_string()).or_insert(Device {
            due: None,
            failures: 0,
            running: false,
            again: false,
            forgotten: false,
        })
    }

    /// Reconcile `name` as soon as possible (it connected, or an operator
    /// asked). If it is running, it runs once more afterwards.
    pub fn request(&mut self, name: &str, now: I) {
        let d = self.device(name);
        d.forgotten = false;
        if d.running {
            d.again = true;
        } else {
            d.due = Some(d.due.map_or(now, |due| due.min(now)));
        }
    }

    /// Devices due at `now`, marked running; the caller starts one pass each
    /// and reports it with `finished`.
    pub fn take_due(&mut self, now: I) -> Vec<String> {
        let mut due = Vec::new();
        for (name, d) in &mut self.devices {
            if !d.running && d.due.is_some_and(|t| t <= now) {
                d.running = true;
                d.due = None;
                due.push(name.clone());
            }
        }
        due
    }

    /// Records a pass's outcome and schedules the next.
    pub fn finished(&mut self, name: &str, action: Action, now: I) {
        let interval = self.interval;
        let backoff = self.backoff;
        let d = self.device(name);
        d.running = false;
        if d.forgotten {
            self.devices.remove(name);
            return;
        }
        let next = match action {
            Action::AwaitInterval => {
                d.failures = 0;
                now + interval
            }
            Action::Retry => {
                d.failures = d.failures.saturating_add(1);
                now + backoff.delay(d.failures)
            }
            Action::RequeueAfter(after) => now + after,
        };
        d.due = Some(if std::mem::take(&mut d.again) {
            now
        } else {
            next
        });
    }

    /// Stops scheduling a device (it left the topology or went down); a pass
    /// still running finishes, and its `finished` brings it back only if it is
    /// requested again.
    pub fn forget(&mut self, name: &str) {
        if let Some(d) = self.devices.get_mut(name) {
            if d.running {
                d.again = false;
                d.forgotten = true;
            } else {
                self.devices.remove(name);
            }
        }
    }

    /// When the next device falls due (to sleep until then).
    pub fn next_due(&self) -> Option<I> {
        self.devices
            .values()
            .filter(|d| !d.running)
            .filter_map(|d| d.due)
            .min()
    }

    /// Consecutive failures of a device (for metrics and tests).
    pub fn failures(&self, name: &str) -> u32 {
        self.devices.get(name).map_or(0, |d| d.failures)
    }

    pub fn running(&self) -> BTreeSet<String> {
        self.devices
            .iter()
            .filter(|(_, d)| d.running)
            .map(|(n, _)| n.clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A test clock: milliseconds.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
    struct T(u64);
    impl std::ops::Add<Duration> for T {
        type Output = T;
        fn add(self, d: Duration) -> T {
            T(self.0 + d.as_millis() as u64)
        }
    }

    fn schedule() -> Schedule<T> {
        Schedule::new(
            Duration::from_secs(30),
            Backoff {
                first: Duration::from_millis(500),
                max: Duration::from_secs(8),
            },
        )
    }

    #[test]
    fn failures_back_off_exponentially_up_to_the_cap_and_success_resets() {
        let mut s = schedule();
        s.request("pe1", T(0));
        let mut now = T(0);
        let mut delays = Vec::new();
        for _ in 0..6 {
            assert_eq!(s.take_due(now), vec!["pe1".to_string()]);
            s.finished("pe1", Action::Retry, now);
            let due = s.next_due().unwrap();
            delays.push(due.0 - now.0);
            now = due;
        }
        assert_eq!(delays, vec![500, 1000, 2000, 4000, 8000, 8000]);
        assert_eq!(s.failures("pe1"), 6);
        assert_eq!(s.take_due(now), vec!["pe1".to_string()]);
        s.finished("pe1", Action::AwaitInterval, now);
        assert_eq!(s.failures("pe1"), 0);
        assert_eq!(s.next_due(), Some(T(now.0 + 30_000)));
    }

    #[test]
    fn a_device_is_never_reconciled_twice_at_once() {
        let mut s = schedule();
        s.request("pe1", T(0));
        assert_eq!(s.take_due(T(0)).len(), 1);
        // It reconnects while its pass runs: not started again now...
        s.request("pe1", T(10));
        assert!(s.take_due(T(10)).is_empty());
        assert!(s.running().contains("pe1"));
        // ...but once more right after the pass ends, whatever the outcome.
        s.finished("pe1", Action::AwaitInterval, T(20));
        assert_eq!(s.take_due(T(20)), vec!["pe1".to_string()]);
    }

    #[test]
    fn a_requeue_is_not_a_failure_and_a_forgotten_device_stays_away() {
        let mut s = schedule();
        s.request("pe1", T(0));
        s.take_due(T(0));
        s.finished("pe1", Action::RequeueAfter(Duration::from_millis(50)), T(0));
        assert_eq!(s.failures("pe1"), 0);
        assert_eq!(s.next_due(), Some(T(50)));
        s.forget("pe1");
        assert_eq!(s.next_due(), None);
        s.request("pe2", T(0));
        s.take_due(T(0));
        s.forget("pe2");
        s.finished("pe2", Action::Retry, T(5));
        assert_eq!(s.next_due(), None);
        assert!(s.take_due(T(60_000)).is_empty());
        // Asked for again, it is back.
        s.request("pe2", T(60_000));
        assert_eq!(s.take_due(T(60_000)), vec!["pe2".to_string()]);
    }
}
