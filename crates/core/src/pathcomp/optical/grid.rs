//! The 75 GHz DWDM grid 400ZR channels sit on, and which channels are lit on
//! which fiber.

use std::collections::BTreeMap;

use super::modes::ModeId;

/// f = 193.1 THz + n·75 GHz for n ∈ [-24, 40] (191.3–196.1 THz): 65 channels,
/// index = n + 24.
pub const CHANNEL_COUNT: usize = 65;
const GRID_ANCHOR_MHZ: i128 = 193_100_000;
const GRID_STEP_MHZ: i128 = 75_000;
const GRID_N_MIN: i128 = -24;

/// Centre frequency of channel `index` (indices past the grid extrapolate it).
pub fn channel_frequency_mhz(index: usize) -> u64 {
    let f = GRID_ANCHOR_MHZ + (index as i128 + GRID_N_MIN) * GRID_STEP_MHZ;
    u64::try_from(f).unwrap_or(u64::MAX)
}

/// The channel centred exactly on `freq_mhz`, if it is on the grid.
pub fn channel_index(freq_mhz: u64) -> Option<usize> {
    let off = i128::from(freq_mhz) - GRID_ANCHOR_MHZ;
    if off % GRID_STEP_MHZ != 0 {
        return None;
    }
    let idx = off / GRID_STEP_MHZ - GRID_N_MIN;
    usize::try_from(idx).ok().filter(|&i| i < CHANNEL_COUNT)
}

const ALL: u128 = (1u128 << CHANNEL_COUNT) - 1;

/// Lit channels per fiber, one bit per channel, and the mode each is lit
/// in (what its neighbours' nonlinear interference depends on).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Spectrum {
    used: BTreeMap<String, u128>,
    modes: BTreeMap<String, BTreeMap<usize, ModeId>>,
}

impl Spectrum {
    pub fn is_free(&self, fiber: &str, ch: usize) -> bool {
        ch < CHANNEL_COUNT && self.used.get(fiber).is_none_or(|u| u & (1u128 << ch) == 0)
    }

    pub fn occupy(&mut self, fibers: &[String], ch: usize, mode: ModeId) {
        if ch < CHANNEL_COUNT {
            for f in fibers {
                *self.used.entry(f.clone()).or_default() |= 1u128 << ch;
                self.modes.entry(f.clone()).or_default().insert(ch, mode);
            }
        }
    }

    pub fn release(&mut self, fibers: &[String], ch: usize) {
        if ch < CHANNEL_COUNT {
            for f in fibers {
                if let Some(u) = self.used.get_mut(f) {
                    *u &= !(1u128 << ch);
                }
                if let Some(m) = self.modes.get_mut(f) {
                    m.remove(&ch);
                }
            }
        }
    }

    /// How many channels are lit on `fiber`.
    pub fn lit(&self, fiber: &str) -> usize {
        self.used.get(fiber).map_or(0, |u| u.count_ones() as usize)
    }

    /// The channels lit on `fiber` with their modes, in channel order.
    pub fn carriers(&self, fiber: &str) -> Vec<(usize, ModeId)> {
        self.modes
            .get(fiber)
            .map(|m| m.iter().map(|(&c, &id)| (c, id)).collect())
            .unwrap_or_default()
    }

    /// Channels free on every one of `fibers` (spectrum continuity: a 400ZR
    /// channel keeps its frequency end to end, there is no conversion).
    pub fn common_free(&self, fibers: &[String]) -> u128 {
        fibers.iter().fold(ALL, |free, f| {
            free & !self.used.get(f).copied().unwrap_or(0)
        })
    }

    /// First fit: the lowest channel free on every fiber.
    pub fn first_fit(&self, fibers: &[String]) -> Option<usize> {
        let free = self.common_free(fibers);
        (free != 0).then(|| free.trailing_zeros() as usize)
    }
}
