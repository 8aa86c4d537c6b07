//! Identifier pools (EVI, VNI): lowest-free allocation, explicit claims, and
//! release, so identifiers are never handed out twice.

use std::collections::BTreeSet;

#[derive(Debug, Clone)]
pub struct IdPool {
    name: &'static str,
    min: u32,
    max: u32,
    used: BTreeSet<u32>,
}

impl IdPool {
    pub fn new(name: &'static str, min: u32, max: u32) -> Self {
        IdPool {
            name,
            min,
            max,
            used: BTreeSet::new(),
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
        let mut candidate = self.min;
        for &u in self.used.range(self.min..=self.max) {
            if u != candidate {
                break;
            }
            candidate = u.saturating_add(1);
        }
        if candidate > self.max || candidate < self.min {
            Err(format!(
                "{} pool {}..={} is exhausted",
                self.name, self.min, self.max
            ))
        } else {
            Ok(candidate)
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
    }

    pub fn release(&mut self, id: u32) {
        self.used.remove(&id);
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
}
