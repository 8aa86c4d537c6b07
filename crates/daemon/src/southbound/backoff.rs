//! Capped exponential backoff with jitter, so a fabric of devices that all
//! dropped at once (controller restart, network blip) does not reconnect in
//! lock-step.

use std::time::Duration;

use rand::Rng;

#[derive(Debug, Clone)]
pub struct Backoff {
    pub base: Duration,
    pub cap: Duration,
    attempt: u32,
}

impl Backoff {
    pub fn new(base: Duration, cap: Duration) -> Self {
        Backoff {
            base,
            cap: cap.max(base),
            attempt: 0,
        }
    }

    /// "Equal jitter": half the exponential step, plus a random part of the
    /// other half — never zero, never above the cap.
    pub fn next_delay(&mut self, rng: &mut impl Rng) -> Duration {
        let exp = self.base.saturating_mul(1u32 << self.attempt.min(20));
        let step = exp.min(self.cap);
        self.attempt = self.attempt.saturating_add(1);
        let half = step / 2;
        let jitter_ns = rng.random_range(0..=half.as_nanos().min(u128::from(u64::MAX)) as u64);
        half + Duration::from_nanos(jitter_ns)
    }

    pub fn reset(&mut self) {
        self.attempt = 0;
    }

    pub fn attempts(&self) -> u32 {
        self.attempt
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    #[test]
    fn grows_then_caps_with_jitter_in_bounds() {
        let mut rng = StdRng::seed_from_u64(7);
        let mut b = Backoff::new(Duration::from_millis(100), Duration::from_secs(5));
        let mut prev_step = Duration::ZERO;
        for attempt in 0..12u32 {
            let step = (Duration::from_millis(100) * 2u32.pow(attempt)).min(Duration::from_secs(5));
            let d = b.next_delay(&mut rng);
            assert!(
                d >= step / 2 && d <= step,
                "attempt {attempt}: {d:?} not in [{:?}, {step:?}]",
                step / 2
            );
            assert!(step >= prev_step);
            prev_step = step;
        }
        assert!(b.next_delay(&mut rng) <= Duration::from_secs(5));
        b.reset();
        assert!(b.next_delay(&mut rng) <= Duration::from_millis(100));
    }

    #[test]
    fn jitter_spreads_devices_apart() {
        let mut rng = StdRng::seed_from_u64(1);
        let delays: std::collections::BTreeSet<Duration> = (0..50)
            .map(|_| {
                let mut b = Backoff::new(Duration::from_secs(1), Duration::from_secs(30));
                b.next_delay(&mut rng)
            })
            .collect();
        assert!(delays.len() > 40, "only {} distinct delays", delays.len());
    }
}
