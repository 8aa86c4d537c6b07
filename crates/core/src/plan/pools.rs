//! Identifier pools (EVI, VNI): lowest-free allocation, explicit claims, and
//! release, so identifiers are never handed out twice.

use std::collections::BTreeSet;

#[derive(Debug, Clone)]
pub struct IdPool {
    name: &'static str,
    min: u32,
    max: u32,
    used: BTreeSet<u32>,
    /// The lowest id not in `used` (kept as ids come and go, so `peek` does
    /// not walk every id in use).
    lowest_free: u64,
}

impl IdPool {
    pub fn new(name: &'static str, min: u32, max: u32) -> Self {
        IdPool {
            name,
            min,
            max,
            used: BTreeSet::new(),
            lowest_free: min as u64,
        }
    }

    pub fn range(&self) -> (u32, u32) {
        (self.min, self.max)
    }

    pub fn contains(&self, id: u32) -> bool {
        self.used.contains(&id)
    }

    /// The lowest free id, not yet claimed.
    pub fn peek(&self) -> Result<u32, String> {
        // Gaps left by releases are reused first.
        let candidate = self.lowest_free;
        if candidate > self.max as u64 || candidate < self.min as u64 {
            Err(format!(
                "{} pool {}..={} is exhausted",
                self.name, self.min, self.max
            ))
        } else {
            Ok(candidate as u32)
        }
    }

    pub fn check_free(&self, id: u32) -> Result<(), String> {
        if id < self.min || id > self.max {
            Err(format!(
                "{} {id} is outside {}..={}",
                self.name, self.min, self.max
            ))
        } else if self.used.contains(&id) {
            Err(format!("{} {id} is already in use", self.name))
        } else {
            Ok(())
        }
    }

    pub fn claim(&mut self, id: u32) {
        self.used.insert(id);
        while self.lowest_free <= self.max as u64 && self.used.contains(&(self.lowest_free as u32))
        {
            self.lowest_free += 1;
        }
    }

    pub fn release(&mut self, id: u32) {
        if self.used.remove(&id) && id >= self.min {
            self.lowest_free = self.lowest_free.min(id as u64);
        }
    }

    pub fn in_use(&self) -> usize {
        self.used.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lowest_free_reuses_gaps_and_exhausts() {
        let mut p = IdPool::new("evi", 10, 12);
        assert_eq!(p.peek(), Ok(10));
        p.claim(10);
        p.claim(11);
        assert_eq!(p.peek(), Ok(12));
        p.release(10);
        assert_eq!(p.peek(), Ok(10));
        p.claim(10);
        p.claim(12);
        assert!(p.peek().unwrap_err().contains("exhausted"));
        assert!(p.check_free(11).unwrap_err().contains("in use"));
        assert!(p.check_free(99).unwrap_err().contains("outside"));
    }

    #[test]
    fn peek_is_always_the_lowest_free_id() {
        // Against a brute-force scan, through random claims and releases,
        // including claims out of order and the pool running dry.
        let mut pool = IdPool::new("t", 10, 40);
        let mut rng: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..5_000 {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            let id = 10 + (rng % 31) as u32;
            let op = rng % 3;
            if op == 0 {
                pool.release(id);
            } else if op == 1 {
                pool.claim(id);
            } else if let Ok(p) = pool.peek() {
                pool.claim(p);
            }
            let oracle = (10..=40).find(|i| !pool.contains(*i));
            assert_eq!(pool.peek().ok(), oracle);
        }
    }
}
